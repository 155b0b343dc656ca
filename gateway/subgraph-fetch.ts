/**
 * Every request the gateway itself makes to a subgraph's URL outside the query path (the
 * readiness probe, `/feed/events` and `/feed/version`, a publish's URL and identity checks)
 * goes through here, so none follows a redirect and none reads an unbounded answer. A
 * published URL passes the host policy (`registry/url-policy.ts`); a redirect from an allowed
 * host would send the gateway on to any address of its network, and `/ready`'s answer (status
 * or error code) would say what answers there. A 3xx is returned as it is, for the caller to
 * treat as any other non-2xx. A supplier's server answering a probe with gigabytes would run
 * the gateway out of memory: past `maxBytes` the body errors. The query path
 * (`data-source.ts`) has the same two rules (undici's `request`, `SUBGRAPH_MAX_RESPONSE_BYTES`).
 */

/** Largest answer to one of these requests: a `_service { sdl }` answer carries at most a published SDL. */
export const CONTROL_MAX_BYTES = 4 * 1024 * 1024;

/**
 * `fetch` that never follows a redirect, and whose body errors past `maxBytes` (null: a
 * stream, such as `/feed/events`, that bounds each event itself).
 */
export async function fetchSubgraph(
  url: string | URL,
  init: RequestInit = {},
  maxBytes: number | null = CONTROL_MAX_BYTES,
): Promise<Response> {
  const response = await fetch(url, { ...init, redirect: 'manual' });
  if (maxBytes === null || !response.body) return response;
  let seen = 0;
  const bounded = response.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > maxBytes) controller.error(new Error(`${String(url)} answered more than ${maxBytes} bytes`));
        else controller.enqueue(chunk);
      },
    }),
  );
  return new Response(bounded, { status: response.status, statusText: response.statusText, headers: response.headers });
}
