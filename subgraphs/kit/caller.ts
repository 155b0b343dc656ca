/**
 * Who is asking, as the gateway says (`CALLER_CLAIMS_HEADER`): the validated JWT's claims,
 * sent only to the subgraphs the gateway's `PROPAGATE_HEADERS` gives a `claims` rule. A
 * subgraph may trust it only because nothing but the gateway can reach it (network policy):
 * the header is not signed, and the gateway never passes on a client's own.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { decodeCallerClaims, type CallerClaims } from '../../schema/caller-claims.js';
import { CALLER_CLAIMS_HEADER } from '../../schema/wire.js';

/** The caller a resolver sees on `context.caller`; null when the gateway sent none. */
export interface SubgraphCaller {
  /** The token's `sub`, when it has one. */
  readonly subject: string | null;
  /** The claims the gateway passed on (all, or those its rule includes). */
  readonly claims: CallerClaims;
}

/** The caller of a request, from its headers (null: anonymous, or not sent to this subgraph). */
export function callerOf(headers: IncomingHttpHeaders): SubgraphCaller | null {
  const claims = decodeCallerClaims(headers[CALLER_CLAIMS_HEADER]);
  if (!claims) return null;
  return { subject: typeof claims['sub'] === 'string' ? claims['sub'] : null, claims };
}
