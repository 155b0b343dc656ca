/**
 * Vitest global setup of the browser tests: runs once, before their files, and hands them the
 * Chromium to launch (`inject('chromiumPath')`). On a fresh machine it installs Debian's package
 * when it may (see chromium-plan.ts); when it cannot, the run stops here with one line saying how
 * to get a browser, rather than as two failed files under a summary of passing tests.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { INSTALL_COMMAND, obtainChromium, planChromium, type InstallResult } from './chromium-plan.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The Chromium executable the browser tests launch. */
    chromiumPath: string;
  }
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

const onPath = (command: string) => (process.env['PATH'] ?? '').split(delimiter).some((dir) => dir && executable(join(dir, command)));

/** Runs the install, keeping its output to show only when it fails. */
function install(): Promise<InstallResult> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', INSTALL_COMMAND], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (error) => resolve({ ok: false, output: error.message }));
    child.on('close', (code) => resolve({ ok: code === 0, output }));
  });
}

export default async function setup(project: TestProject): Promise<void> {
  const configured = process.env['CHROMIUM_PATH'] || undefined;
  const plan = planChromium({ configured, executable, isRoot: process.getuid?.() === 0, hasAptGet: onPath('apt-get') });
  const chromium = await obtainChromium(plan, { install, executable, say: (line) => process.stderr.write(`${line}\n`) });
  if ('stop' in chromium) {
    // Stops the whole run now, before any test file: a thrown error would print vitest's
    // stack of itself, and failed files would sit under a summary of passing tests.
    process.stderr.write(`\n${chromium.stop.join('\n')}\n`);
    process.exit(1);
  }
  project.provide('chromiumPath', chromium.path);
}
