/**
 * The supplier registry end to end, against a real Redis (a private redis-server): a third
 * supplier publishes its subgraph into a running gateway under load, with zero failed
 * requests, and its cluster appears in the comparison; bad tokens, malformed SDL, a
 * composition failure and a breaking change are refused with their reports; two gateways on
 * one Redis converge; a gateway started later comes back with the published subgraphs;
 * rollback restores the previous supergraph; racing publishes both land.
 */
import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeSupergraph } from '../gateway/compose.js';
import { mintToken } from '../gateway/registry/tokens.js';
import { supergraphSubgraphs } from '../subgraphs/catalog.js';
import type { Stack } from '../scripts/stack.js';
import { buildClusterSubgraph, type ClusterSubgraphDefinition } from '../subgraphs/kit/cluster.js';
import { createService, listen, subgraphApollo, type Listening } from '../subgraphs/kit/http.js';
import { buildContractSubgraph } from '../subgraphs/kit/schema.js';
import { feedReferenceOf, loadReference } from '../subgraphs/programme/reference.js';
import { nmeFeedDir, nmeSubgraph } from './fixtures/nme/index.js';
import { post, startTestStack } from './helpers.js';
import { freePort, PrivateRedis } from './redis.js';

const redis = new PrivateRedis(await freePort());
const dir = mkdtempSync(join(tmpdir(), 'msg-registry-e2e-'));
const tokensFile = join(dir, 'tokens.json');
const operator = mintToken(tokensFile, { supplier: 'OPERATOR', subgraphs: [], operator: true });
const csc = mintToken(tokensFile, { supplier: 'CSC', subgraphs: ['nme'], operator: false });
const cerner = mintToken(tokensFile, { supplier: 'CERNER', subgraphs: ['catalogue'], operator: false });

// The dashboards' operations, plus one a dashboard built on the NME view.
const manifest = JSON.parse(readFileSync(new URL('../gateway/persisted-operations.json', import.meta.url), 'utf8')) as {
  operations: { id: string; name: string; type: string; body: string }[];
};
manifest.operations.push({
  id: 'NmeDashboard',
  name: 'NmeDashboard',
  type: 'query',
  body: 'query NmeDashboard { release(code: "R2") { nme { localName fixtureOnly } } }',
});
const manifestFile = join(dir, 'persisted-operations.json');
writeFileSync(manifestFile, JSON.stringify(manifest));

const env = {
  REDIS_URL: redis.url,
  REGISTRY_REDIS_PREFIX: `test:${randomUUID()}:registry:`,
  REGISTRY_TOKENS_FILE: tokensFile,
  PERSISTED_OPERATIONS_FILE: manifestFile,
};
const NME_SDL = readFileSync(new URL('./fixtures/nme/schema.graphql', import.meta.url), 'utf8');
const NME_V2_SDL = NME_SDL.replace('  fixtureOnly: String\n', '  fixtureOnly: String\n  "Added in version 2."\n  extraNote: String\n');
const CATALOGUE_SDL = `extend type Query {
  "Cerner's product catalogue."
  products: [Product!]!
}
"A Cerner Millennium product."
type Product @key(fields: "id") {
  "Product id."
  id: ID!
  "Product name."
  name: String!
}
`;

let a: Stack;
let b: Stack;
const running: (Stack | Listening)[] = [];
let nme: Listening;
let nmeV2: Listening;
const nmeV2FeedDir = join(dir, 'nme-feed');
let catalogue: Listening;

async function startNme(definition: ClusterSubgraphDefinition<object>, feedDir = nmeFeedDir, pollMs = 0): Promise<Listening> {
  const reference = feedReferenceOf(await loadReference(null));
  const built = await buildClusterSubgraph(definition, { feedDir, reference, pollMs });
  const listening = await listen(built.service, '127.0.0.1', 0);
  running.push(listening);
  return listening;
}

const registry = (stack: Stack, path: string) => new URL(path, stack.gatewayUrl).toString();
async function call(url: string, method: string, token: string | null, body?: unknown) {
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as any };
}
const publish = (stack: Stack, name: string, token: string | null, sdl: string, url: string) =>
  call(registry(stack, `/registry/subgraphs/${name}`), 'POST', token, { sdl, url });

