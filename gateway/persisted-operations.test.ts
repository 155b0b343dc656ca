import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'graphql';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPersistedOperations } from './persisted-operations.js';

const dir = mkdtempSync(join(tmpdir(), 'msg-persisted-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('loadPersistedOperations', () => {
  it('reads the shipped manifest, with the dashboard operations', () => {
    const operations = loadPersistedOperations();
    expect([...operations.keys()]).toEqual(expect.arrayContaining(['ReleaseMatrix', 'FeedFreshness', 'DashboardReleases']));
  });

  it('ships the operations the dashboard follows as @live queries, the others plain', () => {
    const operations = loadPersistedOperations();
    const directives = (id: string) => {
      const [definition] = parse(operations.get(id)!.body).definitions;
      return definition?.kind === 'OperationDefinition' ? definition.directives?.map((d) => d.name.value) : undefined;
    };
    // gateway/public/dashboard/dashboard.js follows these two over SSE.
    expect(directives('DashboardReleases')).toEqual(['live']);
    expect(directives('FeedFreshness')).toEqual(['live']);
    // The earlier days' plans are asked once per day; the README's examples answer once.
    expect(directives('DashboardRolloutPlans')).toEqual([]);
    expect(directives('ReleaseMatrix')).toEqual([]);
  });

  it('names PERSISTED_OPERATIONS_FILE and its value when the file is missing', () => {
    expect(() => loadPersistedOperations('/nonexistent/operations.json')).toThrow(
      /^PERSISTED_OPERATIONS_FILE="\/nonexistent\/operations.json" cannot be read: ENOENT/,
    );
  });

  it('names the setting when the file is not JSON', () => {
    const path = file('broken.json', '{"format": ');
    expect(() => loadPersistedOperations(path)).toThrow(`PERSISTED_OPERATIONS_FILE=${JSON.stringify(path)} is not JSON`);
  });

  it('names the setting and the bad field when the file is not a manifest', () => {
    const path = file('other.json', JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: [{ id: 'A' }] }));
    expect(() => loadPersistedOperations(path)).toThrow(
      new RegExp(
        `^PERSISTED_OPERATIONS_FILE=${JSON.stringify(path)} is not an Apollo persisted query manifest: .*\\(at operations\\.0\\.name\\)`,
      ),
    );
  });
});
