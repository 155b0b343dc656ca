import type { ApolloServerPlugin } from '@apollo/server';
import { callerOf, type SubgraphCaller } from './caller.js';
import type { GraphQLSchema } from 'graphql';
import { FEED_VERSION_HEADER } from '../../schema/wire.js';
import { findClusterShapes, generatedClusterSdl, snapshotsFieldName, type ClusterShape } from '../../schema/cluster-views.js';
import { withContract } from './contract.js';
import type { FeedReference } from './feed.js';
import type { FeedFormat } from './feed-format.js';
import { FeedEvents, feedVersionOf } from './feed-events.js';
import { FeedTracker, type Rejection } from './feed-tracker.js';
import { pollFeedUrl, watchFeedFolder, type Closable } from './feed-watcher.js';
import { createService, subgraphApollo, type Service } from './http.js';
import { createLoaders, type ViewLoaders } from './loaders.js';
import { buildContractSubgraph, type Resolvers } from './schema.js';
import { RedisViewStore, STORE_FORMAT } from './redis-store.js';
import { manifestAt, MemoryViewStore, snapshotAt, versionKey, type ViewStore } from './store.js';
import { PIN_HEADER, pinOf } from './pin.js';
import { subgraphTracing, type TracingConfig } from './tracing.js';
import { releasesOf, type FeedSourceView, type ReleaseRef, type ReleaseViewData, type TrustRef } from './views.js';

/**
 * What a supplier writes to join the supergraph: its subgraph name, the cluster it serves,
 * the view field it contributes (named after its cluster), its SDL and its feed format.
 */
export interface ClusterSubgraphDefinition<Extra> {
  /** Subgraph name, e.g. `south`. */
  readonly name: string;
  /** The cluster's id in the programme's reference data, e.g. `SOUTH`. */
  readonly clusterId: string;
  /** Who publishes the feed when no snapshot says otherwise, e.g. `FUJITSU`. */
  readonly supplierId: string;
  /** The view field on each shared entity, e.g. `south` for `Release.south`. */
  readonly viewField: string;
  /** The subgraph's own SDL; the kit puts the contract in front and its own fields after. */
  readonly sdl: string;
  readonly format: FeedFormat<Extra>;
}

/** The full SDL of a cluster subgraph: contract, the supplier's SDL, and the kit's additions. */
export function clusterSubgraphSdl(definition: ClusterSubgraphDefinition<unknown>): string {
  return withContract(`${definition.sdl}\n${generatedClusterSdl(definition.name, definition.viewField)}`);
}

/** The cluster shape of a definition, checked against the contract. */
export function clusterShape(definition: ClusterSubgraphDefinition<unknown>): ClusterShape {
  const [shape] = findClusterShapes([{ name: definition.name, sdl: clusterSubgraphSdl(definition) }]);
  if (!shape) throw new Error(`Subgraph "${definition.name}" has no Release field tagged cluster-view`);
  return shape;
}

/** Per-request context of a cluster subgraph. */
export interface ClusterContext<Extra> {
  readonly loaders: ViewLoaders<Extra>;
  /** The last refused file as the request started (part of the feed version it answers from). */
  readonly rejection: string | null;
  /** Who is asking, when the gateway sends this subgraph the caller's claims (`caller.ts`); else null. */
  readonly caller: SubgraphCaller | null;
}

/**
 * Says which feed version each answer came from (`FEED_VERSION_HEADER`): that of the
 * snapshots the request's pin sees, so the gateway caches it only under that version. Without
 * it, a gateway that heard of a report before its pin could see it (within the millisecond it
 * became visible, or with its clock behind this subgraph's) would keep the old answer under
 * the new version until the next report. A store that cannot be read sends no header: the
 * gateway then keeps nothing of the answer.
 */
export function answeredVersionPlugin<Extra>(): ApolloServerPlugin<ClusterContext<Extra>> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ contextValue, response }) {
          const version = await contextValue.loaders.feedVersion(contextValue.rejection).catch(() => null);
          if (version) response.http.headers.set(FEED_VERSION_HEADER, version);
        },
      };
    },
  };
}

interface ReleaseSnapshotView {
  readonly asOf: string;
  readonly file: string;
}

async function releaseAt<Extra>(ctx: ClusterContext<Extra>, code: string, asOf: string | null | undefined) {
  const meta = snapshotAt(await ctx.loaders.manifest(), asOf);
  return meta ? ctx.loaders.release.load(versionKey(meta.version, code)) : null;
}

async function trustAt<Extra>(ctx: ClusterContext<Extra>, odsCode: string, asOf: string | null | undefined) {
  const meta = snapshotAt(await ctx.loaders.manifest(), asOf);
  return meta ? ctx.loaders.trust.load(versionKey(meta.version, odsCode)) : null;
}

const snapshotOf = <T extends { source: FeedSourceView }>(view: T): T & ReleaseSnapshotView => ({
  ...view,
  asOf: view.source.asOf,
  file: view.source.file,
});

