/**
 * docs/SUPPLIERS.md's worked example, taken from the guide itself: scaffold NORTHEAST for
 * ACCENTURE with `subgraph:new`, write the guide's feed format, fields, definition and report
 * exactly as printed there, and see the report read (its row errors naming line and column),
 * the extra served as the view's own fields, and `subgraph:check` pass everything but what the
 * operator has to register first.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildClusterSubgraph, type ClusterSubgraphDefinition } from '../subgraphs/kit/cluster.js';
import { FeedValidationError } from '../subgraphs/kit/feed.js';
import { readFeed, type FeedFormat } from '../subgraphs/kit/feed-format.js';
import { listen } from '../subgraphs/kit/http.js';
import { EPHEMERAL_ENV } from './helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const GUIDE = readFileSync(new URL('../docs/SUPPLIERS.md', import.meta.url), 'utf8');
// Two levels under the root, as suppliers/northeast is: the guide's relative kit paths hold.
const out = join(ROOT, '.scratch', `guide-${randomUUID()}`);
const reference = { releaseCodes: new Set(['R0', 'R1', 'R2']), trustCodes: new Set(['RTD', 'RR7']) };

/** The guide's one code block of `language` that contains `marker`. */
function block(language: string, marker: string): string {
  const found = [...GUIDE.matchAll(new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, 'g'))]
    .map((m) => m[1]!)
    .filter((b) => b.includes(marker));
  expect(found, `one ${language} block with ${marker}`).toHaveLength(1);
  return found[0]!;
}

let format: FeedFormat<object>;
let definition: ClusterSubgraphDefinition<object>;
let reportFile: string;

beforeAll(async () => {
  mkdirSync(join(ROOT, '.scratch'), { recursive: true });
  const env = { PATH: process.env.PATH, ...EPHEMERAL_ENV };
  execFileSync(process.execPath, ['--import', 'tsx', 'scripts/subgraph-new.ts', 'NORTHEAST', '--supplier', 'ACCENTURE', '--out', out], {
    cwd: ROOT,
    env,
    stdio: 'ignore',
  });
  writeFileSync(join(out, 'feed-format.ts'), block('ts', 'export function parseTracker'));
  writeFileSync(join(out, 'subgraph.ts'), block('ts', 'format: trackerFormat'));
  // "replace the sample field at the end of NortheastReleaseView (remarks: String and its description)".
  const schema = readFileSync(join(out, 'schema.graphql'), 'utf8');
  const sample = /\n {2}"[^\n]*remarks[^\n]*"\n {2}remarks: String\n}\n/.exec(schema)?.[0];
  expect(sample).toBeDefined();
  writeFileSync(join(out, 'schema.graphql'), schema.replace(sample!, `\n${block('graphql', 'enum NortheastRagStatus')}`));
  // The guide's commands, with the default folder moved to this test's.
  const commands = block('sh', 'printf').replaceAll('suppliers/northeast', out);
  execFileSync('sh', ['-c', commands], { cwd: ROOT, env });
  reportFile = 'accenture-northeast-2008-06-30.tsv';
  format = ((await import(join(out, 'feed-format.ts'))) as { trackerFormat: FeedFormat<object> }).trackerFormat;
  definition = ((await import(join(out, 'subgraph.ts'))) as { northeastSubgraph: ClusterSubgraphDefinition<object> }).northeastSubgraph;
}, 60_000);

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("the guide's worked example", () => {
  it('reads the report it writes, with the extra it declares', () => {
    const text = readFileSync(join(out, 'feed', reportFile), 'utf8');
    const feed = readFeed(format, reportFile, Buffer.from(text), reference);
    expect(feed).toMatchObject({ clusterId: 'NORTHEAST', supplierId: 'ACCENTURE', asOf: '2008-06-30' });
    expect(feed.releases.map((r) => [r.code, r.designStatus, r.plannedYear, r.extra])).toEqual([
      ['R0', 'COMPLETE', 2006, { workstream: 'Acute', ragStatus: 'GREEN', dueQuarter: null }],
      ['R2', 'ACTIVE', 2010, { workstream: 'Community', ragStatus: 'AMBER', dueQuarter: '2010-Q2' }],
    ]);
    expect(feed.rollout.map((r) => [r.odsCode, r.status, r.localStatus, r.actualGoLive])).toEqual([
      ['RTD', 'LIVE', 'Live', '2007-03-12'],
      ['RR7', 'PLANNED', 'On track', null],
    ]);
  });

  it('refuses a bad word and a day that does not exist as the guide shows, naming line and column', () => {
    const text = readFileSync(join(out, 'feed', reportFile), 'utf8').replace('Live\t20070301', 'Delayed\t20070231');
    let refusal: unknown;
    try {
      readFeed(format, reportFile, Buffer.from(text), reference);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(FeedValidationError);
    const message = (refusal as Error).message;
    for (const line of message.split('\n').slice(1)) {
      // The guide prints these lines with the file name shortened to "…".
      expect(GUIDE).toContain(line.replace(`- ${reportFile}`, '- …'));
    }
    expect((refusal as FeedValidationError).issues.map((i) => [i.line, i.field])).toEqual([
      [8, 'Position'],
      [8, 'Plan'],
    ]);
  });

  it("serves the extra as NortheastReleaseView's own fields", async () => {
    const built = await buildClusterSubgraph(definition, { feedDir: join(out, 'feed'), reference, pollMs: 0 });
    const running = await listen(built.service, '127.0.0.1', 0);
    try {
      const response = await fetch(running.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query:
            '{ _entities(representations: [{ __typename: "Release", code: "R2" }]) { ... on Release { northeast { workstream ragStatus dueQuarter } } } }',
        }),
      });
      const body = (await response.json()) as { data: { _entities: unknown[] } };
      expect(body.data._entities).toEqual([{ northeast: { workstream: 'Community', ragStatus: 'AMBER', dueQuarter: '2010-Q2' } }]);
    } finally {
      await running.close();
    }
  });

  it('passes subgraph:check but for the cluster and supplier the operator registers first', () => {
    const check = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'scripts/subgraph-check.ts',
        '--name',
        'northeast',
        '--schema',
        join(out, 'schema.graphql'),
        '--supplier',
        'ACCENTURE',
        '--json',
      ],
      { cwd: ROOT, env: { PATH: process.env.PATH, ...EPHEMERAL_ENV }, encoding: 'utf8' },
    );
    const report = JSON.parse(check.stdout) as { contract: { code: string }[]; composition: { ok: boolean }; changes: { level: string }[] };
    expect(report.composition.ok).toBe(true);
    expect(report.changes.every((c) => c.level === 'SAFE')).toBe(true);
    for (const issue of report.contract) expect(['CONTRACT_CLUSTER_UNKNOWN', 'CONTRACT_SUPPLIER_UNKNOWN']).toContain(issue.code);
  }, 60_000);
});
