/**
 * A program a script starts and must stop for sure (the soak test's subgraphs and gateways).
 * A child killed by a signal keeps `exitCode === null` for good (its `signalCode` is set), so
 * "has it ended?" is answered by its `exit` event, never by `exitCode` alone.
 */
import { spawn, type SpawnOptions, type ChildProcess } from 'node:child_process';

/** A running (or ended) child with the tail of what it printed. */
export interface Program {
  readonly child: ChildProcess;
  /** The last 20,000 characters of its stdout and stderr. */
  readonly output: string;
  /** Whether it has ended, by exit or by signal. */
  readonly ended: boolean;
  /** Settles when it has ended. */
  readonly exit: Promise<void>;
}

/** Starts `command` with its output kept (never passed to ours); stdin is closed. */
export function startProgram(command: string, args: readonly string[], options: Omit<SpawnOptions, 'stdio'> = {}): Program {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let ended = false;
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exit = new Promise<void>((resolve) => {
    const end = () => {
      ended = true;
      resolve();
    };
    child.once('exit', end);
    // A command that cannot start emits 'error' and no 'exit'.
    child.once('error', (error) => {
      output += `\n${error.message}`;
      end();
    });
  });
  return {
    child,
    exit,
    get output() {
      return output;
    },
    get ended() {
      return ended;
    },
  };
}

/** Sends `signal` unless it has ended, and settles once it has (at once when it already had). */
export async function stopProgram(program: Program, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!program.ended) program.child.kill(signal);
  await program.exit;
}
