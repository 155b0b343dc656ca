/** N entity references in one request cost one batched store lookup per entity type. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../scripts/stack.js';
import { MemoryViewStore, type VersionKey } from '../subgraphs/kit/store.js';
import type { SouthExtra } from '../subgraphs/south/feed-format.js';
import { query, startTestStack } from './helpers.js';

/** A memory store that records each lookup it is asked for. */
class RecordingStore extends MemoryViewStore<SouthExtra> {
  readonly releaseLookups: string[][] = [];
  readonly trustLookups: string[][] = [];
  override getReleases(keys: readonly VersionKey[]) {
    // Keys are `<version>/<code>`: record the codes.
    this.releaseLookups.push(keys.map((k) => k.split('/')[1]!));
    return super.getReleases(keys);
  }
  override getTrusts(keys: readonly VersionKey[]) {
    this.trustLookups.push(keys.map((k) => k.split('/')[1]!));
    return super.getTrusts(keys);
  }
  reset() {
    this.releaseLookups.length = 0;
    this.trustLookups.length = 0;
  }
}

const store = new RecordingStore();
let stack: Stack;
beforeAll(async () => {
  // The response and entity caches would answer repeated queries without reaching the store.
  stack = await startTestStack({ stores: { south: store }, env: { RESPONSE_CACHE: 'false', ENTITY_CACHE: 'false' } });
});
afterAll(() => stack.close());

describe('DataLoader batching in the south subgraph', () => {
  it('looks up every release of a request in one store call', async () => {
    store.reset();
    const data = await query(stack.gatewayUrl, '{ releases { code south { localName } } }');
    expect(data.releases).toHaveLength(3);
    expect(store.releaseLookups).toEqual([['R0', 'R1', 'R2']]);
  });

  it('looks up all seventeen trusts of a request in one store call', async () => {
    store.reset();
    const data = await query(stack.gatewayUrl, '{ trusts { odsCode south { localName } } }');
    expect(data.trusts).toHaveLength(17);
    expect(store.trustLookups).toHaveLength(1);
    expect(store.trustLookups[0]).toHaveLength(17);
  });

  it('does not share loaders between requests', async () => {
    store.reset();
    await query(stack.gatewayUrl, '{ release(code: "R0") { south { localName } } }');
    await query(stack.gatewayUrl, '{ release(code: "R0") { south { localName } } }');
    expect(store.releaseLookups).toEqual([['R0'], ['R0']]);
  });
});
