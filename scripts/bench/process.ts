/**
 * The processes `npm run bench` starts: each waits for its ready line, keeps what it printed
 * (for the error when it fails to start), and is stopped when the benchmark ends, however it
 * ends. Peak memory is read from Linux's VmHWM, the high-water mark of resident memory, and CPU
 * time from /proc/<pid>/stat.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Proc {
  readonly child: ChildProcess;
  /** The first group of the ready line's match (or the whole line). */
  readonly url: string;
  /** Every line printed so far. */
  readonly lines: string[];
}

const children: ChildProcess[] = [];
/** Stops every process started here (SIGTERM). */
export const stopAll = (): void => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
};
process.once('exit', stopAll);
process.once('SIGINT', () => {
  stopAll();
  process.exit(130);
});

export interface StartOptions {
  readonly cwd: string;
  /** The whole environment of the process (nothing is inherited beyond it). */
  readonly env: NodeJS.ProcessEnv;
  /** How long it may take to print its ready line. */
  readonly timeoutMs?: number;
}

/** Starts `command args` and resolves once a line matches `ready`. */
export function start(command: string, args: readonly string[], ready: RegExp, options: StartOptions): Promise<Proc> {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const lines: string[] = [];
  const name = args.find((arg) => !arg.startsWith('-') && arg !== 'tsx') ?? command;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${lines.join('\n')}`)), options.timeoutMs ?? 60_000);
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString();
      const complete = buffered.split('\n');
      buffered = complete.pop() ?? '';
      for (const line of complete) {
        if (!line) continue;
        // Keep the last lines only: a long run must not grow the benchmark's own memory.
        if (lines.push(line) > 200) lines.shift();
        const match = ready.exec(line);
        if (match) {
          clearTimeout(timer);
          resolve({ child, url: match[1] ?? line, lines });
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', (error) => reject(new Error(`${name} could not start: ${error.message}`)));
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}):\n${lines.join('\n')}`));
    });
  });
}

/** Stops one process and waits for it to end. */
export function stop(proc: Proc): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    proc.child.once('exit', () => resolve());
    proc.child.kill('SIGTERM');
  });
}

/** Peak resident memory of a process so far (Linux VmHWM), in MB. */
export function peakRssMb(child: ChildProcess): number {
  try {
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return Number.NaN;
  }
}

/** User and system CPU time a process has used so far (utime and stime of Linux's /proc/<pid>/stat), in ms. */
export function cpuTimes(pid: number): { readonly userMs: number; readonly systemMs: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The fields after the command name, which may hold spaces and parentheses: from its last ")".
  // utime and stime are the 14th and 15th of the line, 12th and 13th after the name, in clock ticks (100 a second).
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  return { userMs: Number(fields[11]) * 10, systemMs: Number(fields[12]) * 10 };
}
