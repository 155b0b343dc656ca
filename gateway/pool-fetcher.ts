/**
 * The gateway's HTTP client to subgraphs: Apollo's fetcher interface on one keep-alive pool
 * for the query path, each answer read within `SUBGRAPH_MAX_RESPONSE_BYTES`, each attempt
 * abortable by the resilience policy's signal (`data-source.ts` uses it); and `send`, the one
 * request function every other subgraph call goes through (`subgraph-fetch.ts`).
 *
 * It is `node:http`, not undici (nor the global `fetch`, undici inside): undici parses HTTP
 * with llhttp compiled to WebAssembly, and V8 optimizes that module in the background soon
 * after the first answers, holding 30-35 MB of compiler memory for a moment; with the
 * module's own 3-4 MB of heap, that was the largest part of the gateway's peak resident
 * memory over plain Apollo Gateway's (docs/PERFORMANCE.md, "Memory"). `node:http` parses in
 * C++ and is what plain Apollo Gateway fetches with.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Fetcher } from '@apollo/utils.fetcher';

/** A subgraph answer's headers as Apollo's data source and this one read them. */
export interface HeaderReader {
  get(name: string): string | null;
}

/**
 * The header that takes a fetch attempt's number to the fetcher, which finds the attempt's
 * abort signal (the resilience policy's timeout) by it and removes it: it is never sent.
 * Apollo's data source hands its fetcher only a URL and an init. An AsyncLocalStorage did
 * this before: on Node 20 one turns on async hooks for every promise of the process, 3.5%
 * of the gateway's CPU on the Guild workload A.
 */
export const ATTEMPT_HEADER = 'x-gateway-attempt';
/** The abort signal of each fetch attempt under way, by its number. */
const attemptSignals = new Map<string, AbortSignal>();
let attempts = 0;

/** Registers a fetch attempt's signal: its number (for ATTEMPT_HEADER), and what forgets it when the attempt ends. */
export function startAttempt(signal: AbortSignal): { readonly attempt: string; readonly done: () => void } {
  const attempt = String((attempts += 1));
  attemptSignals.set(attempt, signal);
  return { attempt, done: () => void attemptSignals.delete(attempt) };
}

/** Keep-alive connections to the subgraphs, one agent per scheme. */
export interface SubgraphPool {
  readonly http: HttpAgent;
  readonly https: HttpsAgent;
  /** Ends every connection (the gateway is stopping). */
  close(): Promise<void>;
}

/** One request to a subgraph, as the fetcher and `subgraph-fetch.ts` send it. */
export interface SubgraphRequest {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly signal?: AbortSignal;
}

/**
 * Sends one request and resolves with the answer's head, its body still to read (a stream).
 * Never follows a redirect. Without a pool, Node's global agents carry it.
 */
export function send(url: string | URL, init: SubgraphRequest = {}, pool?: SubgraphPool): Promise<IncomingMessage> {
  const target = typeof url === 'string' ? new URL(url) : url;
  const secure = target.protocol === 'https:';
  const headers: Record<string, string> = { ...init.headers };
  // Without a length Node would send the body chunked, which some servers refuse.
  if (init.body !== undefined && !Object.keys(headers).some((name) => name.toLowerCase() === 'content-length'))
    headers['content-length'] = String(Buffer.byteLength(init.body));
  return new Promise((resolve, reject) => {
    const options = {
      method: init.method ?? 'GET',
      headers,
      ...(init.signal ? { signal: init.signal } : {}),
      ...(pool ? { agent: secure ? pool.https : pool.http } : {}),
    };
    const request = secure ? httpsRequest(target, options, resolve) : httpRequest(target, options, resolve);
    request.once('error', reject);
    request.end(init.body);
  });
}

/** Apollo's fetcher interface over `send` on the keep-alive pool. */
export function poolFetcher(pool: SubgraphPool, maxBytes: number): Fetcher {
  return (async (url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) => {
    const attempt = init.headers?.[ATTEMPT_HEADER];
    const signal = attempt === undefined ? undefined : attemptSignals.get(attempt);
    if (attempt !== undefined) delete init.headers![ATTEMPT_HEADER];
    const answer = await send(
      url,
      {
        method: init.method ?? 'POST',
        ...(signal ? { signal } : {}),
        ...(init.headers ? { headers: init.headers } : {}),
        ...(init.body !== undefined ? { body: init.body } : {}),
      },
      pool,
    );
    const status = answer.statusCode ?? 0;
    return {
      ok: status >= 200 && status < 300,
      status,
      statusText: answer.statusMessage ?? '',
      url,
      headers: headerReader(answer.headers),
      json: async () => JSON.parse(await boundedText(answer, maxBytes, url)) as unknown,
      text: () => boundedText(answer, maxBytes, url),
    };
  }) as unknown as Fetcher;
}

/** Apollo's data source only reads headers with `get`: a WHATWG `Headers` validated and copied each one. */
function headerReader(headers: IncomingHttpHeaders): HeaderReader {
  return {
    get: (name) => {
      const value = headers[name.toLowerCase()];
      return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

/**
 * A subgraph's answer as text, refused past `maxBytes` (`SUBGRAPH_MAX_RESPONSE_BYTES`): a
 * published subgraph is a supplier's server, and an endless or gigabyte answer read whole
 * would run the gateway out of memory. The refusal is a subgraph failure like any other
 * (`SUBGRAPH_UNAVAILABLE` on its fields; the log has the URL and the size).
 */
async function boundedText(body: IncomingMessage, maxBytes: number, url: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      body.destroy();
      throw new Error(`${url} answered more than ${maxBytes} bytes (SUBGRAPH_MAX_RESPONSE_BYTES)`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

/**
 * A keep-alive pool for subgraph fetches, instead of a connection per request: up to 128
 * connections to each subgraph, an idle one closed after 30 s (sooner when the subgraph's
 * `Keep-Alive` header says it closes its own sooner).
 */
export function subgraphAgent(): SubgraphPool {
  const options = { keepAlive: true, maxSockets: 128, timeout: 30_000, scheduling: 'lifo' as const };
  const http = new HttpAgent(options);
  const https = new HttpsAgent(options);
  return {
    http,
    https,
    close: async () => {
      http.destroy();
      https.destroy();
    },
  };
}
