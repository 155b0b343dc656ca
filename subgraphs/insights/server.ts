import type { GraphQLSchema } from 'graphql';
import type { ClusterShape } from '../../schema/cluster-views.js';
import { createService, FIXED_ANSWER_MAX_AGE, subgraphApollo, type Service } from '../kit/http.js';
import { subgraphTracing, type TracingConfig } from '../kit/tracing.js';
import { buildContractSubgraph, type Resolvers } from '../kit/schema.js';
import type { ReleaseRef } from '../kit/views.js';
import { comparisonId, parseComparisonId } from '../kit/comparison-id.js';
import {
  compareRelease,
  current,
  historyWithin,
  mergeRollout,
  type ClusterSnapshots,
  type ComparedSnapshot,
  type RequiredReleaseSnapshot,
  type RequiredTrustSnapshot,
} from './compare.js';
import { findClusters, insightsSdl, type SubgraphSdl } from './derive.js';
import { LiveInsightsSchema, SUBGRAPHS_HEADER, subgraphsOf, type ClusterUrl } from './live-schema.js';
import { createHandler as createSseHandler } from 'graphql-sse/lib/use/express';
import express from 'express';
import { ReportFeed, type ReportEvent } from './reports.js';
import { SCHEMA_VERSION_PATH } from '../../schema/wire.js';

/** The largest subscription request body, as the largest `/graphql` body of a subgraph. */
const STREAM_BODY_LIMIT = 1024 * 1024;

/** Per-request context: the subgraphs of the calling gateway's supergraph, or null for all. */
interface InsightsContext {
  readonly subgraphs: ReadonlySet<string> | null;
}

type Holder<V> = Readonly<Record<string, readonly V[] | null | undefined>>;

/**
 * Each cluster's snapshot current at `asOf` (clusters without one are left out), with all of
 * that cluster's snapshots. A cluster whose subgraph failed comes as null: left out too.
 */
function pick<V extends RequiredReleaseSnapshot | RequiredTrustSnapshot>(
  holder: Holder<V> | null | undefined,
  fields: readonly string[],
  asOf: string | null,
): ClusterSnapshots<V>[] {
  return fields.flatMap((field) => {
    const all = holder?.[field] ?? [];
    const snapshot = current(all, asOf);
    return snapshot ? [{ current: snapshot, all }] : [];
  });
}

function reportsOf(reports: () => ReportFeed | null): ReportFeed {
  const feed = reports();
  if (!feed) throw new Error('insights: report subscriptions are served only by the insights service');
  return feed;
}

/** Resolvers for the derived schema: they read whichever clusters were found. */
export function insightsResolvers(clusters: readonly ClusterShape[], reports: () => ReportFeed | null = () => null): Resolvers {
  const releaseFields = clusters.map((c) => c.releaseSnapshots);
  const trustFields = clusters.flatMap((c) => (c.trustSnapshots ? [c.trustSnapshots] : []));
  const feeds = clusters.flatMap((c) => (c.feedStatusType ? [{ __typename: c.feedStatusType, id: c.subgraph }] : []));
  return {
    Query: {
      feeds: (_: unknown, __: unknown, ctx: InsightsContext) => (ctx.subgraphs ? feeds.filter((f) => ctx.subgraphs?.has(f.id)) : feeds),
    },
    Subscription: {
      reportAccepted: {
        subscribe: (_: unknown, args: { cluster?: string | null }) => reportsOf(reports).iterate('accepted', args.cluster ?? null),
        resolve: (e: ReportEvent) => e,
      },
      reportRejected: {
        subscribe: (_: unknown, args: { cluster?: string | null }) => reportsOf(reports).iterate('rejected', args.cluster ?? null),
        resolve: (e: ReportEvent) => e,
      },
    },
    FeedStatus: {
      __resolveType: (status: { __typename: string }) => status.__typename,
    },
    Release: {
      __resolveReference: (ref: ReleaseRef) => ref,
      comparison: (release: ReleaseRef, args: { asOf?: string | null }) => ({ id: comparisonId(release.code, args.asOf) }),
    },
    Trust: {
      rolloutAcrossClusters: (trust: Holder<RequiredTrustSnapshot>, args: { asOf?: string | null }) =>
        mergeRollout(pick(trust, trustFields, args.asOf ?? null).map((s) => s.current)),
    },
    ReleaseComparison: {
      // The gateway sends the required snapshots inside the representation.
      __resolveReference: (rep: { id: string; release?: Holder<RequiredReleaseSnapshot> | null }) =>
        compareRelease(rep.id, pick(rep.release, releaseFields, parseComparisonId(rep.id).asOf)),
    },
    ComparedSnapshot: {
      history: (snapshot: ComparedSnapshot, args: { from?: string | null; to?: string | null }) =>
        historyWithin(snapshot.all, args.from ?? null, args.to ?? null),
    },
  };
}

