/** Runs the london subgraph alone: `tsx subgraphs/london/main.ts`. */
import { LOCAL_REGISTRY_URL } from '../kit/config.js';
import { listen } from '../kit/http.js';
import { runUntilSignal } from '../kit/main.js';
import { LiveReference } from '../kit/membership.js';
import { loadLondonConfig } from './config.js';
import { buildLondonSubgraph } from './server.js';

await runUntilSignal(async () => {
  const config = loadLondonConfig();
  const { registryUrl, pollMs } = config.membership;
  // Trusts an operator registers are accepted in feeds with no restart; the seed serves until the registry answers.
  const membership = await LiveReference.open({
    extraTrustsFile: config.extraTrustsFile,
    registryUrl: registryUrl ?? LOCAL_REGISTRY_URL,
    pollMs,
    log: console.log,
  });
  const { service } = await buildLondonSubgraph(config, { membership });
  return [await listen(service, config.host, config.port)];
});
