import type { GraphQLSchema } from 'graphql';
import type { FeedReference, FeedSnapshot } from './feed.js';
import { loadFeedDirectory, type FeedFormat } from './feed-directory.js';
import { createService, subgraphApollo, type Service } from './http.js';
import { createLoaders, type ViewLoaders } from './loaders.js';
import { buildContractSubgraph, type Resolvers } from './schema.js';
import { MemoryViewStore, type ViewStore } from './store.js';
import { buildViews, type ReleaseRef, type ReleaseView, type TrustRef, type TrustView } from './views.js';

/**
 * What a supplier writes to join the supergraph: its subgraph name, the view field it
 * contributes (named after its cluster), its SDL and its feed format.
 */
export interface ClusterSubgraphDefinition<Extra> {
  /** Subgraph name, e.g. `south`. */
  readonly name: string;
  /** The view field on each shared entity, e.g. `south` for `Release.south`. */
  readonly viewField: string;
  /** The subgraph's own SDL (the contract is put in front of it). */
  readonly sdl: string;
  readonly format: FeedFormat<Extra>;
}

/** Per-request context of a cluster subgraph. */
export interface ClusterContext<Extra> {
  readonly loaders: ViewLoaders<Extra>;
}

interface ReleaseParent<Extra> {
  readonly code: string;
  readonly view: ReleaseView<Extra> | null;
}

interface TrustParent {
  readonly odsCode: string;
  readonly view: TrustView | null;
}

/**
 * The resolvers every cluster subgraph shares: entity references go through the
 * request's DataLoader, so N references in one `_entities` call are one store lookup.
 * An entity with no view in this cluster resolves with a null view field, not an error.
 */
export function clusterResolvers<Extra>(viewField: string): Resolvers {
  return {
    Release: {
      __resolveReference: async (ref: ReleaseRef, ctx: ClusterContext<Extra>): Promise<ReleaseParent<Extra>> => ({
        code: ref.code,
        view: await ctx.loaders.releaseView.load(ref.code),
      }),
      [viewField]: (parent: ReleaseParent<Extra>) => parent.view,
    },
    Trust: {
      __resolveReference: async (ref: TrustRef, ctx: ClusterContext<Extra>): Promise<TrustParent> => ({
        odsCode: ref.odsCode,
        view: await ctx.loaders.trustView.load(ref.odsCode),
      }),
      [viewField]: (parent: TrustParent) => parent.view,
    },
  };
}

/** The executable schema of a cluster subgraph. */
export function buildClusterSchema<Extra>(definition: ClusterSubgraphDefinition<Extra>): GraphQLSchema {
  return buildContractSubgraph(definition.sdl, clusterResolvers<Extra>(definition.viewField));
}

/** Builds a cluster subgraph service over `store` (started, not listening). */
export function buildClusterService<Extra>(definition: ClusterSubgraphDefinition<Extra>, store: ViewStore<Extra>): Promise<Service> {
  const schema = buildClusterSchema(definition);
  return createService<ClusterContext<Extra>>({
    name: definition.name,
    apollo: subgraphApollo<ClusterContext<Extra>>(schema),
    context: async () => ({ loaders: createLoaders(store) }),
  });
}

/** A cluster subgraph's feed, loaded: every snapshot, and a store serving the latest. */
export interface LoadedFeed<Extra> {
  readonly snapshots: readonly FeedSnapshot<Extra>[];
  readonly store: ViewStore<Extra>;
}

/**
 * Loads every feed file in `feedDir` and publishes the latest snapshot to a new in-memory
 * store. Throws (naming file, line and field) when a feed file is invalid.
 */
export async function loadClusterFeed<Extra extends object>(
  definition: ClusterSubgraphDefinition<Extra>,
  feedDir: string,
  reference: FeedReference,
  store: ViewStore<Extra> = new MemoryViewStore<Extra>(),
): Promise<LoadedFeed<Extra>> {
  const snapshots = await loadFeedDirectory(feedDir, definition.format, reference);
  const latest = snapshots.at(-1);
  if (latest) await store.publish(buildViews(latest));
  return { snapshots, store };
}

/**
 * Loads a cluster's feed folder and builds its service (started, not listening). Throws,
 * naming file, line and field, when a feed file is invalid.
 */
export async function buildClusterSubgraph<Extra extends object>(
  definition: ClusterSubgraphDefinition<Extra>,
  options: { feedDir: string; reference: FeedReference; store?: ViewStore<Extra> },
): Promise<Service> {
  const feed = await loadClusterFeed(definition, options.feedDir, options.reference, options.store);
  return buildClusterService(definition, feed.store);
}
