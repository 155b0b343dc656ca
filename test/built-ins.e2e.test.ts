/**
 * The gateway knows its built-in subgraphs by URL only: it composes the SDL each serves
 * (`{ _service { sdl } }`). A built-in that answers late is waited for (bounded, saying what
 * it waits for); when they are all down past the wait, the gateway starts on the committed
 * supergraph, says so, and swaps to what they serve once they answer.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../gateway/config.js';
import { buildGatewayService } from '../gateway/server.js';
import { listen } from '../schema/http.js';
import { startStack, type Stack } from '../scripts/stack.js';
import { EPHEMERAL_ENV, post } from './helpers.js';

/** A subgraph behind a gate: closed, it answers 503 to everything; open, it forwards. */
interface Gate {
  readonly url: string;
  open(): void;
  close(): Promise<void>;
}

async function gate(target: string): Promise<Gate> {
  const upstream = new URL(target);
  let open = false;
  const server: Server = createServer((req, res) => {
    if (!open) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('not yet');
      return;
    }
    const forward = request(
      // No keep-alive pool: a pooled connection to a subgraph would hold its close up.
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers, agent: false },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    // A stream the gateway holds open (feed versions) ends upstream too when the gate drops it.
    res.on('close', () => forward.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    open: () => void (open = true),
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

let subgraphs: Stack<null>;
beforeAll(async () => {
  subgraphs = await startStack({ env: EPHEMERAL_ENV, log: () => {}, withGateway: false });
});
afterAll(async () => {
  await subgraphs.close();
});

const RELEASES = '{ releases { code } }';
const COMPARED = '{ compareRelease(code: "R2", asOf: "2007-09-06") { clusters { id } } }';

async function gatewayBehind(gates: Partial<Record<'programme' | 'south' | 'london' | 'insights', Gate>>, waitMs: number) {
  const lines: string[] = [];
  const env = { ...EPHEMERAL_ENV, SUBGRAPH_SDL_WAIT_MS: String(waitMs) };
  const urls = Object.fromEntries(Object.entries(subgraphs.subgraphUrls).map(([name, url]) => [name, gates[name as 'south']?.url ?? url]));
  const config = { ...loadGatewayConfig(env), subgraphUrls: urls as Stack['subgraphUrls'] };
  const started = Date.now();
  const gateway = await listen(await buildGatewayService(config, { log: (line) => lines.push(line) }), '127.0.0.1', 0);
  return { gateway, lines, tookMs: Date.now() - started };
}

describe('the built-in subgraphs, by what they serve', () => {
  it('waits for a built-in that serves its SDL only after a few seconds, then serves it', async () => {
    const programme = await gate(subgraphs.subgraphUrls.programme);
    setTimeout(() => programme.open(), 2500);
    const { gateway, lines, tookMs } = await gatewayBehind({ programme }, 20_000);
    try {
      expect(tookMs).toBeGreaterThanOrEqual(2400);
      expect(lines.join('\n')).toMatch(
        /waiting up to 20000 ms \(SUBGRAPH_SDL_WAIT_MS\) for built-in subgraphs not serving their SDL yet: programme \(/,
      );
      expect(lines.join('\n')).toContain('every built-in subgraph serves its SDL');
      expect(lines.join('\n')).not.toContain('committed schema/supergraph.graphql');
      const answer = await post<{ releases: { code: string }[] }>(gateway.url, RELEASES);
      expect(answer.errors).toBeUndefined();
      expect(answer.data?.releases.map((r) => r.code)).toContain('R2');
    } finally {
      await gateway.close();
      await programme.close();
    }
  }, 40_000);

  it('starts on the committed supergraph when every built-in is down, says so, and swaps once they answer', async () => {
    const gates = {
      programme: await gate(subgraphs.subgraphUrls.programme),
      south: await gate(subgraphs.subgraphUrls.south),
      london: await gate(subgraphs.subgraphUrls.london),
      insights: await gate(subgraphs.subgraphUrls.insights),
    };
    const { gateway, lines, tookMs } = await gatewayBehind(gates, 1000);
    try {
      expect(tookMs).toBeLessThan(10_000);
      expect(lines.join('\n')).toContain(
        'did not all serve their SDL within 1000 ms (SUBGRAPH_SDL_WAIT_MS): starting on the committed schema/supergraph.graphql',
      );
      // The committed supergraph plans as usual (its subgraphs are down: the answer says so).
      const down = await post(gateway.url, RELEASES);
      expect(down.errors?.length).toBeGreaterThan(0);
      for (const g of Object.values(gates)) g.open();
      const deadline = Date.now() + 15_000;
      while (!lines.some((l) => l.includes('swapped from the committed supergraph')) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      expect(lines.join('\n')).toContain('the built-in subgraphs serve their SDL: swapped from the committed supergraph');
      const compared = await post<{ compareRelease: { clusters: { id: string }[] } }>(gateway.url, COMPARED);
      expect(compared.errors).toBeUndefined();
      expect(compared.data?.compareRelease.clusters.map((c) => c.id).sort()).toEqual(['LONDON', 'SOUTH']);
    } finally {
      await gateway.close();
      for (const g of Object.values(gates)) await g.close();
    }
  }, 40_000);
});
