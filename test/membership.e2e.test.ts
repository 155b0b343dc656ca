/**
 * Programme membership is data: an operator registers a cluster the seed does not have
 * (NORTHEAST, served by ACCENTURE, with two trusts) over HTTP; with no restart the programme
 * subgraph serves it, the supplier's feed naming its trusts is accepted, and its publish is
 * no longer refused as CONTRACT_CLUSTER_UNKNOWN. Bad registrations are refused naming the
 * field; removal is refused while a published subgraph speaks for the cluster; the
 * membership survives a gateway restart, in REGISTRY_DIR and in Redis.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../gateway/registry/tokens.js';
import type { Stack } from '../scripts/stack.js';
import { buildClusterSubgraph, type ClusterSubgraphDefinition } from '../subgraphs/kit/cluster.js';
import { listen, type Listening } from '../subgraphs/kit/http.js';
import { LiveReference } from '../subgraphs/kit/membership.js';
import { northeastFeedDir, northeastSubgraph } from './fixtures/northeast-json/index.js';
import { post, startTestStack } from './helpers.js';
import { freePort, PrivateRedis } from './redis.js';

const dir = mkdtempSync(join(tmpdir(), 'msg-membership-e2e-'));
const tokensFile = join(dir, 'tokens.json');
const operator = mintToken(tokensFile, { supplier: 'OPERATOR', subgraphs: [], operator: true });
const accenture = mintToken(tokensFile, { supplier: 'ACCENTURE', subgraphs: ['northeast'], operator: false });
const SDL = readFileSync(new URL('./fixtures/northeast-json/schema.graphql', import.meta.url), 'utf8');
const port = await freePort();
const definition = northeastSubgraph as ClusterSubgraphDefinition<object>;

const NORTHEAST = {
  name: 'North East Programme for IT',
  supplier: { id: 'ACCENTURE', name: 'Accenture' },
  trustsPlanned: 2,
  trusts: [
    { odsCode: 'RTD', name: 'The Newcastle upon Tyne Hospitals NHS Foundation Trust' },
    { odsCode: 'RR7', name: 'Gateshead Health NHS Foundation Trust' },
  ],
};

async function call(base: string, path: string, method: string, token: string | null, body?: unknown) {
  const response = await fetch(new URL(path, base), {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as any };
}

/** Polls `read` until `done` holds of its answer (the subgraphs poll the registry every 100 ms here). */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > until) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const programmeView = async (stack: Stack) =>
  (
    await post<any>(
      stack.gatewayUrl,
      '{ clusters { id name serviceProvider { id name } trusts { odsCode } } trust(odsCode: "RTD") { name cluster { id } } }',
    )
  ).data;

const running: Listening[] = [];
const references: LiveReference[] = [];
/** The supplier's subgraph, run as its own main would: following the gateway's registry. */
async function startNortheast(stack: Stack, feedDir: string): Promise<Listening> {
  const reference = await LiveReference.open({ registryUrl: stack.gatewayUrl, pollMs: 0 });
  references.push(reference);
  const built = await buildClusterSubgraph(definition, { feedDir, reference: reference.feed, pollMs: 0 });
  const listening = await listen(built.service, '127.0.0.1', 0);
  running.push(listening);
  return listening;
}

/** The feed status of a running cluster subgraph, asked directly. */
async function feedStatusOf(url: string): Promise<{ snapshots: number; lastRejected: { file: string } | null }> {
  const answer = await post<any>(
    url,
    'query ($r: [_Any!]!) { _entities(representations: $r) { ... on NortheastFeedStatus { snapshots lastRejected { file } } } }',
    { r: [{ __typename: 'NortheastFeedStatus', id: 'northeast' }] },
  );
  return answer.data._entities[0];
}

