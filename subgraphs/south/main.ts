/** Runs the south subgraph alone: `tsx subgraphs/south/main.ts`. */
import { listen } from '../kit/http.js';
import { runUntilSignal } from '../kit/main.js';
import { loadSouthConfig } from './config.js';
import { buildSouthService } from './server.js';

await runUntilSignal(async () => {
  const config = loadSouthConfig();
  return [await listen(await buildSouthService(config), config.host, config.port)];
});
