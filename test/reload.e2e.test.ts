/**
 * A reload while dashboards query the gateway: no request fails, no response mixes two
 * snapshots, and the load leaves no process warning (such as listeners piling up on a shared
 * abort signal, one per fetch in flight).
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../scripts/stack.js';
import { post, startTestStack } from './helpers.js';

const FEED = fileURLToPath(new URL('../subgraphs/south/feed/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'msg-reload-'));
let stack: Stack;
const warnings: Error[] = [];
const onWarning = (warning: Error) => warnings.push(warning);

beforeAll(async () => {
  process.on('warning', onWarning);
  copyFileSync(join(FEED, 'fujitsu-south-2007-09-06.csv'), join(dir, 'fujitsu-south-2007-09-06.csv'));
  stack = await startTestStack({ env: { SOUTH_FEED_DIR: dir, FEED_POLL_MS: '50' } });
});
afterAll(async () => {
  process.off('warning', onWarning);
  await stack.close();
  rmSync(dir, { recursive: true, force: true });
});

// The last selection makes the gateway call south, then programme, then south again: two
// south fetches in one operation, between which a reload can land.
const DASHBOARD = `{
  r0: release(code: "R0") { south { source { file } trustsLive rollout { status } } }
  r2: release(code: "R2") { south { source { file } designStatus } }
  trust(odsCode: "RPL") { south { source { file } rollout { status } } }
  again: release(code: "R0") { south { rollout { trust { cluster { trusts { south { source { file } } } } } } } }
}`;

type Files = { south: { rollout: { trust: { cluster: { trusts: { south: { source: { file: string } } | null }[] } } }[] } | null };

interface Answer {
  again: Files;
  r0: { south: { source: { file: string }; trustsLive: number; rollout: { status: string }[] } };
  r2: { south: { source: { file: string } } };
  trust: { south: { source: { file: string }; rollout: { status: string }[] } };
}

describe('reload under query load', () => {
  it('answers every request from one snapshot, old or new, while a new report arrives', async () => {
    const seen = new Map<string, number>();
    const failures: unknown[] = [];
    let stop = false;
    const client = async () => {
      while (!stop) {
        const response = await post<Answer>(stack.gatewayUrl, DASHBOARD);
        const data = response.data;
        if (response.errors || !data) {
          failures.push(response.errors ?? 'no data');
          continue;
        }
        const later = (data.again.south?.rollout ?? []).flatMap((e) =>
          e.trust.cluster.trusts.flatMap((t) => (t.south ? [t.south.source.file] : [])),
        );
        const files = new Set([data.r0.south.source.file, data.r2.south.source.file, data.trust.south.source.file, ...later]);
        const live = data.r0.south.rollout.filter((e) => e.status === 'LIVE').length;
        if (files.size !== 1 || live !== data.r0.south.trustsLive)
          failures.push({ mixed: [...files], live, trustsLive: data.r0.south.trustsLive });
        const file = [...files][0]!;
        seen.set(file, (seen.get(file) ?? 0) + 1);
      }
    };
    const clients = Array.from({ length: 8 }, client);
    const reports = ['fujitsu-south-2008-01-31.csv', 'fujitsu-south-2008-06-30.csv', 'fujitsu-south-2009-06-30.csv'];
    for (const report of reports) {
      await new Promise((r) => setTimeout(r, 250));
      copyFileSync(join(FEED, report), join(dir, report));
      const deadline = Date.now() + 10_000;
      while (!seen.has(report) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 250));
    stop = true;
    await Promise.all(clients);
    expect(failures).toEqual([]);
    // Node emits warnings on the next tick.
    await new Promise((r) => setImmediate(r));
    expect(warnings.map((w) => `${w.name}: ${w.message}`)).toEqual([]);
    expect(seen.get('fujitsu-south-2007-09-06.csv')).toBeGreaterThan(0);
    for (const report of ['fujitsu-south-2008-01-31.csv', 'fujitsu-south-2008-06-30.csv', 'fujitsu-south-2009-06-30.csv']) {
      expect(seen.get(report)).toBeGreaterThan(0);
    }
  });
});