async function comparedClusters(stack: Stack): Promise<string[]> {
  const response = await post<any>(stack.gatewayUrl, '{ compareRelease(code: "R2", asOf: "2007-09-06") { clusters { id } } }');
  expect(response.errors).toBeUndefined();
  return response.data.compareRelease.clusters.map((c: { id: string }) => c.id).sort();
}

beforeAll(async () => {
  await redis.start();
  a = await startTestStack({ env: { ...env, RESPONSE_CACHE: 'false' }, log: () => {} });
  running.push(a);
  nme = await startNme(nmeSubgraph as ClusterSubgraphDefinition<object>);
  // Version 2 watches a feed folder of its own, where a test drops a new report.
  cpSync(nmeFeedDir, nmeV2FeedDir, { recursive: true });
  nmeV2 = await startNme({ ...nmeSubgraph, sdl: NME_V2_SDL } as ClusterSubgraphDefinition<object>, nmeV2FeedDir, 100);
  const schema = buildContractSubgraph(CATALOGUE_SDL, {
    Query: { products: () => [{ id: 'PAS', name: 'Millennium PAS' }] },
    Product: { __resolveReference: (ref: { id: string }) => ({ id: ref.id, name: 'Millennium PAS' }) },
  });
  catalogue = await listen(
    await createService({ name: 'catalogue', apollo: subgraphApollo(schema), context: async () => ({}) }),
    '127.0.0.1',
    0,
  );
  running.push(catalogue);
}, 60_000);

