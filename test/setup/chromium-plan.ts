/**
 * Where the browser tests get their Chromium, decided without touching the machine (its
 * effects are passed in), so that each branch is tested without uninstalling the browser:
 * `CHROMIUM_PATH` when set, then Debian's `/usr/bin/chromium`; when neither exists, install
 * Debian's package if this machine lets the test run do it (root, with apt-get), else stop
 * with one line saying what to do.
 */

/** Debian's `chromium` package puts its launcher here. */
export const DEBIAN_CHROMIUM = '/usr/bin/chromium';

/** What the machine looks like, as far as getting a browser goes. */
export interface ChromiumMachine {
  /** `CHROMIUM_PATH`, when set and not empty. */
  readonly configured: string | undefined;
  /** Whether an executable file is at that path. */
  readonly executable: (path: string) => boolean;
  readonly isRoot: boolean;
  readonly hasAptGet: boolean;
}

export type ChromiumPlan =
  | { readonly kind: 'found'; readonly path: string }
  | { readonly kind: 'install'; readonly path: string; readonly progress: string }
  | { readonly kind: 'refuse'; readonly message: string };

/** The one line a run prints when it cannot get a browser by itself. */
export const HOW_TO_GET_CHROMIUM =
  "Chromium not found: install Debian's chromium (sudo apt-get install chromium) or set CHROMIUM_PATH=/path/to/chromium";

/** The command that installs Debian's package, non-interactively. */
export const INSTALL_COMMAND = 'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium';

/** Decides where the browser comes from; never touches the machine. */
export function planChromium(machine: ChromiumMachine): ChromiumPlan {
  if (machine.configured !== undefined) {
    // An explicit setting is never second-guessed by an install or a fallback: a typo must show.
    return machine.executable(machine.configured)
      ? { kind: 'found', path: machine.configured }
      : {
          kind: 'refuse',
          message: `CHROMIUM_PATH=${machine.configured} is not an executable file: set it to a Chromium or unset it to use ${DEBIAN_CHROMIUM}`,
        };
  }
  if (machine.executable(DEBIAN_CHROMIUM)) return { kind: 'found', path: DEBIAN_CHROMIUM };
  if (machine.isRoot && machine.hasAptGet)
    return {
      kind: 'install',
      path: DEBIAN_CHROMIUM,
      progress: "Chromium not found: installing Debian's chromium package (one time, ~1 min)…",
    };
  return { kind: 'refuse', message: HOW_TO_GET_CHROMIUM };
}

/** What running the install command gave. */
export interface InstallResult {
  readonly ok: boolean;
  /** The tail of its output, shown when it failed. */
  readonly output: string;
}

/**
 * Carries the plan out with the given effects: the path to launch, or the lines to print
 * before stopping. An install counts only if it leaves an executable where the plan expects it.
 */
export async function obtainChromium(
  plan: ChromiumPlan,
  effects: { install: () => Promise<InstallResult>; executable: (path: string) => boolean; say: (line: string) => void },
): Promise<{ readonly path: string } | { readonly stop: readonly string[] }> {
  if (plan.kind === 'found') return { path: plan.path };
  if (plan.kind === 'refuse') return { stop: [plan.message] };
  effects.say(plan.progress);
  const result = await effects.install();
  if (result.ok && effects.executable(plan.path)) return { path: plan.path };
  const why = result.ok ? `it left no executable at ${plan.path}` : result.output.trim().split('\n').slice(-10).join('\n');
  return { stop: [`${INSTALL_COMMAND} failed: ${why}`, HOW_TO_GET_CHROMIUM] };
}
