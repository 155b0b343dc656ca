/**
 * A publish cannot hurt the gateway: an SDL over the limits is refused at once; checks run in
 * a worker, so `/health` answers throughout a costly one, and checks over their time are
 * stopped and refused; a change whose swap fails is withdrawn, leaving the store as it was;
 * a gateway that finds stored state it cannot serve starts on the built-in subgraphs and says
 * why; a subgraph name is bounded.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../gateway/config.js';
import { mintToken } from '../gateway/registry/tokens.js';
import { FileRegistryStore, type RegistryState } from '../gateway/registry/store.js';
import { buildGatewayService } from '../gateway/server.js';
import { startStack, type Stack } from '../scripts/stack.js';
import { buildClusterSubgraph, type ClusterSubgraphDefinition } from '../subgraphs/kit/cluster.js';
import { createService, listen, subgraphApollo, type Listening } from '../subgraphs/kit/http.js';
import { buildContractSubgraph } from '../subgraphs/kit/schema.js';
import { feedReferenceOf, loadReference } from '../subgraphs/programme/reference.js';
import { nmeFeedDir, nmeSubgraph } from './fixtures/nme/index.js';
import { EPHEMERAL_ENV, post } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'msg-publish-safety-'));
const tokensFile = join(dir, 'tokens.json');
const operator = mintToken(tokensFile, { supplier: 'OPERATOR', subgraphs: [], operator: true });
const csc = mintToken(tokensFile, { supplier: 'CSC', subgraphs: ['nme'], operator: false });
const NME_SDL = readFileSync(new URL('./fixtures/nme/schema.graphql', import.meta.url), 'utf8');

/** An SDL of `types` object types of `fields` fields each, chained from one root field. */
function manyTypes(types: number, fields: number): string {
  const out = ['extend type Query {\n  "Entry."\n  t0: T0\n}'];
  for (let t = 0; t < types; t++) {
    const body = Array.from({ length: fields }, (_, f) => `  "F."\n  f${f}: ${t + 1 < types && f === 0 ? `T${t + 1}` : 'String'}`);
    out.push(`"Type ${t}."\ntype T${t} {\n${body.join('\n')}\n}`);
  }
  return out.join('\n');
}

let stack: Stack<null>;
let nme: Listening;
const running: Listening[] = [];

interface Gateway {
  readonly url: string;
  readonly registryDir: string;
  readonly lines: string[];
}

async function startGateway(env: Record<string, string> = {}, registryDir = mkdtempSync(join(dir, 'registry-'))): Promise<Gateway> {
  const lines: string[] = [];
  const config = loadGatewayConfig({
    HOST: '127.0.0.1',
    GATEWAY_PORT: '0',
    REGISTRY_DIR: registryDir,
    REGISTRY_TOKENS_FILE: tokensFile,
    RESPONSE_CACHE: 'false',
    PROGRAMME_URL: stack.subgraphUrls.programme,
    SOUTH_URL: stack.subgraphUrls.south,
    LONDON_URL: stack.subgraphUrls.london,
    INSIGHTS_URL: stack.subgraphUrls.insights,
    ...env,
  });
  const listening = await listen(await buildGatewayService(config, { log: (line) => lines.push(line) }), '127.0.0.1', 0);
  running.push(listening);
  return { url: listening.url, registryDir, lines };
}

const at = (gateway: Gateway, path: string) => new URL(path, gateway.url).toString();
async function call(url: string, method: string, token: string | null, body?: unknown) {
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(60_000),
  });
  return { status: response.status, body: (await response.json()) as any };
}

