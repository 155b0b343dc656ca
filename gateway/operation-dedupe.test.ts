import type { ApolloGateway } from '@apollo/gateway';
import { describe, expect, it } from 'vitest';
import { ANONYMOUS, type Caller } from './caller.js';
import type { GatewayContext } from './data-source.js';
import { NO_HEADER_RULES, parseHeaderRules, type HeaderRules } from './headers.js';
import { requestKeyParts } from './key-parts.js';
import { OperationDedupe } from './operation-dedupe.js';

type Executor = ApolloGateway['executor'];

/** Apollo Server's cache policy as it behaves (`restrict` keeps the lowest max-age; PRIVATE sticks). */
function newCachePolicy() {
  return {
    maxAge: undefined as number | undefined,
    scope: undefined as 'PUBLIC' | 'PRIVATE' | undefined,
    restrict(hint: { maxAge?: number; scope?: 'PUBLIC' | 'PRIVATE' }) {
      if (hint.maxAge !== undefined && (this.maxAge === undefined || hint.maxAge < this.maxAge)) this.maxAge = hint.maxAge;
      if (hint.scope !== undefined && this.scope !== 'PRIVATE') this.scope = hint.scope;
    },
    policyIfCacheable() {
      return this.maxAge === undefined || this.maxAge === 0 ? null : { maxAge: this.maxAge, scope: this.scope ?? 'PUBLIC' };
    },
  };
}
type ExecutorContext = Parameters<Executor>[0];

interface Request {
  readonly kind?: 'query' | 'mutation' | 'subscription';
  readonly query?: string;
  readonly variables?: Record<string, unknown>;
  readonly headers?: Record<string, string>;
  readonly caller?: Caller;
  readonly versions?: [string, string | null | undefined][];
  readonly epochs?: [string, string | null][];
  readonly live?: boolean;
  readonly pin?: string;
}

function requestContext(request: Request = {}): ExecutorContext {
  const context: GatewayContext = {
    pin: request.pin ?? new Date().toISOString(),
    touched: new Set(),
    markedPublic: new Set(),
    answered: new Map(),
    versions: new Map(request.versions ?? [['products', 'v1']]),
    ...(request.epochs ? { epochs: new Map(request.epochs) } : {}),
    caller: request.caller ?? ANONYMOUS,
    ...(request.live ? { live: true } : {}),
  };
  return {
    source: request.query ?? '{ topProducts { upc } }',
    request: { variables: request.variables ?? {}, http: { headers: new Map(Object.entries(request.headers ?? {})) } },
    operation: { operation: request.kind ?? 'query' },
    context,
    overallCachePolicy: newCachePolicy(),
  } as unknown as ExecutorContext;
}

/** A gateway whose executor counts its runs and answers once `release` is called (each run as `answer` says). */
function fakeGateway(answer: (rc: ExecutorContext, run: number) => unknown = () => ({ data: { topProducts: [{ upc: '1' }] } })) {
  let release!: () => void;
  let released = new Promise<void>((resolve) => (release = resolve));
  const state = {
    runs: 0,
    release: () => {
      release();
      released = new Promise<void>((resolve) => (release = resolve));
    },
  };
  const gateway = {
    executor: async (rc: ExecutorContext) => {
      const run = ++state.runs;
      const context = rc.context as GatewayContext;
      context.touched.add('products');
      context.markedPublic.add('products');
      context.answered?.set('products', 'v1');
      rc.overallCachePolicy.restrict({ maxAge: 30, scope: 'PUBLIC' });
      await released;
      const outcome = answer(rc, run);
      if (outcome instanceof Error) throw outcome;
      return outcome;
    },
  };
  return { gateway, state, executor: () => (gateway as unknown as { executor: Executor }).executor };
}

/** Scopes decide access: a caller with `admin` gets another cut than one without. */
const byScope = { accessKey: (_q: string, _o: unknown, caller: Pick<Caller, 'scopes'>) => (caller.scopes.has('admin') ? 'a=1' : 'a=0') };