afterAll(async () => {
  for (const service of running.reverse()) await service.close();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the supplier registry', () => {
  it("refuses a missing or unknown token (401) and another supplier's token (403), changing nothing", async () => {
    expect((await publish(a, 'nme', null, NME_SDL, nme.url)).status).toBe(401);
    const unknown = await publish(a, 'nme', 'msr_not-a-token', NME_SDL, nme.url);
    expect(unknown.status).toBe(401);
    expect(unknown.body.error.code).toBe('UNAUTHORIZED');
    const other = await publish(a, 'nme', cerner, NME_SDL, nme.url);
    expect(other.status).toBe(403);
    expect(other.body.error.message).toContain('CERNER');
    expect((await call(registry(a, '/registry/rollback'), 'POST', csc, { version: 0 })).status).toBe(403);
    const notJson = await fetch(registry(a, '/registry/subgraphs/nme'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${csc}` },
      body: '{"sdl": ',
    });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: { code: string } }).error.code).toBe('BAD_REQUEST');
    const plain = await fetch(registry(a, '/registry/subgraphs/nme'), {
      method: 'POST',
      headers: { 'content-type': 'text/plain', authorization: `Bearer ${csc}` },
      body: NME_SDL,
    });
    expect(plain.status).toBe(415);
    const plainError = ((await plain.json()) as { error: { code: string; message: string } }).error;
    expect(plainError.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(plainError.message).toContain('Content-Type: application/json');
    const noUrl = await call(registry(a, '/registry/subgraphs/nme'), 'POST', csc, { sdl: NME_SDL });
    expect(noUrl.status).toBe(400);
    expect(noUrl.body.error.message).toContain('url');
    const listed = await call(registry(a, '/registry/subgraphs'), 'GET', null);
    expect(listed.body).toMatchObject({ registryVersion: 0, subgraphs: [] });
    expect(await comparedClusters(a)).toEqual(['LONDON', 'SOUTH']);
  });

  it('refuses an SDL that is not what its URL serves, naming the first difference, and stores nothing', async () => {
    const other = NME_SDL.replace('  fixtureOnly: String\n', '  fixtureOnly: Int\n');
    expect(other).not.toBe(NME_SDL);
    const refused = await publish(a, 'nme', csc, other, nme.url);
    expect(refused.status).toBe(422);
    const mismatch = refused.body.report.contract.find((i: { code: string }) => i.code === 'SDL_MISMATCH');
    expect(mismatch?.message).toContain('type NmeReleaseView differs');
    expect(mismatch?.message).toContain('posted "fixtureOnly: Int", served "fixtureOnly: String"');
    expect(refused.body.text).toContain('SDL_MISMATCH');
    const listed = await call(registry(a, '/registry/subgraphs'), 'GET', null);
    expect(listed.body).toMatchObject({ registryVersion: 0, subgraphs: [] });
  });

  it('refuses malformed SDL and a subgraph that does not compose, each with its report', async () => {
    const malformed = await publish(a, 'nme', csc, 'extend type Release {\n  nme(asOf: Date): \n}\n', nme.url);
    expect(malformed.status).toBe(422);
    expect(malformed.body.accepted).toBe(false);
    expect(malformed.body.report.sdl[0]).toMatchObject({ code: 'SDL_INVALID', locations: [{ line: 3, column: 1 }] });
    expect(malformed.body.text).toContain('SDL does not parse');
    const clash = await publish(a, 'nme', csc, `${NME_SDL}\nextend type Release {\n  name: Int\n}\n`, nme.url);
    expect(clash.status).toBe(422);
    expect(clash.body.report.composition.errors.map((e: { code: string }) => e.code)).toContain('FIELD_TYPE_MISMATCH');
    // A conforming subgraph that speaks for a cluster the programme does not know.
    const stranger = await startNme({ ...nmeSubgraph, clusterId: 'NORTH-EAST' } as ClusterSubgraphDefinition<object>);
    const unknownCluster = await publish(a, 'nme', csc, NME_SDL, stranger.url);
    expect(unknownCluster.status).toBe(422);
    expect(unknownCluster.body.report.contract).toContainEqual(
      expect.objectContaining({ code: 'CONTRACT_CLUSTER_UNKNOWN', message: expect.stringContaining('Cluster NORTH-EAST is not in') }),
    );
    expect(unknownCluster.body.text).toContain('CONTRACT_CLUSTER_UNKNOWN');
    const unreachable = await publish(a, 'nme', csc, NME_SDL, 'http://127.0.0.1:9/graphql');
    expect(unreachable.status).toBe(422);
    expect(unreachable.body.report.reachability.ok).toBe(false);
    expect((await call(registry(a, '/registry/subgraphs'), 'GET', null)).body.registryVersion).toBe(0);
  });

  it('publishes a third cluster under steady load with zero failed requests, and compares it', async () => {
    let stop = false;
    const outcomes = { ok: 0, failed: [] as string[], sawNme: 0 };
    const loop = async () => {
      while (!stop) {
        const response = await post<any>(
          a.gatewayUrl,
          '{ compareRelease(code: "R2", asOf: "2007-09-06") { clusters { id } divergent } feeds { id } }',
        );
        if (response.status !== 200 || response.errors || !response.data) outcomes.failed.push(JSON.stringify(response));
        else {
          outcomes.ok++;
          if (response.data.feeds.some((f: { id: string }) => f.id === 'nme')) outcomes.sawNme++;
        }
      }
    };
    const clients = Array.from({ length: 8 }, loop);
    await new Promise((r) => setTimeout(r, 1000));
    const published = await publish(a, 'nme', csc, NME_SDL, nme.url);
    await new Promise((r) => setTimeout(r, 1000));
    stop = true;
    await Promise.all(clients);
    console.log(
      `registry e2e: ${outcomes.ok} requests under load across the swap, ${outcomes.failed.length} failed, ${outcomes.sawNme} already with NME`,
    );
    expect(published.status).toBe(201);
    expect(published.body).toMatchObject({ accepted: true, registryVersion: 1, served: true });
    expect(outcomes.failed).toEqual([]);
    expect(outcomes.sawNme).toBeGreaterThan(0);
    expect(outcomes.ok).toBeGreaterThan(outcomes.sawNme);
    expect(await comparedClusters(a)).toEqual(['LONDON', 'NME', 'SOUTH']);
    const viaRelease = await post<any>(a.gatewayUrl, '{ release(code: "R2") { comparison(asOf: "2007-09-06") { clusters { id } } } }');
    expect(viaRelease.data.release.comparison.clusters.map((c: { id: string }) => c.id).sort()).toEqual(['LONDON', 'NME', 'SOUTH']);
    const listed = await call(registry(a, '/registry/subgraphs'), 'GET', null);
    expect(listed.body.subgraphs).toEqual([expect.objectContaining({ name: 'nme', url: nme.url, version: 1, publishedBy: 'CSC' })]);
  });

  it('is off with a fixed SUPERGRAPH_PATH, and says so; such a gateway never sees a cluster it does not know', async () => {
    const fixed = composeSupergraph(supergraphSubgraphs(a.subgraphUrls));
    if (!fixed.ok) throw new Error(fixed.errors.join('\n'));
    const file = join(dir, 'fixed-supergraph.graphql');
    writeFileSync(file, fixed.supergraphSdl);
    const c = await startTestStack({ env: { ...env, SUPERGRAPH_PATH: file }, log: () => {} });
    running.push(c);
    const refused = await publish(c, 'nme', csc, NME_SDL, nme.url);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'REGISTRY_DISABLED', message: expect.stringContaining('SUPERGRAPH_PATH') });
    // Its insights (a's) compares NME by now; this gateway's plan has no NmeFeedStatus.
    const feeds = await post<any>(c.gatewayUrl, '{ feeds { id cluster { id } } }');
    expect(feeds.errors).toBeUndefined();
    expect(feeds.data.feeds.map((f: { id: string }) => f.id)).toEqual(['south', 'london']);
  });

  it('refuses a breaking change, naming the persisted and recorded operations it would break', async () => {
    const persisted = await call(a.gatewayUrl, 'POST', null, { documentId: 'NmeDashboard' });
    expect(persisted.body.data.release.nme.fixtureOnly).toBe('only in the NME spec');
    // Run by an identified client (a registry token): only those are recorded.
    const notes = await call(a.gatewayUrl, 'POST', csc, { query: 'query NmeNotes { release(code: "R2") { nme { fixtureOnly } } }' });
    expect(notes.body.errors).toBeUndefined();
    const breaking = NME_SDL.replace('  "What only this fixture\'s spec has."\n  fixtureOnly: String\n', '');
    let refused: Awaited<ReturnType<typeof publish>>;
    // The gateway writes recorded operations every 2 s.
    const deadline = Date.now() + 10_000;
    do {
      refused = await publish(a, 'nme', csc, breaking, nme.url);
      if (refused.body.report?.operations.broken.some((o: { name: string }) => o.name === 'NmeNotes')) break;
      await new Promise((r) => setTimeout(r, 500));
    } while (Date.now() < deadline);
    expect(refused.status).toBe(422);
    expect(refused.body.report.changes).toContainEqual(expect.objectContaining({ level: 'BREAKING', path: 'NmeReleaseView.fixtureOnly' }));
    const broken = refused.body.report.operations.broken.map((o: { name: string; source: string }) => `${o.source}:${o.name}`).sort();
    expect(broken).toEqual(['persisted:NmeDashboard', 'recorded:NmeNotes']);
    expect(refused.body.text).toContain('NmeDashboard (persisted)');
    expect((await call(registry(a, '/registry/subgraphs'), 'GET', null)).body.registryVersion).toBe(1);
  });

  it('brings a gateway started later (a restart) up with the published subgraph, and converges replicas on a publish', async () => {
    b = await startTestStack({ env, log: () => {} });
    running.push(b);
    expect(await comparedClusters(b)).toEqual(['LONDON', 'NME', 'SOUTH']);
    const published = await publish(a, 'nme', csc, NME_V2_SDL, nmeV2.url);
    expect(published.status).toBe(201);
    const started = Date.now();
    let converged: any;
    while (Date.now() - started < 10_000) {
      converged = await post<any>(b.gatewayUrl, '{ release(code: "R2") { nme { localName extraNote } } }');
      if (!converged.errors) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    console.log(`registry e2e: the second gateway served version 2 ${Date.now() - started} ms after the publish answered`);
    expect(converged.errors).toBeUndefined();
    expect(converged.data.release.nme).toEqual({ localName: 'NME Release 2', extraNote: null });
    // B follows the new subgraph's feed version: its answers are cached, and a new report is
    // never answered from the cache.
    const nmeQuery = '{ release(code: "R2") { nme { localName } } }';
    const cacheStatus = async () =>
      ((await post<any>(b.gatewayUrl, nmeQuery)) as { extensions?: { cache?: { status?: string } } }).extensions?.cache?.status;
    let status: unknown;
    for (let i = 0; i < 50 && status !== 'HIT'; i++) {
      status = await cacheStatus();
      if (status !== 'HIT') await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe('HIT');
    const report = JSON.parse(readFileSync(join(nmeV2FeedDir, 'nme-2007-09-06.json'), 'utf8'));
    report.asOf = '2008-01-31';
    report.releases[1].localName = 'NME Release 2 (rebaselined)';
    writeFileSync(join(nmeV2FeedDir, 'nme-2008-01-31.json'), JSON.stringify(report));
    let name: unknown;
    for (const until = Date.now() + 10_000; Date.now() < until && name !== 'NME Release 2 (rebaselined)';) {
      name = (await post<any>(b.gatewayUrl, nmeQuery)).data?.release.nme.localName;
      if (name !== 'NME Release 2 (rebaselined)') await new Promise((r) => setTimeout(r, 100));
    }
    expect(name).toBe('NME Release 2 (rebaselined)');
    const history = await call(registry(b, '/registry/subgraphs/nme/history'), 'GET', null);
    expect(history.body.versions.map((v: any) => [v.registryVersion, v.subgraph?.version, v.change.by])).toEqual([
      [2, 2, 'CSC'],
      [1, 1, 'CSC'],
    ]);
  });

  it('lets two publishes race on two replicas without losing either', async () => {
    const [first, second] = await Promise.all([
      publish(a, 'catalogue', cerner, CATALOGUE_SDL, catalogue.url),
      publish(b, 'nme', csc, NME_V2_SDL.replace('Added in version 2.', 'Added in version 2 (republished).'), nmeV2.url),
    ]);
    expect([first.status, second.status]).toEqual([201, 201]);
    expect([first.body.registryVersion, second.body.registryVersion].sort()).toEqual([3, 4]);
    const listed = await call(registry(a, '/registry/subgraphs'), 'GET', null);
    expect(listed.body.subgraphs.map((s: { name: string; version: number }) => [s.name, s.version]).sort()).toEqual([
      ['catalogue', 1],
      ['nme', 3],
    ]);
    const products = await post<any>(a.gatewayUrl, '{ products { name } }');
    expect(products.data).toEqual({ products: [{ name: 'Millennium PAS' }] });
  });

  it('rolls back to an earlier supergraph (operator), and deletes a subgraph', async () => {
    const rolled = await call(registry(a, '/registry/rollback'), 'POST', operator, { version: 0 });
    expect(rolled.body.text ?? '').toBe('');
    expect(rolled.status).toBe(201);
    expect(rolled.body.served).toBe(true);
    expect(await comparedClusters(a)).toEqual(['LONDON', 'SOUTH']);
    const gone = await post(a.gatewayUrl, '{ release(code: "R2") { nme { localName } } }');
    expect(gone.errors?.[0]?.extensions?.['code']).toBe('GRAPHQL_VALIDATION_FAILED');
    const back = await call(registry(a, '/registry/rollback'), 'POST', operator, { version: 1 });
    expect(back.status).toBe(201);
    expect(await comparedClusters(a)).toEqual(['LONDON', 'NME', 'SOUTH']);
    const refused = await call(registry(a, '/registry/subgraphs/nme'), 'DELETE', csc);
    expect(refused.status).toBe(422);
    expect(refused.body.report.operations.broken.map((o: { name: string }) => o.name)).toContain('NmeDashboard');
    const deleted = await call(registry(a, '/registry/subgraphs/nme?force=true'), 'DELETE', operator);
    expect(deleted.status).toBe(200);
    expect(await comparedClusters(a)).toEqual(['LONDON', 'SOUTH']);
  });
});
