/**
 * JWT authentication: a bearer token checked with `jose` against the identity provider's JWKS
 * (a URL, or a file for an air-gapped network), its issuer and audience, into the caller's
 * identity (subject, scopes, claims). Keys of a URL are fetched once and cached by jose's own
 * `createRemoteJWKSet`, which fetches again on a `kid` it does not know, at most once per
 * cooldown: a token signed with a rotated-in key is accepted after one refetch, and a stream of
 * tokens with made-up `kid`s cannot make the gateway hammer the provider.
 */
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import type { AuthConfig } from '../config.js';
import type { Caller } from '../caller.js';
import { TokenRefused } from './refusal.js';

/** What a validated token says of its caller (the rest of `Caller` is filled elsewhere). */
export type Identity = Pick<Caller, 'subject' | 'scopes' | 'claims'>;

/** Asymmetric algorithms only: a JWKS publishes public keys, and `none`/HMAC never verify against one. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

export interface JwtVerifierOptions {
  /** Least time between two JWKS fetches for unknown `kid`s, in ms (jose's `cooldownDuration`). */
  readonly cooldownMs?: number;
  /** How long a JWKS fetch may take, in ms. */
  readonly timeoutMs?: number;
}

/** The JWKS's state, for readiness: reachable (keys loaded) or why not. */
export interface KeysHealth {
  readonly source: string;
  readonly available: boolean;
  readonly problem: string | null;
}

/** Scopes from the claim: an OAuth space-separated string, or an array of strings (e.g. Azure's `roles`). */
export function scopesOf(claim: unknown): ReadonlySet<string> {
  if (typeof claim === 'string') return new Set(claim.split(/\s+/).filter(Boolean));
  if (Array.isArray(claim)) return new Set(claim.filter((s): s is string => typeof s === 'string' && s.length > 0));
  return new Set();
}

/** Maps jose's errors to what the client is told. */
function refusal(error: unknown, issuer: string | null, audience: string | null): TokenRefused {
  if (error instanceof TokenRefused) return error;
  if (error instanceof errors.JWTExpired) return new TokenRefused('expired', 'The token has expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return new TokenRefused('wrong-audience', `The token is not for this audience (JWT_AUDIENCE=${audience})`);
    if (error.claim === 'iss') return new TokenRefused('wrong-issuer', `The token is not from this issuer (JWT_ISSUER=${issuer})`);
    if (error.claim === 'nbf') return new TokenRefused('not-yet-valid', 'The token is not valid yet (nbf)');
    if (error.claim === 'sub') return new TokenRefused('no-subject', 'The token has no sub claim');
    return new TokenRefused('malformed', `The token's ${error.claim} claim is invalid`);
  }
  if (error instanceof errors.JWKSNoMatchingKey)
    return new TokenRefused('unknown-key', "No key of the gateway's JWKS matches the token's kid");
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return new TokenRefused('bad-signature', "The token's signature does not verify");
  if (
    error instanceof errors.JWKSTimeout ||
    (error instanceof TypeError && /fetch/i.test(error.message)) ||
    error instanceof errors.JWKSInvalid ||
    // The bare base class: jose throws it only when the JWKS URL answers other than 200 with JSON.
    (error instanceof errors.JOSEError && error.constructor === errors.JOSEError)
  )
    return new TokenRefused(
      'keys-unavailable',
      'The gateway cannot fetch its signing keys (JWT_JWKS_URL) to check the token; try again shortly',
    );
  if (error instanceof errors.JOSEAlgNotAllowed)
    return new TokenRefused('malformed', `The token's algorithm is not accepted (${ALGORITHMS.join(', ')})`);
  if (error instanceof errors.JOSEError) return new TokenRefused('malformed', 'The token is not a well-formed signed JWT');
  // Anything else (a network error of the JWKS fetch has other shapes too): the gateway's problem.
  return new TokenRefused('keys-unavailable', 'The gateway cannot fetch its signing keys to check the token; try again shortly');
}

/** Checks tokens against one JWKS with the configured issuer and audience. */
export class JwtVerifier {
  readonly #config: AuthConfig;
  readonly #keys: ReturnType<typeof createRemoteJWKSet> | ReturnType<typeof createLocalJWKSet>;
  readonly #remote: ReturnType<typeof createRemoteJWKSet> | null;
  readonly #source: string;
  #problem: string | null = null;

  /** Throws naming the file when `JWT_JWKS_FILE` cannot be read or is not a JWKS. */
  constructor(config: AuthConfig & { jwks: NonNullable<AuthConfig['jwks']> }, options: JwtVerifierOptions = {}) {
    this.#config = config;
    if ('url' in config.jwks) {
      this.#source = `JWT_JWKS_URL=${config.jwks.url}`;
      this.#remote = createRemoteJWKSet(new URL(config.jwks.url), {
        cooldownDuration: options.cooldownMs ?? 30_000,
        timeoutDuration: options.timeoutMs ?? 5000,
      });
      this.#keys = this.#remote;
      // Unknown until the first fetch (`start`).
      this.#problem = 'not fetched yet';
    } else {
      this.#source = `JWT_JWKS_FILE=${config.jwks.file}`;
      this.#remote = null;
      let jwks: JSONWebKeySet;
      try {
        jwks = JSON.parse(readFileSync(config.jwks.file, 'utf8')) as JSONWebKeySet;
        this.#keys = createLocalJWKSet(jwks);
      } catch (error) {
        throw new Error(`${this.#source} is not a readable JWKS: ${(error as Error).message}`);
      }
    }
  }

  /** Fetches a remote JWKS once; unreachable is reported (readiness), not thrown: tokens are checked again on use. */
  async start(): Promise<KeysHealth> {
    await this.#reload();
    return this.health();
  }

  /** Whether the keys are loaded; a remote JWKS that was unreachable is tried again (within jose's cooldown). */
  async check(): Promise<KeysHealth> {
    if (this.#problem && this.#remote && !this.#remote.reloading) await this.#reload();
    return this.health();
  }

  health(): KeysHealth {
    return { source: this.#source, available: this.#problem === null, problem: this.#problem };
  }

  async #reload(): Promise<void> {
    if (!this.#remote) return;
    try {
      await this.#remote.reload();
      this.#problem = null;
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      this.#problem = `the JWKS cannot be fetched (${cause ?? (error as Error).message})`;
    }
  }

  /** The identity a bearer token proves, or a `TokenRefused` naming what is wrong. */
  async verify(token: string): Promise<Identity> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.#keys, {
        algorithms: ALGORITHMS,
        requiredClaims: ['sub'],
        ...(this.#config.issuer ? { issuer: this.#config.issuer } : {}),
        ...(this.#config.audience ? { audience: this.#config.audience } : {}),
      }));
    } catch (error) {
      const refused = refusal(error, this.#config.issuer, this.#config.audience);
      if (refused.problem === 'keys-unavailable') this.#problem = 'the JWKS cannot be fetched';
      throw refused;
    }
    // Keys were used, so they are there (a remote JWKS that came back after an outage).
    if (this.#remote) this.#problem = null;
    return { subject: String(payload.sub), scopes: scopesOf(payload[this.#config.scopesClaim]), claims: Object.freeze({ ...payload }) };
  }
}