/** Polls `/health` while `work` runs; the slowest answer, in ms. */
async function slowestHealthDuring<T>(gateway: Gateway, work: Promise<T>): Promise<{ result: T; slowestMs: number; polls: number }> {
  let done = false;
  let slowestMs = 0;
  let polls = 0;
  const polling = (async () => {
    while (!done) {
      const started = Date.now();
      const response = await fetch(at(gateway, '/health'), { signal: AbortSignal.timeout(30_000) });
      expect(response.status).toBe(200);
      slowestMs = Math.max(slowestMs, Date.now() - started);
      polls++;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const result = await work.finally(() => (done = true));
  await polling;
  return { result, slowestMs, polls };
}

async function builtInClusters(gateway: Gateway): Promise<string[]> {
  const answer = await post<any>(gateway.url, '{ compareRelease(code: "R2", asOf: "2007-09-06") { clusters { id } } }');
  expect(answer.errors).toBeUndefined();
  return answer.data.compareRelease.clusters.map((c: { id: string }) => c.id).sort();
}

beforeAll(async () => {
  // Insights follows a registry folder of its own: no gateway below shares it.
  stack = await startStack({ env: { ...EPHEMERAL_ENV, REGISTRY_DIR: join(dir, 'insights-registry') }, withGateway: false, log: () => {} });
  const reference = feedReferenceOf(await loadReference(null));
  const built = await buildClusterSubgraph(nmeSubgraph as ClusterSubgraphDefinition<object>, { feedDir: nmeFeedDir, reference, pollMs: 0 });
  nme = await listen(built.service, '127.0.0.1', 0);
}, 60_000);

afterAll(async () => {
  for (const service of running.reverse()) await service.close();
  await nme?.close();
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a publish cannot hurt the gateway', () => {
  it('refuses an SDL over the limits at once, naming the limit, the setting and the measured value', async () => {
    const gateway = await startGateway();
    // The finding's SDL: 4,000 types of 10 fields (over the byte limit), then 1,000 types within it.
    const huge = await slowestHealthDuring(
      gateway,
      call(at(gateway, '/registry/subgraphs/many'), 'POST', operator, { sdl: manyTypes(4000, 10), url: nme.url }),
    );
    expect(huge.result.status).toBe(413);
    expect(huge.result.body.error.code).toBe('SDL_TOO_LARGE');
    expect(huge.result.body.error.message).toMatch(/has \d+ bytes; the registry takes at most 262144 \(REGISTRY_SDL_MAX_BYTES\)/);
    expect(huge.result.body.limit).toMatchObject({ setting: 'REGISTRY_SDL_MAX_BYTES', max: 262144 });
    expect(huge.slowestMs).toBeLessThan(1000);

    const started = Date.now();
    const many = await call(at(gateway, '/registry/subgraphs/many'), 'POST', operator, { sdl: manyTypes(1000, 10), url: nme.url });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(many.status).toBe(413);
    expect(many.body.limit).toEqual({ limit: 'types', setting: 'REGISTRY_SDL_MAX_TYPES', max: 300, measured: 1001 });
    expect(many.body.error.message).toContain('has 1001 types; the registry takes at most 300 (REGISTRY_SDL_MAX_TYPES)');
    expect((await call(at(gateway, '/registry/subgraphs'), 'GET', null)).body.subgraphs).toEqual([]);
  }, 60_000);

  it('checks in a worker: /health keeps answering during a costly check within the limits', async () => {
    const gateway = await startGateway();
    // 270 types, 2,700 fields: within the limits with the contract, and seconds of composition and diffing.
    // A publish composes what its URL serves, so a subgraph serves exactly that SDL.
    const sdl = manyTypes(270, 10);
    const many = await listen(
      await createService({ name: 'many', apollo: subgraphApollo(buildContractSubgraph(sdl, {})), context: async () => ({}) }),
      '127.0.0.1',
      0,
    );
    running.push(many);
    const { result, slowestMs, polls } = await slowestHealthDuring(
      gateway,
      call(at(gateway, '/registry/subgraphs/many'), 'POST', operator, { sdl, url: many.url }),
    );
    expect(slowestMs).toBeLessThan(1000);
    expect(result.body.error ?? null).toBeNull();
    expect(result.status).toBe(201);
    expect(polls).toBeGreaterThan(3);
  }, 90_000);

  it("takes one change per principal at a time, so one token's costly changes cannot queue everyone's", async () => {
    const gateway = await startGateway({ REGISTRY_SWAP_TIMEOUT_MS: '500' });
    const many = at(gateway, '/registry/subgraphs/many');
    const costly = call(many, 'POST', operator, { sdl: manyTypes(270, 10), url: nme.url });
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    const second = await call(many, 'POST', operator, { sdl: manyTypes(3, 2), url: nme.url });
    expect(second.status).toBe(409);
    expect(second.body.error.message).toContain('another change by OPERATOR is still being checked');
    expect(Date.now() - started).toBeLessThan(1000);
    // Another principal is not refused for the operator's change; the operator's next change, once answered, is taken.
    const other = call(at(gateway, '/registry/subgraphs/nme'), 'POST', csc, { sdl: NME_SDL, url: nme.url });
    expect((await costly).status).not.toBe(409);
    expect((await other).status).not.toBe(409);
    expect((await call(many, 'POST', operator, { sdl: manyTypes(3, 2), url: nme.url })).status).not.toBe(409);
  }, 120_000);

  it('stops checks that take longer than REGISTRY_CHECK_TIMEOUT_MS and refuses the publish, storing nothing', async () => {
    const gateway = await startGateway({ REGISTRY_CHECK_TIMEOUT_MS: '50' });
    const { result, slowestMs } = await slowestHealthDuring(
      gateway,
      call(at(gateway, '/registry/subgraphs/many'), 'POST', operator, { sdl: manyTypes(270, 10), url: nme.url }),
    );
    expect(result.status).toBe(422);
    expect(result.body.error).toEqual({
      code: 'CHECKS_ABORTED',
      message: expect.stringContaining(
        'the checks took longer than 50 ms (REGISTRY_CHECK_TIMEOUT_MS) and were stopped; nothing was stored',
      ),
    });
    expect(slowestMs).toBeLessThan(1000);
    expect(await new FileRegistryStore(gateway.registryDir).current()).toMatchObject({ version: 0, subgraphs: [] });
  }, 60_000);

  it('withdraws a change whose swap fails: the store is left as it was', async () => {
    // Insights does not follow this gateway's registry, so it never serves the new cluster.
    const gateway = await startGateway({ REGISTRY_SWAP_TIMEOUT_MS: '300' });
    const refused = await call(at(gateway, '/registry/subgraphs/nme'), 'POST', csc, { sdl: NME_SDL, url: nme.url });
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ accepted: false, error: { code: 'SWAP_FAILED' } });
    expect(refused.body.error.message).toContain('it was withdrawn and nothing is stored');
    const store = new FileRegistryStore(gateway.registryDir);
    expect(await store.current()).toMatchObject({ version: 0, subgraphs: [] });
    expect(await store.history()).toEqual([]);
    expect(await builtInClusters(gateway)).toEqual(['LONDON', 'SOUTH']);
    const listed = await call(at(gateway, '/registry/subgraphs'), 'GET', null);
    expect(listed.body).toMatchObject({ registryVersion: 0, subgraphs: [] });
  }, 60_000);

  it('refuses a subgraph name over 63 characters, before anything else', async () => {
    const gateway = await startGateway();
    const long = 'a'.repeat(5000);
    const published = await call(at(gateway, `/registry/subgraphs/${long}`), 'POST', operator, { sdl: NME_SDL, url: nme.url });
    expect(published.status).toBe(400);
    expect(published.body.error).toEqual({
      code: 'BAD_REQUEST',
      message: 'A subgraph name has at most 63 characters (got 5000): lower-case words joined by hyphens, e.g. "nme"',
    });
    expect((await call(at(gateway, `/registry/subgraphs/${long}/history`), 'GET', null)).status).toBe(400);
    expect(gateway.lines.join('\n')).not.toContain(long);
  }, 30_000);
});

describe('a gateway that finds stored state it cannot serve', () => {
  const stored = (subgraphs: { name: string; sdl: string }[]): RegistryState => ({
    version: 1,
    subgraphs: subgraphs.map((s) => ({
      ...s,
      url: 'http://127.0.0.1:9/graphql',
      version: 1,
      publishedAt: '2026-01-01T00:00:00.000Z',
      publishedBy: 'X',
    })),
    change: { action: 'publish', subgraph: subgraphs[0]?.name ?? null, restored: null, by: 'X', at: '2026-01-01T00:00:00.000Z' },
  });
  const writeState = (content: string) => {
    const registryDir = mkdtempSync(join(dir, 'bad-'));
    mkdirSync(registryDir, { recursive: true });
    writeFileSync(join(registryDir, 'state.json'), content);
    return registryDir;
  };

  it('starts on the built-in subgraphs when a stored subgraph is over the limits, naming it', async () => {
    const state = stored([{ name: 'huge', sdl: manyTypes(4000, 10) }]);
    const started = Date.now();
    const gateway = await startGateway({}, writeState(JSON.stringify({ current: state, history: [state] })));
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(await builtInClusters(gateway)).toEqual(['LONDON', 'SOUTH']);
    expect(gateway.lines.join('\n')).toMatch(
      /serving the built-in subgraphs only for now: registry version 1 cannot be served: Stored subgraph "huge" has \d+ bytes/,
    );
    const listed = await call(at(gateway, '/registry/subgraphs'), 'GET', null);
    expect(listed.body.served).toMatchObject({
      registryVersion: 0,
      problem: { registryVersion: 1, message: expect.stringContaining('Stored subgraph "huge"') },
    });
  }, 60_000);

  it('starts on the built-in subgraphs when the stored subgraphs do not compose, naming them', async () => {
    const clash = 'extend type Query {\n  "Clashes with the programme."\n  release(code: ID!): Int\n}\n';
    const state = stored([{ name: 'clash', sdl: clash }]);
    const gateway = await startGateway({}, writeState(JSON.stringify({ current: state, history: [state] })));
    expect(await builtInClusters(gateway)).toEqual(['LONDON', 'SOUTH']);
    expect(gateway.lines.join('\n')).toMatch(/serving the built-in subgraphs only for now: registry version 1 with clash: /);
    const listed = await call(at(gateway, '/registry/subgraphs'), 'GET', null);
    expect(listed.body.served.problem).toEqual({ registryVersion: 1, message: expect.stringContaining('(clash)') });
  }, 60_000);

  it('starts on the built-in subgraphs when the state in Redis is not a registry state', async () => {
    const prefix = `test:${randomUUID()}:registry:`;
    const redis = new Redis('redis://127.0.0.1:6379');
    try {
      await redis.set(`${prefix}version`, '1');
      await redis.set(`${prefix}state`, JSON.stringify({ version: 1, subgraphs: [{ name: 'nme' }] }));
      const gateway = await startGateway({ REDIS_URL: 'redis://127.0.0.1:6379', REGISTRY_REDIS_PREFIX: prefix });
      expect(await builtInClusters(gateway)).toEqual(['LONDON', 'SOUTH']);
      expect(gateway.lines.join('\n')).toContain(`the registry cannot be read (Redis key ${prefix}state is not a registry state`);
    } finally {
      await redis.del(`${prefix}version`, `${prefix}state`);
      redis.disconnect();
    }
  }, 60_000);

  it('starts on the built-in subgraphs when the stored state is not JSON, and the registry answers 503', async () => {
    const gateway = await startGateway({}, writeState('{"current": {"version": 1, "subgr'));
    expect(await builtInClusters(gateway)).toEqual(['LONDON', 'SOUTH']);
    expect(gateway.lines.join('\n')).toMatch(
      /the registry cannot be read \(Registry file .*state\.json cannot be read: .*\): serving the built-in subgraphs only/,
    );
    const listed = await call(at(gateway, '/registry/subgraphs'), 'GET', null);
    expect(listed).toEqual({
      status: 503,
      body: { error: { code: 'REGISTRY_UNAVAILABLE', message: "The registry's store cannot be reached now; try again shortly" } },
    });
  }, 60_000);
});
