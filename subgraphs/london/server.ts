import { buildClusterSubgraph, type ClusterSubgraph, type ClusterSubgraphDefinition } from '../kit/cluster.js';
import type { ClusterConfig } from '../kit/config.js';
import { readSdl } from '../kit/contract.js';
import type { ViewStore } from '../kit/store.js';
import { feedReferenceOf, loadReference } from '../programme/reference.js';
import { btFeedFormat, type LondonExtra } from './feed-format.js';

/** The London cluster subgraph over BT's feed. */
export const londonSubgraph: ClusterSubgraphDefinition<LondonExtra> = {
  name: 'london',
  clusterId: 'LONDON',
  supplierId: 'BT',
  viewField: 'london',
  sdl: readSdl(import.meta.url, './schema.graphql'),
  format: btFeedFormat,
};

/** Loads BT's feed folder and builds the london subgraph (started, not listening), watching for new reports. */
export async function buildLondonSubgraph(
  config: ClusterConfig,
  options: { store?: ViewStore<LondonExtra>; log?: (line: string) => void } = {},
): Promise<ClusterSubgraph<LondonExtra>> {
  return buildClusterSubgraph(londonSubgraph, {
    ...config,
    reference: feedReferenceOf(await loadReference(config.extraTrustsFile)),
    ...(options.store ? { store: options.store } : {}),
    log: options.log ?? console.log,
  });
}
