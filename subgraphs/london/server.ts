import { buildClusterSubgraph, type ClusterSubgraph, type ClusterSubgraphDefinition } from '../kit/cluster.js';
import type { ClusterConfig } from '../kit/config.js';
import { readSdl } from '../kit/contract.js';
import type { LiveReference } from '../kit/membership.js';
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
  options: { membership?: LiveReference; store?: ViewStore<LondonExtra>; log?: (line: string) => void } = {},
): Promise<ClusterSubgraph<LondonExtra>> {
  return buildClusterSubgraph(londonSubgraph, {
    ...config,
    // The live membership when given (registered trusts too), else the seed and EXTRA_TRUSTS_FILE.
    reference: options.membership?.feed ?? feedReferenceOf(await loadReference(config.extraTrustsFile)),
    ...(options.membership ? { onReferenceChange: (listener: () => void) => options.membership!.onChange(listener) } : {}),
    ...(options.store ? { store: options.store } : {}),
    log: options.log ?? console.log,
  });
}
