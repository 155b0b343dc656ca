/**
 * Counts the HTTP requests a benchmark's subgraph process answers, so `npm run bench` can print
 * subgraph requests per gateway request next to each figure. It listens on Node's
 * `http.server.request.start` diagnostics channel, which sees every request of every server in
 * the process: the subgraphs need no hook of their own, and the count costs one increment.
 * Only POSTs count (what a gateway sends a subgraph); health checks and the counter's own
 * GETs do not.
 */
import { subscribe } from 'node:diagnostics_channel';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running counter: the number so far, and a loopback URL that answers it as `{"requests": N}`. */
export interface RequestCounter {
  readonly url: string;
  count(): number;
  close(): Promise<void>;
}

/** Starts counting the POSTs of every HTTP server in this process, and serves the count on 127.0.0.1. */
export async function startRequestCounter(): Promise<RequestCounter> {
  let requests = 0;
  subscribe('http.server.request.start', (message) => {
    if ((message as { request: IncomingMessage }).request.method === 'POST') requests += 1;
  });
  const server: Server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ requests }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    count: () => requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Reads a counter started in another process by its URL. */
export async function readRequestCount(url: string): Promise<number> {
  const response = await fetch(url);
  const body = (await response.json()) as { requests?: unknown };
  if (typeof body.requests !== 'number') throw new TypeError(`${url} did not answer {"requests": number}: ${JSON.stringify(body)}`);
  return body.requests;
}

/**
 * The operations a gateway of this project merged into an identical one's execution so far
 * (`gateway_operations_deduplicated_total` on its `/metrics`); null for a gateway without it
 * (plain Apollo Gateway, the peers, one that does not answer).
 */
export async function readJoinedOperations(gatewayUrl: string): Promise<number | null> {
  try {
    const response = await fetch(new URL('/metrics', gatewayUrl));
    if (!response.ok) return null;
    const found = /^gateway_operations_deduplicated_total (\d+)/m.exec(await response.text());
    return found ? Number(found[1]) : null;
  } catch {
    return null;
  }
}
