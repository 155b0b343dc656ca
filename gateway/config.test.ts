import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadGatewayConfig } from './config.js';

/** Each variable set alone to its value is refused, the error naming both. */
const refusesEach = (cases: [name: string, value: string][]) =>
  it.each(cases)('refuses %s=%s, naming the variable and value', (name, value) => {
    expect(() => loadGatewayConfig({ [name]: value })).toThrow(`${name}=${JSON.stringify(value)}`);
  });

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

  refusesEach([
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
  ]);

  it('batches entity fetches unless ENTITY_BATCHING=false, and refuses a value that is not a flag', () => {
    expect(loadGatewayConfig({}).entityBatching).toBe(true);
    expect(loadGatewayConfig({ ENTITY_BATCHING: 'false' }).entityBatching).toBe(false);
    expect(() => loadGatewayConfig({ ENTITY_BATCHING: 'sometimes' })).toThrow('ENTITY_BATCHING="sometimes"');
  });
});

describe('tracing settings (OTEL_*)', () => {
  it('is off without an endpoint, with the OpenTelemetry defaults otherwise', () => {
    expect(loadGatewayConfig({}).tracing).toMatchObject({ endpoint: null, serviceName: 'gateway', sampler: 'parentbased_always_on' });
    expect(loadGatewayConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).tracing).toEqual({
      endpoint: 'http://collector:4318/v1/traces',
      serviceName: 'gateway',
      sampler: 'parentbased_always_on',
      samplerRatio: 1,
      scheduleDelayMs: 5000,
      resourceAttributes: {},
    });
  });

  it('reads the traces endpoint as it is, the service name, sampler, batch delay and resource attributes', () => {
    const tracing = loadGatewayConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://other:4318/custom',
      OTEL_SERVICE_NAME: 'gateway-eu',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=staging, team=nhs%20ops',
    }).tracing;
    expect(tracing).toEqual({
      endpoint: 'http://other:4318/custom',
      serviceName: 'gateway-eu',
      sampler: 'parentbased_traceidratio',
      samplerRatio: 0.25,
      scheduleDelayMs: 100,
      resourceAttributes: { 'deployment.environment': 'staging', team: 'nhs ops' },
    });
  });

  it('is off when the SDK is disabled or the exporter is none', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    expect(loadGatewayConfig({ ...endpoint, OTEL_SDK_DISABLED: 'true' }).tracing.endpoint).toBeNull();
    expect(loadGatewayConfig({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' }).tracing.endpoint).toBeNull();
  });

  refusesEach([
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'collector:4318'],
    ['OTEL_TRACES_SAMPLER', 'sometimes'],
    ['OTEL_TRACES_SAMPLER_ARG', '2'],
    ['OTEL_BSP_SCHEDULE_DELAY', 'soon'],
    ['OTEL_RESOURCE_ATTRIBUTES', 'no-equals'],
    ['OTEL_TRACES_EXPORTER', 'zipkin'],
  ]);
});

describe('header propagation and client awareness settings', () => {
  const rules = '{"all":{"request":[{"propagate":{"named":"accept-language"}}]}}';

  it('propagates nothing by default, and reads the rules from PROPAGATE_HEADERS or PROPAGATE_HEADERS_FILE', () => {
    const none = loadGatewayConfig({});
    expect(none.headerRules.empty).toBe(true);
    expect(none.metricsClientNames).toEqual([]);
    const inline = loadGatewayConfig({ PROPAGATE_HEADERS: rules });
    expect(inline.headerRules.forSubgraph('south').apply(new Map([['accept-language', 'en-GB']]))).toEqual({ 'accept-language': 'en-GB' });
    const dir = mkdtempSync(join(tmpdir(), 'msg-headers-'));
    try {
      writeFileSync(join(dir, 'headers.json'), rules);
      const fromFile = loadGatewayConfig({ PROPAGATE_HEADERS_FILE: join(dir, 'headers.json') });
      expect(fromFile.headerRules.forSubgraph('x').apply(new Map([['accept-language', 'cy']]))).toEqual({ 'accept-language': 'cy' });
      expect(() => loadGatewayConfig({ PROPAGATE_HEADERS_FILE: join(dir, 'missing.json') })).toThrow(
        /PROPAGATE_HEADERS_FILE=.*cannot be read/,
      );
      writeFileSync(join(dir, 'bad.json'), '{"all":{"request":[{"propagate":{"named":"upgrade"}}]}}');
      expect(() => loadGatewayConfig({ PROPAGATE_HEADERS_FILE: join(dir, 'bad.json') })).toThrow(
        /PROPAGATE_HEADERS_FILE=.*all\.request\[0\]\.propagate\.named: "upgrade" is never passed/,
      );
      expect(() => loadGatewayConfig({ PROPAGATE_HEADERS: rules, PROPAGATE_HEADERS_FILE: join(dir, 'headers.json') })).toThrow(/both set/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(loadGatewayConfig({ METRICS_CLIENT_NAMES: 'board-dashboard, explorer' }).metricsClientNames).toEqual([
      'board-dashboard',
      'explorer',
    ]);
  });

  refusesEach([
    ['PROPAGATE_HEADERS', '{"all":{"request":[{"propagate":{"matching":"("}}]}}'],
    ['PROPAGATE_HEADERS', 'yes'],
    ['METRICS_CLIENT_NAMES', 'a b'],
  ]);
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

describe('safelist and plan warm-up settings', () => {
  it('PERSISTED_OPERATIONS_ONLY: off by default, true and false as before, and log', () => {
    expect(loadGatewayConfig({}).safelist).toBe('off');
    expect(loadGatewayConfig({ PERSISTED_OPERATIONS_ONLY: 'true' }).safelist).toBe('enforce');
    expect(loadGatewayConfig({ PERSISTED_OPERATIONS_ONLY: 'false' }).safelist).toBe('off');
    expect(loadGatewayConfig({ PERSISTED_OPERATIONS_ONLY: 'log' }).safelist).toBe('log');
    expect(() => loadGatewayConfig({ PERSISTED_OPERATIONS_ONLY: 'warn' })).toThrow(/PERSISTED_OPERATIONS_ONLY="warn".*true, false or log/);
  });

  it('PLAN_WARMUP_MS (2000; 0 turns warm-up off) and PLAN_WARMUP_MAX (200)', () => {
    expect(loadGatewayConfig({}).planWarmup).toEqual({ budgetMs: 2000, max: 200 });
    expect(loadGatewayConfig({ PLAN_WARMUP_MS: '0', PLAN_WARMUP_MAX: '10' }).planWarmup).toEqual({ budgetMs: 0, max: 10 });
    expect(() => loadGatewayConfig({ PLAN_WARMUP_MAX: '0' })).toThrow('PLAN_WARMUP_MAX="0"');
    expect(() => loadGatewayConfig({ PLAN_WARMUP_MS: 'soon' })).toThrow('PLAN_WARMUP_MS="soon"');
  });
});
