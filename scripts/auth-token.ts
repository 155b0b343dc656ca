/**
 * `npm run auth:token -- [--scope "programme:notes"] [--subject analyst] [--dir .data/auth]`:
 * a local signing key for trying authentication without an identity provider. The first run
 * makes an ES256 key pair in `<dir>` (`jwks.json`, the public JWKS the gateway reads with
 * `JWT_JWKS_FILE`; `key.jwk`, the private key, kept there); each run prints one token, valid
 * for an hour, for issuer and audience `millennium-local` (set `JWT_ISSUER` and
 * `JWT_AUDIENCE` to that, or leave them unset).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';

const { values } = parseArgs({
  options: {
    scope: { type: 'string', default: '' },
    subject: { type: 'string', default: 'local-analyst' },
    dir: { type: 'string', default: '.data/auth' },
    expires: { type: 'string', default: '1h' },
  },
});
const LOCAL = 'millennium-local';
const dir = values.dir;
const keyFile = join(dir, 'key.jwk');
if (!existsSync(keyFile)) {
  mkdirSync(dir, { recursive: true });
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: `local-${Date.now().toString(36)}`, alg: 'ES256', use: 'sig' };
  writeFileSync(keyFile, JSON.stringify(jwk), { mode: 0o600 });
  const { d: _d, ...publicJwk } = jwk;
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [publicJwk] }, null, 2));
  console.error(`made a signing key: JWT_JWKS_FILE=${join(dir, 'jwks.json')}`);
}
const jwk = JSON.parse(readFileSync(keyFile, 'utf8')) as JWK & { kid: string };
const token = await new SignJWT(values.scope ? { scope: values.scope } : {})
  .setProtectedHeader({ alg: 'ES256', kid: jwk.kid })
  .setSubject(values.subject)
  .setIssuer(LOCAL)
  .setAudience(LOCAL)
  .setIssuedAt()
  .setExpirationTime(values.expires)
  .sign(await importJWK(jwk, 'ES256'));
console.log(token);
