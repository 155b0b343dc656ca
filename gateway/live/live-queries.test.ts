import { describe, expect, it } from 'vitest';
import type { FormattedExecutionResult } from 'graphql';
import { COALESCE_MS, groupKey, LiveQueries, type Execution, type LiveStream, type StreamRequest } from './live-queries.js';

/** Feed versions as `FeedVersions` gives them, set by the test; counts its listeners. */
class Feeds {
  readonly versions = new Map<string, string | null | undefined>([
    ['south', 'v1'],
    ['london', 'v1'],
    ['programme', null],
  ]);
  readonly listeners = new Set<() => void>();
  version(subgraph: string) {
    return this.versions.get(subgraph);
  }
  onChange(listener: () => void) {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }
  set(subgraph: string, version: string | undefined) {
    this.versions.set(subgraph, version);
    for (const listener of [...this.listeners]) listener();
  }
}

/** A gateway whose answer to `{ south }` is south's version, and to `{ london }` london's. */
function setup() {
  const feeds = new Feeds();
  const swaps = new Set<() => void>();
  const runs: string[] = [];
  let pushes = 0;
  const execute = async (request: StreamRequest): Promise<Execution> => {
    runs.push(request.query);
    // Versions as the run starts (the context's snapshot), its answer a moment later.
    const subgraph = request.query.includes('london') ? 'london' : 'south';
    const version = feeds.version(subgraph);
    await new Promise((r) => setTimeout(r, 5));
    if (request.query === 'refused') return { result: { errors: [{ message: 'no' }] }, touched: new Map() };
    // "same" answers the same whatever the version: a report that leaves it as it was.
    const data = request.query.includes('same') ? { same: true } : { [subgraph]: version };
    return {
      result: { data },
      touched: new Map([
        [subgraph, version],
        ['programme', null],
      ]),
    };
  };
  const live = new LiveQueries({
    execute,
    feedVersions: feeds,
    onSupergraphChange: (listener) => {
      swaps.add(listener);
      return () => void swaps.delete(listener);
    },
    onPush: () => void pushes++,
  });
  return { feeds, swaps, runs, live, pushes: () => pushes };
}

const request = (query: string, authorization?: string): StreamRequest => ({
  query,
  headers: new Map(authorization ? [['authorization', authorization]] : []),
});

async function open(live: LiveQueries, query: string): Promise<LiveStream> {
  const opened = await live.open(request(query));
  if (!(Symbol.asyncIterator in opened)) throw new Error(`refused: ${JSON.stringify(opened)}`);
  return opened;
}

/** The next result, or 'none' when nothing arrives within a few ticks. */
async function nextOrNone(stream: LiveStream): Promise<FormattedExecutionResult | 'none'> {
  const step = stream.next();
  const none = new Promise<'none'>((r) => setTimeout(() => r('none'), COALESCE_MS + 150));
  const first = await Promise.race([step, none]);
  if (first === 'none') return 'none';
  return first.done ? 'none' : first.value;
}

const settle = () => new Promise((r) => setTimeout(r, COALESCE_MS + 40));

