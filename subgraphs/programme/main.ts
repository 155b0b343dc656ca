/** Runs the programme subgraph alone: `tsx subgraphs/programme/main.ts`. */
import { listen } from '../kit/http.js';
import { runUntilSignal } from '../kit/main.js';
import { loadProgrammeConfig } from './config.js';
import { loadReference } from './reference.js';
import { buildProgrammeService } from './server.js';

await runUntilSignal(async () => {
  const config = loadProgrammeConfig();
  return [await listen(await buildProgrammeService(await loadReference(config.extraTrustsFile)), config.host, config.port)];
});
