import { describe, expect, it } from 'vitest';
import { loadInsightsConfig } from './config.js';

describe("insights' settings", () => {
  it('defaults to the built-in clusters and the gateway of npm start', () => {
    expect(loadInsightsConfig({})).toEqual({
      host: '127.0.0.1',
      port: 4004,
      clusters: [
        { name: 'south', url: 'http://127.0.0.1:4002/graphql' },
        { name: 'london', url: 'http://127.0.0.1:4003/graphql' },
      ],
      registryUrl: 'http://127.0.0.1:4000',
      registryPollMs: 5000,
      // Off without an endpoint (OTEL_*; subgraphs/kit/tracing.ts).
      tracing: expect.objectContaining({ endpoint: null }),
    });
  });

  it('reads name=URL pairs, off, and the poll interval', () => {
    const config = loadInsightsConfig({
      INSIGHTS_CLUSTERS: 'north-east=http://ne:4010/graphql',
      INSIGHTS_REGISTRY_URL: 'off',
      INSIGHTS_REGISTRY_POLL_MS: '250',
    });
    expect(config).toMatchObject({
      clusters: [{ name: 'north-east', url: 'http://ne:4010/graphql' }],
      registryUrl: null,
      registryPollMs: 250,
    });
  });

  it.each([
    ['INSIGHTS_CLUSTERS', 'http://south:4002/graphql', 'is not name=http(s)-URL'],
    ['INSIGHTS_CLUSTERS', 'south=ftp://south/graphql', 'is not name=http(s)-URL'],
    ['INSIGHTS_CLUSTERS', 'south=http://a/graphql,south=http://b/graphql', 'names south twice'],
    ['INSIGHTS_REGISTRY_URL', 'gateway:4000', "must be the gateway's http(s) URL or off"],
    ['INSIGHTS_REGISTRY_POLL_MS', '10', 'must be at least 50'],
  ])('refuses %s=%s, naming the variable and the value', (name, value, message) => {
    expect(() => loadInsightsConfig({ [name]: value })).toThrow(`${name}=${JSON.stringify(value)}: `);
    expect(() => loadInsightsConfig({ [name]: value })).toThrow(message);
  });
});