/** Every snapshot's view of one entity, oldest first, in one batched lookup. */
async function historyOf<T extends { source: FeedSourceView }>(
  ctx: ClusterContext<unknown>,
  key: string,
  loader: (ctx: ClusterContext<unknown>) => { loadMany(keys: readonly `${string}/${string}`[]): Promise<(T | null | Error)[]> },
): Promise<(T & ReleaseSnapshotView)[]> {
  const manifest = await ctx.loaders.manifest();
  const views = await loader(ctx).loadMany(manifest.snapshots.map((s) => versionKey(s.version, key)));
  return views.flatMap((view) => {
    if (view instanceof Error) throw view;
    return view ? [snapshotOf(view)] : [];
  });
}

const inRange = (from: string | null | undefined, to: string | null | undefined) => (s: ReleaseSnapshotView) =>
  (from == null || s.asOf >= from) && (to == null || s.asOf <= to);

/**
 * The resolvers every cluster subgraph shares. Every view comes from the snapshot current
 * at the request's `asOf` (default: the latest), read from the manifest the request saw
 * first; entity lookups go through the request's DataLoaders, so N entities in one
 * `_entities` call cost one store lookup. An entity without a view resolves to null.
 */
export function clusterResolvers<Extra>(
  definition: ClusterSubgraphDefinition<Extra>,
  shape: ClusterShape,
  status: () => Promise<unknown>,
): Resolvers {
  const field = shape.viewField;
  const snapshots = snapshotsFieldName(field);
  type Ctx = ClusterContext<unknown>;
  const resolvers: Resolvers = {
    Release: {
      __resolveReference: (ref: ReleaseRef) => ({ code: ref.code }),
      [field]: (release: ReleaseRef, args: { asOf?: string | null }, ctx: Ctx) => releaseAt(ctx, release.code, args.asOf),
      [snapshots]: (release: ReleaseRef, _: unknown, ctx: Ctx) => historyOf(ctx, release.code, (c) => c.loaders.release),
    },
    Trust: {
      __resolveReference: (ref: TrustRef) => ({ odsCode: ref.odsCode }),
      [field]: (trust: TrustRef, args: { asOf?: string | null }, ctx: Ctx) => trustAt(ctx, trust.odsCode, args.asOf),
      [snapshots]: (trust: TrustRef, _: unknown, ctx: Ctx) => historyOf(ctx, trust.odsCode, (c) => c.loaders.trust),
    },
    [shape.releaseViewType]: {
      rollout: async (view: ReleaseViewData, _: unknown, ctx: Ctx) =>
        (await ctx.loaders.rollout.load(versionKey(view.version, view.releaseCode))) ?? [],
      history: async (view: ReleaseViewData, args: { from?: string | null; to?: string | null }, ctx: Ctx) =>
        (await historyOf(ctx, view.releaseCode, (c) => c.loaders.release)).filter(inRange(args.from, args.to)),
    },
  };
  resolvers['FeedSource'] = {
    // A view's source is the snapshot's public part: its releases are in the manifest, by checksum.
    releases: async (source: FeedSourceView & { releaseCodes?: readonly string[] }, _: unknown, ctx: Ctx) => {
      if (source.releaseCodes !== undefined) return releasesOf(source);
      const meta = (await ctx.loaders.manifest()).snapshots.find((s) => s.checksum === source.checksum);
      return meta ? releasesOf(meta) : [];
    },
  };
  if (shape.feedStatusType) {
    resolvers[shape.feedStatusType] = {
      __resolveReference: (ref: { id: string }) => (ref.id === definition.name ? status() : null),
    };
  }
  return resolvers;
}

export interface ClusterSubgraphOptions<Extra> {
  readonly feedDir: string;
  readonly reference: FeedReference;
  /** Calls back when the reference changes (kit/membership.ts `LiveReference.onChange`): refused files are read again. */
  readonly onReferenceChange?: (listener: () => void) => () => void;
  /** Where snapshots live; Redis when `redisUrl` is given, else this process's memory. */
  readonly store?: ViewStore<Extra>;
  /** Redis shared by every replica of the subgraph (keys under `msg:<format>:<subgraph>:`). */
  readonly redisUrl?: string | null;
  /** Poll this URL for reports too. */
  readonly feedUrl?: string | null;
  /** Files over this size are refused unread. */
  readonly maxBytes?: number;
  /** Reports dated more than this many days after today are refused (default 1). */
  readonly maxFutureDays?: number;
  /** Rescan the folder (and poll the URL) this often, in ms; 0 turns watching off. */
  readonly pollMs?: number;
  readonly log?: (line: string) => void;
  /** OpenTelemetry tracing (`OTEL_*`, kit/config.ts); off when absent. */
  readonly tracing?: TracingConfig;
}

/** A running cluster subgraph's parts, for tests and the runner. */
export interface ClusterSubgraph<Extra> {
  readonly service: Service;
  readonly tracker: FeedTracker;
  readonly store: ViewStore<Extra>;
}

export const DEFAULT_MAX_FEED_BYTES = 64 * 1024 * 1024;

