/**
 * The query path's transport to subgraphs: Apollo's fetcher interface over undici's
 * `request` on one keep-alive pool, each answer read within `SUBGRAPH_MAX_RESPONSE_BYTES`,
 * each attempt abortable by the resilience policy's signal (`data-source.ts` uses it).
 */
import type { Fetcher } from '@apollo/utils.fetcher';
import { Agent, request } from 'undici';

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

/**
 * Apollo's fetcher interface over undici's `request` on a keep-alive pool. Measured here,
 * undici's WHATWG `fetch` halved the gateway's throughput on large subgraph answers (its
 * web streams); `request` reads the body as a Node stream.
 */
export function poolFetcher(agent: Agent, maxBytes: number): Fetcher {
  return (async (url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) => {
    const attempt = init.headers?.[ATTEMPT_HEADER];
    const signal = attempt === undefined ? undefined : attemptSignals.get(attempt);
    if (attempt !== undefined) delete init.headers![ATTEMPT_HEADER];
    const { statusCode, headers, body } = await request(url, {
      method: (init.method ?? 'POST') as 'POST',
      ...(signal ? { signal } : {}),
      ...(init.headers ? { headers: init.headers } : {}),
      ...(init.body !== undefined ? { body: init.body } : {}),
      dispatcher: agent,
    });
    // Apollo's data source only reads these (`get`): a WHATWG `Headers` validated and copied each one.
    const responseHeaders: HeaderReader = {
      get: (name) => {
        const value = headers[name.toLowerCase()];
        return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
      },
    };
    return {
      ok: statusCode >= 200 && statusCode < 300,
      status: statusCode,
      statusText: '',
      url,
      headers: responseHeaders,
      json: async () => JSON.parse(await boundedText(body, maxBytes, url)) as unknown,
      text: () => boundedText(body, maxBytes, url),
    };
  }) as unknown as Fetcher;
}

/**
 * A subgraph's answer as text, refused past `maxBytes` (`SUBGRAPH_MAX_RESPONSE_BYTES`): a
 * published subgraph is a supplier's server, and an endless or gigabyte answer read whole
 * would run the gateway out of memory. The refusal is a subgraph failure like any other
 * (`SUBGRAPH_UNAVAILABLE` on its fields; the log has the URL and the size).
 */
async function boundedText(
  body: AsyncIterable<Buffer> & { destroy(error?: Error): unknown },
  maxBytes: number,
  url: string,
): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBytes) {
      body.destroy();
      throw new Error(`${url} answered more than ${maxBytes} bytes (SUBGRAPH_MAX_RESPONSE_BYTES)`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

/** A keep-alive pool for subgraph fetches (undici), instead of a connection per request. */
export function subgraphAgent(): Agent {
  return new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 60_000, connections: 128, pipelining: 1 });
}
