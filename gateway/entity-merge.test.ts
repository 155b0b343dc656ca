/**
 * The documents of entity batching: Apollo's entity fetches are recognised, several merge into
 * one document a real subgraph schema accepts (aliases, variables, fragments), and its answer
 * splits back per selection with every error on the right entity.
 */
import { describe, expect, it } from 'vitest';
import { run } from '../test/entity-subgraph.js';
import { EntityDocuments, entityFetchShape, mergedDocument, splitAnswer, type EntityFetchShape } from './entity-merge.js';

const PRODUCT_NAMES = 'query Op__products__1($representations:[_Any!]!){_entities(representations:$representations){...on Product{name}}}';
const PRODUCT_NAMES_AGAIN =
  'query Op__products__7($representations:[_Any!]!){_entities(representations:$representations){...on Product{name}}}';
const PRICES =
  'query Op__products__2($representations:[_Any!]!,$currency:String){_entities(representations:$representations){...on Product{price(currency:$currency)}}}';
const USER_REVIEWS =
  'query Op__products__3($representations:[_Any!]!){_entities(representations:$representations){...on User{reviews{...Review}}}}fragment Review on Review{id body}';
const PRODUCT_REVIEWS =
  'query Op__products__4($representations:[_Any!]!){_entities(representations:$representations){...on Product{reviews{...Review}}}}fragment Review on Review{id}';

const shape = (query: string): EntityFetchShape => {
  const found = entityFetchShape(query);
  if (!found) throw new Error(`not an entity fetch: ${query}`);
  return found;
};

describe('entityFetchShape', () => {
  it("recognises Apollo's entity fetches, and the same selection under another operation name as the same", () => {
    const first = shape(PRODUCT_NAMES);
    expect(first.operationName).toBe('Op__products__1');
    expect(first.representationsType).toBe('[_Any!]!');
    expect(first.variableDefinitions).toEqual([]);
    expect(shape(PRODUCT_NAMES_AGAIN).selectionKey).toBe(first.selectionKey);
    expect(shape(PRICES).selectionKey).not.toBe(first.selectionKey);
    expect(shape(PRICES).variableDefinitions.map((d) => d.variable.name.value)).toEqual(['currency']);
  });

  it('refuses what is not a lone `_entities` field of a query', () => {
    for (const query of [
      'query Op__products__0{topProducts{upc}}',
      'mutation M($representations:[_Any!]!){_entities(representations:$representations){...on Product{name}}}',
      'query Q($representations:[_Any!]!){_entities(representations:$representations){...on Product{name}} __typename}',
      'query Q($representations:[_Any!]!){e:_entities(representations:$representations){...on Product{name}}}',
      'query Q($representations:[_Any!]!) @x {_entities(representations:$representations){...on Product{name}}}',
      'query Q($representations:[_Any!]!){_entities(representations:$representations) @skip(if: false) {...on Product{name}}}',
      'query Q{_entities(representations:[]){...on Product{name}}}',
      'query Q($representations:[_Any!]! = []){_entities(representations:$representations){...on Product{name}}}',
      'query Q($representations:[_Any!]!){_entities(representations:$representations){...on Product{name}}} query R{__typename}',
      'not graphql {',
    ])
      expect(entityFetchShape(query), query).toBeNull();
  });
});

