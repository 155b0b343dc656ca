/**
 * The OpenTelemetry SDK half of `telemetry.ts`: the tracer provider, its sampler and its
 * OTLP/HTTP exporter. Imported by `startTelemetry` only when a service has an endpoint, so a
 * service that does not trace never loads the SDK.
 */
import { context, propagation } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
} from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { SERVICE_NAMESPACE, type Telemetry, type TracingConfig } from './telemetry.js';

function samplerOf(config: TracingConfig): Sampler {
  const ratio = new TraceIdRatioBasedSampler(config.samplerRatio);
  switch (config.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio;
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio });
  }
}

/**
 * The context manager and propagator every traced service in a process shares: spans follow
 * async work through AsyncLocalStorage, and cross services in W3C `traceparent` headers
 * (`injectTraceContext`, `extractTraceContext`). Installed by the first service that traces,
 * never when none does.
 */
function ensureGlobals(): void {
  if (globalsInstalled) return;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  globalsInstalled = true;
}
let globalsInstalled = false;

/** Starts a service's tracer provider, exporting over OTLP/HTTP JSON to `config.endpoint`. */
export function startProvider(config: TracingConfig & { readonly endpoint: string }, scope: string): Telemetry {
  ensureGlobals();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      'service.namespace': SERVICE_NAMESPACE,
      ...config.resourceAttributes,
      [ATTR_SERVICE_NAME]: config.serviceName,
    }),
    sampler: samplerOf(config),
    spanProcessors: [
      new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: config.endpoint }), scheduledDelayMillis: config.scheduleDelayMs }),
    ],
  });
  return { tracer: provider.getTracer(scope), provider, shutdown: () => provider.shutdown() };
}
