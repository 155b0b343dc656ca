/** Runs the south subgraph alone: `tsx subgraphs/south/main.ts`. */
import { listen } from '../kit/http.js';
import { runUntilSignal } from '../kit/main.js';
import { followMembership } from '../kit/membership.js';
import { loadSouthConfig } from './config.js';
import { buildSouthSubgraph } from './server.js';

await runUntilSignal(async () => {
  const config = loadSouthConfig();
  // Registered clusters and trusts come from the gateway's registry, live; the seed serves until it answers.
  const membership = await followMembership(config);
  const { service } = await buildSouthSubgraph(config, { membership });
  return [await listen(service, config.host, config.port)];
});
