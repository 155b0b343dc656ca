/**
 * Entity batching: the entity fetches of one turn go out as one request, each representation
 * once, and every fetch gets the answer the subgraph would have given it alone (entities,
 * errors on the right paths, nulls), as objects of its own; a flat entity already looked up
 * is not asked again, a failed one is; the data source never batches a mutation's fetches
 * and answers each fetch of a batch to a dead subgraph as it would have alone.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../test/entity-subgraph.js';
import type { SubgraphHint } from './cache-policy.js';
import { GatewayDataSource, type GatewayContext } from './data-source.js';
import { subgraphAgent } from './pool-fetcher.js';
import { EntityBatcher, type Answer, type Fetched } from './entity-batch.js';
import { EntityDocuments } from './entity-merge.js';

const NAMES = 'query Op__products__1($representations:[_Any!]!){_entities(representations:$representations){...on Product{name}}}';
const NAMES_AGAIN = 'query Op__products__7($representations:[_Any!]!){_entities(representations:$representations){...on Product{name}}}';
const PRICES =
  'query Op__products__2($representations:[_Any!]!,$currency:String){_entities(representations:$representations){...on Product{price(currency:$currency)}}}';
const REVIEWS =
  'query Op__products__3($representations:[_Any!]!){_entities(representations:$representations){...on User{reviews{...Review}}}}fragment Review on Review{id body}';

const product = (upc: string) => ({ __typename: 'Product', upc });
const user = (id: string) => ({ __typename: 'User', id });

type Options = Parameters<EntityBatcher['load']>[0];

/** An entity fetch of one operation, as Apollo's executor hands it to the data source. */
const fetchOf = (query: string, representations: unknown[], variables: Record<string, unknown> = {}): Options =>
  ({
    kind: 'incoming operation',
    request: { query, variables: { ...variables, representations } },
    incomingRequestContext: {},
    context: {},
    pathInIncomingRequest: [],
  }) as unknown as Options;

/** What the subgraph answers one fetch alone (the answer batching must give that fetch). */
const alone = (options: Options) => run(options.request.query!, options.request.variables ?? {});

const PUBLIC_MINUTE: SubgraphHint = { maxAge: 60, markedPublic: true };

/** A batcher over the in-process subgraph, recording what it sends. */
function batcher(hint: SubgraphHint = PUBLIC_MINUTE, answer: (options: Options) => Promise<Answer> = alone) {
  const sent: { query: string; variables: Record<string, unknown> }[] = [];
  const send = async (options: Options): Promise<Fetched> => {
    sent.push({ query: options.request.query!, variables: options.request.variables! });
    return { answer: await answer(options), hint };
  };
  return { sent, batcher: new EntityBatcher(new EntityDocuments(), send) };
}

const load = (b: EntityBatcher, options: Options) => {
  const loading = b.load(options);
  if (!loading) throw new Error('not batched');
  return loading.then((fetched) => fetched.answer);
};

