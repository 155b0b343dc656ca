/** Runs the london subgraph alone: `tsx subgraphs/london/main.ts`. */
import { listen } from '../kit/http.js';
import { runUntilSignal } from '../kit/main.js';
import { loadLondonConfig } from './config.js';
import { buildLondonService } from './server.js';

await runUntilSignal(async () => {
  const config = loadLondonConfig();
  return [await listen(await buildLondonService(config), config.host, config.port)];
});
