// The check worker's entry: a worker thread starts without the parent's loader, so it
// registers tsx itself (the same under `npm start`, vitest and the Docker image), then runs
// the one task it was given (see worker.ts) and posts the result.
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { runTask } = await import('./check-tasks.ts');
parentPort.postMessage(await runTask(workerData));
