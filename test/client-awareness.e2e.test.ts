/**
 * Client awareness end to end: a dashboard that names itself (`apollographql-client-name`
 * and `-version`) appears in `/metrics`, in its access-log line, in the operations the
 * registry records, and in the report of a change that would break its operation.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../gateway/logger.js';
import type { RecordedOperation } from '../gateway/registry/store.js';
import { mintToken } from '../gateway/registry/tokens.js';
import type { Stack } from '../scripts/stack.js';
import { buildClusterSubgraph, type ClusterSubgraphDefinition } from '../subgraphs/kit/cluster.js';
import { listen, type Listening } from '../subgraphs/kit/http.js';
import { feedReferenceOf, loadReference } from '../subgraphs/programme/reference.js';
import { nmeFeedDir, nmeSubgraph } from './fixtures/nme/index.js';
import { startTestStack } from './helpers.js';

const digest = (key: string) => createHash('sha256').update(key).digest('hex');
const dir = mkdtempSync(join(tmpdir(), 'msg-client-awareness-'));
const registryDir = join(dir, 'registry');
const tokensFile = join(dir, 'tokens.json');
const csc = mintToken(tokensFile, { supplier: 'CSC', subgraphs: ['nme'], operator: false });
const NME_SDL = readFileSync(new URL('./fixtures/nme/schema.graphql', import.meta.url), 'utf8');
const lines: string[] = [];

let stack: Stack;
let nme: Listening;

beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  stack = await startTestStack({
    env: { RATE_LIMIT_API_KEYS: digest('board-key'), REGISTRY_DIR: registryDir, REGISTRY_TOKENS_FILE: tokensFile },
    log: () => {},
    logger: createLogger('info', sink),
  });
  const reference = feedReferenceOf(await loadReference(null));
  const built = await buildClusterSubgraph(nmeSubgraph as ClusterSubgraphDefinition<object>, { feedDir: nmeFeedDir, reference, pollMs: 0 });
  nme = await listen(built.service, '127.0.0.1', 0);
  const published = await fetch(new URL('/registry/subgraphs/nme', stack.gatewayUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${csc}` },
    body: JSON.stringify({ sdl: NME_SDL, url: nme.url }),
  });
  expect(published.status).toBe(201);
}, 60_000);

afterAll(async () => {
  await stack?.close();
  await nme?.close();
  rmSync(dir, { recursive: true, force: true });
});

const BOARD = { 'x-api-key': 'board-key', 'apollographql-client-name': 'board-dashboard', 'apollographql-client-version': '2.1' };
const NME_MATRIX = 'query NmeMatrix { release(code: "R2") { nme { localName } } }';
const ask = (query: string, headers: Record<string, string>) =>
  fetch(stack.gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query }) });
const recorded = (): RecordedOperation[] => {
  const file = join(registryDir, 'operations.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as RecordedOperation[]) : [];
};
async function until(check: () => boolean, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; !check() && Date.now() < end;) await new Promise((r) => setTimeout(r, 100));
  expect(check()).toBe(true);
}

describe('client awareness', () => {
  it('names the client in /metrics and in the access log', async () => {
    for (let i = 0; i < 2; i++) expect((await ask(NME_MATRIX, { ...BOARD, 'x-request-id': `board-${i}` })).status).toBe(200);
    expect((await ask('{ __typename }', { 'apollographql-client-name': 'explorer' })).status).toBe(200);
    const metrics = await (await fetch(new URL('/metrics', stack.gatewayUrl))).text();
    expect(metrics).toMatch(/^gateway_client_requests_total\{client="board-dashboard",client_version="2\.1",outcome="ok"\} 2$/m);
    expect(metrics).toMatch(/^gateway_client_requests_total\{client="explorer",client_version="none",outcome="ok"\} 1$/m);
    await until(() => lines.some((l) => l.includes('"requestId":"board-0"')));
    const line = JSON.parse(lines.find((l) => l.includes('"requestId":"board-0"'))!) as Record<string, unknown>;
    expect(line).toMatchObject({ msg: 'request', operation: 'NmeMatrix', client: 'board-dashboard', clientVersion: '2.1' });
  });

  it('records the operation with its client, and a change that breaks it names that client in the check report', async () => {
    await until(() => recorded().some((op) => op.name === 'NmeMatrix'));
    expect(recorded().find((op) => op.name === 'NmeMatrix')).toMatchObject({ clientName: 'board-dashboard', clientVersion: '2.1' });
    const withdrawal = await fetch(new URL('/registry/subgraphs/nme', stack.gatewayUrl), {
      method: 'DELETE',
      headers: { authorization: `Bearer ${csc}` },
    });
    expect(withdrawal.status).toBe(422);
    const body = (await withdrawal.json()) as {
      report?: { operations: { broken: { name: string; clients?: { name: string; version: string | null; lastSeen: string }[] }[] } };
      text?: string;
    };
    const broken = body.report!.operations.broken.find((op) => op.name === 'NmeMatrix');
    expect(broken?.clients).toEqual([{ name: 'board-dashboard', version: '2.1', lastSeen: expect.any(String) }]);
    expect(body.text).toMatch(/- NmeMatrix \(recorded\): .*\n {6}breaks client board-dashboard 2\.1 \(last seen \d+ s ago\)/);
  });
});
