/**
 * The start-up line of `npm run bench`: `npm start`'s process (scripts/start.ts, every
 * subgraph and the gateway, embedded defaults) on free ports with an empty registry, timed
 * from spawn to the gateway's first `/health` 200. Wall time depends on how loaded the
 * machine is; the process's CPU time up to that moment (Linux /proc) much less so, and the
 * difference is what it spent waiting.
 */
import { FREE_PORTS } from '../stack.js';
import { join } from 'node:path';
import { cpuTimes, start, stop } from './process.js';

export interface StartupFigures {
  /** Spawn to the first `/health` 200, in ms. */
  readonly wallMs: number;
  /** CPU time (user + system) the process had used by then, in ms. */
  readonly cpuMs: number;
}

/** CPU time (user + system) of a process so far, in ms; NaN off Linux. */
function cpuMs(pid: number): number {
  try {
    const { userMs, systemMs } = cpuTimes(pid);
    return userMs + systemMs;
  } catch {
    return Number.NaN;
  }
}

/** Starts `npm start`'s stack once in `root`, with its registry in `work`, and times it to `/health` 200. */
export async function timeStartup(root: string, work: string): Promise<StartupFigures> {
  const began = performance.now();
  const proc = await start(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], /gateway\s+listening on (http:\/\/\S+)/, {
    cwd: root,
    env: {
      ...process.env,
      ...FREE_PORTS,
      REGISTRY_DIR: join(work, `registry-${Date.now()}`),
      LOG_LEVEL: 'warn',
    },
  });
  try {
    const health = new URL('/health', proc.url);
    for (const deadline = performance.now() + 60_000; performance.now() < deadline;) {
      const status = await fetch(health)
        .then((r) => r.status)
        .catch(() => 0);
      if (status === 200) return { wallMs: performance.now() - began, cpuMs: cpuMs(proc.child.pid!) };
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`npm start listened on ${proc.url} but /health did not answer 200 within 60 s`);
  } finally {
    await stop(proc);
  }
}
