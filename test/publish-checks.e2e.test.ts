/**
 * A publish and `subgraph:check` run one check pipeline: a takeover of another subgraph's
 * root field fails both; an unknown cluster fails the check as it fails the publish. A
 * publish URL is checked against the allowed hosts after normalising it, and every refused
 * URL gets the same answer, whatever answers there (the cause is in the gateway log only).
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../gateway/config.js';
import { mintToken } from '../gateway/registry/tokens.js';
import type { Stack } from '../scripts/stack.js';
import { buildClusterSubgraph, type ClusterSubgraphDefinition } from '../subgraphs/kit/cluster.js';
import { listen, type Listening } from '../subgraphs/kit/http.js';
import { feedReferenceOf, loadReference } from '../subgraphs/programme/reference.js';
import { nmeFeedDir, nmeSubgraph } from './fixtures/nme/index.js';
import { EPHEMERAL_ENV, post, startTestStack } from './helpers.js';
import { freePort } from './redis.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'msg-publish-checks-'));
const tokensFile = join(dir, 'tokens.json');
const csc = mintToken(tokensFile, { supplier: 'CSC', subgraphs: ['nme', 'north-east'], operator: false });
const NME_SDL = readFileSync(new URL('./fixtures/nme/schema.graphql', import.meta.url), 'utf8');
const TAKEOVER_SDL = `${NME_SDL}\nextend type Query { release(code: ID!): Release @federation__override(from: "programme") }\n`;

let stack: Stack;
let nme: Listening;
const servers: Server[] = [];
const logs: string[] = [];

/** A plain HTTP server on 127.0.0.1 that answers every request with `status` and `body`. */
async function answering(status: number, body: string, headers: Record<string, string> = {}): Promise<string> {
  const server = createServer((_req, res) => res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(body));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/graphql`;
}

function publish(name: string, sdl: string, url: string) {
  return fetch(new URL(`/registry/subgraphs/${name}`, stack.gatewayUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${csc}` },
    body: JSON.stringify({ sdl, url }),
  }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
}

/** Runs `npm run subgraph:check` as a supplier does, against an empty registry of its own. */
function subgraphCheck(args: readonly string[]): Promise<{ code: number | null; stdout: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/subgraph-check.ts', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...EPHEMERAL_ENV, REGISTRY_DIR: join(dir, 'check-registry') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout })));
}

beforeAll(async () => {
  stack = await startTestStack({ env: { REGISTRY_TOKENS_FILE: tokensFile, RESPONSE_CACHE: 'false' }, log: (line) => logs.push(line) });
  const reference = feedReferenceOf(await loadReference(null));
  const built = await buildClusterSubgraph(nmeSubgraph as ClusterSubgraphDefinition<object>, { feedDir: nmeFeedDir, reference, pollMs: 0 });
  nme = await listen(built.service, '127.0.0.1', 0);
}, 60_000);

