/**
 * The gateway's spans, recorded in memory: a subgraph fetch is a CLIENT span whose context the
 * subgraph request carries (`traceparent`), with its attempts, breaker state, entity-cache
 * outcome and failure; cache lookups are spans; and with tracing off nothing is added at all.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, propagation, SpanKind } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TRACING_OFF } from '../schema/telemetry.js';
import { FEED_VERSION_HEADER } from '../schema/wire.js';
import { MemoryCache } from './cache.js';
import type { ResilienceConfig } from './config.js';
import { GatewayDataSource, type GatewayContext } from './data-source.js';
import { subgraphAgent } from './pool-fetcher.js';
import { EntityCache } from './entity-cache.js';
import { SubgraphResilience } from './resilience.js';
import { FETCH_ATTRIBUTES, fetchTracing, gatewayTracing, tracedCache } from './tracing.js';

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const tracer = provider.getTracer('test');

/** A subgraph that records each request's `traceparent` and fails the first `failures` of them with a 503. */
const seen: (string | undefined)[] = [];
let failures = 0;
let server: Server;
let url: string;
const agent = subgraphAgent();

beforeAll(async () => {
  // What startTelemetry installs (telemetry-sdk.ts), for a provider of the test's own.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push(req.headers['traceparent'] as string | undefined);
      res.setHeader('content-type', 'application/json');
      // Answered from the operation's feed version: its entities may be kept.
      res.setHeader(FEED_VERSION_HEADER, 'v1');
      if (failures-- > 0) {
        res.statusCode = 503;
        return res.end('{}');
      }
      res.end(JSON.stringify({ data: { _entities: [{ south: { designStatus: 'ok' } }] } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});

afterAll(async () => {
  await agent.close();
  await new Promise((resolve) => server.close(resolve));
  await provider.shutdown();
});

beforeEach(() => {
  exporter.reset();
  seen.length = 0;
  failures = 0;
});

const ENTITIES =
  'query($representations: [_Any!]!) { _entities(representations: $representations) { ... on Release { south { designStatus } } } }';

const RESILIENCE: ResilienceConfig = {
  timeoutMs: 2000,
  timeoutsMs: {},
  retries: 2,
  retryDelayMs: 1,
  breakerFailures: 5,
  breakerResetMs: 1000,
};

const contextValue = (): GatewayContext => ({
  pin: new Date().toISOString(),
  touched: new Set(),
  versions: new Map([['south', 'v1']]),
  markedPublic: new Set(),
  answered: new Map(),
  epochs: new Map([['south', 'epoch-1']]),
});

function dataSource(options: { traced: boolean; entityCache?: EntityCache; retries?: number }) {
  return new GatewayDataSource({
    name: 'south',
    url,
    agent,
    defaultMaxAge: 60,
    dedupe: false,
    maxResponseBytes: 1024 * 1024,
    hasFeed: () => true,
    entityCache: options.entityCache ?? null,
    resilience: new SubgraphResilience('south', { ...RESILIENCE, retries: options.retries ?? 2 }),
    log: () => {},
    tracing: options.traced ? fetchTracing(tracer) : undefined,
  });
}

const lookup = (source: GatewayDataSource) =>
  source.process({
    kind: 'loading schema',
    request: { query: ENTITIES, variables: { representations: [{ __typename: 'Release', code: 'R2' }] } },
    context: contextValue(),
  } as never);

/** Runs `work` under a span of the "operation", as Apollo Gateway's `gateway.fetch` would be. */
const inOperation = <T>(work: () => Promise<T>) => tracer.startActiveSpan('gateway.fetch', (span) => work().finally(() => span.end()));

describe('subgraph fetch spans', () => {
  it('sends the fetch span as the subgraph request’s traceparent, under the operation’s span', async () => {
    await inOperation(() => lookup(dataSource({ traced: true })));
    const spans = exporter.getFinishedSpans();
    const fetch = spans.find((s) => s.name === 'subgraph south')!;
    const operation = spans.find((s) => s.name === 'gateway.fetch')!;
    expect(fetch.kind).toBe(SpanKind.CLIENT);
    expect(fetch.parentSpanContext?.spanId).toBe(operation.spanContext().spanId);
    expect(fetch.spanContext().traceId).toBe(operation.spanContext().traceId);
    expect(seen).toEqual([`00-${fetch.spanContext().traceId}-${fetch.spanContext().spanId}-01`]);
    expect(fetch.attributes).toMatchObject({
      [FETCH_ATTRIBUTES.subgraph]: 'south',
      [FETCH_ATTRIBUTES.attempts]: 1,
      [FETCH_ATTRIBUTES.breaker]: 'closed',
    });
  });

  it('counts the attempts of a retried fetch, and marks one that failed for good', async () => {
    failures = 1;
    await lookup(dataSource({ traced: true }));
    expect(exporter.getFinishedSpans()[0]?.attributes[FETCH_ATTRIBUTES.attempts]).toBe(2);
    // Every attempt carries the same fetch span.
    expect(new Set(seen).size).toBe(1);
    exporter.reset();
    failures = 10;
    // One retry: two attempts, both refused.
    const answer = await lookup(dataSource({ traced: true, retries: 1 }));
    expect(answer.errors?.[0]?.extensions?.['code']).toBe('SUBGRAPH_UNAVAILABLE');
    const failed = exporter.getFinishedSpans()[0]!;
    expect(failed.attributes).toMatchObject({ [FETCH_ATTRIBUTES.attempts]: 2, [FETCH_ATTRIBUTES.failure]: 'server-error' });
    expect(failed.status.code).toBe(2);
  });

  it('notes the entity cache: a miss, then a hit that sends nothing', async () => {
    const source = dataSource({ traced: true, entityCache: new EntityCache(tracedCache(new MemoryCache(1 << 20), tracer, 'entity')) });
    await lookup(source);
    await lookup(source);
    const fetches = exporter.getFinishedSpans().filter((s) => s.name === 'subgraph south');
    expect(fetches.map((s) => [s.attributes[FETCH_ATTRIBUTES.entityHits], s.attributes[FETCH_ATTRIBUTES.entityMisses]])).toEqual([
      [0, 1],
      [1, 0],
    ]);
    expect(fetches[1]?.attributes[FETCH_ATTRIBUTES.attempts]).toBeUndefined();
    expect(seen).toHaveLength(1);
    // Each lookup is a span of its own, under its fetch.
    const gets = exporter.getFinishedSpans().filter((s) => s.name === 'entity cache get');
    expect(gets.map((s) => s.attributes['msg.cache.hits'])).toEqual([0, 1]);
    expect(gets.map((s) => s.parentSpanContext?.spanId)).toEqual(fetches.map((s) => s.spanContext().spanId));
  });

  it('sends no traceparent and records nothing when tracing is off', async () => {
    await tracer.startActiveSpan('outside', async (span) => {
      await lookup(dataSource({ traced: false }));
      span.end();
    });
    expect(seen).toEqual([undefined]);
    // Not a fetch or cache span: only the test's own.
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['outside']);
  });
});

describe('gatewayTracing without an endpoint', () => {
  it('starts nothing and leaves the caches and data sources as they are', async () => {
    const off = await gatewayTracing(TRACING_OFF);
    const cache = new MemoryCache(1024);
    expect(off.enabled).toBe(false);
    expect(off.fetches).toBeUndefined();
    expect(off.plugins).toEqual([]);
    expect(off.cache(cache, 'response')).toBe(cache);
    await off.shutdown();
  });
});
