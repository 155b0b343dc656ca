/**
 * OpenTelemetry traces of a kit subgraph (`OTEL_*` settings, `schema/telemetry.ts`): each
 * `/graphql` request is a SERVER span that continues the gateway's `traceparent` (so it sits
 * under the gateway's fetch span, in the same trace), and each store lookup a span under it:
 * the manifest read and every DataLoader batch (`store getReleases`, with its keys). The
 * subgraph's spans are named after it (`service.name` = the subgraph's name), whatever
 * process it shares. Off (nothing started) without an endpoint.
 */
import type { Tracer } from '@opentelemetry/api';
import type { Express } from 'express';
import { inSpan, serverSpans, startTelemetry, SUBGRAPH_NAME_ATTRIBUTE, TRACING_OFF, type TracingConfig } from '../../schema/telemetry.js';
import { GRAPHQL_PATH } from '../../schema/wire.js';
import type { ViewStore } from './store.js';

export type { TracingConfig } from '../../schema/telemetry.js';

/** The instrumentation scope of the kit's spans. */
const KIT_SCOPE = 'millennium-supergraph/subgraph-kit';

/** One subgraph's tracing. */
export interface SubgraphTracing {
  /** Mounts the SERVER spans of `/graphql` (first, before any route). */
  before(app: Express): void;
  /** The store, with a span per lookup (the store itself when off). */
  store<Extra>(store: ViewStore<Extra>): ViewStore<Extra>;
  shutdown(): Promise<void>;
}

const OFF: SubgraphTracing = { before: () => {}, store: (store) => store, shutdown: async () => {} };

/** Starts the tracing of the subgraph `name` (its `service.name`); nothing without an endpoint. */
export async function subgraphTracing(name: string, config: TracingConfig = TRACING_OFF): Promise<SubgraphTracing> {
  const telemetry = await startTelemetry({ ...config, serviceName: name }, KIT_SCOPE);
  if (!telemetry) return OFF;
  const tracer = telemetry.tracer;
  return {
    before: (app) => app.use(serverSpans(tracer, (req) => req.path === GRAPHQL_PATH)),
    store: (store) => tracedStore(store, tracer, name),
    shutdown: () => telemetry.shutdown(),
  };
}

/**
 * Lookups of a view store as spans: the manifest read, and each batch with its key count and
 * hits; writes and the rest pass through untraced (as `tracedCache` does for the gateway's caches).
 */
function tracedStore<Extra>(store: ViewStore<Extra>, tracer: Tracer, subgraph: string): ViewStore<Extra> {
  const attributes = (keys: number) => ({
    [SUBGRAPH_NAME_ATTRIBUTE]: subgraph,
    'db.system.name': store.health().backend.toLowerCase(),
    'msg.store.keys': keys,
  });
  const batch =
    <K, V>(name: string, lookup: (keys: readonly K[]) => Promise<(V | null)[]>) =>
    (keys: readonly K[]) =>
      inSpan(tracer, `store ${name}`, attributes(keys.length), async (span) => {
        const found = await lookup(keys);
        span?.setAttribute('msg.store.hits', found.filter((v) => v !== null).length);
        return found;
      });
  const announce = store.announce?.bind(store);
  return {
    publish: (views) => store.publish(views),
    withdraw: (file) => store.withdraw(file),
    manifest: () => inSpan(tracer, 'store manifest', attributes(1), () => store.manifest()),
    getReleases: batch('getReleases', (keys) => store.getReleases(keys)),
    getRollouts: batch('getRollouts', (keys) => store.getRollouts(keys)),
    getTrusts: batch('getTrusts', (keys) => store.getTrusts(keys)),
    health: () => store.health(),
    ...(announce ? { announce } : {}),
    close: () => store.close(),
  };
}
