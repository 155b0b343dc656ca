import type { GraphQLSchema } from 'graphql';
import { createService, subgraphApollo, type Service } from '../kit/http.js';
import { buildContractSubgraph, type Resolvers } from '../kit/schema.js';
import type { ReleaseRef } from '../kit/views.js';
import { compareRelease, mergeRollout, type RequiredReleaseView, type RequiredTrustView } from './compare.js';
import { findClusterViews, insightsSdl, type ClusterViews, type SubgraphSdl } from './derive.js';

type Views<V> = Readonly<Record<string, V | null | undefined>>;

function present<V>(holder: Views<V> | undefined, fields: readonly string[]): V[] {
  return fields.flatMap((field) => {
    const view = holder?.[field];
    return view ? [view] : [];
  });
}

/** Resolvers for the derived schema: they read whichever view fields were found. */
export function insightsResolvers(views: ClusterViews): Resolvers {
  const releaseFields = views.release.map((v) => v.field);
  const trustFields = views.trust.map((v) => v.field);
  return {
    Release: {
      __resolveReference: (ref: ReleaseRef) => ref,
      comparison: (release: ReleaseRef) => ({ code: release.code }),
    },
    Trust: {
      rolloutAcrossClusters: (trust: Views<RequiredTrustView>) => mergeRollout(present(trust, trustFields)),
    },
    ReleaseComparison: {
      // The gateway sends the required views inside the representation.
      __resolveReference: (rep: { code: string; release?: Views<RequiredReleaseView> }) =>
        compareRelease(rep.code, present(rep.release, releaseFields)),
    },
  };
}

/** The insights subgraph derived from the given supplier subgraphs: its SDL and schema. */
export function deriveInsights(suppliers: readonly SubgraphSdl[]): { sdl: string; views: ClusterViews } {
  const views = findClusterViews(suppliers);
  return { sdl: insightsSdl(views), views };
}

/** The insights schema for the given supplier subgraphs. */
export function buildInsightsSchema(suppliers: readonly SubgraphSdl[]): GraphQLSchema {
  const { sdl, views } = deriveInsights(suppliers);
  return buildContractSubgraph(sdl, insightsResolvers(views));
}

/** Builds the insights service (started, not listening). */
export function buildInsightsService(suppliers: readonly SubgraphSdl[]): Promise<Service> {
  const schema = buildInsightsSchema(suppliers);
  return createService({
    name: 'insights',
    apollo: subgraphApollo(schema),
    context: async () => ({}),
  });
}
