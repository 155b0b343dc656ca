import type { ClusterConfig } from '../kit/config.js';
import { buildClusterSubgraph, type ClusterSubgraphDefinition } from '../kit/cluster.js';
import { readSdl } from '../kit/contract.js';
import type { Service } from '../kit/http.js';
import type { ViewStore } from '../kit/store.js';
import { feedReference } from '../programme/reference.js';
import { fujitsuFeedFormat, type SouthExtra } from './feed-format.js';

/** The South cluster subgraph over Fujitsu's feed. */
export const southSubgraph: ClusterSubgraphDefinition<SouthExtra> = {
  name: 'south',
  viewField: 'south',
  sdl: readSdl(import.meta.url, './schema.graphql'),
  format: fujitsuFeedFormat,
};

/** Loads Fujitsu's feed folder and builds the south service (started, not listening). */
export function buildSouthService(config: ClusterConfig, store?: ViewStore<SouthExtra>): Promise<Service> {
  return buildClusterSubgraph(southSubgraph, { feedDir: config.feedDir, reference: feedReference, ...(store ? { store } : {}) });
}