describe('mergedDocument', () => {
  it('asks for each selection under its alias, with its own representations, in one valid document', async () => {
    const merged = mergedDocument([shape(PRODUCT_NAMES), shape(PRICES), shape(USER_REVIEWS)])!;
    expect(merged.aliases).toEqual(['_0', '_1', '_2']);
    expect(merged.variables).toEqual(['representations0', 'representations1', 'representations2']);
    expect(merged.operationName).toBe('Op__products__1');
    const answer = await run(merged.query, {
      representations0: [{ __typename: 'Product', upc: 'a' }],
      representations1: [{ __typename: 'Product', upc: 'bb' }],
      representations2: [{ __typename: 'User', id: '7' }],
      currency: 'EUR',
    });
    expect(answer).toEqual({
      data: {
        _0: [{ name: 'product a' }],
        _1: [{ price: 4 }],
        _2: [{ reviews: [{ id: 'by-7', body: 'by 7' }] }],
      },
    });
  });

  it('defines a fragment both selections define alike once, and renames one defined differently', async () => {
    const same = mergedDocument([shape(USER_REVIEWS), shape(USER_REVIEWS.replace('__3', '__9'))])!;
    expect(same.query.match(/fragment Review /g)).toHaveLength(1);
    const differing = mergedDocument([shape(USER_REVIEWS), shape(PRODUCT_REVIEWS)])!;
    expect(differing.query).toMatch(/fragment Review on Review/);
    expect(differing.query).toMatch(/fragment Review_1 on Review/);
    const answer = await run(differing.query, {
      representations0: [{ __typename: 'User', id: '1' }],
      representations1: [{ __typename: 'Product', upc: 'p' }],
    });
    // Each list keeps its own fragment: the users' reviews with bodies, the product's without.
    expect(answer.data).toEqual({ _0: [{ reviews: [{ id: 'by-1', body: 'by 1' }] }], _1: [{ reviews: [{ id: 'r-p' }] }] });
  });

  it('defines a variable the selections share once, and refuses one defined two ways', () => {
    const twice = mergedDocument([shape(PRICES), shape(PRICES.replace('__2', '__5').replace('{price(', '{name price('))])!;
    expect(twice.query.match(/\$currency: String/g)).toHaveLength(1);
    expect(
      mergedDocument([shape(PRICES), shape(PRICES.replace('$currency:String', '$currency:String!').replace('__2', '__6'))]),
    ).toBeNull();
  });
});

describe('splitAnswer', () => {
  it('gives each list its entities, each error on its entity (path relative to it), and the others to all', async () => {
    const merged = mergedDocument([shape(PRODUCT_NAMES), shape(PRICES)])!;
    const answer = await run(merged.query, {
      representations0: [
        { __typename: 'Product', upc: 'a' },
        { __typename: 'Product', upc: 'broken' },
      ],
      representations1: [{ __typename: 'Product', upc: 'c' }],
    });
    const split = splitAnswer(
      { ...answer, errors: [...(answer.errors ?? []), { message: 'whole request' }, { message: 'on _1', path: ['_1'] }] },
      merged.aliases,
      [2, 1],
    );
    expect(split.selections[0]!.entities).toEqual([{ name: 'product a' }, { name: null }]);
    expect(split.selections[0]!.entityErrors.get(1)).toEqual([expect.objectContaining({ message: 'no name for broken', path: ['name'] })]);
    expect(split.selections[0]!.entityErrors.has(0)).toBe(false);
    expect(split.selections[1]!.entities).toEqual([{ price: 1 }]);
    expect(split.selections[1]!.listErrors).toEqual([{ message: 'on _1', path: [] }]);
    expect(split.shared).toEqual([{ message: 'whole request' }]);
  });

  it('has no entities for a list that is missing, null or of another length', () => {
    const split = splitAnswer({ data: { _0: null, _1: [{}, {}] } }, ['_0', '_1', '_2'], [1, 1, 1]);
    expect(split.selections.map((s) => s.entities)).toEqual([undefined, undefined, undefined]);
    expect(splitAnswer({ data: null, errors: [{ message: 'down' }] }, ['_entities'], [3])).toEqual({
      selections: [{ entities: undefined, entityErrors: new Map(), listErrors: [] }],
      shared: [{ message: 'down' }],
    });
  });
});

describe('EntityDocuments', () => {
  it('works a fetch text and a merge out once, and keeps a refusal too', () => {
    const documents = new EntityDocuments();
    expect(documents.shape(PRODUCT_NAMES)).toBe(documents.shape(PRODUCT_NAMES));
    expect(documents.shape('query Op__products__0{topProducts{upc}}')).toBeNull();
    const shapes = [documents.shape(PRODUCT_NAMES)!, documents.shape(PRICES)!];
    expect(documents.merged(shapes)).toBe(documents.merged([...shapes]));
  });
});
