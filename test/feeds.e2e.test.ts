/**
 * Feeds that never lose good data: a running subgraph takes up new and changed reports
 * without a restart, refuses each bad file of the corpus (test/bad-feeds) with a precise
 * error, leaves it untouched, and keeps serving the snapshot it had.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildClusterSubgraph, type ClusterSubgraphDefinition } from '../subgraphs/kit/cluster.js';
import { listen, type Listening } from '../subgraphs/kit/http.js';
import { RedisViewStore } from '../subgraphs/kit/redis-store.js';
import { manifestAt } from '../subgraphs/kit/store.js';
import { londonSubgraph } from '../subgraphs/london/server.js';
import { feedReference } from '../subgraphs/programme/reference.js';
import { southSubgraph } from '../subgraphs/south/server.js';
import { query } from './helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BAD = join(ROOT, 'test/bad-feeds');
const SOUTH_GOOD = 'fujitsu-south-2007-09-06.csv';
const LONDON_GOOD = 'bt-london-2007-09-06.json';
const southLines = readFileSync(join(ROOT, 'subgraphs/south/feed', SOUTH_GOOD), 'utf8')
  .trimEnd()
  .split('\n');
const rbfLine = southLines.findIndex((l) => l.includes(',RBF,')) + 1;

interface Running {
  readonly url: string;
  readonly dir: string;
  readonly name: string;
}

const running: Listening[] = [];
const dirs: string[] = [];

async function start(
  definition: ClusterSubgraphDefinition<object>,
  good: string,
  maxBytes?: number,
  log?: (line: string) => void,
): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'msg-feeds-'));
  dirs.push(dir);
  copyFileSync(join(ROOT, 'subgraphs', definition.name, 'feed', good), join(dir, good));
  const subgraph = await buildClusterSubgraph(definition, {
    feedDir: dir,
    reference: feedReference,
    pollMs: 50,
    ...(maxBytes ? { maxBytes } : {}),
    ...(log ? { log } : {}),
  });
  const service = await listen(subgraph.service, '127.0.0.1', 0);
  running.push(service);
  return { url: service.url, dir, name: definition.name };
}

interface Status {
  current: { asOf: string; file: string };
  snapshots: number;
  lastRejected: null | {
    file: string;
    errorCount: number;
    errors: { line: number | null; path: string | null; field: string; value: string | null; message: string }[];
  };
}

async function status(feed: Running): Promise<Status> {
  const type = feed.name === 'south' ? 'SouthFeedStatus' : 'LondonFeedStatus';
  const data = await query(
    feed.url,
    `{ _entities(representations: [{ __typename: "${type}", id: "${feed.name}" }]) { ... on ${type} {
      current { asOf file } snapshots lastRejected { file errorCount errors { line path field value message } } } } }`,
  );
  return data._entities[0] as Status;
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out; last value ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Drops a corpus file into the feed folder and returns the status once it is refused. */
async function offer(feed: Running, corpusFile: string, content?: Buffer): Promise<{ status: Status; untouched: boolean }> {
  const bytes = content ?? readFileSync(join(BAD, corpusFile));
  const target = join(feed.dir, corpusFile);
  writeFileSync(target, bytes);
  const result = await until(
    () => status(feed),
    (s) => s.lastRejected?.file === corpusFile,
  );
  return { status: result, untouched: readFileSync(target).equals(bytes) };
}

