/** Runs the insights subgraph alone, learning the cluster subgraphs over HTTP: `tsx subgraphs/insights/main.ts`. */
import { listen } from '../kit/http.js';
import { runUntilSignal } from '../kit/main.js';
import { loadInsightsConfig } from './config.js';
import { buildInsightsService } from './server.js';

await runUntilSignal(async () => {
  const config = loadInsightsConfig();
  const service = await buildInsightsService({
    clusters: config.clusters,
    registryUrl: config.registryUrl,
    pollMs: config.registryPollMs,
    log: console.log,
    tracing: config.tracing,
  });
  return [await listen(service, config.host, config.port)];
});
