import { describe, expect, it } from 'vitest';
import { loadGatewayConfig } from './config.js';

describe('production settings', () => {
  it('defaults: introspection on, stack traces and batching off, limits, rate limit and resilience set', () => {
    const config = loadGatewayConfig({});
    expect(config).toMatchObject({
      introspection: true,
      includeStacktrace: false,
      batching: false,
      corsOrigins: [],
      bodyLimitBytes: 1024 * 1024,
      limits: { maxDepth: 12, maxAliases: 30, maxTokens: 3000, maxDirectives: 20, maxCost: 200_000, costListSize: 10 },
      rateLimitRequests: 12_000,
      rateLimitWindowSeconds: 60,
      registryRateLimitRequests: 120,
      streams: { maxPerClient: 1000, maxTotal: 2000, heartbeatSeconds: 15, idleSeconds: 600, maxLifetimeSeconds: 3600 },
      recordedOperationsPerClient: 50,
      resilience: { timeoutMs: 10_000, timeoutsMs: {}, retries: 2, retryDelayMs: 50, breakerFailures: 5, breakerResetMs: 5000 },
      logLevel: 'info',
      trustProxy: 0,
    });
  });

  it('reads each setting, and NODE_ENV changes nothing', () => {
    const config = loadGatewayConfig({
      INTROSPECTION: 'false',
      CORS_ORIGINS: 'https://a.example, http://localhost:3000',
      NODE_ENV: 'production',
    });
    expect(config.introspection).toBe(false);
    expect(config.corsOrigins).toEqual(['https://a.example', 'http://localhost:3000']);
    expect(loadGatewayConfig({ NODE_ENV: 'production' })).toEqual(loadGatewayConfig({}));
    expect(loadGatewayConfig({ SUBGRAPH_TIMEOUTS: 'london=2000, south=5000' }).resilience.timeoutsMs).toEqual({
      london: 2000,
      south: 5000,
    });
  });

  it.each([
    ['MAX_DEPTH', 'deep'],
    ['CORS_ORIGINS', 'dash.example.org/path'],
    ['LOG_LEVEL', 'loud'],
    ['RATE_LIMIT_REQUESTS', '-1'],
    ['REGISTRY_RATE_LIMIT_REQUESTS', 'many'],
    ['STREAMS_MAX_PER_CLIENT', '0'],
    ['STREAMS_HEARTBEAT_SECONDS', '1.5'],
    ['RECORDED_OPERATIONS_PER_CLIENT', '0'],
    ['SUBGRAPH_TIMEOUT_MS', '5'],
    ['INTROSPECTION', 'maybe'],
    ['SUBGRAPH_TIMEOUTS', 'london:2000'],
  ])('refuses %s=%s, naming the variable and value', (name, value) => {
    expect(() => loadGatewayConfig({ [name]: value })).toThrow(`${name}=${JSON.stringify(value)}`);
  });
});

describe('authentication settings', () => {
  it('defaults: no keys, tokens optional, scopes in `scope`, unauthorized fields answered null', () => {
    expect(loadGatewayConfig({}).auth).toEqual({
      jwks: null,
      issuer: null,
      audience: null,
      required: false,
      scopesClaim: 'scope',
      rejectUnauthorized: false,
    });
  });

  it('reads each setting', () => {
    const auth = loadGatewayConfig({
      JWT_JWKS_URL: 'https://idp.example/jwks.json',
      JWT_ISSUER: 'https://idp.example/',
      JWT_AUDIENCE: 'millennium',
      JWT_REQUIRED: 'true',
      JWT_SCOPES_CLAIM: 'scp',
      JWT_REJECT_UNAUTHORIZED: 'true',
    }).auth;
    expect(auth).toEqual({
      jwks: { url: 'https://idp.example/jwks.json' },
      issuer: 'https://idp.example/',
      audience: 'millennium',
      required: true,
      scopesClaim: 'scp',
      rejectUnauthorized: true,
    });
    expect(loadGatewayConfig({ JWT_JWKS_FILE: 'keys.json' }).auth.jwks).toEqual({ file: 'keys.json' });
  });

  it.each([
    [{ JWT_JWKS_URL: 'ftp://idp.example/keys' }, 'JWT_JWKS_URL="ftp://idp.example/keys"'],
    [{ JWT_JWKS_URL: 'https://idp.example/keys', JWT_JWKS_FILE: 'keys.json' }, 'JWT_JWKS_FILE="keys.json"'],
    [{ JWT_REQUIRED: 'true' }, 'JWT_REQUIRED="true"'],
    [{ JWT_REQUIRED: 'yes' }, 'JWT_REQUIRED="yes"'],
    [{ JWT_SCOPES_CLAIM: 'a b' }, 'JWT_SCOPES_CLAIM="a b"'],
  ])('refuses %o, naming the variable', (env, named) => {
    expect(() => loadGatewayConfig(env)).toThrow(named);
  });
});
