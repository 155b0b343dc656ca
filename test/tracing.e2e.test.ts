/**
 * OpenTelemetry across the gateway and the subgraphs, as `npm start` runs them (one process,
 * each service its own tracer provider), against a local OTLP/HTTP receiver: one trace per
 * operation with the subgraphs' spans under the gateway's fetch spans, a client's
 * `traceparent` continued, the trace id in error responses and log lines, and nothing
 * exported when no endpoint is set.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EPHEMERAL_ENV } from './helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A span as OTLP/HTTP JSON carries it, with its service. */
interface ExportedSpan {
  readonly service: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly kind: number;
  readonly attributes: Record<string, unknown>;
}

const SERVER = 2;
const CLIENT = 3;

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
}
const valueOf = (v: OtlpValue) => v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.boolValue ?? v.doubleValue));
const attributesOf = (list: { key: string; value: OtlpValue }[] = []) => Object.fromEntries(list.map((a) => [a.key, valueOf(a.value)]));

/** A local OTLP/HTTP receiver: a few lines of node:http keeping every span POSTed to /v1/traces. */
async function receiver(port = 0): Promise<{ server: Server; url: string; spans: ExportedSpan[]; posts: () => number }> {
  const spans: ExportedSpan[] = [];
  let posts = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces') {
        posts++;
        const payload = JSON.parse(body) as {
          resourceSpans: {
            resource: { attributes: { key: string; value: OtlpValue }[] };
            scopeSpans: {
              spans: (Omit<ExportedSpan, 'service' | 'attributes'> & { attributes?: { key: string; value: OtlpValue }[] })[];
            }[];
          }[];
        };
        for (const rs of payload.resourceSpans) {
          const service = String(attributesOf(rs.resource.attributes)['service.name']);
          for (const scope of rs.scopeSpans)
            for (const span of scope.spans) spans.push({ ...span, service, attributes: attributesOf(span.attributes) });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, posts: () => posts };
}

interface Stack {
  readonly child: ChildProcess;
  readonly gatewayUrl: string;
  readonly output: () => string;
}

/** `npm start`'s entry point in a child process of its own (tracing is process-wide state). */
async function startStack(env: NodeJS.ProcessEnv): Promise<Stack> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...EPHEMERAL_ENV, REGISTRY: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  for (const deadline = Date.now() + 100_000; Date.now() < deadline; await sleep(100)) {
    const url = /gateway\s+listening on (http:\/\/\S+)/.exec(output)?.[1];
    if (url) return { child, gatewayUrl: url, output: () => output };
    if (child.exitCode !== null) break;
  }
  child.kill('SIGKILL');
  throw new Error(`the stack did not start:\n${output}`);
}