describe('EntityBatcher', () => {
  it('sends the fetches of one turn as one request and answers each as the subgraph would have alone', async () => {
    const { sent, batcher: b } = batcher();
    const fetches = [
      fetchOf(NAMES, [product('a'), product('b')]),
      fetchOf(PRICES, [product('cc')], { currency: 'EUR' }),
      fetchOf(REVIEWS, [user('1')]),
    ];
    const answers = await Promise.all(fetches.map((f) => load(b, f)));
    expect(sent).toHaveLength(1);
    expect(sent[0]!.query).toMatch(/_0: _entities\(representations: \$representations0\)/);
    for (const [i, f] of fetches.entries()) expect(answers[i]).toEqual(await alone(f));
  });

  it('sends a representation once, and gives every fetch and index an entity of its own', async () => {
    const { sent, batcher: b } = batcher();
    const first = fetchOf(NAMES, [product('a'), product('b'), product('a')]);
    const second = fetchOf(NAMES_AGAIN, [product('b'), product('c')]);
    const deep = fetchOf(REVIEWS, [user('1'), user('1')]);
    const [one, two, three] = (await Promise.all([first, second, deep].map((f) => load(b, f)))).map(
      (a) => (a.data as { _entities: { reviews?: unknown[] }[] })._entities,
    );
    expect(sent).toHaveLength(1);
    expect(sent[0]!.variables['representations0']).toEqual([product('a'), product('b'), product('c')]);
    expect(sent[0]!.variables['representations1']).toEqual([user('1')]);
    expect(one).toEqual([{ name: 'product a' }, { name: 'product b' }, { name: 'product a' }]);
    expect(two).toEqual([{ name: 'product b' }, { name: 'product c' }]);
    expect(one![0]).not.toBe(one![2]);
    expect(one![1]).not.toBe(two![0]);
    // Apollo writes later stages into what it is given: a deep entity is never shared either.
    expect(three).toEqual([{ reviews: [{ id: 'by-1', body: 'by 1' }] }, { reviews: [{ id: 'by-1', body: 'by 1' }] }]);
    expect(three![0]!.reviews).not.toBe(three![1]!.reviews);
  });

  it('sends one fetch that shares nothing exactly as it came', async () => {
    const { sent, batcher: b } = batcher();
    const only = fetchOf(NAMES, [product('a')]);
    await load(b, only);
    expect(sent).toEqual([only.request]);
  });

  it('answers a flat entity the operation already looked up without asking again, and asks again for a deep one', async () => {
    const { sent, batcher: b } = batcher();
    await Promise.all([load(b, fetchOf(NAMES, [product('a')])), load(b, fetchOf(REVIEWS, [user('1')]))]);
    expect(sent).toHaveLength(1);
    const later = fetchOf(NAMES_AGAIN, [product('a')]);
    expect(await load(b, later)).toEqual(await alone(later));
    expect(sent).toHaveLength(1);
    await load(b, fetchOf(REVIEWS, [user('1')]));
    expect(sent).toHaveLength(2);
    // Only what was not looked up yet is asked for.
    await load(b, fetchOf(NAMES, [product('a'), product('z')]));
    expect(sent[2]!.variables['representations']).toEqual([product('z')]);
  });

  it('lets a fetch wait for a lookup another fetch has under way', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const { sent, batcher: b } = batcher(PUBLIC_MINUTE, async (options) => (await gate, alone(options)));
    const first = load(b, fetchOf(NAMES, [product('a')]));
    await new Promise((resolve) => setImmediate(resolve));
    const second = load(b, fetchOf(NAMES_AGAIN, [product('a')]));
    open();
    expect(await second).toEqual(await first);
    expect(sent).toHaveLength(1);
  });

  it('puts each error on the entity it concerns, for every fetch that asked for it, and asks for a failed entity again', async () => {
    const { sent, batcher: b } = batcher();
    const first = fetchOf(NAMES, [product('broken'), product('a')]);
    const second = fetchOf(NAMES_AGAIN, [product('x'), product('broken')]);
    const prices = fetchOf(PRICES, [product('broken')]);
    const answers = await Promise.all([first, second, prices].map((f) => load(b, f)));
    expect(sent).toHaveLength(1);
    const shape = (a: Answer) => ({ data: a.data, errors: a.errors?.map(({ message, path }) => ({ message, path })) });
    for (const [i, f] of [first, second, prices].entries()) expect(shape(answers[i]!)).toEqual(shape(await alone(f)));
    expect(answers[1]!.errors).toEqual([expect.objectContaining({ message: 'no name for broken', path: ['_entities', 1, 'name'] })]);
    await load(b, fetchOf(NAMES, [product('broken')]));
    expect(sent).toHaveLength(2);
  });

  it("fails one selection's list without touching the others', and gives an error on no list to every fetch", async () => {
    const { batcher: b } = batcher(PUBLIC_MINUTE, async () => ({
      data: { _0: null, _1: [{ price: 1 }] },
      errors: [{ message: 'list failed', path: ['_0'] }, { message: 'whole request' }],
    }));
    const [names, prices] = await Promise.all([
      load(b, fetchOf(NAMES, [product('a')])),
      load(b, fetchOf(PRICES, [product('b')], { currency: 'EUR' })),
    ]);
    expect(names).toEqual({
      data: null,
      errors: [{ message: 'list failed', path: ['_entities'] }, { message: 'whole request' }],
    });
    expect(prices).toEqual({ data: { _entities: [{ price: 1 }] }, errors: [{ message: 'whole request' }] });
  });

  it('answers no data to each fetch when the subgraph answered none', async () => {
    const { batcher: b } = batcher(PUBLIC_MINUTE, async () => ({ data: null, errors: [{ message: 'down' }] }));
    const answers = await Promise.all([load(b, fetchOf(NAMES, [product('a')])), load(b, fetchOf(PRICES, [product('b')]))]);
    expect(answers).toEqual([
      { data: null, errors: [{ message: 'down' }] },
      { data: null, errors: [{ message: 'down' }] },
    ]);
  });

  it('fails every fetch of a request that throws, and keeps answering afterwards', async () => {
    let fail = true;
    const { batcher: b } = batcher(PUBLIC_MINUTE, async (options) => {
      if (fail) throw new TypeError('broken send');
      return alone(options);
    });
    const results = await Promise.allSettled([load(b, fetchOf(NAMES, [product('a')])), load(b, fetchOf(PRICES, [product('b')]))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await load(b, fetchOf(NAMES, [product('a')]))).toEqual({ data: { _entities: [{ name: 'product a' }] } });
  });

  it('gives an answer made of a reused entity and a fetched one the most restrictive hint of both', async () => {
    let hint: SubgraphHint = PUBLIC_MINUTE;
    const sent: unknown[] = [];
    const b = new EntityBatcher(new EntityDocuments(), async (options) => (sent.push(options), { answer: await alone(options), hint }));
    await b.load(fetchOf(NAMES, [product('a')]));
    hint = { maxAge: 10, markedPublic: false };
    expect((await b.load(fetchOf(NAMES_AGAIN, [product('a'), product('b')])))!.hint).toEqual({ maxAge: 10, markedPublic: false });
    hint = { maxAge: 0, markedPublic: false };
    expect((await b.load(fetchOf(NAMES_AGAIN, [product('a')])))!.hint).toEqual(PUBLIC_MINUTE);
    expect(sent).toHaveLength(2);
  });

  it('leaves alone what is not an entity fetch, and a fetch with its own HTTP headers (a trace)', () => {
    const { batcher: b } = batcher();
    expect(
      b.load({ ...fetchOf('query Op__products__0{topProducts{upc}}', []), request: { query: '{ topProducts { upc } }' } } as Options),
    ).toBeNull();
    const traced = fetchOf(NAMES, [product('a')]);
    expect(b.load({ ...traced, request: { ...traced.request, http: { headers: new Headers() } } } as unknown as Options)).toBeNull();
  });
});

