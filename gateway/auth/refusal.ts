/**
 * A refused token, apart from the verifier (`jwt.ts`) so that what handles a refusal
 * (`authenticate.ts`) does not load jose: a gateway without `JWT_*` settings never does.
 */

/** Why a token was refused, in words a client can act on; never the token itself. */
export type TokenProblem =
  | 'malformed'
  | 'expired'
  | 'not-yet-valid'
  | 'wrong-audience'
  | 'wrong-issuer'
  | 'unknown-key'
  | 'bad-signature'
  | 'no-subject'
  | 'keys-unavailable';

/** A refused token: the problem and the message the 401 carries. */
export class TokenRefused extends Error {
  override readonly name = 'TokenRefused';
  constructor(
    readonly problem: TokenProblem,
    message: string,
  ) {
    super(message);
  }
}
