import { buildSchema, parse, print } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { Identity } from './jwt.js';
import { Authorizer } from './authorize.js';
import { TYPENAME_ALIAS } from './reshape.js';
import { accessRules, gatewaySupergraph } from './requirements.js';

// The rules as a supergraph carries them; the walk runs on the API schema (no directives).
const SUPERGRAPH = `
schema
  @link(url: "https://specs.apollo.dev/link/v1.0")
  @link(url: "https://specs.apollo.dev/authenticated/v0.1", for: SECURITY)
  @link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY)
{ query: Query }
type Query { views: [View] items: [Item]! secretCount: Int @authenticated }
interface View { id: ID! note: String @requiresScopes(scopes: [["notes"]]) }
type South implements View { id: ID! note: String @requiresScopes(scopes: [["notes"]]) reset: String! @requiresScopes(scopes: [["reset"]]) }
type London implements View { id: ID! note: String }
type Item { id: ID! price: Int! @requiresScopes(scopes: [["finance"], ["admin", "audit"]]) vendor: Vendor }
type Vendor @authenticated { name: String }
`;
const API = buildSchema(`
type Query { views: [View] items: [Item]! secretCount: Int }
interface View { id: ID! note: String }
type South implements View { id: ID! note: String reset: String! }
type London implements View { id: ID! note: String }
type Item { id: ID! price: Int! vendor: Vendor }
type Vendor { name: String }
`);

const who = (subject: string | null, ...scopes: string[]): Identity => ({ subject, scopes: new Set(scopes), claims: {} });
const anonymous = who(null);
const authorizer = new Authorizer(accessRules(SUPERGRAPH), API);

describe('accessRules and gatewaySupergraph', () => {
  it('reads type and field conditions, with the scopes as OR-of-AND lists', () => {
    const rules = accessRules(SUPERGRAPH);
    expect(rules.types.get('Vendor')?.id).toBe('authenticated');
    expect(rules.fields.get('Item.price')?.conditions).toEqual([{ kind: 'scopes', anyOf: [['finance'], ['admin', 'audit']] }]);
    expect(rules.fields.has('London.note')).toBe(false);
  });

  it('drops only the SECURITY purpose of those two links', () => {
    const sdl = gatewaySupergraph(SUPERGRAPH);
    expect(sdl).toContain('@link(url: "https://specs.apollo.dev/authenticated/v0.1")');
    expect(sdl).toContain('@link(url: "https://specs.apollo.dev/requiresScopes/v0.1")');
    expect(gatewaySupergraph('@link(url: "https://specs.apollo.dev/inaccessible/v0.2", for: SECURITY)')).toContain('for: SECURITY');
  });
});

describe('Authorizer', () => {
  it('lets through what the caller may see, untouched', () => {
    const document = parse('{ items { id price vendor { name } } }');
    expect(authorizer.restrict(document, undefined, who('a', 'admin', 'audit'))).toBeNull();
    expect(authorizer.restrict(parse('{ items { id } }'), undefined, anonymous)).toBeNull();
  });

  it('cuts a field and a type, typename-aliased where a selection empties, and reshapes with null propagation', () => {
    const restriction = authorizer.restrict(parse('{ items { price vendor { name } } secretCount }'), undefined, anonymous)!;
    expect(print(restriction.document)).not.toMatch(/price|vendor|secretCount/);
    expect(print(restriction.document)).toContain(`${TYPENAME_ALIAS}: __typename`);
    expect(restriction.errors.map((e) => e.path)).toEqual([['items', '@', 'price'], ['items', '@', 'vendor'], ['secretCount']]);
    // price: Int! in [Item]!: each item becomes null (the list's items may be), not the list.
    const data = { items: [{ [TYPENAME_ALIAS]: 'Item' }, null], secretCount: undefined, [TYPENAME_ALIAS]: 'Query' };
    expect(restriction.reshape(data, {})).toEqual({ items: [null, null], secretCount: null });
  });

  it('restricts an interface field when an implementation does, and reshapes by runtime type', () => {
    const restriction = authorizer.restrict(
      parse('{ views { id ... on South { reset } ... on London { note } } }'),
      undefined,
      who('a', 'notes'),
    )!;
    expect(restriction.errors.map((e) => e.path)).toEqual([['views', '@', 'reset']]);
    const shaped = restriction.reshape(
      {
        views: [
          { id: '1', [TYPENAME_ALIAS]: 'South' },
          { id: '2', note: 'n', [TYPENAME_ALIAS]: 'London' },
        ],
      },
      {},
    );
    // reset: String! cut on the South view: that view is null; London is untouched.
    expect(shaped).toEqual({ views: [null, { id: '2', note: 'n' }] });
  });

  it('honours @skip and @include when reshaping, and named fragments', () => {
    const restriction = authorizer.restrict(
      parse('query($on: Boolean!) { items { id @include(if: $on) ...F } } fragment F on Item { price }'),
      undefined,
      anonymous,
    )!;
    expect(restriction.reshape({ items: [{ id: '1' }] }, { on: false })).toEqual({ items: [null] });
    expect(restriction.errors.map((e) => e.path)).toEqual([['items', '@', 'price']]);
  });

  it('keys the response cache by the conditions the operation touches, met or not, never by who', () => {
    expect(authorizer.accessKey('{ items { id } }', null, who('a', 'finance'))).toBe('');
    const anon = authorizer.accessKey('{ items { price } }', null, anonymous);
    const finance = authorizer.accessKey('{ items { price } }', null, who('a', 'finance'));
    expect(anon).toBe('scopes:admin&audit|finance=0');
    expect(finance).toBe('scopes:admin&audit|finance=1');
    expect(authorizer.accessKey('{ items { price } }', null, who('b', 'admin', 'audit', 'other'))).toBe(finance);
    expect(authorizer.accessKey('{ items {', null, anonymous)).toBeNull();
  });
});