describe('GatewayDataSource with entity batching', () => {
  let server: Server;
  let url: string;
  const bodies: { query: string; variables: Record<string, unknown> }[] = [];
  const agent = subgraphAgent();

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as (typeof bodies)[number];
        bodies.push(body);
        void run(body.query, body.variables).then((answer) => {
          res.setHeader('content-type', 'application/json');
          res.setHeader('cache-control', 'max-age=30');
          res.end(JSON.stringify(answer));
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  });

  afterAll(async () => {
    await agent.close();
    await new Promise((resolve) => server.close(resolve));
  });

  const dataSource = (entityBatching: boolean, at = url) =>
    new GatewayDataSource({
      name: 'products',
      url: at,
      agent,
      defaultMaxAge: 60,
      dedupe: true,
      maxResponseBytes: 1024 * 1024,
      hasFeed: () => false,
      entityCache: null,
      log: () => {},
      entityBatching,
    });

  /** Two entity fetches of one operation, started in the same turn as Apollo's parallel nodes start them. */
  async function twoFetches(source: GatewayDataSource, operation: 'query' | 'mutation') {
    const context: GatewayContext = { pin: '', touched: new Set(), versions: new Map(), markedPublic: new Set() };
    const incomingRequestContext = { operation: { operation } };
    const fetches = [fetchOf(NAMES, [product('a'), product('b')]), fetchOf(PRICES, [product('a')])].map(
      (f) => ({ ...f, context, incomingRequestContext }) as unknown as Options,
    );
    const before = bodies.length;
    const answers = await Promise.all(fetches.map((f) => source.process(f as never)));
    return { requests: bodies.length - before, answers: answers.map(({ data, errors }) => ({ data, errors })), context };
  }

  it('sends a query’s fetches of one turn as one request, with the same answers as without batching', async () => {
    const batched = await twoFetches(dataSource(true), 'query');
    const apart = await twoFetches(dataSource(false), 'query');
    expect(batched.requests).toBe(1);
    expect(apart.requests).toBe(2);
    expect(batched.answers).toEqual(apart.answers);
    expect([...batched.context.touched]).toEqual(['products']);
  });

  it('never batches the fetches of a mutation', async () => {
    expect((await twoFetches(dataSource(true), 'mutation')).requests).toBe(2);
  });

  it('answers each fetch of a batch to a subgraph that is down as it would have alone', async () => {
    const down = createServer();
    await new Promise<void>((resolve) => down.listen(0, '127.0.0.1', resolve));
    const port = (down.address() as AddressInfo).port;
    await new Promise((resolve) => down.close(resolve));
    const at = `http://127.0.0.1:${port}/graphql`;
    const batched = await twoFetches(dataSource(true, at), 'query');
    const apart = await twoFetches(dataSource(false, at), 'query');
    expect(batched.answers).toEqual(apart.answers);
    expect(batched.answers[0]!.errors).toEqual([
      expect.objectContaining({ path: ['_entities', 0, 'name'], extensions: expect.objectContaining({ code: 'SUBGRAPH_UNAVAILABLE' }) }),
      expect.objectContaining({ path: ['_entities', 1, 'name'] }),
    ]);
  });
});
