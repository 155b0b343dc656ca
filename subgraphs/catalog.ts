/**
 * The built-in subgraphs and how they make up the supergraph: programme, every cluster
 * subgraph, and insights derived from the cluster subgraphs' views.
 */
import { clusterSubgraphSdl, type ClusterSubgraphDefinition } from './kit/cluster.js';
import { withContract } from './kit/contract.js';
import type { SubgraphSdl } from './insights/derive.js';
import { deriveInsights } from './insights/server.js';
import { londonSubgraph } from './london/server.js';
import { programmeSdl } from './programme/server.js';
import { southSubgraph } from './south/server.js';

/** A subgraph as composition needs it: name, routing URL and full SDL. */
export interface SubgraphSource extends SubgraphSdl {
  readonly url: string;
}

/** The cluster subgraphs that ship with the supergraph. */
export const builtInClusters: readonly ClusterSubgraphDefinition<object>[] = [
  southSubgraph as ClusterSubgraphDefinition<object>,
  londonSubgraph as ClusterSubgraphDefinition<object>,
];

/** Every built-in subgraph's name, in start order. */
export const SUBGRAPH_NAMES = ['programme', 'south', 'london', 'insights'] as const;
export type SubgraphName = (typeof SUBGRAPH_NAMES)[number];

/** The full SDL of each cluster subgraph, as insights derives from it. */
export function clusterSdls(clusters: readonly ClusterSubgraphDefinition<object>[] = builtInClusters): SubgraphSdl[] {
  return clusters.map((c) => ({ name: c.name, sdl: clusterSubgraphSdl(c) }));
}

/**
 * The subgraphs of the supergraph, with routing URLs: programme, the cluster subgraphs
 * (built-in ones plus any `extra`), and insights derived from all cluster subgraphs.
 */
export function supergraphSubgraphs(urls: Readonly<Record<string, string>>, extra: readonly SubgraphSource[] = []): SubgraphSource[] {
  const urlOf = (name: string) => {
    const url = urls[name];
    if (!url) throw new Error(`No routing URL for subgraph "${name}"`);
    return url;
  };
  const clusters = [...clusterSdls().map((c) => ({ ...c, url: urlOf(c.name) })), ...extra];
  return [
    { name: 'programme', url: urlOf('programme'), sdl: withContract(programmeSdl) },
    ...clusters,
    { name: 'insights', url: urlOf('insights'), sdl: withContract(deriveInsights(clusters).sdl) },
  ];
}
