import type { Listening } from './http.js';

/**
 * Runs services until SIGTERM or SIGINT, then closes them (draining in-flight requests)
 * and exits 0. A failure to start prints its message, without a stack, and exits 1.
 */
export async function runUntilSignal(start: () => Promise<readonly Listening[]>): Promise<void> {
  let running: readonly Listening[];
  try {
    running = await start();
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
  for (const service of running) console.log(`${service.name.padEnd(9)} listening on ${service.url}`);
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: shutting down`);
    // Close in reverse start order: the gateway before the subgraphs it calls.
    for (const service of [...running].reverse()) await service.close();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
