import { readFileSync } from 'node:fs';
import { ApolloServer } from '@apollo/server';
import type { ApolloGateway } from '@apollo/gateway';
import { afterEach, describe, expect, it } from 'vitest';
import { readLive, type LiveRead } from './live/live-directive.js';
import { offlineGateway } from './offline-gateway.js';
import { loadPersistedOperations } from './persisted-operations.js';
import { gatewayInternals, planStoreKey, PlanWarmup, warmupOperations, type WarmOperation } from './plan-warmup.js';

const SUPERGRAPH = readFileSync(new URL('../schema/supergraph.graphql', import.meta.url), 'utf8');
const persisted = loadPersistedOperations();
const QUERY = 'query Programme { programme { name } }';

let gateway: ApolloGateway | null = null;
afterEach(async () => {
  await gateway?.stop();
  gateway = null;
});

/** A loaded gateway on the committed supergraph, and the hook's `update` to swap it. */
async function loaded(): Promise<{ gateway: ApolloGateway; update: (sdl: string) => void }> {
  let update: ((sdl: string) => void) | null = null;
  gateway = offlineGateway({
    supergraphSdl: async (options) => {
      update = options.update;
      return { supergraphSdl: SUPERGRAPH };
    },
    logger: { debug() {}, info() {}, warn() {}, error() {} },
  });
  await gateway.load();
  return { gateway, update: (sdl) => update!(sdl) };
}

const stored = (g: ApolloGateway, query: string, name: string | null) => gatewayInternals(g).queryPlanStore.get(planStoreKey(query, name));

/** A warm-up of the shipped persisted operations, or of `operations` given as recorded (newest first). */
function warmup(g: ApolloGateway, budgetMs: number, operations: readonly WarmOperation[] | 'persisted', log: string[] = [], max = 1000) {
  const recorded = (ops: readonly WarmOperation[]) =>
    ops.map((op, i) => ({
      name: op.operationName ?? `anonymous:${i}`,
      document: op.document,
      lastSeen: new Date(Date.now() - i * 1000).toISOString(),
    }));
  return new PlanWarmup(g, {
    budgetMs,
    max,
    persisted: () => (operations === 'persisted' ? persisted : new Map()),
    recorded: async () => (operations === 'persisted' ? [] : recorded(operations)),
    log: (line) => log.push(line),
  });
}

describe("Apollo Gateway's internals, as plan-warmup.ts reads them", () => {
  // If this fails after an upgrade of @apollo/gateway, warm-up no longer reaches its plan store.
  it('stores a plan under planStoreKey(query, operationName), in queryPlanStore, when it plans a request', async () => {
    const served = offlineGateway({ supergraphSdl: SUPERGRAPH, logger: { debug() {}, info() {}, warn() {}, error() {} } });
    const server = new ApolloServer({ gateway: served });
    await server.start();
    const internals = gatewayInternals(served);
    expect(internals.queryPlanner.constructor.name).toBe('QueryPlanner');
    try {
      await server.executeOperation({ query: QUERY, operationName: 'Programme' });
      await server.executeOperation({ query: QUERY });
    } finally {
      await server.stop();
    }
    expect(await internals.queryPlanStore.get(planStoreKey(QUERY, 'Programme'))).toMatchObject({ kind: 'QueryPlan' });
    expect(await internals.queryPlanStore.get(planStoreKey(QUERY, null))).toMatchObject({ kind: 'QueryPlan' });
  });

  it('clears queryPlanStore (the same object) on a swap', async () => {
    const { gateway, update } = await loaded();
    const store = gatewayInternals(gateway).queryPlanStore;
    await warmup(gateway, 2000, [{ document: QUERY, operationName: 'Programme' }]).atStart();
    expect(await stored(gateway, QUERY, 'Programme')).toBeDefined();
    update(`${SUPERGRAPH}\n# changed\n`);
    expect(gatewayInternals(gateway).queryPlanStore).toBe(store);
    expect(await stored(gateway, QUERY, 'Programme')).toBeUndefined();
  });

  it('names what is missing when a gateway has not loaded', () => {
    const unloaded = offlineGateway({ supergraphSdl: SUPERGRAPH });
    expect(() => gatewayInternals(unloaded)).toThrow(/plan warm-up: Apollo Gateway has no queryPlanner/);
  });
});