/** The insights subgraph derived from the given cluster subgraphs: its SDL and the clusters found. */
export function deriveInsights(clusterSubgraphs: readonly SubgraphSdl[]): { sdl: string; clusters: ClusterShape[] } {
  const clusters = findClusters(clusterSubgraphs);
  return { sdl: insightsSdl(clusters), clusters };
}

/** The insights schema for the given cluster subgraphs. */
export function buildInsightsSchema(clusterSubgraphs: readonly SubgraphSdl[]): GraphQLSchema {
  const { sdl, clusters } = deriveInsights(clusterSubgraphs);
  return buildContractSubgraph(sdl, insightsResolvers(clusters));
}

export interface InsightsServiceOptions {
  /** The built-in cluster subgraphs, by name and URL: their SDL is read from them. */
  readonly clusters: readonly ClusterUrl[];
  /**
   * The gateway whose registry it follows (clusters published there are compared too, as
   * they come and go); a function when that address is known only later; null for none.
   */
  readonly registryUrl: string | (() => string | null) | null;
  /** How often the registry is read, in ms (5000 by default). */
  readonly pollMs?: number;
  /** How long a cluster that left the registry stays compared, in ms (5000 by default). */
  readonly graceMs?: number;
  readonly log?: (line: string) => void;
  /** OpenTelemetry tracing (`OTEL_*`); off when absent. */
  readonly tracing?: TracingConfig;
}

/**
 * Builds the insights service (started, not listening), derived from the cluster subgraphs'
 * SDL as they serve it and, with a registry, from those published there. `GET
 * /schema/version` says which registry version it serves; `?registryVersion=N` (a gateway
 * waiting for N) makes it read the registry now.
 */
export async function buildInsightsService(options: InsightsServiceOptions): Promise<Service> {
  let reports: ReportFeed | null = null;
  let shapes: readonly ClusterShape[] = [];
  let published: readonly ClusterUrl[] = [];
  const withStatus = (clusters: readonly ClusterUrl[]) =>
    clusters.flatMap((c) => {
      const statusType = shapes.find((s) => s.subgraph === c.name)?.feedStatusType;
      return statusType ? [{ ...c, statusType }] : [];
    });
  const live = await LiveInsightsSchema.start({
    builtIn: options.clusters,
    registryUrl: options.registryUrl,
    pollMs: options.pollMs ?? 5000,
    ...(options.graceMs === undefined ? {} : { graceMs: options.graceMs }),
    ...(options.log ? { log: options.log } : {}),
    // Published clusters' reports are heard from the URLs they were published with.
    onPublished: (clusters) => {
      published = clusters;
      reports?.followPublished(withStatus(published));
    },
    build: (clusters) => {
      const derived = deriveInsights(clusters);
      shapes = derived.clusters;
      // A cluster just published has its FeedStatus type only now.
      reports?.followPublished(withStatus(published));
      return {
        schema: buildContractSubgraph(
          derived.sdl,
          insightsResolvers(derived.clusters, () => reports),
        ),
        clusters: derived.clusters.map((c) => c.subgraph),
      };
    },
  });
  // Reports are heard from the built-in clusters and from those published through the registry.
  const feed = new ReportFeed(withStatus(options.clusters), options.log);
  reports = feed;
  feed.start();
  feed.followPublished(withStatus(published));
  // Subscriptions over server-sent events on /graphql (graphql-sse, distinct connections), as the gateway asks for them.
  const streams = createSseHandler({
    schema: () => live.schema(),
    context: (req) => ({ subgraphs: subgraphsOf(req.raw.headers[SUBGRAPHS_HEADER]) }) satisfies InsightsContext,
  });
  return createService({
    name: 'insights',
    tracing: await subgraphTracing('insights', options.tracing),
    // Report subscriptions end as the drain starts (they complete; gateways tell their clients), so it need not wait on them.
    apollo: (drain) =>
      subgraphApollo(
        { gateway: live },
        { maxAge: FIXED_ANSWER_MAX_AGE },
      )({
        serverWillStart: async (started) => {
          const draining = await drain.serverWillStart?.(started);
          return {
            drainServer: async () => {
              feed.stop();
              await draining?.drainServer?.();
            },
          };
        },
      }),
    context: async ({ req }): Promise<InsightsContext> => ({ subgraphs: subgraphsOf(req.headers[SUBGRAPHS_HEADER]) }),
    routes: (app) => {
      // Read as bounded as any /graphql body (graphql-sse would read the raw body whole).
      const body = express.json({ limit: STREAM_BODY_LIMIT });
      app.use('/graphql', (req, res, next) => {
        if (req.headers.accept !== 'text/event-stream') return next();
        body(req, res, (error?: unknown) => {
          if (error) return next(error);
          streams(req, res).catch((failure: unknown) => next(failure));
        });
      });
      app.get(SCHEMA_VERSION_PATH, (req, res) => {
        const wanted = Number(req.query['registryVersion']);
        if (Number.isSafeInteger(wanted) && wanted >= 0) live.hint(wanted);
        res.json(live.version());
      });
    },
    onStop: async () => {
      feed.stop();
      await live.stop();
    },
  });
}
