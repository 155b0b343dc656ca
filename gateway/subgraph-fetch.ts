/**
 * Every request the gateway itself makes to a subgraph's URL outside the query path (the
 * readiness probe, `/feed/events` and `/feed/version`, a publish's URL and identity checks)
 * goes through here, so none follows a redirect and none reads an unbounded answer. A
 * published URL passes the host policy (`registry/url-policy.ts`); a redirect from an allowed
 * host would send the gateway on to any address of its network, and `/ready`'s answer (status
 * or error code) would say what answers there. A 3xx is returned as it is, for the caller to
 * treat as any other non-2xx. A supplier's server answering a probe with gigabytes would run
 * the gateway out of memory: past `maxBytes` the body errors. The query path
 * (`data-source.ts`) has the same two rules (`pool-fetcher.ts`, `SUBGRAPH_MAX_RESPONSE_BYTES`).
 * Both are sent with `node:http` (`pool-fetcher.ts` says why not `fetch`).
 */
import { Readable } from 'node:stream';
import { send, type SubgraphRequest } from './pool-fetcher.js';

/** Largest answer to one of these requests: a `_service { sdl }` answer carries at most a published SDL. */
export const CONTROL_MAX_BYTES = 4 * 1024 * 1024;

/** Statuses whose response has no body (a WHATWG `Response` refuses one). */
const NULL_BODY = new Set([204, 205, 304]);

/**
 * A request answered as a WHATWG `Response` that never follows a redirect, and whose body
 * errors past `maxBytes` (null: a stream, such as `/feed/events`, that bounds each event itself).
 */
export async function fetchSubgraph(
  url: string | URL,
  init: SubgraphRequest = {},
  maxBytes: number | null = CONTROL_MAX_BYTES,
): Promise<Response> {
  const answer = await send(url, init);
  const status = answer.statusCode ?? 0;
  const headers = new Headers();
  for (let i = 0; i + 1 < answer.rawHeaders.length; i += 2) headers.append(answer.rawHeaders[i]!, answer.rawHeaders[i + 1]!);
  if (NULL_BODY.has(status)) {
    answer.resume();
    return new Response(null, { status, statusText: answer.statusMessage ?? '', headers });
  }
  let seen = 0;
  if (maxBytes !== null)
    answer.on('data', (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > maxBytes) answer.destroy(new Error(`${String(url)} answered more than ${maxBytes} bytes`));
    });
  return new Response(Readable.toWeb(answer) as ReadableStream<Uint8Array>, { status, statusText: answer.statusMessage ?? '', headers });
}
