/** Runs the programme subgraph alone: `tsx subgraphs/programme/main.ts`. */
import { listen } from '../kit/http.js';
import { runUntilSignal } from '../kit/main.js';
import { loadProgrammeConfig } from './config.js';
import { buildProgrammeService } from './server.js';

await runUntilSignal(async () => {
  const config = loadProgrammeConfig();
  return [await listen(await buildProgrammeService(), config.host, config.port)];
});
