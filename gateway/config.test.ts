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

  it('batches entity fetches unless ENTITY_BATCHING=false, and refuses a value that is not a flag', () => {
    expect(loadGatewayConfig({}).entityBatching).toBe(true);
    expect(loadGatewayConfig({ ENTITY_BATCHING: 'false' }).entityBatching).toBe(false);
    expect(() => loadGatewayConfig({ ENTITY_BATCHING: 'sometimes' })).toThrow('ENTITY_BATCHING="sometimes"');
  });
});
