/**
 * The caller's claims on the wire between the gateway and a subgraph (`CALLER_CLAIMS_HEADER`):
 * base64url of their JSON, bounded, so a header stays well under any server's header limit
 * (Node's is 16 KiB for all headers together). The gateway encodes, the kit decodes.
 */

/** Largest encoded claims header, in characters: larger claims are not sent at all. */
export const MAX_CLAIMS_HEADER_CHARS = 4096;

/** Claims as a subgraph reads them: plain JSON values by claim name. */
export type CallerClaims = Readonly<Record<string, unknown>>;

/**
 * The header value for `claims` (only the names in `include`, when given), or null when there
 * is nothing to send or the encoding would be longer than `MAX_CLAIMS_HEADER_CHARS`.
 */
export function encodeCallerClaims(claims: CallerClaims, include?: readonly string[]): string | null {
  const chosen = include ? Object.fromEntries(include.filter((name) => name in claims).map((name) => [name, claims[name]])) : claims;
  if (Object.keys(chosen).length === 0) return null;
  const encoded = Buffer.from(JSON.stringify(chosen), 'utf8').toString('base64url');
  return encoded.length > MAX_CLAIMS_HEADER_CHARS ? null : encoded;
}

/** The claims a header value carries, or null when it is absent, too long or not a JSON object. */
export function decodeCallerClaims(value: string | string[] | undefined): CallerClaims | null {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text || text.length > MAX_CLAIMS_HEADER_CHARS || !/^[A-Za-z0-9_-]+$/.test(text)) return null;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as CallerClaims) : null;
  } catch {
    return null;
  }
}
