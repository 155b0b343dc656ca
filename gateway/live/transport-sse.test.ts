import { describe, expect, it } from 'vitest';
import { LiveQueries, type LiveStream } from './live-queries.js';
import { relay, requestHeaders } from './transport-sse.js';

/** A live stream whose operation answers `version` as it is when run. */
async function liveStream() {
  let version = 1;
  const listeners = new Set<() => void>();
  const live = new LiveQueries({
    execute: async () => ({ result: { data: { version } }, touched: new Map([['south', String(version)]]) }),
    feedVersions: { version: () => String(version), onChange: (l) => (listeners.add(l), () => void listeners.delete(l)) },
    onSupergraphChange: () => () => {},
  });
  const stream = (await live.open({ query: '{ version }', headers: new Map() })) as LiveStream;
  const change = () => {
    version += 1;
    for (const listener of listeners) listener();
  };
  return { live, stream, change };
}

describe('relay', () => {
  it('counts each result as activity and cuts a client still behind when the next result is due', async () => {
    const { live, stream, change } = await liveStream();
    let activity = 0;
    let reading = true;
    const relayed = relay(stream, { refused: false, client: 'ip:1', activity: () => void activity++ }, () => reading);
    expect((await relayed.next()).value).toEqual({ data: { version: 1 } });
    reading = false;
    change();
    expect(await relayed.next()).toEqual({ done: true, value: undefined });
    expect(activity).toBe(1);
    expect(live.groups).toBe(0);
  });

  it('ends at once when the client goes away, even while waiting for a change', async () => {
    const { live, stream } = await liveStream();
    const relayed = relay(stream, { refused: false, client: 'ip:1', activity: () => {} }, () => true);
    await relayed.next();
    const waiting = relayed.next();
    await relayed.return(undefined);
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(live.groups).toBe(0);
  });
});

describe('requestHeaders', () => {
  it('gives one value per lower-case name, as Apollo reads them', () => {
    expect([...requestHeaders({ authorization: 'Bearer x', 'x-many': ['a', 'b'] as unknown as string })]).toEqual([
      ['authorization', 'Bearer x'],
      ['x-many', 'a, b'],
    ]);
  });
});
