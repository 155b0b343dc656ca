import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import type { Membership } from '../../schema/membership.js';
import { seed } from '../../schema/seed.js';
import { LiveReference, membershipVersionOf } from './membership.js';

const northeast = {
  id: 'NORTHEAST',
  source: 'registered' as const,
  name: 'North East',
  supplier: { id: 'ACCENTURE', name: 'Accenture' },
  trustsPlanned: null,
  note: 'Registered.',
  trusts: [{ odsCode: 'RTD', name: 'Newcastle' }],
  registeredBy: 'OPERATOR',
  registeredAt: '2026-12-01T09:00:00.000Z',
};

let server: Server | null = null;
let answer: { status: number; body: unknown } = { status: 200, body: { version: 0, clusters: [] } };
afterEach(() => server?.close());

async function registry(): Promise<string> {
  server = createServer((_req, res) => {
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

describe('the live membership of a subgraph', () => {
  it('lays registered clusters over the seed, and its feed reference follows', async () => {
    answer = { status: 200, body: { version: 1, clusters: [northeast] } satisfies Membership };
    const lines: string[] = [];
    const live = await LiveReference.open({ registryUrl: await registry(), pollMs: 0, log: (l) => lines.push(l) });
    const feed = live.feed;
    expect(live.current.clusters.map((c) => c.id)).toEqual(['SOUTH', 'LONDON', 'NME', 'NORTHEAST']);
    expect(live.current.suppliers.find((s) => s.id === 'ACCENTURE')).toEqual({
      id: 'ACCENTURE',
      name: 'Accenture',
      role: 'LOCAL_SERVICE_PROVIDER',
    });
    expect(feed.trustCodes.has('RTD')).toBe(true);
    answer = { status: 200, body: { version: 2, clusters: [] } };
    await live.refresh();
    expect(feed.trustCodes.has('RTD')).toBe(false);
    expect(lines).toEqual([]);
    live.close();
  });

  it('versions the membership it serves by content: the same on every replica, changed by a registration and back on its removal', async () => {
    answer = { status: 200, body: { version: 0, clusters: [] } };
    const url = await registry();
    const [one, other] = [
      await LiveReference.open({ registryUrl: url, pollMs: 0 }),
      await LiveReference.open({ registryUrl: url, pollMs: 0 }),
    ];
    const seedVersion = membershipVersionOf(one.current);
    expect(membershipVersionOf(other.current)).toBe(seedVersion);
    answer = { status: 200, body: { version: 1, clusters: [northeast] } satisfies Membership };
    await Promise.all([one.refresh(), other.refresh()]);
    expect(membershipVersionOf(one.current)).not.toBe(seedVersion);
    expect(membershipVersionOf(other.current)).toBe(membershipVersionOf(one.current));
    answer = { status: 200, body: { version: 2, clusters: [] } };
    await one.refresh();
    expect(membershipVersionOf(one.current)).toBe(seedVersion);
    one.close();
    other.close();
  });

  it('keeps serving what it knew when the registry fails or answers what is not a membership, and says so once', async () => {
    answer = { status: 200, body: { version: 1, clusters: [northeast] } };
    const lines: string[] = [];
    const live = await LiveReference.open({ registryUrl: await registry(), pollMs: 0, log: (l) => lines.push(l) });
    answer = { status: 200, body: { version: 2, clusters: [{ ...northeast, trusts: [{ odsCode: 'not an ODS code', name: 'x' }] }] } };
    await live.refresh();
    await live.refresh();
    expect(live.current.trusts.map((t) => t.odsCode)).toContain('RTD');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/answered what is not a membership, at clusters\.0\.trusts\.0\.odsCode/);
    answer = { status: 503, body: {} };
    await live.refresh();
    expect(lines[1]).toMatch(/answered 503\); serving the membership known so far/);
    expect(live.version).toBe(1);
    live.close();
  });

  it('takes the EXTRA_TRUSTS_FILE trusts of a registered cluster once it is registered', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'msg-extra-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'trusts.json');
    writeFileSync(file, JSON.stringify([{ odsCode: 'RR7', name: 'Gateshead', clusterId: 'NORTHEAST' }]));
    answer = { status: 200, body: { version: 0, clusters: [] } };
    const lines: string[] = [];
    const live = await LiveReference.open({ registryUrl: await registry(), extraTrustsFile: file, pollMs: 0, log: (l) => lines.push(l) });
    expect(live.feed.trustCodes.has('RR7')).toBe(false);
    expect(lines).toEqual([
      `EXTRA_TRUSTS_FILE ${file} at [0]: unknown cluster NORTHEAST (neither in the seed nor registered at the registry)`,
    ]);
    answer = { status: 200, body: { version: 1, clusters: [northeast] } };
    await live.refresh();
    expect(live.current.trusts.find((t) => t.odsCode === 'RR7')).toMatchObject({ clusterId: 'NORTHEAST', name: 'Gateshead' });
    expect(live.feed.trustCodes.has('RR7')).toBe(true);
    live.close();
  });

  it('serves the seed when the registry cannot be reached at start', async () => {
    const lines: string[] = [];
    const live = await LiveReference.open({ registryUrl: 'http://127.0.0.1:1', pollMs: 0, log: (l) => lines.push(l) });
    expect(live.current).toEqual(seed);
    expect(lines[0]).toMatch(/^membership: cannot read http:\/\/127\.0\.0\.1:1\/registry\/clusters/);
    live.close();
  });

  it('leaves out a registered cluster or trust that contradicts its seed, naming it', async () => {
    answer = {
      status: 200,
      body: {
        version: 1,
        clusters: [
          { ...northeast, id: 'SOUTH' },
          { ...northeast, trusts: [{ odsCode: 'RBF', name: 'x' }] },
        ],
      },
    };
    const lines: string[] = [];
    const live = await LiveReference.open({ registryUrl: await registry(), pollMs: 0, log: (l) => lines.push(l) });
    expect(live.current.clusters.filter((c) => c.id === 'SOUTH')).toHaveLength(1);
    expect(live.current.trusts.find((t) => t.odsCode === 'RBF')?.clusterId).toBe('SOUTH');
    expect(lines).toEqual([
      'membership: left out cluster SOUTH: already in the seed\nmembership: left out trust RBF of cluster NORTHEAST: already known',
    ]);
    live.close();
  });
});
