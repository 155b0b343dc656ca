/**
 * The four subgraphs of this project without a gateway, for `npm run bench`: prints one JSON
 * line `{ "urls": { name: URL }, "counter": URL }` (the counter counts the requests they
 * answer), then runs until SIGTERM. Settings come from the environment as for `npm start`
 * (the benchmark points SOUTH_FEED_DIR at a generated feed).
 */
import { runUntilSignal } from '../../subgraphs/kit/main.js';
import { startStack } from '../stack.js';
import { startRequestCounter } from './request-counter.js';

await runUntilSignal(async () => {
  const counter = await startRequestCounter();
  const stack = await startStack({ withGateway: false, log: () => {} });
  console.log(JSON.stringify({ urls: stack.subgraphUrls, counter: counter.url }));
  return [...stack.services, { name: 'counter', url: counter.url, port: 0, close: counter.close }];
});