afterAll(async () => {
  for (const service of running.reverse()) await service.close();
  for (const reference of references) reference.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('programme membership through the registry (REGISTRY_DIR)', () => {
  const registryDir = join(dir, 'registry');
  const env = { REGISTRY_DIR: registryDir, REGISTRY_TOKENS_FILE: tokensFile, MEMBERSHIP_POLL_MS: '100', RESPONSE_CACHE: 'false' };
  let stack: Stack;
  // The same report without its rollout: it names no trust, so it loads before the registration.
  const bareFeedDir = join(dir, 'bare-feed');
  beforeAll(async () => {
    stack = await startTestStack({ env, log: () => {} });
    cpSync(northeastFeedDir, bareFeedDir, { recursive: true });
    const file = join(bareFeedDir, 'northeast-2007-09-06.json');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), rollout: [] }));
  }, 60_000);
  afterAll(() => stack.close());

  // A subgraph that watches its folder and follows the registry, started before the registration.
  const watchedFeedDir = join(dir, 'watched-feed');
  let watching: Listening;

  it('refuses the feed and the publish of an unregistered cluster, saying what the operator must register', async () => {
    await expect(startNortheast(stack, northeastFeedDir)).rejects.toThrow(/unknown trust ODS code/);
    cpSync(bareFeedDir, watchedFeedDir, { recursive: true });
    const reference = await LiveReference.open({ registryUrl: stack.gatewayUrl, pollMs: 100 });
    references.push(reference);
    const built = await buildClusterSubgraph(definition, {
      feedDir: watchedFeedDir,
      reference: reference.feed,
      onReferenceChange: (listener) => reference.onChange(listener),
      pollMs: 100,
    });
    watching = await listen(built.service, '127.0.0.1', 0);
    running.push(watching);
    // A later report naming the trusts the operator has not registered yet.
    const later = JSON.parse(readFileSync(join(northeastFeedDir, 'northeast-2007-09-06.json'), 'utf8'));
    writeFileSync(join(watchedFeedDir, 'northeast-2007-10-01.json'), JSON.stringify({ ...later, asOf: '2007-10-01' }));
    const refusedFeed = await eventually(
      () => feedStatusOf(watching.url),
      (s) => s.lastRejected !== null,
    );
    expect(refusedFeed).toEqual({ snapshots: 1, lastRejected: { file: 'northeast-2007-10-01.json' } });
    const bare = await startNortheast(stack, bareFeedDir);
    const refused = await call(stack.gatewayUrl, '/registry/subgraphs/northeast', 'POST', accenture, { sdl: SDL, url: bare.url });
    expect(refused.status).toBe(422);
    const codes = refused.body.report.contract.map((i: { code: string }) => i.code);
    expect(codes).toEqual(expect.arrayContaining(['CONTRACT_CLUSTER_UNKNOWN', 'CONTRACT_SUPPLIER_UNKNOWN']));
    expect(refused.body.text).toContain('npm run registry:cluster -- add NORTHEAST --name "<cluster name>" --supplier ACCENTURE:');
  });

  it('refuses registrations without an operator token, or that are wrong, naming the field', async () => {
    expect((await call(stack.gatewayUrl, '/registry/clusters/NORTHEAST', 'POST', null, NORTHEAST)).status).toBe(401);
    expect((await call(stack.gatewayUrl, '/registry/clusters/NORTHEAST', 'POST', accenture, NORTHEAST)).status).toBe(403);
    const cases: [string, unknown, number, string, RegExp][] = [
      ['north-east', NORTHEAST, 400, 'id', /capital letters/],
      ['NORTHEAST', { ...NORTHEAST, trusts: [NORTHEAST.trusts[0], { odsCode: 'rr7', name: 'x' }] }, 400, 'trusts[1].odsCode', /ODS code/],
      ['NORTHEAST', { ...NORTHEAST, supplier: { id: 'ACCENTURE' } }, 400, 'supplier.name', /./],
      [
        'NORTHEAST',
        { ...NORTHEAST, trusts: [{ odsCode: 'RBF', name: 'Nuffield' }] },
        409,
        'trusts[0].odsCode',
        /already belongs to cluster SOUTH/,
      ],
      ['NORTHEAST', { ...NORTHEAST, trusts: [NORTHEAST.trusts[0], NORTHEAST.trusts[0]] }, 409, 'trusts[1].odsCode', /listed twice/],
      ['NORTHEAST', { ...NORTHEAST, supplier: { id: 'FUJITSU', name: 'Fujitsu' } }, 409, 'supplier.name', /Fujitsu Services/],
      ['SOUTH', NORTHEAST, 409, 'id', /seed/],
    ];
    for (const [id, body, status, field, message] of cases) {
      const refused = await call(stack.gatewayUrl, `/registry/clusters/${id}`, 'POST', operator, body);
      expect({ id, field, status: refused.status }).toEqual({ id, field, status });
      expect(refused.body.error.field).toBe(field);
      expect(refused.body.error.message).toMatch(message);
    }
    expect((await call(stack.gatewayUrl, '/registry/clusters', 'GET', null)).body.version).toBe(0);
  });

  it('registers NORTHEAST, and the programme serves it with no restart', async () => {
    const registered = await call(stack.gatewayUrl, '/registry/clusters/NORTHEAST', 'POST', operator, NORTHEAST);
    expect(registered.status).toBe(201);
    expect(registered.body).toMatchObject({ accepted: true, membershipVersion: 1, cluster: { id: 'NORTHEAST', registeredBy: 'OPERATOR' } });
    const listed = await call(stack.gatewayUrl, '/registry/clusters', 'GET', null);
    expect(listed.body.clusters.map((c: { id: string; source: string }) => `${c.id}:${c.source}`)).toEqual([
      'SOUTH:seed',
      'LONDON:seed',
      'NME:seed',
      'NORTHEAST:registered',
    ]);
    const history = await call(stack.gatewayUrl, '/registry/clusters/history', 'GET', null);
    expect(history.body.versions[0].change).toMatchObject({ action: 'register', cluster: 'NORTHEAST', by: 'OPERATOR' });

    const view = await eventually(
      () => programmeView(stack),
      (data) => data.trust !== null,
    );
    expect(view.clusters.find((c: { id: string }) => c.id === 'NORTHEAST')).toEqual({
      id: 'NORTHEAST',
      name: 'North East Programme for IT',
      serviceProvider: { id: 'ACCENTURE', name: 'Accenture' },
      trusts: [{ odsCode: 'RTD' }, { odsCode: 'RR7' }],
    });
    expect(view.trust).toEqual({ name: 'The Newcastle upon Tyne Hospitals NHS Foundation Trust', cluster: { id: 'NORTHEAST' } });
    // The report refused for its trusts is read again, unchanged, and taken.
    expect(
      (
        await eventually(
          () => feedStatusOf(watching.url),
          (s) => s.snapshots === 2,
        )
      ).snapshots,
    ).toBe(2);
  });

  it('accepts the feed naming the registered trusts, and publishes; removal is refused while it is published', async () => {
    const northeast = await startNortheast(stack, northeastFeedDir);
    const published = await call(stack.gatewayUrl, '/registry/subgraphs/northeast', 'POST', accenture, { sdl: SDL, url: northeast.url });
    expect(published.body.report?.contract ?? []).toEqual([]);
    expect(published.status).toBe(201);
    const data = (await post<any>(stack.gatewayUrl, '{ trust(odsCode: "RR7") { name northeast { localName } } }')).data;
    expect(data.trust).toEqual({ name: 'Gateshead Health NHS Foundation Trust', northeast: { localName: 'Gateshead Health' } });

    const refused = await call(stack.gatewayUrl, '/registry/clusters/NORTHEAST', 'DELETE', operator);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'MEMBERSHIP_IN_USE' });
    expect(refused.body.error.message).toContain('northeast speaks for it');
    expect((await call(stack.gatewayUrl, '/registry/clusters', 'GET', null)).body.version).toBe(1);
  });

  it('keeps the membership across a gateway restart, and removes the cluster once no subgraph speaks for it', async () => {
    await stack.close();
    stack = await startTestStack({ env, log: () => {} });
    const listed = await call(stack.gatewayUrl, '/registry/clusters', 'GET', null);
    expect(listed.body.clusters.map((c: { id: string }) => c.id)).toContain('NORTHEAST');
    expect(
      (
        await eventually(
          () => programmeView(stack),
          (d) => d.trust !== null,
        )
      ).trust.cluster,
    ).toEqual({ id: 'NORTHEAST' });

    // Forced: the gateway recorded an operation on the northeast view above.
    const withdrawn = await call(stack.gatewayUrl, '/registry/subgraphs/northeast?force=true', 'DELETE', operator);
    expect(withdrawn.body).toMatchObject({ accepted: true });
    const removed = await call(stack.gatewayUrl, '/registry/clusters/NORTHEAST', 'DELETE', operator);
    expect(removed).toMatchObject({ status: 200, body: { accepted: true, membershipVersion: 2 } });
    expect(
      (
        await eventually(
          () => programmeView(stack),
          (d) => d.trust === null,
        )
      ).trust,
    ).toBeNull();
  });
});

