/**
 * Who is asking, as the gateway knows it for one operation. Several features read it (the
 * authorization rules, the response-cache key, header propagation, client awareness, the
 * access log), so it is one type, filled once per request.
 */
export interface Caller {
  /** The validated JWT's `sub`, or null when the request carried no token. */
  readonly subject: string | null;
  /** The scopes the token grants (the configured claim, space-separated or an array). */
  readonly scopes: ReadonlySet<string>;
  /** The validated token's claims (empty when anonymous). */
  readonly claims: Readonly<Record<string, unknown>>;
  /** `apollographql-client-name` / `-version` as the client sent them (bounded, or null). */
  readonly clientName: string | null;
  readonly clientVersion: string | null;
}

/** A caller with no token and no client name. */
export const ANONYMOUS: Caller = Object.freeze({
  subject: null,
  scopes: new Set<string>(),
  claims: Object.freeze({}),
  clientName: null,
  clientVersion: null,
});
