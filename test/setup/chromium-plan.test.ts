import { describe, expect, it } from 'vitest';
import { DEBIAN_CHROMIUM, HOW_TO_GET_CHROMIUM, planChromium, type ChromiumMachine } from './chromium-plan.js';

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