function dedupe(options: { rules?: HeaderRules; joined?: () => void } = {}) {
  const rules = options.rules ?? NO_HEADER_RULES;
  return new OperationDedupe({
    supergraphVersion: () => 's1',
    keyParts: requestKeyParts(byScope, rules),
    propagatesHeaders: !rules.empty,
    ...(options.joined ? { onJoined: options.joined } : {}),
  });
}

/** Starts the executions of `requests` at once, releases them, and gives their results and the number of runs. */
async function runTogether(requests: Request[], options: Parameters<typeof dedupe>[0] = {}) {
  const fake = fakeGateway();
  const merging = dedupe(options);
  merging.wrap(fake.gateway as unknown as ApolloGateway);
  const contexts = requests.map(requestContext);
  const pending = contexts.map((rc) => fake.executor()(rc));
  fake.state.release();
  const results = await Promise.all(pending);
  return { results, contexts, runs: fake.state.runs, merging };
}

describe('OperationDedupe', () => {
  it('executes two identical concurrent queries once; both get the answer and the leader’s effects', async () => {
    let joins = 0;
    const { results, contexts, runs, merging } = await runTogether([{}, {}], { joined: () => (joins += 1) });
    expect(runs).toBe(1);
    expect(joins).toBe(1);
    expect(results[0]).toEqual({ data: { topProducts: [{ upc: '1' }] } });
    expect(results[1]).toEqual(results[0]);
    // Each its own result object: plugins replace parts of it.
    expect(results[1]).not.toBe(results[0]);
    const joiner = contexts[1]!;
    const context = joiner.context as GatewayContext;
    expect([...context.touched]).toEqual(['products']);
    expect([...context.markedPublic]).toEqual(['products']);
    expect([...context.answered!]).toEqual([['products', 'v1']]);
    expect(joiner.overallCachePolicy.policyIfCacheable()).toEqual({ maxAge: 30, scope: 'PUBLIC' });
    expect(merging.inFlight).toBe(0);
  });

  it('gives each joiner its own extensions object', async () => {
    const fake = fakeGateway(() => ({ data: { a: 1 }, extensions: { note: 'x' } }));
    dedupe().wrap(fake.gateway as unknown as ApolloGateway);
    const pending = [requestContext(), requestContext()].map((rc) => fake.executor()(rc));
    fake.state.release();
    const [leader, joiner] = await Promise.all(pending);
    expect(joiner!.extensions).toEqual(leader!.extensions);
    expect(joiner!.extensions).not.toBe(leader!.extensions);
  });

  it.each<[string, Request, Request, Parameters<typeof dedupe>[0]?]>([
    ['different variables', { variables: { first: 1 } }, { variables: { first: 2 } }],
    ['different operation text', { query: '{ a }' }, { query: '{ b }' }],
    ['different propagated headers', { headers: { 'x-tenant': 'a' } }, { headers: { 'x-tenant': 'b' } }, { rules: tenantRules() }],
    [
      'different tokens when headers reach the subgraphs',
      { headers: { authorization: 'Bearer a' } },
      { headers: { authorization: 'Bearer b' } },
      { rules: tenantRules() },
    ],
    ['callers with different access', { caller: { ...ANONYMOUS, scopes: new Set(['admin']) } }, { caller: ANONYMOUS }],
    ['different feed-version snapshots', { versions: [['products', 'v1']] }, { versions: [['products', 'v2']] }],
    ['a feed version unknown against none', { versions: [['products', undefined]] }, { versions: [['products', null]] }],
    ['different mutation epochs', { epochs: [['products', '1']] }, { epochs: [['products', '2']] }],
    [
      // Its stream down, a report may be visible at the second pin and not at the first.
      'different pins while a feed version is unknown',
      { versions: [['products', undefined]], pin: '2026-01-01T00:00:00.000Z' },
      { versions: [['products', undefined]], pin: '2026-01-01T00:00:01.000Z' },
    ],
  ])('executes separately with %s', async (_name, first, second, options) => {
    expect((await runTogether([first, second], options)).runs).toBe(2);
  });

  it('joins requests whose differences the subgraphs never see', async () => {
    // Known versions: the pins need not match (the same reports are known to both).
    const pins = [{ pin: '2026-01-01T00:00:00.000Z' }, { pin: '2026-01-01T00:00:01.000Z' }];
    expect((await runTogether(pins)).runs).toBe(1);
    // Unknown ones, the same pin: the same snapshot.
    const unknown = { versions: [['products', undefined]] as [string, undefined][], pin: '2026-01-01T00:00:00.000Z' };
    expect((await runTogether([unknown, unknown])).runs).toBe(1);
    // Not propagated: a header no rule passes, and with no rules at all, the token.
    expect((await runTogether([{ headers: { 'x-other': 'a' } }, { headers: { 'x-other': 'b' } }], { rules: tenantRules() })).runs).toBe(1);
    expect((await runTogether([{ headers: { authorization: 'Bearer a' } }, { headers: { authorization: 'Bearer b' } }])).runs).toBe(1);
  });

  it('never joins a mutation, a subscription, a live run or a request for its query plan', async () => {
    expect((await runTogether([{ kind: 'mutation' }, { kind: 'mutation' }])).runs).toBe(2);
    expect((await runTogether([{ kind: 'subscription' }, { kind: 'subscription' }])).runs).toBe(2);
    expect((await runTogether([{ live: true }, { live: true }])).runs).toBe(2);
    expect((await runTogether([{}, { live: true }])).runs).toBe(2);
    const plan = { headers: { 'apollo-query-plan-experimental': '1' } };
    expect((await runTogether([plan, plan])).runs).toBe(2);
  });

  it('lets no query that starts after a mutation join one that started before it', async () => {
    const fake = fakeGateway();
    dedupe().wrap(fake.gateway as unknown as ApolloGateway);
    const before = fake.executor()(requestContext());
    const mutation = fake.executor()(requestContext({ kind: 'mutation' }));
    const after = fake.executor()(requestContext());
    fake.state.release();
    await Promise.all([before, mutation, after]);
    expect(fake.state.runs).toBe(3);
  });

  it('gives every joiner the same thrown error, and the same errors in a result', async () => {
    const failure = new Error('planning failed');
    const thrower = fakeGateway(() => failure);
    dedupe().wrap(thrower.gateway as unknown as ApolloGateway);
    const thrown = [requestContext(), requestContext()].map((rc) =>
      thrower
        .executor()(rc)
        .catch((error: unknown) => error),
    );
    thrower.state.release();
    expect(await Promise.all(thrown)).toEqual([failure, failure]);
    expect(thrower.state.runs).toBe(1);

    const partial = { data: null, errors: [{ message: 'The products subgraph is unavailable' }] };
    const erring = fakeGateway(() => partial);
    dedupe().wrap(erring.gateway as unknown as ApolloGateway);
    const answered = [requestContext(), requestContext()].map((rc) => erring.executor()(rc));
    erring.state.release();
    const [leader, joiner] = await Promise.all(answered);
    expect(joiner).toEqual(leader);
    expect(joiner!.errors).toEqual(partial.errors);
    expect(erring.state.runs).toBe(1);
  });

  it('keeps nothing once an execution settles: the next identical query executes again', async () => {
    const fake = fakeGateway();
    const merging = dedupe();
    merging.wrap(fake.gateway as unknown as ApolloGateway);
    const first = fake.executor()(requestContext());
    expect(merging.inFlight).toBe(1);
    fake.state.release();
    await first;
    expect(merging.inFlight).toBe(0);
    const second = fake.executor()(requestContext());
    fake.state.release();
    await second;
    expect(fake.state.runs).toBe(2);
    expect(merging.inFlight).toBe(0);

    const failing = fakeGateway(() => new Error('down'));
    const after = dedupe();
    after.wrap(failing.gateway as unknown as ApolloGateway);
    const failed = failing
      .executor()(requestContext())
      .catch(() => null);
    failing.state.release();
    await failed;
    expect(after.inFlight).toBe(0);
  });
});

/** `x-tenant` reaches every subgraph. */
function tenantRules(): HeaderRules {
  return parseHeaderRules(JSON.stringify({ all: { request: [{ propagate: { named: 'x-tenant' } }] } }));
}
