/**
 * `npm start`: every subgraph and the gateway in one process on localhost, with the
 * embedded defaults (sample feeds, in-memory store). Every setting is read and checked
 * before anything starts.
 */
import { loadGatewayConfig } from '../gateway/config.js';
import { buildGatewayService } from '../gateway/server.js';
import { clusterSdls } from '../subgraphs/catalog.js';
import { buildInsightsService } from '../subgraphs/insights/server.js';
import { loadInsightsConfig } from '../subgraphs/insights/config.js';
import { listen, type Listening } from '../subgraphs/kit/http.js';
import { runUntilSignal } from '../subgraphs/kit/main.js';
import { loadLondonConfig } from '../subgraphs/london/config.js';
import { buildLondonService } from '../subgraphs/london/server.js';
import { loadProgrammeConfig } from '../subgraphs/programme/config.js';
import { buildProgrammeService } from '../subgraphs/programme/server.js';
import { loadSouthConfig } from '../subgraphs/south/config.js';
import { buildSouthService } from '../subgraphs/south/server.js';

await runUntilSignal(async () => {
  const config = {
    programme: loadProgrammeConfig(),
    south: loadSouthConfig(),
    london: loadLondonConfig(),
    insights: loadInsightsConfig(),
    gateway: loadGatewayConfig(),
  };
  const started: Listening[] = [];
  try {
    started.push(await listen(await buildProgrammeService(), config.programme.host, config.programme.port));
    started.push(await listen(await buildSouthService(config.south), config.south.host, config.south.port));
    started.push(await listen(await buildLondonService(config.london), config.london.host, config.london.port));
    started.push(await listen(await buildInsightsService(clusterSdls()), config.insights.host, config.insights.port));
    started.push(await listen(await buildGatewayService(config.gateway), config.gateway.host, config.gateway.port));
  } catch (error) {
    for (const service of started.reverse()) await service.close();
    throw error;
  }
  return started;
});
