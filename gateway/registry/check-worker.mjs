// The check worker's entry: a worker thread starts without the parent's loader, so it
// registers tsx itself (the same under `npm start`, vitest and the Docker image), then runs
// each task it is sent (see worker.ts) and answers with its result or its error.
import { parentPort } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
// Each trial load builds an ApolloGateway, which would otherwise start Apollo's usage
// telemetry (cloud metadata probes, an exporter to Apollo) for a gateway that never serves.
process.env.APOLLO_TELEMETRY_DISABLED = 'true';
const { runTask } = await import('./check-tasks.ts');
parentPort.on('message', async ({ id, task }) => {
  try {
    parentPort.postMessage({ id, result: await runTask(task) });
  } catch (error) {
    parentPort.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