let south: Running;
let london: Running;
beforeAll(async () => {
  south = await start(southSubgraph as ClusterSubgraphDefinition<object>, SOUTH_GOOD);
  london = await start(londonSubgraph as ClusterSubgraphDefinition<object>, LONDON_GOOD);
});
afterAll(async () => {
  for (const service of running.reverse()) await service.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const SOUTH_CASES: [string, Partial<Status['lastRejected'] extends infer R ? (R extends { errors: (infer E)[] } ? E : never) : never>][] = [
  ['south-truncated.csv', { field: '(row)', message: expect.stringMatching(/not valid CSV: Quote Not Closed/) }],
  [
    'south-wrong-date-format.csv',
    { line: rbfLine, field: 'ActualLive', value: '2005-12-22', message: expect.stringMatching(/dd\/mm\/yyyy/) },
  ],
  ['south-impossible-date.csv', { line: rbfLine, field: 'ActualLive', value: '31/02/2005' }],
  ['south-unknown-release.csv', { line: rbfLine, field: 'release', value: 'R7' }],
  ['south-unknown-trust.csv', { line: rbfLine, field: 'trust', value: 'ZZZ', message: 'unknown trust ODS code' }],
  [
    'south-duplicate-key.csv',
    { line: southLines.length + 1, field: 'trust', value: 'RBF/R0', message: 'the same trust and release appear twice' },
  ],
  ['south-missing-column.csv', { line: 1, field: 'SiteState', message: 'column missing from the header' }],
  ['south-extra-column.csv', { line: 1, field: 'Region', value: 'Region' }],
  ['south-empty.csv', { field: '(file)', message: 'the file is empty' }],
];

const LONDON_CASES: [string, Record<string, unknown>][] = [
  ['london-invalid-json.json', { field: '(document)', message: expect.stringMatching(/not valid JSON/) }],
  ['london-wrong-types.json', { path: '$.configurations[1].spineConnected', field: 'spineConnected', value: 'yes' }],
  ['london-duplicate-key.json', { path: '$.deployments[4]', field: 'trust', value: 'RVL/R0' }],
  ['london-unknown-key.json', { path: '$.deployments[2].liveDat', field: 'liveDat', value: '2007-12-08' }],
  ['london-empty.json', { field: '(file)', message: 'the file is empty' }],
];

describe('the bad-feed corpus', () => {
  it.each(SOUTH_CASES)('refuses %s with its precise error and keeps serving', async (file, expected) => {
    const { status: after, untouched } = await offer(south, file);
    expect(after.lastRejected?.errors[0]).toMatchObject(expected);
    expect(after.current).toEqual({ asOf: '2007-09-06', file: SOUTH_GOOD });
    expect(untouched).toBe(true);
  });

  it.each(LONDON_CASES)('refuses %s with its precise error and keeps serving', async (file, expected) => {
    const { status: after, untouched } = await offer(london, file);
    expect(after.lastRejected?.errors[0]).toMatchObject(expected);
    expect(after.current).toEqual({ asOf: '2007-09-06', file: LONDON_GOOD });
    expect(untouched).toBe(true);
  });

  it('reports every problem of a file, not just the first', async () => {
    const { status: after } = await offer(london, 'london-wrong-types-again.json', readFileSync(join(BAD, 'london-wrong-types.json')));
    expect(after.lastRejected?.errors.map((e) => e.field)).toEqual(expect.arrayContaining(['spineConnected', 'plannedSites']));
  });

  it('logs a refused file once, as the README shows it', async () => {
    const lines: string[] = [];
    const logged = await start(southSubgraph as ClusterSubgraphDefinition<object>, SOUTH_GOOD, undefined, (line) => lines.push(line));
    await offer(logged, 'south-impossible-date.csv');
    expect(lines.at(-1)).toBe(
      `south: Feed file south-impossible-date.csv rejected (1 problem):\n` +
        `  - south-impossible-date.csv line ${rbfLine}, field ActualLive: must be a UK date dd/mm/yyyy naming a real day (value "31/02/2005")`,
    );
  });

  it('refuses a file over the size limit without reading it', async () => {
    const good = readFileSync(join(ROOT, 'subgraphs/south/feed', SOUTH_GOOD));
    const small = await start(southSubgraph as ClusterSubgraphDefinition<object>, SOUTH_GOOD, good.length + 100);
    const { status: after } = await offer(small, 'south-oversize.csv', Buffer.concat([good, Buffer.alloc(200, '\n')]));
    expect(after.lastRejected?.errors[0]).toMatchObject({
      field: '(file)',
      message: expect.stringMatching(/over the limit of \d+ \(not read\)/),
    });
    expect(after.current.file).toBe(SOUTH_GOOD);
  });
});

describe('live reload', () => {
  it('takes up a new report without a restart, tolerating BOM, CRLF and quoted commas', async () => {
    const text = readFileSync(join(ROOT, 'subgraphs/south/feed/fujitsu-south-2008-01-31.csv'), 'utf8');
    writeFileSync(join(south.dir, 'fujitsu-south-2008-01-31.csv'), `\uFEFF${text.replace(/\n/g, '\r\n')}\r\n\r\n`);
    const after = await until(
      () => status(south),
      (s) => s.current.asOf === '2008-01-31',
    );
    expect(after.snapshots).toBe(2);
    const data = await query(
      south.url,
      '{ _entities(representations: [{ __typename: "Trust", odsCode: "RN1" }]) { ... on Trust { south { rollout { note } } } } }',
    );
    expect(data._entities[0].south.rollout[0].note).toContain('PAS, A&E');
  });

  it('replaces a snapshot when its file is corrected, and keeps the earlier ones', async () => {
    const file = join(south.dir, 'fujitsu-south-2008-01-31.csv');
    writeFileSync(file, readFileSync(file, 'utf8').replace('Release 2,DESIGN SUSPENDED', 'Release 2 (corrected),DESIGN SUSPENDED'));
    const localName = async () =>
      (
        await query(
          south.url,
          '{ _entities(representations: [{ __typename: "Release", code: "R2" }]) { ... on Release { south { localName } old: south(asOf: "2007-09-06") { localName } } } }',
        )
      )._entities[0];
    const after = await until(localName, (v) => v.south.localName === 'Release 2 (corrected)');
    expect(after.old.localName).toBe('Release 2');
    expect((await status(south)).snapshots).toBe(2);
  });
});

describe('a feed polled from a URL', () => {
  it('keeps every report the URL serves, honours ETag, and refuses an endless body', async () => {
    const { createServer } = await import('node:http');
    const reports = ['fujitsu-south-2008-01-31.csv', 'fujitsu-south-2008-06-30.csv'].map((f) =>
      readFileSync(join(ROOT, 'subgraphs/south/feed', f)),
    );
    let serving: Buffer | 'endless' = reports[0]!;
    let notModified = 0;
    const server = createServer((req, res) => {
      if (serving === 'endless') {
        res.writeHead(200, { 'content-type': 'text/csv' });
        const chunk = Buffer.alloc(64 * 1024, 'x');
        const timer = setInterval(() => res.write(chunk), 1);
        res.on('close', () => clearInterval(timer));
        return;
      }
      const etag = `"${serving.length}-${serving[serving.length - 2]}"`;
      if (req.headers['if-none-match'] === etag) {
        notModified += 1;
        res.writeHead(304).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/csv', etag }).end(serving);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const dir = mkdtempSync(join(tmpdir(), 'msg-url-'));
    dirs.push(dir);
    copyFileSync(join(ROOT, 'subgraphs/south/feed', SOUTH_GOOD), join(dir, SOUTH_GOOD));
    const subgraph = await buildClusterSubgraph(southSubgraph as ClusterSubgraphDefinition<object>, {
      feedDir: dir,
      feedUrl: `http://127.0.0.1:${port}/fujitsu/latest.csv`,
      reference: feedReference,
      pollMs: 50,
      maxBytes: 1024 * 1024,
    });
    const service = await listen(subgraph.service, '127.0.0.1', 0);
    running.push(service);
    const feed = { url: service.url, dir, name: 'south' };
    try {
      await until(
        () => status(feed),
        (s) => s.current.asOf === '2008-01-31',
      );
      await until(
        async () => notModified,
        (n) => n > 0,
      );
      serving = reports[1]!;
      const after = await until(
        () => status(feed),
        (s) => s.current.asOf === '2008-06-30',
      );
      expect(after.snapshots).toBe(3);
      expect(after.current.file).toMatch(/^latest-[0-9a-f]{12}\.csv$/);
      serving = 'endless';
      const refused = await until(
        () => status(feed),
        (s) => s.lastRejected?.file === 'latest.csv',
      );
      expect(refused.lastRejected?.errors[0]?.message).toMatch(/sent more than 1048576 bytes/);
      expect(refused.current.asOf).toBe('2008-06-30');
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('files that are not regular files', () => {
  it('refuses a FIFO in the feed folder instead of blocking on it', async () => {
    const { execFileSync } = await import('node:child_process');
    execFileSync('mkfifo', [join(south.dir, 'fujitsu-south-2099-01-01.csv')]);
    const after = await until(
      () => status(south),
      (s) => s.lastRejected?.file === 'fujitsu-south-2099-01-01.csv',
    );
    expect(after.lastRejected?.errors[0]).toMatchObject({ field: '(file)', message: 'not a regular file' });
    // Later reports still arrive: the scan did not block on the FIFO.
    copyFileSync(join(ROOT, 'subgraphs/south/feed/fujitsu-south-2009-06-30.csv'), join(south.dir, 'fujitsu-south-2009-06-30.csv'));
    await until(
      () => status(south),
      (s) => s.current.asOf === '2009-06-30',
    );
  });
});

/** A south subgraph over a fresh folder holding `files` of the sample feed, with `options` added. */
async function startSouth(
  files: readonly string[],
  options: Partial<Parameters<typeof buildClusterSubgraph>[1]> = {},
): Promise<Running & { lines: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'msg-feeds-'));
  dirs.push(dir);
  for (const file of files) copyFileSync(join(ROOT, 'subgraphs/south/feed', file), join(dir, file));
  const lines: string[] = [];
  const subgraph = await buildClusterSubgraph(southSubgraph as ClusterSubgraphDefinition<object>, {
    feedDir: dir,
    reference: feedReference,
    pollMs: 50,
    log: (line) => void lines.push(line),
    ...options,
  });
  const service = await listen(subgraph.service, '127.0.0.1', 0);
  running.push(service);
  return { url: service.url, dir, name: 'south', lines };
}

const southReport = (file: string) => readFileSync(join(ROOT, 'subgraphs/south/feed', file), 'utf8');

describe('what a refusal shows', () => {
  it('refuses a symbolic link, even to a readable file, naming the link only', async () => {
    symlinkSync('/etc/passwd', join(south.dir, 'fujitsu-south-2011-06-01.csv'));
    const after = await until(
      () => status(south),
      (s) => s.lastRejected?.file === 'fujitsu-south-2011-06-01.csv',
    );
    expect(after.lastRejected?.errors).toEqual([
      expect.objectContaining({ field: '(file)', value: null, message: expect.stringMatching(/symbolic link/) }),
    ]);
    expect(JSON.stringify(after.lastRejected)).not.toMatch(/root|bin|passwd/);
    expect(after.current.file).not.toBe('fujitsu-south-2011-06-01.csv');
  });

  it('repeats at most a short excerpt of what it read, never a whole line', async () => {
    const long = `Region${'x'.repeat(5000)}`;
    const text = southReport(SOUTH_GOOD).replace(/^RecordType,/, `RecordType,${long},`);
    const { status: after } = await offer(south, 'south-long-column.csv', Buffer.from(text));
    const shown = after.lastRejected?.errors[0];
    expect(shown).toMatchObject({ line: 1, field: expect.stringMatching(/^Regionx+…$/), value: expect.stringMatching(/^Regionx+…$/) });
    expect(shown!.field.length).toBeLessThanOrEqual(41);
    expect(shown!.value!.length).toBeLessThanOrEqual(41);
    expect(JSON.stringify(after.lastRejected).length).toBeLessThan(1000);
  });

  it("shows an oversized URL report's refusal without the URL, which only the log names", async () => {
    const { createServer } = await import('node:http');
    const server = createServer((_req, res) => res.writeHead(200, { 'content-length': String(10 * 1024 * 1024) }).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/internal-lb-7/fujitsu/latest.csv`;
    try {
      const feed = await startSouth([SOUTH_GOOD], { feedUrl: url, maxBytes: 1024 * 1024 });
      const after = await until(
        () => status(feed),
        (s) => s.lastRejected?.file === 'latest.csv',
      );
      expect(after.lastRejected?.errors[0]?.message).toMatch(/10485760 bytes, over the limit of 1048576/);
      expect(JSON.stringify(after.lastRejected)).not.toMatch(/127\.0\.0\.1|internal-lb-7|http/);
      expect(feed.lines.some((l) => l.includes(url))).toBe(true);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('records an unreachable feed URL as a refusal, and logs the URL and the cause', async () => {
    const { freePort } = await import('./redis.js');
    const url = `http://127.0.0.1:${await freePort()}/fujitsu/latest.csv`;
    const feed = await startSouth([SOUTH_GOOD], { feedUrl: url });
    const after = await until(
      () => status(feed),
      (s) => s.lastRejected?.file === 'latest.csv',
    );
    expect(after.lastRejected?.errors).toEqual([
      expect.objectContaining({ field: '(file)', message: 'the feed source could not be fetched' }),
    ]);
    expect(after.current.file).toBe(SOUTH_GOOD);
    const logged = feed.lines.find((l) => l.includes('could not be fetched'));
    expect(logged).toContain(url);
    expect(logged).toMatch(/ECONNREFUSED/);
  });
});

describe('deep JSON', () => {
  it('refuses a 1,000,000-deep London file with the line and path where it went too deep', async () => {
    const report = readFileSync(join(ROOT, 'subgraphs/london/feed', LONDON_GOOD), 'utf8');
    const n = 1_000_000;
    const deep = report.replace(/"remarks": "[^"]*"/, `"remarks": ${'['.repeat(n)}${']'.repeat(n)}`);
    expect(deep).not.toBe(report);
    const line = deep.slice(0, deep.indexOf('[[[')).split('\n').length;
    const { status: after } = await offer(london, 'bt-london-2011-01-31.json', Buffer.from(deep));
    expect(after.lastRejected?.errors[0]).toMatchObject({
      line,
      path: expect.stringMatching(/^\$\.configurations\[0\]\.remarks(\[0\])+/),
      field: '(document)',
      message: 'nests arrays and objects more than 64 deep',
    });
    expect(after.current.file).toBe(LONDON_GOOD);
  });
});

describe('history that cannot be rewritten', () => {
  const trustsLiveAt = async (feed: Running, asOf: string) =>
    (
      await query(
        feed.url,
        `{ _entities(representations: [{ __typename: "Release", code: "R0" }]) { ... on Release { south(asOf: "${asOf}") { trustsLive source { file } } } } }`,
      )
    )._entities[0].south;

  it("refuses a file whose name date is not its report's date, and the old day keeps its answer", async () => {
    const feed = await startSouth(['fujitsu-south-2005-12-31.csv', SOUTH_GOOD]);
    const before = await trustsLiveAt(feed, '2005-12-31');
    const misdated = southReport('fujitsu-south-2010-06-30.csv').replace('HDR,30/06/2010,', 'HDR,31/12/2005,');
    const { status: after } = await offer(feed, 'fujitsu-south-2012-02-01.csv', Buffer.from(misdated));
    expect(after.lastRejected?.errors).toContainEqual(
      expect.objectContaining({ field: '(file name)', value: '2012-02-01', message: expect.stringMatching(/dated 2005-12-31/) }),
    );
    expect(await trustsLiveAt(feed, '2005-12-31')).toEqual(before);
    expect(after.current.file).toBe(SOUTH_GOOD);
  });

  it('refuses a second report of a date, naming the first, whatever the order of ingest', async () => {
    const feed = await startSouth([SOUTH_GOOD]);
    const second = southReport(SOUTH_GOOD).replace('Release 2,', 'Release 2 (second copy),');
    const { status: after } = await offer(feed, 'fujitsu-south-2007-09-06-b.csv', Buffer.from(second));
    expect(after.lastRejected?.errors).toEqual([
      expect.objectContaining({ field: '(report date)', value: '2007-09-06', message: expect.stringContaining(SOUTH_GOOD) }),
    ]);
    expect(after).toMatchObject({ snapshots: 1, current: { file: SOUTH_GOOD } });
  });

  it('refuses a report dated beyond the horizon, and latest stays latest', async () => {
    const feed = await startSouth([SOUTH_GOOD]);
    const future = southReport(SOUTH_GOOD).replace('HDR,06/09/2007,', 'HDR,01/01/2031,');
    const { status: after } = await offer(feed, 'fujitsu-south-2031-01-01.csv', Buffer.from(future));
    expect(after.lastRejected?.errors).toEqual([
      expect.objectContaining({
        field: '(report date)',
        value: '2031-01-01',
        message: expect.stringMatching(/after \d{4}-\d{2}-\d{2} \(today plus FEED_MAX_FUTURE_DAYS=1\)/),
      }),
    ]);
    expect(after.current.file).toBe(SOUTH_GOOD);
  });

  it('withdraws the report of a removed file, in Redis too, and takes it again when it is back', async () => {
    const prefix = `msg:test:feeds-${process.pid}-${Date.now()}:`;
    const store = new RedisViewStore<object>({ url: 'redis://127.0.0.1:6379', prefix });
    const reader = new RedisViewStore<object>({ url: 'redis://127.0.0.1:6379', prefix });
    await until(
      async () => store.health().available && reader.health().available,
      (up) => up,
    );
    const feed = await startSouth([SOUTH_GOOD, 'fujitsu-south-2008-01-31.csv'], { store });
    const inRedis = async () => manifestAt(await reader.manifest(), null).snapshots.map((s) => s.file);
    try {
      expect(await inRedis()).toEqual([SOUTH_GOOD, 'fujitsu-south-2008-01-31.csv']);
      unlinkSync(join(feed.dir, 'fujitsu-south-2008-01-31.csv'));
      const after = await until(
        () => status(feed),
        (s) => s.current.file === SOUTH_GOOD,
      );
      expect(after.snapshots).toBe(1);
      expect(await inRedis()).toEqual([SOUTH_GOOD]);
      copyFileSync(join(ROOT, 'subgraphs/south/feed/fujitsu-south-2008-01-31.csv'), join(feed.dir, 'fujitsu-south-2008-01-31.csv'));
      await until(
        () => status(feed),
        (s) => s.current.file === 'fujitsu-south-2008-01-31.csv',
      );
      expect(await inRedis()).toEqual([SOUTH_GOOD, 'fujitsu-south-2008-01-31.csv']);
    } finally {
      await reader.close();
      const redis = new Redis('redis://127.0.0.1:6379');
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  });
  it('withdraws in Redis, once it answers again, a report whose file was removed while it did not', async () => {
    // A cut between the subgraph and Redis (Redis keeps its data): a TCP pass-through that can refuse.
    const { createServer, connect } = await import('node:net');
    let cut = false;
    const sockets = new Set<import('node:net').Socket>();
    const proxy = createServer((client) => {
      if (cut) return void client.destroy();
      const upstream = connect(6379, '127.0.0.1');
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const prefix = `msg:test:feeds-cut-${process.pid}-${Date.now()}:`;
    const store = new RedisViewStore<object>({ url: `redis://127.0.0.1:${(proxy.address() as { port: number }).port}`, prefix });
    const reader = new RedisViewStore<object>({ url: 'redis://127.0.0.1:6379', prefix });
    const inRedis = async () => manifestAt(await reader.manifest(), null).snapshots.map((s) => s.file);
    try {
      await until(
        async () => store.health().available && reader.health().available,
        (up) => up,
      );
      const feed = await startSouth([SOUTH_GOOD, 'fujitsu-south-2008-01-31.csv'], { store });
      cut = true;
      for (const socket of sockets) socket.destroy();
      await until(
        async () => store.health().available,
        (up) => !up,
      );
      unlinkSync(join(feed.dir, 'fujitsu-south-2008-01-31.csv'));
      await until(
        () => status(feed),
        (s) => s.current.file === SOUTH_GOOD,
      );
      expect(await inRedis()).toEqual([SOUTH_GOOD, 'fujitsu-south-2008-01-31.csv']);
      cut = false;
      await until(
        async () => store.health().available,
        (up) => up,
      );
      await store.settled();
      expect(await inRedis()).toEqual([SOUTH_GOOD]);
    } finally {
      await reader.close();
      for (const socket of sockets) socket.destroy();
      proxy.close();
      const redis = new Redis('redis://127.0.0.1:6379');
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  });
});
