/** Runs the london subgraph alone: `tsx subgraphs/london/main.ts`. */
import { listen } from '../kit/http.js';
import { runUntilSignal } from '../kit/main.js';
import { loadLondonConfig } from './config.js';
import { buildLondonSubgraph } from './server.js';

await runUntilSignal(async () => {
  const config = loadLondonConfig();
  const { service } = await buildLondonSubgraph(config);
  return [await listen(service, config.host, config.port)];
});
