/** Runs the programme subgraph alone: `tsx subgraphs/programme/main.ts`. */
import { LOCAL_REGISTRY_URL } from '../kit/config.js';
import { listen } from '../kit/http.js';
import { runUntilSignal } from '../kit/main.js';
import { LiveReference } from '../kit/membership.js';
import { loadProgrammeConfig } from './config.js';
import { buildProgrammeService } from './server.js';

await runUntilSignal(async () => {
  const config = loadProgrammeConfig();
  const { registryUrl, pollMs } = config.membership;
  // Registered clusters come from the gateway's registry; the seed serves until it answers.
  const reference = await LiveReference.open({
    extraTrustsFile: config.extraTrustsFile,
    registryUrl: registryUrl ?? LOCAL_REGISTRY_URL,
    pollMs,
    log: console.log,
  });
  return [await listen(await buildProgrammeService(reference, { redisUrl: config.redisUrl, log: console.log }), config.host, config.port)];
});
