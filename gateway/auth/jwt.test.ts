import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthConfig } from '../config.js';
import { JwtVerifier, scopesOf } from './jwt.js';
import { TokenRefused } from './refusal.js';

const AUTH: Omit<AuthConfig, 'jwks'> = {
  issuer: 'https://idp.test/',
  audience: 'millennium',
  required: false,
  scopesClaim: 'scope',
  rejectUnauthorized: false,
};

async function keyPair(kid: string): Promise<{ key: CryptoKey; jwk: JWK }> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const { d: _d, ...jwk } = await exportJWK(privateKey);
  return { key: privateKey, jwk: { ...jwk, kid, alg: 'ES256', use: 'sig' } };
}

const sign = (key: CryptoKey, kid: string, claims: Record<string, unknown> = {}) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid })
    .setSubject('svc-dashboard')
    .setIssuer(AUTH.issuer!)
    .setAudience(AUTH.audience!)
    .setExpirationTime('5m')
    .sign(key);

/** A JWKS served over HTTP, whose keys the test rotates, counting its fetches. */
let server: Server;
let served: JWK[] = [];
/** The JWKS endpoint's status (not 200: it is down, answering an error page). */
let status = 200;
let fetches = 0;
let jwksUrl: string;

beforeAll(async () => {
  server = createServer((_req, res) => {
    fetches += 1;
    res.statusCode = status;
    res.setHeader('content-type', status === 200 ? 'application/json' : 'text/html');
    res.end(status === 200 ? JSON.stringify({ keys: served }) : '<h1>Service Unavailable</h1>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('scopesOf', () => {
  it('reads a space-separated string or an array, and nothing else', () => {
    expect([...scopesOf('programme:notes  admin')]).toEqual(['programme:notes', 'admin']);
    expect([...scopesOf(['a', 'b', 3])]).toEqual(['a', 'b']);
    expect(scopesOf(undefined).size).toBe(0);
  });
});

describe('JwtVerifier with JWT_JWKS_URL', () => {
  it('fetches the keys once, and accepts a rotated-in kid after one refetch (bounded by the cooldown)', async () => {
    const first = await keyPair('k1');
    const second = await keyPair('k2');
    const rotated = await sign(second.key, 'k2');
    served = [first.jwk];
    fetches = 0;
    const verifier = new JwtVerifier({ ...AUTH, jwks: { url: jwksUrl } }, { cooldownMs: 3000 });
    expect((await verifier.start()).available).toBe(true);
    const identity = await verifier.verify(await sign(first.key, 'k1', { scope: 'programme:notes' }));
    expect(identity).toMatchObject({ subject: 'svc-dashboard' });
    expect([...identity.scopes]).toEqual(['programme:notes']);
    await verifier.verify(await sign(first.key, 'k1'));
    expect(fetches).toBe(1);
    // The provider rotates: k2 is published. Within the cooldown an unknown kid is refused without a fetch.
    served = [first.jwk, second.jwk];
    await expect(verifier.verify(rotated)).rejects.toMatchObject({ problem: 'unknown-key' });
    await expect(verifier.verify(rotated)).rejects.toBeInstanceOf(TokenRefused);
    expect(fetches).toBe(1);
    // Past it, one refetch, and the new key is accepted from then on.
    await new Promise((resolve) => setTimeout(resolve, 3100));
    expect((await verifier.verify(rotated)).subject).toBe('svc-dashboard');
    await verifier.verify(await sign(second.key, 'k2'));
    expect(fetches).toBe(2);
  });

  it('says when the JWKS cannot be fetched at start, and recovers once it can', async () => {
    const dead = createServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const port = (dead.address() as AddressInfo).port;
    await new Promise((resolve) => dead.close(resolve));
    const verifier = new JwtVerifier({ ...AUTH, jwks: { url: `http://127.0.0.1:${port}/jwks.json` } }, { cooldownMs: 0, timeoutMs: 500 });
    const health = await verifier.start();
    expect(health).toMatchObject({ available: false, source: `JWT_JWKS_URL=http://127.0.0.1:${port}/jwks.json` });
    expect(health.problem).toMatch(/cannot be fetched/);
    const { key } = await keyPair('k1');
    await expect(verifier.verify(await sign(key, 'k1'))).rejects.toMatchObject({ problem: 'keys-unavailable' });
  });

  it('takes a JWKS answering an error status for the keys being out of reach, not a bad token, and recovers once it answers', async () => {
    const pair = await keyPair('k1');
    served = [pair.jwk];
    status = 503;
    const verifier = new JwtVerifier({ ...AUTH, jwks: { url: jwksUrl } }, { cooldownMs: 0 });
    try {
      expect((await verifier.start()).available).toBe(false);
      await expect(verifier.verify(await sign(pair.key, 'k1'))).rejects.toMatchObject({ problem: 'keys-unavailable' });
      expect(verifier.health().available).toBe(false);
    } finally {
      status = 200;
    }
    expect((await verifier.check()).available).toBe(true);
    expect((await verifier.verify(await sign(pair.key, 'k1'))).subject).toBe('svc-dashboard');
  });

  it('names what is wrong: wrong issuer, no subject, an HMAC token', async () => {
    const pair = await keyPair('k1');
    served = [pair.jwk];
    const verifier = new JwtVerifier({ ...AUTH, jwks: { url: jwksUrl } }, { cooldownMs: 0 });
    const otherIssuer = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setSubject('x')
      .setIssuer('https://evil.test/')
      .setAudience(AUTH.audience!)
      .sign(pair.key);
    await expect(verifier.verify(otherIssuer)).rejects.toMatchObject({ problem: 'wrong-issuer' });
    const noSubject = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(AUTH.issuer!)
      .setAudience(AUTH.audience!)
      .sign(pair.key);
    await expect(verifier.verify(noSubject)).rejects.toMatchObject({ problem: 'no-subject' });
    const hmac = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .setSubject('x')
      .sign(new TextEncoder().encode('x'.repeat(32)));
    await expect(verifier.verify(hmac)).rejects.toMatchObject({ problem: 'malformed' });
  });
});
