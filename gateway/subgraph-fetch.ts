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

/** A body as `fetch` gives it (the type only: nothing of `fetch` is loaded). */
type WebBody = NonNullable<Response['body']>;

/** Statuses whose response has no body. */
const NULL_BODY = new Set([204, 205, 304]);

/**
 * A subgraph's answer, read as a `fetch` `Response` is (the parts callers use). Not a WHATWG
 * `Response` itself: the first `Response` or `Headers` of a process loads Node's copy of undici,
 * about 1 MB of heap a gateway that never calls `fetch` has no other use for.
 */
export interface SubgraphAnswer {
  readonly status: number;
  readonly ok: boolean;
  /** The body as a web stream (`/feed/events` is read as it comes); null for a status without one. */
  readonly body: WebBody | null;
  text(): Promise<string>;
  json(): Promise<unknown>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/**
 * A request that never follows a redirect, and whose body errors past `maxBytes` (null: a
 * stream, such as `/feed/events`, that bounds each event itself).
 */
export async function fetchSubgraph(
  url: string | URL,
  init: SubgraphRequest = {},
  maxBytes: number | null = CONTROL_MAX_BYTES,
): Promise<SubgraphAnswer> {
  const answer = await send(url, init);
  const status = answer.statusCode ?? 0;
  let body: WebBody | null = null;
  if (NULL_BODY.has(status)) answer.resume();
  else {
    let seen = 0;
    if (maxBytes !== null)
      answer.on('data', (chunk: Buffer) => {
        seen += chunk.length;
        if (seen > maxBytes) answer.destroy(new Error(`${String(url)} answered more than ${maxBytes} bytes`));
      });
    body = Readable.toWeb(answer) as WebBody;
  }
  const bytes = async (): Promise<Buffer> => {
    if (!body) return Buffer.alloc(0);
    const reader = body.getReader();
    const chunks: Uint8Array[] = [];
    for (let next = await reader.read(); !next.done; next = await reader.read()) chunks.push(next.value);
    return Buffer.concat(chunks);
  };
  return {
    status,
    ok: status >= 200 && status < 300,
    body,
    text: async () => (await bytes()).toString('utf8'),
    json: async () => JSON.parse((await bytes()).toString('utf8')) as unknown,
    arrayBuffer: async () => {
      const all = await bytes();
      return all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
    },
  };
}
