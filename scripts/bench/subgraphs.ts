/**
 * The four subgraphs of this project without a gateway, for `npm run bench`: prints one JSON
 * line of their URLs, then runs until SIGTERM. Settings come from the environment as for
 * `npm start` (the benchmark points SOUTH_FEED_DIR at a generated feed).
 */
import { runUntilSignal } from '../../subgraphs/kit/main.js';
import { startStack } from '../stack.js';

await runUntilSignal(async () => {
  const stack = await startStack({ withGateway: false, log: () => {} });
  console.log(JSON.stringify(stack.subgraphUrls));
  return stack.services;
});
