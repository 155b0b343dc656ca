/** Runs the insights subgraph alone, derived from the built-in cluster subgraphs: `tsx subgraphs/insights/main.ts`. */
import { clusterSdls } from '../catalog.js';
import { listen } from '../kit/http.js';
import { runUntilSignal } from '../kit/main.js';
import { loadInsightsConfig } from './config.js';
import { buildInsightsService } from './server.js';
import { openRegistryStore } from '../../gateway/registry/store.js';

await runUntilSignal(async () => {
  const config = loadInsightsConfig();
  const registry = config.registry.enabled ? openRegistryStore(config.registry) : null;
  return [await listen(await buildInsightsService(clusterSdls(), { registry, log: console.log }), config.host, config.port)];
});
