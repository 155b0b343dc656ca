/** Runs the programme subgraph alone: `tsx subgraphs/programme/main.ts`. */
import { listen } from '../kit/http.js';
import { runUntilSignal } from '../kit/main.js';
import { followMembership } from '../kit/membership.js';
import { loadProgrammeConfig } from './config.js';
import { buildProgrammeService } from './server.js';

await runUntilSignal(async () => {
  const config = loadProgrammeConfig();
  // Registered clusters and trusts come from the gateway's registry, live; the seed serves until it answers.
  const reference = await followMembership(config);
  return [
    await listen(
      await buildProgrammeService(reference, { redisUrl: config.redisUrl, log: console.log, tracing: config.tracing }),
      config.host,
      config.port,
    ),
  ];
});
