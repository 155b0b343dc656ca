import { describe, expect, it } from 'vitest';
import {
  DEBIAN_CHROMIUM,
  HOW_TO_GET_CHROMIUM,
  INSTALL_COMMAND,
  obtainChromium,
  planChromium,
  type ChromiumMachine,
} from './chromium-plan.js';

/** A machine where only the listed paths are executables. */
const machine = (present: string[], rest: Partial<ChromiumMachine> = {}): ChromiumMachine => ({
  configured: undefined,
  executable: (path) => present.includes(path),
  isRoot: true,
  hasAptGet: true,
  ...rest,
});

describe('planChromium', () => {
  it("uses CHROMIUM_PATH when it names an executable, before Debian's", () => {
    expect(planChromium(machine(['/opt/chrome', DEBIAN_CHROMIUM], { configured: '/opt/chrome' }))).toEqual({
      kind: 'found',
      path: '/opt/chrome',
    });
  });

  it('refuses a CHROMIUM_PATH that is not there, naming it, without installing or falling back', () => {
    const plan = planChromium(machine([DEBIAN_CHROMIUM], { configured: '/opt/typo' }));
    expect(plan.kind).toBe('refuse');
    expect(plan.kind === 'refuse' && plan.message).toContain('CHROMIUM_PATH=/opt/typo');
  });

  it("finds Debian's /usr/bin/chromium without a setting", () => {
    expect(planChromium(machine([DEBIAN_CHROMIUM], { isRoot: false, hasAptGet: false }))).toEqual({ kind: 'found', path: DEBIAN_CHROMIUM });
  });

  it("installs Debian's package when there is none and the run is root with apt-get", () => {
    const plan = planChromium(machine([]));
    expect(plan).toMatchObject({ kind: 'install', path: DEBIAN_CHROMIUM });
    expect(plan.kind === 'install' && plan.progress).toMatch(/^Chromium not found: installing Debian's chromium package/);
  });

  it.each([
    ['not root', { isRoot: false }],
    ['without apt-get', { hasAptGet: false }],
  ])('refuses with one line saying how to get a browser when %s', (_, rest) => {
    const plan = planChromium(machine([], rest));
    expect(plan).toEqual({ kind: 'refuse', message: HOW_TO_GET_CHROMIUM });
    expect(HOW_TO_GET_CHROMIUM).not.toContain('\n');
    expect(HOW_TO_GET_CHROMIUM).toContain('CHROMIUM_PATH=');
  });
});

describe('obtainChromium', () => {
  const install = { kind: 'install', path: DEBIAN_CHROMIUM, progress: 'installing…' } as const;
  const effects = (ok: boolean, present: string[]) => {
    const said: string[] = [];
    return {
      said,
      install: async () => ({ ok, output: 'E: Unable to locate package chromium\n' }),
      executable: (p: string) => present.includes(p),
      say: (l: string) => said.push(l),
    };
  };

  it('launches what it found without installing', async () => {
    const run = effects(true, []);
    expect(await obtainChromium({ kind: 'found', path: '/opt/chrome' }, run)).toEqual({ path: '/opt/chrome' });
    expect(run.said).toEqual([]);
  });

  it('says it installs, then launches the installed browser', async () => {
    const run = effects(true, [DEBIAN_CHROMIUM]);
    expect(await obtainChromium(install, run)).toEqual({ path: DEBIAN_CHROMIUM });
    expect(run.said).toEqual(['installing…']);
  });

  it('stops with the install error and how to get a browser when the install fails', async () => {
    expect(await obtainChromium(install, effects(false, []))).toEqual({
      stop: [`${INSTALL_COMMAND} failed: E: Unable to locate package chromium`, HOW_TO_GET_CHROMIUM],
    });
  });

  it('stops when an install that succeeded left no browser where expected', async () => {
    const result = await obtainChromium(install, effects(true, []));
    expect(result).toEqual({ stop: [expect.stringContaining(`no executable at ${DEBIAN_CHROMIUM}`), HOW_TO_GET_CHROMIUM] });
  });

  it('stops with the refusal alone', async () => {
    expect(await obtainChromium({ kind: 'refuse', message: HOW_TO_GET_CHROMIUM }, effects(true, []))).toEqual({
      stop: [HOW_TO_GET_CHROMIUM],
    });
  });
});
