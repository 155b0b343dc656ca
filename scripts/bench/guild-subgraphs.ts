/**
 * The Guild benchmark's four subgraphs (test/bench/guild) for `npm run bench`, with a request
 * counter: prints one JSON line `{ "base": URL, "counter": URL }`, then runs until SIGTERM.
 * Their data never changes, so they allow caching for a minute (`Cache-Control: max-age=60,
 * public`): this gateway keeps only what its subgraphs allow, and without it "cached" would
 * measure the uncached path again. Only (c) and (d) read it; plain Apollo Gateway, caching off
 * and Hive (no response cache by default) ignore it.
 */
import { startGuildSubgraphs } from '../../test/bench/guild/subgraphs.js';
import { startRequestCounter } from './request-counter.js';

const counter = await startRequestCounter();
const subgraphs = await startGuildSubgraphs({ host: '127.0.0.1', port: 0, cacheControl: 'max-age=60, public' });
console.log(JSON.stringify({ base: new URL(subgraphs.url('accounts')).origin, counter: counter.url }));
process.once('SIGTERM', () => void Promise.all([subgraphs.close(), counter.close()]).then(() => process.exit(0)));
