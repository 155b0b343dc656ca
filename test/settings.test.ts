/** The README's Settings table lists every variable the gateway and the subgraphs read. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');
const readme = read('README.md');
const table = readme.slice(readme.indexOf('### Settings'), readme.indexOf('## ', readme.indexOf('### Settings') + 5));

/** The variables a config file names as keys of its zod shapes (`NAME: schema`). */
function variables(path: string): string[] {
  return [...read(path).matchAll(/^\s+([A-Z][A-Z0-9_]*): /gm)].map((m) => m[1]!);
}

/** The files that name settings: each service's config, and the `OTEL_*` ones every service reads. */
const CONFIG_FILES = ['gateway/config.ts', 'subgraphs/kit/config.ts', 'schema/telemetry.ts'];

describe('README Settings table', () => {
  it.each(CONFIG_FILES)('lists every variable %s reads, with a default', (path) => {
    const names = variables(path);
    expect(names.length).toBeGreaterThan(3);
    for (const name of names) {
      const row = table.split('\n').find((line) => line.startsWith('|') && line.includes(`\`${name}\``));
      expect(row, `${name} is not in the README's Settings table`).toBeDefined();
      // | variable | default | what |: the default cell is not empty.
      expect(row!.split('|')[2]?.trim(), `${name} has no default in the table`).not.toBe('');
    }
  });
});