describe('programme membership in Redis', () => {
  // A private redis-server: with REDIS_URL the cluster subgraphs keep their snapshots there too.
  const redis = new PrivateRedis(port);
  let stack: Stack;
  const env = {
    REDIS_URL: redis.url,
    REGISTRY_REDIS_PREFIX: `test:${randomUUID()}:registry:`,
    REGISTRY_TOKENS_FILE: tokensFile,
    MEMBERSHIP_POLL_MS: '100',
  };
  beforeAll(async () => {
    await redis.start();
    stack = await startTestStack({ env, log: () => {} });
  }, 60_000);
  afterAll(async () => {
    await stack.close();
    await redis.stop();
  });

  it('registers through the CLI, which names the field of a refusal', async () => {
    const cli = (...args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          ['--import', 'tsx', 'scripts/registry-cluster.ts', ...args],
          { env: { ...process.env, REGISTRY_URL: stack.gatewayUrl, REGISTRY_TOKEN: operator } },
          (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
        );
      });
    const trusts = NORTHEAST.trusts.flatMap((t) => ['--trust', `${t.odsCode}:${t.name}`]);
    const bad = await cli('add', 'NORTHEAST', '--name', NORTHEAST.name, '--supplier', 'ACCENTURE:Accenture', '--trust', 'RBF:Nuffield');
    expect(bad).toMatchObject({ code: 1, stdout: '' });
    expect(bad.stderr).toBe(
      'Registration of cluster NORTHEAST refused (409 MEMBERSHIP_REFUSED (field trusts[0].odsCode)): Body field trusts[0].odsCode: RBF already belongs to cluster SOUTH\n',
    );
    const added = await cli(
      'add',
      'NORTHEAST',
      '--name',
      NORTHEAST.name,
      '--supplier',
      'ACCENTURE:Accenture',
      '--trusts-planned',
      '2',
      ...trusts,
    );
    expect(added).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^Cluster NORTHEAST registered \(membership version 1\): supplier ACCENTURE, 2 trusts\./),
    });
    const listed = await cli('list');
    expect(listed.stdout).toContain(
      'NORTHEAST    North East Programme for IT (supplier ACCENTURE: Accenture; 2 trusts; registered, registered by OPERATOR at ',
    );
  });

  it('keeps a registration across a gateway restart', async () => {
    await stack.close();
    stack = await startTestStack({ env, log: () => {} });
    const listed = await call(stack.gatewayUrl, '/registry/clusters', 'GET', null);
    expect(listed.body.version).toBe(1);
    expect(listed.body.clusters.at(-1)).toMatchObject({ id: 'NORTHEAST', source: 'registered', registeredBy: 'OPERATOR' });
    expect(
      (
        await eventually(
          () => programmeView(stack),
          (d) => d.trust !== null,
        )
      ).trust.cluster,
    ).toEqual({ id: 'NORTHEAST' });
  });
});
