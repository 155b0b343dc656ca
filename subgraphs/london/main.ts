/** Runs the london subgraph alone: `tsx subgraphs/london/main.ts`. */
import { listen } from '../kit/http.js';
import { runUntilSignal } from '../kit/main.js';
import { followMembership } from '../kit/membership.js';
import { loadLondonConfig } from './config.js';
import { buildLondonSubgraph } from './server.js';

await runUntilSignal(async () => {
  const config = loadLondonConfig();
  // Registered clusters and trusts come from the gateway's registry, live; the seed serves until it answers.
  const membership = await followMembership(config);
  const { service } = await buildLondonSubgraph(config, { membership });
  return [await listen(service, config.host, config.port)];
});