describe('LiveQueries', () => {
  it('runs an operation once for all its streams, and once more per change of a subgraph it touched', async () => {
    const { feeds, runs, live, pushes } = setup();
    const [a, b] = await Promise.all([open(live, '{ south }'), open(live, '{ south }')]);
    expect(runs).toHaveLength(1);
    expect((await a.next()).value).toEqual({ data: { south: 'v1' } });
    expect((await b.next()).value).toEqual({ data: { south: 'v1' } });
    feeds.set('south', 'v2');
    expect((await a.next()).value).toEqual({ data: { south: 'v2' } });
    expect((await b.next()).value).toEqual({ data: { south: 'v2' } });
    expect(runs).toHaveLength(2);
    expect(pushes()).toBe(2);
    await a.return(undefined);
    await b.return(undefined);
  });

  it('does nothing for a report from a subgraph the answer did not touch', async () => {
    const { feeds, runs, live } = setup();
    const stream = await open(live, '{ london }');
    await stream.next();
    feeds.set('south', 'v2');
    await settle();
    expect(runs).toHaveLength(1);
    expect(await nextOrNone(stream)).toBe('none');
    await stream.return(undefined);
  });

  it('runs again but sends nothing when a change leaves the answer as it was', async () => {
    const { feeds, runs, live, pushes } = setup();
    const stream = await open(live, '{ south same }');
    await stream.next();
    feeds.set('south', 'v2');
    await settle();
    expect(runs).toHaveLength(2);
    expect(await nextOrNone(stream)).toBe('none');
    expect(pushes()).toBe(0);
    await stream.return(undefined);
  });

  it('runs again when a version becomes unknown (its subgraph may be down), and once it is known again', async () => {
    const { feeds, runs, live } = setup();
    const stream = await open(live, '{ south }');
    await stream.next();
    feeds.set('south', undefined);
    await settle();
    expect(runs).toHaveLength(2);
    expect((await stream.next()).value).toEqual({ data: {} });
    feeds.set('south', 'v3');
    expect((await stream.next()).value).toEqual({ data: { south: 'v3' } });
    await stream.return(undefined);
  });

  it('runs every operation again on a supergraph swap', async () => {
    const { swaps, runs, live } = setup();
    const stream = await open(live, '{ london }');
    await stream.next();
    for (const swap of swaps) swap();
    await settle();
    expect(runs).toHaveLength(2);
    await stream.return(undefined);
  });

  it('keeps only the newest result for a stream that has not read the previous one', async () => {
    const { feeds, live } = setup();
    const stream = await open(live, '{ south }');
    await stream.next();
    feeds.set('south', 'v2');
    await settle();
    feeds.set('south', 'v3');
    await settle();
    expect((await stream.next()).value).toEqual({ data: { south: 'v3' } });
    expect(await nextOrNone(stream)).toBe('none');
    await stream.return(undefined);
  });

  it('runs again for a report that landed while the first run was under way', async () => {
    const { feeds, runs, live } = setup();
    const opening = open(live, '{ south }');
    feeds.set('south', 'v2');
    const stream = await opening;
    expect((await stream.next()).value).toEqual({ data: { south: 'v1' } });
    expect(await nextOrNone(stream)).toEqual({ data: { south: 'v2' } });
    expect(runs).toHaveLength(2);
    await stream.return(undefined);
  });

  it('runs once for changes that land together', async () => {
    const { feeds, runs, live } = setup();
    const stream = await open(live, '{ south }');
    await stream.next();
    feeds.set('south', 'v2');
    feeds.set('south', 'v3');
    expect((await stream.next()).value).toEqual({ data: { south: 'v3' } });
    expect(runs).toHaveLength(2);
    await stream.return(undefined);
  });

  it('leaves nothing behind when the last stream ends, even one waiting for a result', async () => {
    const { feeds, swaps, live } = setup();
    const a = await open(live, '{ south }');
    const b = await open(live, '{ london }');
    expect([live.groups, live.streams, feeds.listeners.size, swaps.size]).toEqual([2, 2, 1, 1]);
    await a.next();
    const waiting = (async () => {
      await b.next();
      return b.next();
    })();
    await settle();
    // A change whose run is still due when the streams go: its timer goes with them.
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    feeds.set('london', 'v2');
    expect(timers()).toBe(before + 1);
    await a.return(undefined);
    await b.return(undefined);
    expect(timers()).toBe(before);
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect([live.groups, live.streams, live.listening, feeds.listeners.size, swaps.size]).toEqual([0, 0, false, 0, 0]);
  });

  it('answers a refused operation once and keeps nothing open for it', async () => {
    const { feeds, live } = setup();
    expect(await live.open(request('refused'))).toEqual({ errors: [{ message: 'no' }] });
    expect([live.groups, feeds.listeners.size]).toEqual([0, 0]);
  });

  it('never shares a group between different credentials', () => {
    expect(groupKey(request('{ south }', 'Bearer a'))).not.toBe(groupKey(request('{ south }', 'Bearer b')));
    expect(groupKey(request('{ south }'))).toBe(groupKey(request('{ south }')));
    expect(groupKey({ ...request('{ south }'), variables: { a: 1 } })).not.toBe(groupKey(request('{ south }')));
  });

  it('never shares a group between streams whose subgraphs would receive different propagated headers', () => {
    expect(groupKey(request('{ south }'), { '*': { 'accept-language': 'cy' } })).not.toBe(
      groupKey(request('{ south }'), { '*': { 'accept-language': 'en' } }),
    );
    expect(groupKey(request('{ south }'), { '*': {} })).toBe(groupKey(request('{ south }'), { '*': {} }));
  });

  describe('a run answered from an older version than the gateway knew (the subgraph said so)', () => {
    /** South is at v2, but its answers come from v1 for the first `behindRuns` runs (its clock is ahead). */
    function behind(behindRuns: number) {
      const feeds = new Feeds();
      feeds.versions.set('south', 'v2');
      let runs = 0;
      const live = new LiveQueries({
        execute: async () => {
          runs += 1;
          const answered = runs > behindRuns ? 'v2' : 'v1';
          return { result: { data: { south: answered } }, touched: new Map([['south', answered]]) };
        },
        feedVersions: feeds,
        onSupergraphChange: () => () => {},
      });
      return { live, runs: () => runs };
    }

    it('runs again until its answer comes from the current version, and sends that', async () => {
      const { live, runs } = behind(2);
      const stream = await open(live, '{ south }');
      expect((await stream.next()).value).toEqual({ data: { south: 'v1' } });
      expect((await stream.next()).value).toEqual({ data: { south: 'v2' } });
      expect(runs()).toBe(3);
      await settle();
      expect(runs()).toBe(3);
      await stream.return(undefined);
    });

    it('asks a subgraph that stays behind less and less often, never in a tight loop', async () => {
      const { live, runs } = behind(Infinity);
      const stream = await open(live, '{ south }');
      await new Promise((r) => setTimeout(r, 800));
      // Waits of 25, 50, 100, 200 and 400 ms: about 6 runs in 800 ms (not one every 25 ms).
      expect(runs()).toBeGreaterThanOrEqual(3);
      expect(runs()).toBeLessThanOrEqual(7);
      await stream.return(undefined);
    });
  });
});