describe('PlanWarmup', () => {
  const operations = 'persisted' as const;

  it('plans the persisted operations at start, under the keys requests with and without a name use', async () => {
    const { gateway } = await loaded();
    const log: string[] = [];
    const result = await warmup(gateway, 10_000, operations, log).atStart();
    expect(result).toMatchObject({ planned: persisted.size, offered: persisted.size, failed: 0, cut: false });
    expect(await stored(gateway, persisted.get('ReleaseMatrix')!.body, 'ReleaseMatrix')).toMatchObject({ kind: 'QueryPlan' });
    expect(await stored(gateway, persisted.get('ReleaseMatrix')!.body, null)).toMatchObject({ kind: 'QueryPlan' });
    // A @live operation is planned as the live transports send it to Apollo: without @live.
    const freshness = readLive(persisted.get('FeedFreshness')!.body, 'FeedFreshness', Infinity) as LiveRead;
    expect(freshness.query).not.toContain('@live');
    expect(await stored(gateway, freshness.query, 'FeedFreshness')).toMatchObject({ kind: 'QueryPlan' });
    expect(log).toEqual([
      expect.stringMatching(
        new RegExp(`^gateway: plan warm-up at start: planned ${persisted.size} of ${persisted.size} operations in \\d+ ms$`),
      ),
    ]);
  });

  it('plans on the new supergraph before the swap, and fills the store in the same step as the swap', async () => {
    const { gateway, update } = await loaded();
    const log: string[] = [];
    const body = persisted.get('ReleaseMatrix')!.body;
    const install = await warmup(gateway, 10_000, operations, log).beforeSwap(`${SUPERGRAPH}\n# changed\n`);
    expect(await stored(gateway, body, 'ReleaseMatrix')).toBeUndefined(); // nothing served on it yet
    update(`${SUPERGRAPH}\n# changed\n`);
    install!();
    expect(await stored(gateway, body, 'ReleaseMatrix')).toMatchObject({ kind: 'QueryPlan' });
    expect(log).toEqual([expect.stringMatching(/^gateway: plan warm-up before the swap: planned \d+ of \d+ operations in \d+ ms$/)]);
  });

  it('stops at its budget, and says how far it got', async () => {
    const { gateway } = await loaded();
    const log: string[] = [];
    const many = Array.from({ length: 200 }, (_, i) => ({
      document: `query Q${i} { releases { code name south { designStatus } } }`,
      operationName: `Q${i}`,
    }));
    const result = await warmup(gateway, 5, many, log).atStart();
    expect(result!.cut).toBe(true);
    expect(result!.planned).toBeLessThan(200);
    expect(log[0]).toMatch(/^gateway: plan warm-up at start stopped at its budget \(PLAN_WARMUP_MS=5\): planned \d+ of 200 operations/);
    expect(await stored(gateway, many[199]!.document, 'Q199')).toBeUndefined();
  });

  it('warms the persisted operations when the recorded ones do not come within half the budget', async () => {
    const { gateway } = await loaded();
    const log: string[] = [];
    const warm = new PlanWarmup(gateway, {
      budgetMs: 4000,
      max: 1000,
      persisted: () => persisted,
      recorded: () => new Promise(() => {}),
      log: (line) => log.push(line),
    });
    const result = await warm.atStart();
    expect(log[0]).toBe('gateway: plan warm-up without the recorded operations: the registry did not answer within 2000 ms');
    expect(result!.offered).toBe(persisted.size);
  });

  it('lets the event loop run between plans (requests and /health keep being answered)', async () => {
    const { gateway } = await loaded();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    try {
      const result = await warmup(gateway, 10_000, 'persisted').atStart();
      expect(ticks).toBeGreaterThanOrEqual(result!.planned - 1);
    } finally {
      clearInterval(timer);
    }
  });

  it('plans at most PLAN_WARMUP_MAX operations', async () => {
    const { gateway } = await loaded();
    expect(await warmup(gateway, 10_000, 'persisted', [], 2).atStart()).toMatchObject({ planned: 2, offered: 2 });
  });

  it('does nothing with a budget of 0', async () => {
    const { gateway } = await loaded();
    const log: string[] = [];
    expect(await warmup(gateway, 0, operations, log).atStart()).toBeNull();
    expect(await warmup(gateway, 0, operations, log).beforeSwap(SUPERGRAPH)).toBeNull();
    expect(await stored(gateway, persisted.get('ReleaseMatrix')!.body, 'ReleaseMatrix')).toBeUndefined();
    expect(log).toEqual([]);
  });

  it('counts operations that no longer plan, and skips subscriptions', async () => {
    const { gateway } = await loaded();
    const log: string[] = [];
    const result = await warmup(
      gateway,
      10_000,
      [
        { document: 'query Gone { noSuchField }', operationName: 'Gone' },
        { document: 'subscription S { feedChanged { id } }', operationName: 'S' },
        { document: QUERY, operationName: null },
      ],
      log,
    ).atStart();
    expect(result).toMatchObject({ planned: 1, offered: 3, failed: 1 });
    expect(log[0]).toMatch(/; 1 do not plan on this supergraph$/);
  });
});

describe('warmupOperations', () => {
  it('takes the persisted operations, then the recorded ones newest first, once each, at most max', () => {
    const recorded = [
      { name: 'Old', document: 'query Old { programme { name } }', lastSeen: '2026-01-01T00:00:00.000Z' },
      { name: 'anonymous:abc', document: '{ programme { name } }', lastSeen: '2026-01-03T00:00:00.000Z' },
      { name: 'ReleaseMatrix', document: persisted.get('ReleaseMatrix')!.body, lastSeen: '2026-01-02T00:00:00.000Z' },
    ];
    const all = warmupOperations(persisted, recorded, 1000);
    expect(all.slice(persisted.size)).toEqual([
      { document: '{ programme { name } }', operationName: null },
      { document: 'query Old { programme { name } }', operationName: 'Old' },
    ]);
    expect(warmupOperations(persisted, recorded, 2)).toHaveLength(2);
  });
});
