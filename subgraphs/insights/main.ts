/** Runs the insights subgraph alone, derived from the built-in cluster subgraphs: `tsx subgraphs/insights/main.ts`. */
import { clusterSdls } from '../catalog.js';
import { listen } from '../kit/http.js';
import { runUntilSignal } from '../kit/main.js';
import { loadInsightsConfig } from './config.js';
import { buildInsightsService } from './server.js';

await runUntilSignal(async () => {
  const config = loadInsightsConfig();
  return [await listen(await buildInsightsService(clusterSdls()), config.host, config.port)];
});
