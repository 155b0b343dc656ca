/**
 * OpenTelemetry tracing as every service of the programme does it, the gateway and each kit
 * subgraph alike: the standard `OTEL_*` variables read once (here, by each service's config),
 * one tracer provider per service exporting OTLP/HTTP JSON, and one server span per traced
 * HTTP request that continues the caller's W3C `traceparent`. With no endpoint set nothing is
 * started: no provider, no context manager, no exporter, and callers skip their spans.
 *
 * The variables that decide whether, what and how much is traced are read here and checked
 * like every other setting (a bad one fails fast naming it). The OTLP exporter's transport
 * details (`OTEL_EXPORTER_OTLP_HEADERS`, `_TIMEOUT`, `_COMPRESSION`, certificates) are left to
 * the OpenTelemetry SDK, which reads them itself as the specification says.
 */
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Tracer } from '@opentelemetry/api';
import type { TracerProvider } from '@opentelemetry/sdk-trace';
import type { RequestHandler } from 'express';
import { z } from 'zod';
import { httpUrl, parseEnv } from './env.js';

/** The W3C Trace Context header a caller's trace arrives in and every subgraph fetch carries on. */
export const TRACEPARENT_HEADER = 'traceparent';

/** The span attribute naming the subgraph, on the gateway's fetch spans and the subgraph's own store spans alike. */
export const SUBGRAPH_NAME_ATTRIBUTE = 'graphql.subgraph.name';

/** `service.namespace` of every service of the programme (their `service.name` tells them apart). */
export const SERVICE_NAMESPACE = 'millennium-supergraph';

/** `OTEL_TRACES_SAMPLER` values the OpenTelemetry specification defines (`jaeger_remote` aside). */
export const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type SamplerName = (typeof SAMPLERS)[number];

/** A service's tracing settings. */
export interface TracingConfig {
  /** Where spans are POSTed (OTLP/HTTP JSON, `…/v1/traces`); null: tracing is off. */
  readonly endpoint: string | null;
  /** `service.name` of the spans. */
  readonly serviceName: string;
  readonly sampler: SamplerName;
  /** The ratio of the `traceidratio` samplers (0 to 1). */
  readonly samplerRatio: number;
  /** How long the batch span processor waits before it exports, in ms. */
  readonly scheduleDelayMs: number;
  /** Further resource attributes (`OTEL_RESOURCE_ATTRIBUTES`: `key=value,key=value`). */
  readonly resourceAttributes: Readonly<Record<string, string>>;
}

const keyValues = z
  .string()
  .refine((v) => v.split(',').every((pair) => /^\s*[^=,\s]+\s*=[^,]*$/.test(pair)), 'must be key=value pairs separated by commas')
  .transform((v) => Object.fromEntries(v.split(',').map((pair) => pair.split('=').map((x) => decodeURIComponent(x.trim())))));

/**
 * Reads `OTEL_SDK_DISABLED` (false), `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (used as it is), else
 * `OTEL_EXPORTER_OTLP_ENDPOINT` (with `/v1/traces` added), `OTEL_TRACES_EXPORTER` (`otlp`;
 * `none` turns tracing off), `OTEL_TRACES_SAMPLER` (`parentbased_always_on`),
 * `OTEL_TRACES_SAMPLER_ARG` (1), `OTEL_BSP_SCHEDULE_DELAY` (5000) and `OTEL_RESOURCE_ATTRIBUTES`;
 * and `OTEL_SERVICE_NAME` unless the service has a `fixedName`: the subgraphs are named after
 * themselves, so the services `npm start` runs in one process still show apart.
 */
export function loadTracingConfig(
  env: Readonly<Record<string, string | undefined>>,
  defaults: { name: string; fixed?: boolean },
): TracingConfig {
  const parsed = parseEnv(
    {
      OTEL_SDK_DISABLED: z.enum(['true', 'false'], { error: 'must be true or false' }).default('false'),
      OTEL_EXPORTER_OTLP_ENDPOINT: httpUrl.optional(),
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: httpUrl.optional(),
      OTEL_TRACES_EXPORTER: z.enum(['otlp', 'none'], { error: 'must be otlp or none' }).default('otlp'),
      OTEL_SERVICE_NAME: z.string().min(1).default(defaults.name),
      OTEL_TRACES_SAMPLER: z.enum(SAMPLERS, { error: `must be one of ${SAMPLERS.join(', ')}` }).default('parentbased_always_on'),
      OTEL_TRACES_SAMPLER_ARG: z.coerce.number({ error: 'must be a number' }).min(0, 'must be 0 to 1').max(1, 'must be 0 to 1').default(1),
      OTEL_BSP_SCHEDULE_DELAY: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(0).default(5000),
      OTEL_RESOURCE_ATTRIBUTES: keyValues.optional(),
    },
    env,
  );
  const base = parsed.OTEL_EXPORTER_OTLP_ENDPOINT;
  const endpoint = parsed.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (base ? `${base.replace(/\/+$/, '')}/v1/traces` : null);
  const off = parsed.OTEL_SDK_DISABLED === 'true' || parsed.OTEL_TRACES_EXPORTER === 'none';
  return {
    endpoint: off ? null : endpoint,
    serviceName: defaults.fixed ? defaults.name : parsed.OTEL_SERVICE_NAME,
    sampler: parsed.OTEL_TRACES_SAMPLER,
    samplerRatio: parsed.OTEL_TRACES_SAMPLER_ARG,
    scheduleDelayMs: parsed.OTEL_BSP_SCHEDULE_DELAY,
    resourceAttributes: parsed.OTEL_RESOURCE_ATTRIBUTES ?? {},
  };
}

