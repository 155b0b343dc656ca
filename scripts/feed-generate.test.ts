/**
 * The synthetic feed generator: every file it writes is a valid report of its supplier, with
 * one rollout row per trust, weekly, reproducible from the seed, and served by the trusts file
 * it writes alongside.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FeedReference, FeedSnapshot } from '../subgraphs/kit/feed.js';
import { readFeed, type FeedFormat } from '../subgraphs/kit/feed-format.js';
import { btFeedFormat } from '../subgraphs/london/feed-format.js';
import { feedReferenceOf, loadReference } from '../subgraphs/programme/reference.js';
import { fujitsuFeedFormat } from '../subgraphs/south/feed-format.js';
import { generateFeeds, type GenerateResult, type Supplier } from './feed-generate.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TRUSTS = 40;
const SNAPSHOTS = 3;
const SEED = 7;
const dirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'feed-generate-'));
  dirs.push(dir);
  return dir;
}

afterAll(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

const formats: Record<Supplier, FeedFormat<unknown>> = { south: fujitsuFeedFormat, london: btFeedFormat };

async function readAll(supplier: Supplier, result: GenerateResult, reference: FeedReference): Promise<FeedSnapshot<unknown>[]> {
  const snapshots: FeedSnapshot<unknown>[] = [];
  for (const file of result.files) snapshots.push(readFeed(formats[supplier], basename(file), await readFile(file), reference));
  return snapshots;
}

describe('generateFeeds', () => {
  let root: string;
  const results = {} as Record<Supplier, GenerateResult>;
  let reference: FeedReference;

  beforeAll(async () => {
    root = await tempDir();
    results.south = await generateFeeds({ supplier: 'south', trusts: TRUSTS, snapshots: SNAPSHOTS, outRoot: root, seed: SEED });
    results.london = await generateFeeds({ supplier: 'london', trusts: TRUSTS, snapshots: SNAPSHOTS, outRoot: root, seed: SEED });
    reference = feedReferenceOf(await loadReference(results.london.trustsFile));
  });

  it.each(['south', 'london'] as const)('writes %s reports that its feed format accepts, one row per trust, weekly', async (supplier) => {
    const result = results[supplier];
    expect(result.dir).toBe(join(root, supplier));
    expect(result.trustsFile).toBe(join(root, 'trusts.json'));
    expect(result.files).toHaveLength(SNAPSHOTS);
    expect((await readdir(result.dir)).sort()).toEqual(result.files.map((f) => basename(f)).sort());

    const snapshots = await readAll(supplier, result, reference);
    expect(snapshots.map((s) => s.asOf)).toEqual(['2005-12-31', '2006-01-07', '2006-01-14']);
    expect(result.files.map((f) => basename(f))).toEqual(
      snapshots.map((s) => (supplier === 'south' ? `fujitsu-south-${s.asOf}.csv` : `bt-london-${s.asOf}.json`)),
    );
    expect(result.rows).toBe(snapshots.reduce((sum, s) => sum + s.rows, 0));
    for (const snapshot of snapshots) {
      expect(snapshot.clusterId).toBe(supplier === 'south' ? 'SOUTH' : 'LONDON');
      expect(snapshot.releases.map((r) => r.code)).toEqual(['R0', 'R1', 'R2']);
      expect(snapshot.rollout).toHaveLength(TRUSTS);
      expect(new Set(snapshot.rollout.map((r) => r.odsCode)).size).toBe(TRUSTS);
      for (const entry of snapshot.rollout) expect(entry.odsCode).toMatch(supplier === 'south' ? /^Y[0-9A-Z]{4}$/ : /^Z[0-9A-Z]{4}$/);
    }
  });

  it.each(['south', 'london'] as const)('moves %s trusts and R2 on between reports', async (supplier) => {
    const snapshots = await readAll(supplier, results[supplier], reference);
    const first = snapshots[0]!;
    const last = snapshots.at(-1)!;
    const statusOf = (s: FeedSnapshot<unknown>) => new Map(s.rollout.map((r) => [r.odsCode, r.status]));
    const before = statusOf(first);
    const changed = [...statusOf(last)].filter(([code, status]) => before.get(code) !== status);
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.some(([, status]) => status === 'LIVE')).toBe(true);
    const r2Year = (s: FeedSnapshot<unknown>) => s.releases.find((r) => r.code === 'R2')!.plannedYear!;
    expect(r2Year(last)).toBeGreaterThan(r2Year(first));
    // Every release is used, and live trusts carry a go-live date.
    expect(new Set(first.rollout.map((r) => r.releaseCode))).toEqual(new Set(['R0', 'R1', 'R2']));
    for (const entry of last.rollout) if (entry.status === 'LIVE') expect(entry.actualGoLive).not.toBeNull();
  });

  it('gives byte-identical files for the same seed, and different ones for another seed', async () => {
    const again = await tempDir();
    const other = await tempDir();
    const repeat = await generateFeeds({ supplier: 'south', trusts: TRUSTS, snapshots: SNAPSHOTS, outRoot: again, seed: SEED });
    const reseeded = await generateFeeds({ supplier: 'south', trusts: TRUSTS, snapshots: SNAPSHOTS, outRoot: other, seed: SEED + 1 });
    const contents = async (files: string[]) => Promise.all(files.map((f) => readFile(f, 'utf8')));
    expect(await contents(repeat.files)).toEqual(await contents(results.south.files));
    expect(await contents(reseeded.files)).not.toEqual(await contents(results.south.files));
  });

  it("keeps both suppliers' trusts in trusts.json, replacing only the regenerated supplier's", async () => {
    const list = async (file: string) =>
      JSON.parse(await readFile(file, 'utf8')) as { odsCode: string; name: string; clusterId: string; odsCodeConfidence: string }[];
    const trusts = await list(results.london.trustsFile);
    expect(trusts.filter((t) => t.clusterId === 'SOUTH')).toHaveLength(TRUSTS);
    expect(trusts.filter((t) => t.clusterId === 'LONDON')).toHaveLength(TRUSTS);
    expect(trusts.every((t) => t.odsCodeConfidence === 'UNVERIFIED')).toBe(true);
    expect(trusts.find((t) => t.odsCode === 'Y0001')?.name).toBe('Synthetic South Trust 0001');

    // Regenerating one supplier with fewer trusts replaces its trusts and its old files only.
    const dir = await tempDir();
    await generateFeeds({ supplier: 'south', trusts: 5, snapshots: 4, outRoot: dir, seed: SEED });
    await generateFeeds({ supplier: 'london', trusts: 3, snapshots: 1, outRoot: dir, seed: SEED });
    await writeFile(join(dir, 'south', 'notes.txt'), 'kept');
    const rerun = await generateFeeds({ supplier: 'south', trusts: 2, snapshots: 2, outRoot: dir, seed: SEED, start: '2007-09-06' });
    const merged = await list(rerun.trustsFile);
    expect(merged.map((t) => t.odsCode)).toEqual(['Y0001', 'Y0002', 'Z0001', 'Z0002', 'Z0003']);
    expect((await readdir(join(dir, 'south'))).sort()).toEqual([
      'fujitsu-south-2007-09-06.csv',
      'fujitsu-south-2007-09-13.csv',
      'notes.txt',
    ]);
    await expect(loadReference(rerun.trustsFile)).resolves.toBeDefined();
  });

  it('reports progress per snapshot and refuses bad options', async () => {
    const dir = await tempDir();
    const seen: string[] = [];
    await generateFeeds({
      supplier: 'london',
      trusts: 2,
      snapshots: 2,
      outRoot: dir,
      onProgress: (done, total) => seen.push(`${done}/${total}`),
    });
    expect(seen.at(-1)).toBe('2/2');
    await expect(generateFeeds({ supplier: 'south', trusts: 0, snapshots: 1, outRoot: dir })).rejects.toThrow(/trusts/);
    await expect(generateFeeds({ supplier: 'south', trusts: 1, snapshots: 1, outRoot: dir, start: '2007-02-30' })).rejects.toThrow(/start/);
  });
});

describe('feed:generate command line', () => {
  const runCli = (args: string[]) =>
    new Promise<{ code: number | null; stderr: string }>((resolvePromise, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/feed-generate.ts', ...args], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      child.on('error', reject);
      child.on('close', (code) => resolvePromise({ code, stderr }));
    });

  it('exits 2 naming --supplier and its accepted values when the supplier is unknown', async () => {
    const { code, stderr } = await runCli(['--supplier', 'north']);
    expect(code).toBe(2);
    expect(stderr).toContain('--supplier');
    expect(stderr).toContain('south, london');
    expect(stderr).toContain('usage:');
  });

  it('exits 2 naming --trusts when it is not a whole number', async () => {
    const { code, stderr } = await runCli(['--supplier', 'south', '--trusts', 'many']);
    expect(code).toBe(2);
    expect(stderr).toContain('--trusts');
  });
});
