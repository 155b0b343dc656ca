/** SIGTERM lets the requests under way finish before the gateway exits. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../scripts/stack.js';
import { EPHEMERAL_ENV } from './helpers.js';
import { forwardingProxy, type Proxy } from './proxy.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
let subgraphs: Stack<null>;
let slow: Proxy | null = null;
let gateway: ChildProcess | null = null;

beforeAll(async () => {
  subgraphs = await startStack({ env: EPHEMERAL_ENV, log: () => {}, withGateway: false });
});
afterAll(async () => {
  if (gateway && gateway.exitCode === null) gateway.kill('SIGKILL');
  await slow?.close();
  await subgraphs.close();
});

describe('SIGTERM', () => {
  it('drains the request under way, then exits 0', async () => {
    // The programme subgraph holds each GraphQL answer for 1.5 s.
    slow = await forwardingProxy(subgraphs.subgraphUrls.programme, { holdMs: (req) => (req.method === 'POST' ? 1500 : 0) });
    const programme = slow.url;
    const urls = subgraphs.subgraphUrls;
    gateway = spawn(process.execPath, ['--import', 'tsx', 'gateway/main.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        HOST: '127.0.0.1',
        GATEWAY_PORT: '0',
        PROGRAMME_URL: programme,
        SOUTH_URL: urls.south,
        LONDON_URL: urls.london,
        INSIGHTS_URL: urls.insights,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    gateway.stdout!.on('data', (c: Buffer) => (output += c));
    gateway.stderr!.on('data', (c: Buffer) => (output += c));
    const exited = new Promise<number | null>((resolve) => gateway!.on('exit', resolve));
    let url: string | undefined;
    for (const deadline = Date.now() + 20_000; !url && Date.now() < deadline; await new Promise((r) => setTimeout(r, 50)))
      url = /gateway\s+listening on (\S+)/.exec(output)?.[1];
    expect(url, output).toBeDefined();

    const started = Date.now();
    const pending = fetch(url!, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ programme { completionTargetYear } }' }),
    });
    await new Promise((r) => setTimeout(r, 300));
    gateway.kill('SIGTERM');
    const response = await pending;
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ data: { programme: { completionTargetYear: 2010 } } });
    // It was answered after the signal, because it was held 1.5 s: the drain waited for it.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    expect(await exited).toBe(0);
    expect(output).toMatch(/SIGTERM: shutting down/);
  });
});
