/** Shared helpers for the stream tests: a live query or subscription over SSE or WebSocket, collected. */
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws';

export type Result<D = unknown> = { data?: D | null; errors?: readonly { message: string; extensions?: Record<string, unknown> }[] };

/** A stream's results as they arrive, and whether it completed or failed. */
export interface Collected<D = unknown> {
  readonly results: Result<D>[];
  completed: boolean;
  error: unknown;
  stop(): void;
}

type Sink = { next(result: unknown): void; complete(): void; error(error: unknown): void };

/** Collects what `subscribe` pushes; `stop` unsubscribes and disposes of the client. */
function collect<D>(subscribe: (sink: Sink) => () => void, dispose: () => void): Collected<D> {
  const collected: Collected<D> = { results: [], completed: false, error: null, stop: () => {} };
  const unsubscribe = subscribe({
    next: (result) => void collected.results.push(result as Result<D>),
    complete: () => void (collected.completed = true),
    error: (error) => void (collected.error = error),
  });
  collected.stop = () => {
    unsubscribe();
    dispose();
  };
  return collected;
}

/** `query` over GraphQL over SSE (graphql-sse's client, no retries) at the gateway `url`. */
export function sseStream<D = unknown>(url: string, query: string, variables?: Record<string, unknown>): Collected<D> {
  const client = createSseClient({ url, retryAttempts: 0 });
  return collect<D>(
    (sink) => client.subscribe({ query, ...(variables ? { variables } : {}) }, sink),
    () => client.dispose(),
  );
}

/** `query` over graphql-transport-ws (graphql-ws's client, no retries); `closeCode` is the socket's close code. */
export function wsStream<D = unknown>(url: string, query: string): Collected<D> & { closeCode: Promise<number> } {
  let closed: (code: number) => void = () => {};
  const closeCode = new Promise<number>((resolve) => (closed = resolve));
  const client = createWsClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    on: { closed: (event) => closed((event as { code: number }).code) },
  });
  const collected = collect<D>(
    (sink) => client.subscribe({ query }, sink),
    () => void client.dispose(),
  );
  return Object.assign(collected, { closeCode });
}

/** Waits until `check` holds, polling every 20 ms; throws naming `what` after `ms`. */
export async function until(check: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A metric's value from the gateway's /metrics, summed over its series whose labels include `labels`. */
export async function metric(gatewayUrl: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(new URL('/metrics', gatewayUrl))).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || line.startsWith('#')) continue;
    const [series, value] = line.split(' ');
    if (series!.split('{')[0] !== name || (labels && !series!.includes(labels))) continue;
    sum += Number(value);
  }
  return sum;
}
