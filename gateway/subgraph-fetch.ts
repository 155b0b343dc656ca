/**
 * Every request the gateway itself makes to a subgraph's URL outside the query path (the
 * readiness probe, `/feed/events` and `/feed/version`, a publish's URL and identity checks)
 * goes through here, so none follows a redirect. A published URL passes the host policy
 * (`registry/url-policy.ts`); a redirect from an allowed host would send the gateway on to any
 * address of its network, and `/ready`'s answer (status or error code) would say what answers
 * there. A 3xx is returned as it is, for the caller to treat as any other non-2xx. The query
 * path (`data-source.ts`, undici's `request`) never follows redirects either.
 */

/** `fetch` that never follows a redirect. */
export function fetchSubgraph(url: string | URL, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, redirect: 'manual' });
}
