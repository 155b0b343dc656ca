/**
 * `npm start`: every subgraph and the gateway in one process on localhost, with the
 * embedded defaults (sample feeds, in-memory store).
 */
import { runUntilSignal } from '../subgraphs/kit/main.js';
import { startStack } from './stack.js';

await runUntilSignal(async () => (await startStack()).services);
