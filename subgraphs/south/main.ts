/** Runs the south subgraph alone: `tsx subgraphs/south/main.ts`. */
import { listen } from '../kit/http.js';
import { runUntilSignal } from '../kit/main.js';
import { loadSouthConfig } from './config.js';
import { buildSouthSubgraph } from './server.js';

await runUntilSignal(async () => {
  const config = loadSouthConfig();
  const { service } = await buildSouthSubgraph(config);
  return [await listen(service, config.host, config.port)];
});
