/**
 * The supplier's path where a new supplier's try stumbled (issue 11, item 7): the check and
 * the publish of one SDL count the same operations; a refusal names a nameless operation by
 * its text and says to deprecate before removing; a withdrawal's report reads as one, and a
 * forced withdrawal answers 200; every message the supplier's CLIs print ends its line.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../gateway/config.js';
import { loadPersistedOperations } from '../gateway/persisted-operations.js';
import { openRegistryStore, type RegistryStore } from '../gateway/registry/store.js';
import { mintToken } from '../gateway/registry/tokens.js';
import type { Stack } from '../scripts/stack.js';
import { buildClusterSubgraph, type ClusterSubgraphDefinition } from '../subgraphs/kit/cluster.js';
import { listen, type Listening } from '../subgraphs/kit/http.js';
import { feedReferenceOf, loadReference } from '../subgraphs/programme/reference.js';
import { nmeFeedDir, nmeSubgraph } from './fixtures/nme/index.js';
import { EPHEMERAL_ENV, startTestStack } from './helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'msg-supplier-path-'));
const registryDir = join(dir, 'registry');
const tokensFile = join(dir, 'tokens.json');
const csc = mintToken(tokensFile, { supplier: 'CSC', subgraphs: ['nme'], operator: false });
const operator = mintToken(tokensFile, { supplier: 'OPERATOR', subgraphs: [], operator: true });
const NME_SDL_FILE = fileURLToPath(new URL('./fixtures/nme/schema.graphql', import.meta.url));
const NME_SDL = readFileSync(NME_SDL_FILE, 'utf8');
const REMOVED = NME_SDL.replace('  "What only this fixture\'s spec has."\n  fixtureOnly: String\n', '');
const ANONYMOUS = '{ release(code: "R2") {\n    nme { fixtureOnly }\n  } }';

let stack: Stack;
let nme: Listening;
let store: RegistryStore;

/** Runs a CLI of scripts/ as a supplier does, with this test's registry. */
function cli(script: string, args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', `scripts/${script}.ts`, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...EPHEMERAL_ENV, REGISTRY_DIR: registryDir, REGISTRY_TOKENS_FILE: tokensFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

async function registry(method: string, path: string, token: string, body?: unknown) {
  const response = await fetch(new URL(path, stack.gatewayUrl), {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as any };
}

/** Runs `query` as an identified client (CSC's token), so the gateway records it. */
async function asCsc(query: string): Promise<void> {
  const response = await fetch(stack.gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${csc}` },
    body: JSON.stringify({ query }),
  });
  expect(response.status).toBe(200);
}

async function recorded(document: string): Promise<void> {
  await expect.poll(async () => (await store.recentOperations()).some((op) => op.document === document), { timeout: 10_000 }).toBe(true);
}

beforeAll(async () => {
  stack = await startTestStack({
    env: { REGISTRY_DIR: registryDir, REGISTRY_TOKENS_FILE: tokensFile, RESPONSE_CACHE: 'false' },
  });
  store = openRegistryStore(loadGatewayConfig({ REGISTRY_DIR: registryDir }).registry);
  const reference = feedReferenceOf(await loadReference(null));
  const built = await buildClusterSubgraph(nmeSubgraph as ClusterSubgraphDefinition<object>, { feedDir: nmeFeedDir, reference, pollMs: 0 });
  nme = await listen(built.service, '127.0.0.1', 0);
}, 60_000);

afterAll(async () => {
  await nme?.close();
  await store?.close();
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("the supplier's path", () => {
  it('counts the same operations in subgraph:check and in a publish of the same SDL', async () => {
    // A persisted operation run by text (recorded too, counted once), and two of CSC's own.
    const [persisted] = [...loadPersistedOperations().values()];
    await asCsc(persisted!.body);
    await asCsc('query CscProgramme { programme { name } }');
    await asCsc('{ programme { completionTargetYear } }');
    await recorded('{ programme { completionTargetYear } }');
    const check = await cli('subgraph-check', ['--name', 'nme', '--schema', NME_SDL_FILE, '--json']);
    expect(check.code, check.stderr).toBe(0);
    const checked = JSON.parse(check.stdout).operations.checked as number;
    expect(checked).toBe(loadPersistedOperations().size + 2);
    const published = await registry('POST', '/registry/subgraphs/nme', csc, { sdl: NME_SDL, url: nme.url });
    expect(published.status).toBe(201);
    expect(published.body.report.operations.checked).toBe(checked);
  });

  it('refuses a removal that operations use naming a nameless one by its text, and says to deprecate first', async () => {
    await asCsc(ANONYMOUS);
    await recorded(ANONYMOUS);
    const refused = await registry('POST', '/registry/subgraphs/nme', csc, { sdl: REMOVED, url: nme.url });
    expect(refused.status).toBe(422);
    const broken = refused.body.report.operations.broken.find((op: { name: string }) => op.name.startsWith('anonymous:'));
    expect(broken.excerpt).toBe('{ release(code: "R2") { nme { fixtureOnly } } }');
    const text = refused.body.text as string;
    expect(text).toContain(`${broken.name} "{ release(code: \\"R2\\") { nme { fixtureOnly } } }" (recorded)`);
    expect(text).toContain(
      'Removing NmeReleaseView.fixtureOnly breaks 1 operation: mark it @deprecated(reason: "…") and publish, then remove it once no client uses it',
    );
  });

  it('heads a refused withdrawal as a withdrawal, and answers a forced one 200', async () => {
    const refused = await registry('DELETE', '/registry/subgraphs/nme', csc);
    expect(refused.status).toBe(422);
    const text = refused.body.text as string;
    expect(text.split('\n')[0]).toBe('Withdrawal of subgraph "nme"');
    expect(text).not.toMatch(/not published yet|cannot be published/);
    expect(text).toMatch(/FAILED: the subgraph cannot be withdrawn while the operations above use it/);
    const forced = await registry('DELETE', '/registry/subgraphs/nme?force=true', operator);
    expect(forced.status).toBe(200);
    expect(forced.body).toMatchObject({ accepted: true, served: true });
    const listed = (await (await fetch(new URL('/registry/subgraphs', stack.gatewayUrl))).json()) as { subgraphs: unknown[] };
    expect(listed.subgraphs).toEqual([]);
  });

  it("ends every message of the supplier's CLIs with a newline", async () => {
    const out = join(dir, 'scaffold');
    const runs = [
      await cli('subgraph-new', []),
      await cli('subgraph-new', ['NORTHEAST', '--supplier', 'ACCENTURE', '--out', out]),
      await cli('subgraph-new', ['NORTHEAST', '--out', join(dir, 'unknown')]),
      await cli('subgraph-check', []),
      await cli('subgraph-check', ['--name', 'northeast', '--schema', join(out, 'schema.graphql'), '--supplier', 'ACCENTURE']),
      await cli('subgraph-check', ['--name', 'nme', '--schema', NME_SDL_FILE, '--json']),
      await cli('registry-token', []),
      await cli('registry-token', ['--supplier', 'CSC', '--subgraphs', 'nme']),
    ];
    for (const run of runs) {
      for (const output of [run.stdout, run.stderr]) if (output !== '') expect(output.endsWith('\n'), output).toBe(true);
      expect(run.stdout + run.stderr).not.toBe('');
    }
  }, 60_000);
});
