import { buildClusterSubgraph, type ClusterSubgraph, type ClusterSubgraphDefinition } from '../kit/cluster.js';
import type { ClusterConfig } from '../kit/config.js';
import { readSdl } from '../kit/contract.js';
import type { LiveReference } from '../kit/membership.js';
import type { ViewStore } from '../kit/store.js';
import { feedReferenceOf, loadReference } from '../programme/reference.js';
import { fujitsuFeedFormat, type SouthExtra } from './feed-format.js';

/** The South cluster subgraph over Fujitsu's feed. */
export const southSubgraph: ClusterSubgraphDefinition<SouthExtra> = {
  name: 'south',
  clusterId: 'SOUTH',
  supplierId: 'FUJITSU',
  viewField: 'south',
  sdl: readSdl(import.meta.url, './schema.graphql'),
  format: fujitsuFeedFormat,
};

/** Loads Fujitsu's feed folder and builds the south subgraph (started, not listening), watching for new reports. */
export async function buildSouthSubgraph(
  config: ClusterConfig,
  options: { membership?: LiveReference; store?: ViewStore<SouthExtra>; log?: (line: string) => void } = {},
): Promise<ClusterSubgraph<SouthExtra>> {
  return buildClusterSubgraph(southSubgraph, {
    ...config,
    // The live membership when given (registered trusts too), else the seed and EXTRA_TRUSTS_FILE.
    reference: options.membership?.feed ?? feedReferenceOf(await loadReference(config.extraTrustsFile)),
    ...(options.membership ? { onReferenceChange: (listener: () => void) => options.membership!.onChange(listener) } : {}),
    ...(options.store ? { store: options.store } : {}),
    log: options.log ?? console.log,
  });
}
