import { describe, expect, it } from 'vitest';
import { ConfigError, loadClusterConfig, loadServiceConfig, loadSubgraphTracing } from './config.js';

/** A subgraph's tracing with no `OTEL_*` set: off. */
const TRACING_OFF_SUBGRAPH = {
  endpoint: null,
  serviceName: 'subgraph',
  sampler: 'parentbased_always_on',
  samplerRatio: 1,
  scheduleDelayMs: 5000,
  resourceAttributes: {},
};

describe('configuration from the environment', () => {
  it('uses the defaults when nothing is set, and treats empty values as unset', () => {
    expect(loadServiceConfig('PROGRAMME_PORT', 4001, {})).toEqual({ host: '127.0.0.1', port: 4001 });
    expect(loadServiceConfig('PROGRAMME_PORT', 4001, { PROGRAMME_PORT: '' })).toEqual({ host: '127.0.0.1', port: 4001 });
  });

  it('reads the values that are set', () => {
    expect(
      loadClusterConfig('SOUTH', { port: 4002, feedDir: '/a' }, { HOST: '0.0.0.0', SOUTH_PORT: '5002', SOUTH_FEED_DIR: '/b' }),
    ).toEqual({
      host: '0.0.0.0',
      port: 5002,
      feedDir: '/b',
      feedUrl: null,
      pollMs: 2000,
      maxBytes: 64 * 1024 * 1024,
      maxFutureDays: 1,
      redisUrl: null,
      extraTrustsFile: null,
      membership: { registryUrl: null, pollMs: 2000 },
      tracing: TRACING_OFF_SUBGRAPH,
    });
    expect(
      loadClusterConfig(
        'LONDON',
        { port: 4003, feedDir: '/a' },
        {
          LONDON_FEED_URL: 'https://bt.example/feed/latest.json',
          FEED_POLL_MS: '0',
          FEED_MAX_BYTES: '1000',
          FEED_MAX_FUTURE_DAYS: '0',
          REDIS_URL: 'redis://127.0.0.1:6379/2',
        },
      ),
    ).toMatchObject({
      feedUrl: 'https://bt.example/feed/latest.json',
      pollMs: 0,
      maxBytes: 1000,
      maxFutureDays: 0,
      redisUrl: 'redis://127.0.0.1:6379/2',
    });
  });

  it('names every bad variable and its value', () => {
    const read = () => loadServiceConfig('PROGRAMME_PORT', 4001, { PROGRAMME_PORT: '70000', HOST: 'bad host!' });
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(/PROGRAMME_PORT="70000": must be 0-65535/);
    expect(read).toThrow(/HOST="bad host!"/);
  });

  it('refuses a Redis URL that is not redis://', () => {
    expect(() => loadClusterConfig('SOUTH', { port: 1, feedDir: '/a' }, { REDIS_URL: 'http://127.0.0.1:6379' })).toThrow(
      /REDIS_URL="http:\/\/127.0.0.1:6379": must be a redis/,
    );
  });

  it('refuses a port that is not a number', () => {
    expect(() => loadServiceConfig('INSIGHTS_PORT', 4004, { INSIGHTS_PORT: 'abc' })).toThrow(/INSIGHTS_PORT="abc"/);
  });
});

describe('tracing settings of a subgraph', () => {
  it('reads the OTEL_* settings the gateway reads, but names its spans after the subgraph', () => {
    const tracing = loadSubgraphTracing({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_SERVICE_NAME: 'gateway-eu',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    expect(tracing).toMatchObject({ endpoint: 'http://collector:4318/v1/traces', scheduleDelayMs: 100 });
    // The kit names the service (subgraphTracing): one process may hold several subgraphs.
    expect(tracing.serviceName).toBe('subgraph');
    expect(() => loadSubgraphTracing({ OTEL_TRACES_SAMPLER: 'often' })).toThrow(ConfigError);
  });
});