/** The `FeedStatus` of a cluster subgraph, as its entity resolver returns it. */
export async function feedStatus(
  definition: ClusterSubgraphDefinition<unknown>,
  store: ViewStore<unknown>,
  lastRejected: Rejection | null,
) {
  const manifest = manifestAt(await store.manifest(), null);
  const current = manifest.snapshots.at(-1) ?? null;
  return {
    id: definition.name,
    cluster: { id: definition.clusterId },
    supplier: current?.supplier ?? { id: definition.supplierId },
    current,
    loadedAt: current?.loadedAt ?? null,
    snapshots: manifest.snapshots.length,
    lastRejected,
    store: store.health(),
  };
}

/**
 * Loads a cluster's feed folder and builds its service (started, not listening), then
 * keeps watching the folder (and the URL, if given) for new reports. Bad files are refused
 * and reported; the subgraph refuses to start only when no file at all can be accepted.
 */
export async function buildClusterSubgraph<Extra extends object>(
  definition: ClusterSubgraphDefinition<Extra>,
  options: ClusterSubgraphOptions<Extra>,
): Promise<ClusterSubgraph<Extra>> {
  const log = options.log ?? (() => {});
  const store =
    options.store ??
    (options.redisUrl
      ? new RedisViewStore<Extra>({
          url: options.redisUrl,
          prefix: `msg:${STORE_FORMAT}:${definition.name}:`,
          log: (line) => log(`${definition.name}: ${line}`),
        })
      : new MemoryViewStore<Extra>());
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_FEED_BYTES;
  const tracker = new FeedTracker({
    name: definition.name,
    format: definition.format as FeedFormat<object>,
    reference: options.reference,
    store: store as ViewStore<object>,
    maxBytes,
    ...(options.maxFutureDays !== undefined ? { maxFutureDays: options.maxFutureDays } : {}),
    log,
  });
  // Start-up failures name the setting that points at the folder (`<NAME>_FEED_DIR`, as kit/config.ts reads it).
  const dirSetting = `${definition.name.toUpperCase().replace(/-/g, '_')}_FEED_DIR=${JSON.stringify(options.feedDir)}`;
  const outcomes = await tracker.scan(options.feedDir).catch(async (error: unknown) => {
    await store.close();
    throw new Error(`${dirSetting}: ${(error as Error).message}`);
  });
  if ((await store.manifest()).snapshots.length === 0) {
    const reasons = outcomes.filter((o) => o.outcome === 'rejected').map((o) => o.error.message);
    await store.close();
    throw new Error(
      reasons.length > 0
        ? `${definition.name}: no feed file in ${options.feedDir} could be accepted:\n${reasons.join('\n')}`
        : `${dirSetting}: Feed folder ${options.feedDir} holds no ${definition.format.extension} feed file`,
    );
  }
  const shape = clusterShape(definition);
  const status = () => feedStatus(definition, store as ViewStore<unknown>, tracker.lastRejected);
  const schema: GraphQLSchema = buildContractSubgraph(
    `${definition.sdl}\n${generatedClusterSdl(definition.name, definition.viewField)}`,
    clusterResolvers(definition, shape, status),
  );
  const watchers: Closable[] = [];
  const pollMs = options.pollMs ?? 2000;
  const onError = (error: Error) => log(`${definition.name}: ${error.message}`);
  if (pollMs > 0) {
    watchers.push(watchFeedFolder(options.feedDir, tracker, { pollMs, onError }));
    if (options.feedUrl) {
      watchers.push(
        pollFeedUrl(options.feedUrl, tracker, { intervalMs: pollMs, extension: definition.format.extension, maxBytes, onError }),
      );
    }
  }
  const unfollow = options.onReferenceChange?.(() => tracker.reconsiderRefused()) ?? (() => {});
  const shared: ViewStore<Extra> = store;
  const events = new FeedEvents(definition.name, {
    version: async () => feedVersionOf(await shared.manifest(), tracker.lastRejected?.id ?? null),
    ...(shared.announce ? { announce: (event) => shared.announce!(event) } : {}),
  });
  const announce = () => events.changed().catch(onError);
  tracker.onAccepted(announce);
  // A refused file changes what FeedStatus shows: caches keyed by the version must follow.
  tracker.onRejected(announce);
  const release = async () => {
    unfollow();
    for (const watcher of watchers) watcher.close();
    events.close();
    await store.close();
  };
  const tracing = await subgraphTracing(definition.name, options.tracing);
  // Requests read through spans of their lookups (when tracing is on); the feed writes as it did.
  const served = tracing.store(store);
  const service = await createService<ClusterContext<Extra>>({
    name: definition.name,
    tracing,
    apollo: subgraphApollo<ClusterContext<Extra>>(schema, {
      name: definition.name,
      ...(options.log ? { log: options.log } : {}),
      plugins: [answeredVersionPlugin<Extra>()],
    }),
    context: async ({ req }) => ({
      loaders: createLoaders(served, pinOf(req.headers[PIN_HEADER])),
      rejection: tracker.lastRejected?.id ?? null,
      caller: callerOf(req.headers),
    }),
    routes: (app) => events.routes(app),
    onStop: release,
  }).catch(async (error: unknown) => {
    await release();
    throw error;
  });
  return { service, tracker, store };
}