/** Tracing is off: what a service's config holds when it is not given one. */
export const TRACING_OFF: TracingConfig = {
  endpoint: null,
  serviceName: 'off',
  sampler: 'parentbased_always_on',
  samplerRatio: 1,
  scheduleDelayMs: 5000,
  resourceAttributes: {},
};

/** One service's running tracer provider. */
export interface Telemetry {
  readonly tracer: Tracer;
  readonly provider: TracerProvider;
  /** Exports what is left and stops (the service's `onStop`). */
  shutdown(): Promise<void>;
}

/**
 * Starts a service's tracer provider (exporting over OTLP/HTTP JSON), or null when tracing is
 * off. The SDK and its exporter (`telemetry-sdk.ts`) are loaded only then: a service that
 * does not trace never holds their code (some 2.5 MB of heap, docs/PERFORMANCE.md "Memory").
 */
export async function startTelemetry(config: TracingConfig, scope: string): Promise<Telemetry | null> {
  if (!config.endpoint) return null;
  const { startProvider } = await import('./telemetry-sdk.js');
  return startProvider({ ...config, endpoint: config.endpoint }, scope);
}

/**
 * The semantic-convention attribute names of a server span (`@opentelemetry/semantic-conventions`'
 * stable ones): written out, as that package's index is ~300 KB of source to hold for four strings.
 */
const ATTR_HTTP_REQUEST_METHOD = 'http.request.method';
const ATTR_HTTP_RESPONSE_STATUS_CODE = 'http.response.status_code';
const ATTR_URL_PATH = 'url.path';

/**
 * Writes the active context's `traceparent` (and `tracestate`) into outgoing headers; nothing
 * when no span is active. Through the API's global propagator, the W3C one `telemetry-sdk.ts`
 * registers when a service starts tracing: `@opentelemetry/core`, which holds it, is then
 * loaded only with an endpoint.
 */
export function injectTraceContext(set: (name: string, value: string) => void, active: Context = context.active()): void {
  propagation.inject(active, set, { set: (carrier, key, value) => carrier(key, value) });
}

/** The caller's trace context from incoming headers (W3C `traceparent`), on a fresh root. */
function extractTraceContext(headers: Readonly<Record<string, string | string[] | undefined>>): Context {
  return propagation.extract(ROOT_CONTEXT, headers, {
    get: (carrier, key) => carrier[key],
    keys: (carrier) => Object.keys(carrier),
  });
}

/** The active trace's id (32 hex digits), or undefined outside any trace. */
export function activeTraceId(): string | undefined {
  const span = trace.getActiveSpan();
  if (!span) return undefined;
  const { traceId } = span.spanContext();
  return trace.isSpanContextValid(span.spanContext()) ? traceId : undefined;
}

/**
 * One SERVER span per request that `traced` selects, continuing the caller's `traceparent`:
 * everything the request does runs in its context (Express 5 keeps it through body parsing).
 * Ended when the response is sent, with its status; 5xx marks it an error.
 */
export function serverSpans(tracer: Tracer, traced: (req: { method: string; path: string }) => boolean): RequestHandler {
  return (req, res, next) => {
    if (!traced(req)) return next();
    const parent = extractTraceContext(req.headers);
    const path = req.path;
    const span = tracer.startSpan(
      `${req.method} ${path}`,
      { kind: SpanKind.SERVER, attributes: { [ATTR_HTTP_REQUEST_METHOD]: req.method, [ATTR_URL_PATH]: path } },
      parent,
    );
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    };
    res.once('finish', end);
    res.once('close', end);
    context.with(trace.setSpan(parent, span), next);
  };
}

/**
 * Runs `work` in a span of its own (child of the active one), ending it when `work` settles;
 * a thrown error is recorded on it. With no tracer (tracing off) `work` just runs.
 */
export function inSpan<T>(
  tracer: Tracer | null,
  name: string,
  attributes: Readonly<Record<string, string | number | boolean>>,
  work: (span: { setAttribute(key: string, value: string | number | boolean): unknown } | null) => Promise<T>,
  kind: SpanKind = SpanKind.INTERNAL,
): Promise<T> {
  if (!tracer) return work(null);
  return tracer.startActiveSpan(name, { kind, attributes }, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}