async function stopStack(stack: Stack | undefined): Promise<void> {
  if (!stack || stack.child.exitCode !== null) return;
  const exited = new Promise((resolve) => stack.child.once('exit', resolve));
  stack.child.kill('SIGTERM');
  await Promise.race([exited, sleep(10_000).then(() => stack.child.kill('SIGKILL'))]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, find: () => T | undefined, ms = 10_000): Promise<T> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await sleep(100)) {
    const found = find();
    if (found !== undefined) return found;
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function post(url: string, body: object, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return (await response.json()) as { data?: unknown; errors?: { extensions?: Record<string, unknown> }[] };
}

// Misses every cache: the south subgraph is fetched for it.
const SOUTH_QUERY = 'query Traced { release(code: "R2") { code south { localName } } }';

describe('tracing on (OTEL_EXPORTER_OTLP_ENDPOINT set)', () => {
  let otlp: Awaited<ReturnType<typeof receiver>>;
  let stack: Stack;

  beforeAll(async () => {
    otlp = await receiver();
    stack = await startStack({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_BSP_SCHEDULE_DELAY: '100' });
  }, 120_000);

  afterAll(async () => {
    await stopStack(stack);
    otlp?.server.close();
  });

  /** The trace whose gateway SERVER span is the first one for an operation named `operation`. */
  const traceOf = (operation: string, spans: readonly ExportedSpan[]) =>
    spans.find((s) => s.service === 'gateway' && s.kind === SERVER && s.attributes['graphql.operation.name'] === operation)?.traceId;

  it('gives one trace per operation, with the subgraphs spans under the gateway fetch spans', async () => {
    const answer = await post(stack.gatewayUrl, { query: SOUTH_QUERY });
    expect(answer.errors).toBeUndefined();
    const traceId = await until('the gateway span of the operation', () => traceOf('Traced', otlp.spans));
    // The subgraph's span arrives in its own export: wait for it.
    const inTrace = await until('the south subgraph span', () => {
      const spans = otlp.spans.filter((s) => s.traceId === traceId);
      return spans.some((s) => s.service === 'south' && s.kind === SERVER) ? spans : undefined;
    });
    const names = new Set(inTrace.filter((s) => s.service === 'gateway').map((s) => s.name));
    for (const name of [
      'POST /graphql',
      'graphql.parse',
      'graphql.validate',
      'gateway.request',
      'gateway.plan',
      'gateway.execute',
      'gateway.fetch',
      'subgraph south',
    ])
      expect(names, `gateway span ${name}`).toContain(name);
    // One trace: every span of the operation has one root, the gateway's SERVER span.
    const roots = inTrace.filter((s) => !s.parentSpanId);
    expect(roots.map((s) => `${s.service} ${s.name}`)).toEqual(['gateway POST /graphql']);
    const fetch = inTrace.find((s) => s.service === 'gateway' && s.kind === CLIENT && s.name === 'subgraph south')!;
    expect(fetch.attributes).toMatchObject({
      'graphql.subgraph.name': 'south',
      'msg.subgraph.attempts': 1,
      'msg.subgraph.breaker': 'closed',
    });
    const south = inTrace.find((s) => s.service === 'south' && s.kind === SERVER)!;
    expect(south.parentSpanId).toBe(fetch.spanId);
    // The subgraph's store lookups sit under its request.
    const lookups = inTrace.filter((s) => s.service === 'south' && s.name.startsWith('store '));
    expect(lookups.length).toBeGreaterThan(0);
    const southIds = new Set(inTrace.filter((s) => s.service === 'south').map((s) => s.spanId));
    for (const lookup of lookups) expect(southIds.has(lookup.parentSpanId!)).toBe(true);
    // A second operation is a trace of its own.
    await post(stack.gatewayUrl, { query: SOUTH_QUERY.replace('Traced', 'TracedAgain') });
    const again = await until('the second trace', () => traceOf('TracedAgain', otlp.spans));
    expect(again).not.toBe(traceId);
  });

  it("continues a client's traceparent, and puts its trace id in error responses and log lines", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parent = '00f067aa0ba902b7';
    const answer = await post(
      stack.gatewayUrl,
      { query: 'query Dated($d: Date) { release(code: "R2") { south(asOf: $d) { localName } } }', variables: { d: '06/09/2007' } },
      { traceparent: `00-${traceId}-${parent}-01` },
    );
    expect(answer.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', traceId });
    const server = await until('the continued span', () =>
      otlp.spans.find((s) => s.service === 'gateway' && s.kind === SERVER && s.traceId === traceId),
    );
    expect(server.parentSpanId).toBe(parent);
    await until('the access log line with the trace id', () =>
      stack
        .output()
        .split('\n')
        .find((line) => line.includes('"msg":"request"') && line.includes(`"traceId":"${traceId}"`)),
    );
    // And through to a subgraph.
    const continued = '0af7651916cd43dd8448eb211c80319c';
    await post(
      stack.gatewayUrl,
      { query: SOUTH_QUERY.replace('Traced', 'Continued') },
      { traceparent: `00-${continued}-b7ad6b7169203331-01` },
    );
    await until('the subgraph span in the client trace', () => otlp.spans.find((s) => s.service === 'south' && s.traceId === continued));
  });

  it('marks the request span of an operation that joined an identical one in flight', async () => {
    // Identical and at once: all but the first of each overlapping group join its execution (OPERATION_DEDUPE).
    const query = 'query Together { releases { code name south { localName } london { localName } } }';
    const answers = await Promise.all(Array.from({ length: 10 }, () => post(stack.gatewayUrl, { query })));
    for (const answer of answers) expect(answer.errors).toBeUndefined();
    const servers = () =>
      otlp.spans.filter((s) => s.service === 'gateway' && s.kind === SERVER && s.attributes['graphql.operation.name'] === 'Together');
    // A late one of the ten may be a response-cache hit (answered before Apollo, so its span has no operation name).
    await until('a joined request span', () => servers().find((s) => s.attributes['msg.operation.joined'] === true));
    await until('the leader span, not joined', () => servers().find((s) => s.attributes['msg.operation.joined'] === undefined));
  });
});

describe('tracing off (no endpoint)', () => {
  it('exports nothing, not even to the default OTLP endpoint, and adds no trace id', async () => {
    // The OTLP default endpoint (localhost:4318): a started SDK would export there.
    const otlp = await receiver(4318).catch(() => receiver());
    const stack = await startStack({ OTEL_BSP_SCHEDULE_DELAY: '100', OTEL_TRACES_SAMPLER: 'always_on' });
    try {
      const answer = await post(
        stack.gatewayUrl,
        { query: 'query Dated($d: Date) { release(code: "R2") { south(asOf: $d) { localName } } }', variables: { d: '06/09/2007' } },
        { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
      );
      expect(answer.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT' });
      expect((await post(stack.gatewayUrl, { query: SOUTH_QUERY })).errors).toBeUndefined();
      await sleep(1000);
      expect(otlp.posts()).toBe(0);
      expect(stack.output()).not.toContain('"traceId"');
    } finally {
      await stopStack(stack);
      otlp.server.close();
    }
  }, 120_000);
});
