import type { ClusterConfig } from '../kit/config.js';
import { buildClusterSubgraph, type ClusterSubgraphDefinition } from '../kit/cluster.js';
import { readSdl } from '../kit/contract.js';
import type { Service } from '../kit/http.js';
import type { ViewStore } from '../kit/store.js';
import { feedReference } from '../programme/reference.js';
import { btFeedFormat, type LondonExtra } from './feed-format.js';

/** The London cluster subgraph over BT's feed. */
export const londonSubgraph: ClusterSubgraphDefinition<LondonExtra> = {
  name: 'london',
  viewField: 'london',
  sdl: readSdl(import.meta.url, './schema.graphql'),
  format: btFeedFormat,
};

/** Loads BT's feed folder and builds the london service (started, not listening). */
export function buildLondonService(config: ClusterConfig, store?: ViewStore<LondonExtra>): Promise<Service> {
  return buildClusterSubgraph(londonSubgraph, { feedDir: config.feedDir, reference: feedReference, ...(store ? { store } : {}) });
}
