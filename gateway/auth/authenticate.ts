/**
 * Who is asking, for every operation: the `/graphql` middleware (POST and GET, SSE streams
 * included, as they arrive there) checks the bearer token once per request and leaves the
 * identity on the response's locals, where the operation's context reads it; the WebSocket
 * transport and live re-runs, which have no Express response, check the headers they carry
 * (`identityOf`). A refused token is a 401 `UNAUTHENTICATED` naming what is wrong, before
 * anything else runs; with `JWT_REQUIRED`, so is a request without one. Without a JWKS
 * configured the gateway takes no tokens at all and `Authorization` is ignored, as before.
 */
import type { RequestHandler, Response } from 'express';
import { GraphQLError } from 'graphql';
import { ErrorCode } from '../../schema/errors.js';
import { sendError } from '../../schema/http.js';
import { ANONYMOUS } from '../caller.js';
import type { AuthConfig } from '../config.js';
import type { Identity, JwtVerifierOptions, KeysHealth } from './jwt.js';
import { TokenRefused } from './refusal.js';

const LOCALS_KEY = 'identity';

export interface Authentication {
  /** On `/graphql`, first: refuses a bad (or, with JWT_REQUIRED, a missing) token; leaves the identity for `identityFrom`. */
  readonly middleware: RequestHandler;
  /** The identity the middleware left for this request (anonymous when none). */
  identityFrom(res: Pick<Response, 'locals'>): Identity;
  /** Checks an `Authorization` header value (a WebSocket upgrade, a live re-run); throws `TokenRefused`. */
  identityOf(authorization: string | undefined): Promise<Identity>;
  /** The JWKS's state for `/ready`; null when no JWKS is configured. */
  health(): Promise<KeysHealth | null>;
  /** Fetches a remote JWKS once at start; logs clearly when it cannot. */
  start(): Promise<void>;
}

/** A refusal as a stream answers it (no HTTP status to set there): an `UNAUTHENTICATED` GraphQL error. */
export function unauthenticated(error: unknown): never {
  if (error instanceof TokenRefused) throw new GraphQLError(error.message, { extensions: { code: ErrorCode.UNAUTHENTICATED } });
  throw error;
}

/** The HTTP status of a refusal: the caller's fault is 401; the keys being out of reach is the gateway's, 503. */
export function refusalStatus(refused: TokenRefused): number {
  return refused.problem === 'keys-unavailable' ? 503 : 401;
}

/**
 * Builds the authentication of `config` (rejects naming JWT_JWKS_FILE when the file is not a
 * JWKS). The verifier, and jose with it, is loaded only when a JWKS is configured.
 */
export async function authentication(
  config: AuthConfig,
  log: (line: string) => void,
  options: JwtVerifierOptions = {},
): Promise<Authentication> {
  const jwks = config.jwks;
  const verifier = jwks ? new (await import('./jwt.js')).JwtVerifier({ ...config, jwks }, options) : null;

  const identityOf = async (authorization: string | undefined): Promise<Identity> => {
    if (!verifier) return ANONYMOUS;
    if (!authorization) {
      if (config.required) throw new TokenRefused('malformed', 'A token is required (JWT_REQUIRED): send Authorization: Bearer <token>');
      return ANONYMOUS;
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) throw new TokenRefused('malformed', 'The Authorization header must be Bearer <token>');
    return verifier.verify(match[1]!);
  };

  const middleware: RequestHandler = (req, res, next) => {
    // The explorer page itself (a browser's GET for HTML) carries no token: it sends one with its operations.
    if (req.method === 'GET' && !req.query['query'] && !req.query['extensions'] && req.accepts('text/html')) return next();
    identityOf(req.headers.authorization).then(
      (identity) => {
        res.locals[LOCALS_KEY] = identity;
        next();
      },
      (error: unknown) => {
        if (!(error instanceof TokenRefused)) return next(error);
        if (error.problem === 'keys-unavailable') log(`gateway: a token could not be checked: ${verifier?.health().problem}`);
        res.setHeader('www-authenticate', `Bearer error="invalid_token"`);
        sendError(res, refusalStatus(error), ErrorCode.UNAUTHENTICATED, error.message);
      },
    );
  };

  return {
    middleware,
    identityFrom: (res) => (res.locals[LOCALS_KEY] as Identity | undefined) ?? ANONYMOUS,
    identityOf,
    health: async () => (verifier ? verifier.check() : null),
    start: async () => {
      if (!verifier) return;
      const health = await verifier.start();
      if (!health.available)
        log(
          `gateway: ${health.source}: ${health.problem}; tokens cannot be checked until it answers, and /ready says not-ready (anonymous operations still run${config.required ? ', but JWT_REQUIRED refuses them' : ''})`,
        );
    },
  };
}
