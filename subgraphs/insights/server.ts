import type { GraphQLSchema } from 'graphql';
import type { ClusterShape } from '../kit/cluster-views.js';
import { createService, subgraphApollo, type Service } from '../kit/http.js';
import { buildContractSubgraph, type Resolvers } from '../kit/schema.js';
import type { ReleaseRef } from '../kit/views.js';
import { comparisonId, parseComparisonId } from '../kit/comparison-id.js';
import { compareRelease, current, mergeRollout, type RequiredReleaseSnapshot, type RequiredTrustSnapshot } from './compare.js';
import { findClusters, insightsSdl, type SubgraphSdl } from './derive.js';

type Holder<V> = Readonly<Record<string, readonly V[] | null | undefined>>;

function pick<V extends RequiredReleaseSnapshot | RequiredTrustSnapshot>(
  holder: Holder<V> | undefined,
  fields: readonly string[],
  asOf: string | null,
): V[] {
  return fields.flatMap((field) => {
    const snapshot = current(holder?.[field], asOf);
    return snapshot ? [snapshot] : [];
  });
}

/** Resolvers for the derived schema: they read whichever clusters were found. */
export function insightsResolvers(clusters: readonly ClusterShape[]): Resolvers {
  const releaseFields = clusters.map((c) => c.releaseSnapshots);
  const trustFields = clusters.flatMap((c) => (c.trustSnapshots ? [c.trustSnapshots] : []));
  const feeds = clusters.flatMap((c) => (c.feedStatusType ? [{ __typename: c.feedStatusType, id: c.subgraph }] : []));
  return {
    Query: {
      feeds: () => feeds,
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
        mergeRollout(pick(trust, trustFields, args.asOf ?? null)),
    },
    ReleaseComparison: {
      // The gateway sends the required snapshots inside the representation.
      __resolveReference: (rep: { id: string; release?: Holder<RequiredReleaseSnapshot> }) =>
        compareRelease(rep.id, pick(rep.release, releaseFields, parseComparisonId(rep.id).asOf)),
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

/** Builds the insights service (started, not listening). */
export function buildInsightsService(clusterSubgraphs: readonly SubgraphSdl[]): Promise<Service> {
  const schema = buildInsightsSchema(clusterSubgraphs);
  return createService({ name: 'insights', apollo: subgraphApollo(schema), context: async () => ({}) });
}
