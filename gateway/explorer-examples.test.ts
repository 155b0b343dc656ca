import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXPLORER_EXAMPLES } from './explorer-examples.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
// The README's examples: a graphql block followed by its answer, as test/readme.e2e.test.ts reads them.
const readmeQueries = [...readme.matchAll(/```graphql\n([\s\S]*?)```\s*```json\n/g)].map((m) => m[1]!);

describe('the explorer examples', () => {
  it('are the README examples, whose answers test/readme.e2e.test.ts checks', () => {
    const withoutVariables = EXPLORER_EXAMPLES.filter((e) => e.variables === undefined).map((e) => e.query);
    expect(readmeQueries.length).toBeGreaterThanOrEqual(5);
    expect(withoutVariables.filter((q) => !readmeQueries.includes(q))).toEqual([]);
    expect(readmeQueries.filter((q) => !withoutVariables.includes(q))).toEqual([]);
  });

  it('have unique operation names and parseable variables', () => {
    const names = EXPLORER_EXAMPLES.map((e) => /^(?:query|mutation) (\w+)/.exec(e.query)?.[1]);
    expect(names).not.toContain(undefined);
    expect(new Set(names).size).toBe(names.length);
    for (const e of EXPLORER_EXAMPLES) if (e.variables !== undefined) expect(() => JSON.parse(e.variables!)).not.toThrow();
  });
});