afterAll(async () => {
  await nme?.close();
  await stack?.close();
  for (const server of servers) server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('one check pipeline for subgraph:check and a publish', () => {
  it("fails a takeover of the programme's Query.release in subgraph:check, and refuses its publish", async () => {
    writeFileSync(join(dir, 'takeover.graphql'), TAKEOVER_SDL);
    const check = await subgraphCheck(['--name', 'nme', '--schema', join(dir, 'takeover.graphql')]);
    expect(check.code).toBe(1);
    expect(check.stdout).toContain('[CONTRACT_OVERRIDE] Query.release applies @federation__override');
    expect(check.stdout).toContain('[CONTRACT_FIELD_OWNED] Query.release belongs to subgraph "programme"');
    expect(check.stdout).toContain('URL reachability: not checked (subgraph:check checks the SDL only');
    expect(check.stdout).toContain('FAILED');
    const refused = await publish('nme', TAKEOVER_SDL, nme.url);
    expect(refused.status).toBe(422);
    expect(refused.body.report.contract.map((i: { code: string }) => i.code)).toEqual(['CONTRACT_OVERRIDE', 'CONTRACT_FIELD_OWNED']);
    const answer = await post<any>(stack.gatewayUrl, '{ release(code: "R2") { code name } }');
    expect(answer.data.release).toEqual({ code: 'R2', name: expect.any(String) });
  });

  it('fails a subgraph for a cluster the programme does not know, as a publish does', async () => {
    const out = join(dir, 'north-east');
    const scaffold = spawn(
      process.execPath,
      ['--import', 'tsx', 'scripts/subgraph-new.ts', 'NORTH-EAST', '--supplier', 'CSC', '--out', out],
      {
        cwd: ROOT,
        stdio: 'ignore',
      },
    );
    expect(await new Promise((resolve) => scaffold.on('exit', resolve))).toBe(0);
    const check = await subgraphCheck(['--name', 'north-east', '--schema', join(out, 'schema.graphql'), '--supplier', 'CSC', '--json']);
    expect(check.code).toBe(1);
    const report = JSON.parse(check.stdout);
    expect(report.contract).toEqual([
      expect.objectContaining({ code: 'CONTRACT_CLUSTER_UNKNOWN', message: expect.stringContaining('NORTH-EAST') }),
    ]);
    expect(report.reachability).toMatchObject({ checked: false });
    // Declared as a known cluster, the same SDL passes: only the identity failed.
    const known = await subgraphCheck(['--name', 'north-east', '--schema', join(out, 'schema.graphql'), '--cluster', 'NME']);
    expect(known.stdout).toContain('Checked as cluster NME, supplier CSC');
    expect(known.code).toBe(0);
  });
});

describe('publish URLs', () => {
  it('refuse every URL that is not allowed or not a subgraph with the same answer, the cause only in the log', async () => {
    const nmePort = new URL(nme.url).port;
    const urls = {
      closedPort: `http://127.0.0.1:${await freePort()}/graphql`,
      notFound: await answering(404, '<html>Not found on internal-lb-7.corp.local</html>', { 'content-type': 'text/html' }),
      badRequest: await answering(400, '{"errors":[{"message":"Cannot query field \\"_service\\" on type \\"Query\\"."}]}'),
      notSubgraph: await answering(200, '{"data":{}}'),
      redirect: await answering(307, '', { location: nme.url }),
      otherHost: `http://10.1.2.3:${nmePort}/graphql`,
      otherLoopback: `http://0x7f000002:${nmePort}/graphql`,
      userInfo: `http://csc:secret@127.0.0.1:${nmePort}/graphql`,
      scheme: 'file:///etc/passwd',
    };
    const answers = [];
    for (const [why, url] of Object.entries(urls)) {
      const { status, body } = await publish('nme', NME_SDL, url);
      expect(status, why).toBe(422);
      answers.push({ why, error: body.error, reachability: body.report.reachability, text: body.text as string });
    }
    const first = answers[0]!;
    expect(first.reachability).toEqual({
      ok: false,
      checked: true,
      code: 'URL_REFUSED',
      message: 'The URL is not allowed or does not serve a federation subgraph',
    });
    for (const answer of answers) {
      expect({ why: answer.why, error: answer.error, reachability: answer.reachability, text: answer.text }).toEqual({
        ...first,
        why: answer.why,
      });
      expect(answer.text).not.toMatch(/127\.0\.0\.1|10\.1\.2\.3|:\d{4,5}\b|404|400|secret|corp\.local/);
    }
    const refusals = logs.filter((l) => l.includes('URL') && l.includes('refused'));
    expect(refusals.some((l) => l.includes('cannot be reached'))).toBe(true);
    expect(refusals.some((l) => l.includes('answered 404'))).toBe(true);
    expect(refusals.some((l) => l.includes('answered 307'))).toBe(true);
    expect(refusals.some((l) => l.includes('host 10.1.2.3 is not in REGISTRY_ALLOWED_HOSTS'))).toBe(true);
    expect(refusals.some((l) => l.includes('host 127.0.0.2 is not in REGISTRY_ALLOWED_HOSTS'))).toBe(true);
    expect(refusals.some((l) => l.includes('the URL carries user info'))).toBe(true);
    expect(logs.join('\n')).not.toContain('secret');
  });

  it('accept a numeric form of an allowed address, and route to it normalised', async () => {
    const port = new URL(nme.url).port;
    const accepted = await publish('nme', NME_SDL, `http://2130706433:${port}/graphql`);
    expect(accepted.status).toBe(201);
    const listed = (await (await fetch(new URL('/registry/subgraphs', stack.gatewayUrl))).json()) as { subgraphs: { url: string }[] };
    expect(listed.subgraphs.map((s) => s.url)).toEqual([`http://127.0.0.1:${port}/graphql`]);
    const answer = await post<any>(stack.gatewayUrl, '{ release(code: "R2") { nme { localName } } }');
    expect(answer.data.release.nme.localName).toEqual(expect.any(String));
  });

  it('take the allowed hosts from REGISTRY_ALLOWED_HOSTS, refusing a value it cannot read by name', () => {
    const allowed = loadGatewayConfig({ REGISTRY_ALLOWED_HOSTS: '*.suppliers.example, 10.20.0.0/16' }).registry.allowedHosts;
    expect(allowed.suffixes).toEqual(['.suppliers.example']);
    expect(allowed.addresses.check('10.20.1.1')).toBe(true);
    expect(loadGatewayConfig({}).registry.allowedHosts.text).toBe('localhost,127.0.0.1,::1');
    expect(() => loadGatewayConfig({ REGISTRY_ALLOWED_HOSTS: '10.0.0.0/40' })).toThrow(
      /REGISTRY_ALLOWED_HOSTS="10\.0\.0\.0\/40": entry "10\.0\.0\.0\/40" is not a CIDR range/,
    );
  });
});
