/** Runs a supplier's subgraph until SIGTERM or SIGINT (schema/process.ts: every service stops the same way). */
export { runUntilSignal } from '../../schema/process.js';
