/**
 * Who belongs to the programme, as the registry keeps it: the seed (schema/seed.json) and the
 * clusters operators registered over it, each with its supplier and trusts. Like the
 * subgraph registry it is versioned (each change one more version, kept in a history with
 * who and when), changed by compare-and-set so racing changes cannot both land, and kept in
 * Redis (with `REDIS_URL`, under the registry's prefix) or in `REGISTRY_DIR/membership.json`.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import {
  MAX_CLUSTERS,
  registerCommand,
  seedMembers,
  type MemberCluster,
  type Membership,
  type Registration,
} from '../../schema/membership.js';
import { memberId, seed, type Reference } from '../../schema/seed.js';
import { HISTORY_LIMIT, type RegistryStoreOptions } from './store.js';

/** A cluster an operator registered. */
export interface RegisteredCluster extends Registration {
  readonly id: string;
  readonly registeredBy: string;
  readonly registeredAt: string;
}

/** What made a membership version. */
export interface MembershipChange {
  readonly action: 'register' | 'remove';
  readonly cluster: string;
  readonly by: string;
  readonly at: string;
}

/** The registered membership at one version. */
export interface MembershipState {
  readonly version: number;
  readonly clusters: readonly RegisteredCluster[];
  readonly change: MembershipChange | null;
}

export const EMPTY_MEMBERSHIP: MembershipState = { version: 0, clusters: [], change: null };

/** Where registered membership lives, whichever backend. */
export interface MembershipStore {
  readonly backend: 'FILE' | 'REDIS';
  current(): Promise<MembershipState>;
  /** Every kept version, newest first. */
  history(): Promise<MembershipState[]>;
  /** Writes `next` only if the current version is still `expected`; false if another change won. */
  compareAndSet(expected: number, next: MembershipState): Promise<boolean>;
  close(): Promise<void>;
}

/** Opens the membership store beside the registry's: Redis when a URL is given, else `dir/membership.json`. */
export function openMembershipStore(options: RegistryStoreOptions): MembershipStore {
  return options.redisUrl
    ? new RedisMembershipStore(options.redisUrl, `${options.redisPrefix}membership:`)
    : new FileMembershipStore(join(options.dir, 'membership.json'));
}

/** One file, replaced whole by a rename (a crash never leaves half of it); one gateway process. */
export class FileMembershipStore implements MembershipStore {
  readonly backend = 'FILE' as const;
  #queue: Promise<unknown> = Promise.resolve();
  constructor(readonly file: string) {}

  #read(): { current: MembershipState; history: MembershipState[] } {
    if (!existsSync(this.file)) return { current: EMPTY_MEMBERSHIP, history: [] };
    try {
      return JSON.parse(readFileSync(this.file, 'utf8')) as { current: MembershipState; history: MembershipState[] };
    } catch (error) {
      throw new Error(`Membership file ${this.file} cannot be read: ${(error as Error).message}`);
    }
  }

  async current(): Promise<MembershipState> {
    return this.#read().current;
  }

  async history(): Promise<MembershipState[]> {
    return this.#read().history;
  }

  compareAndSet(expected: number, next: MembershipState): Promise<boolean> {
    const run = this.#queue.then(() => {
      const content = this.#read();
      if (content.current.version !== expected) return false;
      mkdirSync(join(this.file, '..'), { recursive: true });
      const temporary = `${this.file}.${process.pid}.tmp`;
      writeFileSync(temporary, JSON.stringify({ current: next, history: [next, ...content.history].slice(0, HISTORY_LIMIT) }, null, 1));
      renameSync(temporary, this.file);
      return true;
    });
    this.#queue = run.catch(() => {});
    return run;
  }

  async close(): Promise<void> {
    await this.#queue;
  }
}

// Compare the version, write state and version, keep history: one script, so replicas racing cannot both land.
const COMPARE_AND_SET = `
local version = tonumber(redis.call('GET', KEYS[1]) or '0')
if version ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[3])
redis.call('LPUSH', KEYS[3], ARGV[3])
redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[4]) - 1)
return 1
`;

/** In Redis, shared by every gateway replica. */
export class RedisMembershipStore implements MembershipStore {
  readonly backend = 'REDIS' as const;
  readonly #redis: Redis;
  readonly #keys: { version: string; state: string; history: string };

  constructor(url: string, prefix: string) {
    // Commands wait for the connection (offline queue): membership is not on a request's path.
    this.#redis = new Redis(url, { retryStrategy: (times) => Math.min(200 * times, 2000) });
    this.#redis.on('error', () => {}); // reconnects by itself; callers see failed commands
    this.#keys = { version: `${prefix}version`, state: `${prefix}state`, history: `${prefix}history` };
  }

  async current(): Promise<MembershipState> {
    const stored = await this.#redis.get(this.#keys.state);
    return stored ? (JSON.parse(stored) as MembershipState) : EMPTY_MEMBERSHIP;
  }

  async history(): Promise<MembershipState[]> {
    return (await this.#redis.lrange(this.#keys.history, 0, -1)).map((s) => JSON.parse(s) as MembershipState);
  }

  async compareAndSet(expected: number, next: MembershipState): Promise<boolean> {
    const { version, state, history } = this.#keys;
    const done = await this.#redis.eval(
      COMPARE_AND_SET,
      3,
      version,
      state,
      history,
      String(expected),
      String(next.version),
      JSON.stringify(next),
      String(HISTORY_LIMIT),
    );
    return done === 1;
  }

  async close(): Promise<void> {
    this.#redis.disconnect();
  }
}

/** The membership as `GET /registry/clusters` lists it: the seed's clusters, then the registered ones. */
export function listMembership(state: MembershipState, base: Reference = seed): Membership {
  const registered: MemberCluster[] = state.clusters.map((c) => ({
    id: c.id,
    source: 'registered',
    name: c.name,
    supplier: c.supplier,
    trustsPlanned: c.trustsPlanned ?? null,
    note: c.note ?? `Registered by ${c.registeredBy} on ${c.registeredAt.slice(0, 10)}.`,
    trusts: c.trusts,
    registeredBy: c.registeredBy,
    registeredAt: c.registeredAt,
  }));
  return { version: state.version, clusters: [...seedMembers(base), ...registered] };
}

/** A registration the membership refuses: which field, and why. */
export interface MembershipProblem {
  readonly field: string;
  readonly message: string;
}

/**
 * What is wrong with registering `registration` as cluster `id` over `state` (none: fine):
 * a seed cluster's id, a trust listed twice or already another cluster's, a supplier id
 * known under another name. Registering an id already registered replaces it.
 */
export function registrationProblems(
  state: MembershipState,
  id: string,
  registration: Registration,
  base: Reference = seed,
): MembershipProblem[] {
  const problems: MembershipProblem[] = [];
  if (base.clusters.some((c) => c.id === id))
    problems.push({ field: 'id', message: `cluster ${id} is in the programme's seed (schema/seed.json); it is not registered` });
  const others = state.clusters.filter((c) => c.id !== id);
  if (others.length >= MAX_CLUSTERS)
    problems.push({ field: 'id', message: `the programme holds at most ${MAX_CLUSTERS} registered clusters` });
  const clusterOf = new Map<string, string>([
    ...base.trusts.map((t) => [t.odsCode, t.clusterId] as const),
    ...others.flatMap((c) => c.trusts.map((t) => [t.odsCode, c.id] as const)),
  ]);
  const listed = new Set<string>();
  registration.trusts.forEach((trust, i) => {
    const field = `trusts[${i}].odsCode`;
    if (listed.has(trust.odsCode)) problems.push({ field, message: `${trust.odsCode} is listed twice` });
    const owner = clusterOf.get(trust.odsCode);
    if (owner) problems.push({ field, message: `${trust.odsCode} already belongs to cluster ${owner}` });
    listed.add(trust.odsCode);
  });
  const supplierName = new Map<string, string>([
    ...base.suppliers.map((s) => [s.id, s.name] as const),
    ...others.map((c) => [c.supplier.id, c.supplier.name] as const),
  ]).get(registration.supplier.id);
  if (supplierName !== undefined && supplierName !== registration.supplier.name)
    problems.push({
      field: 'supplier.name',
      message: `supplier ${registration.supplier.id} is known as ${JSON.stringify(supplierName)}; use that name or another id`,
    });
  return problems;
}

/** The ids of every cluster and supplier of the programme now: seed and registered. */
export function memberIds(state: MembershipState, base: Reference = seed): { clusters: string[]; suppliers: string[] } {
  return {
    clusters: [...base.clusters.map((c) => c.id), ...state.clusters.map((c) => c.id)],
    suppliers: [...new Set([...base.suppliers.map((s) => s.id), ...state.clusters.map((c) => c.supplier.id)])],
  };
}

/** What an operator must register before a subgraph for `clusterId` by `supplierId` can be published; null when nothing. */
export function whatToRegister(state: MembershipState, clusterId: string, supplierId: string, base: Reference = seed): string | null {
  const known = memberIds(state, base);
  const clusterKnown = known.clusters.includes(clusterId);
  const supplierKnown = known.suppliers.includes(supplierId);
  if (clusterKnown && supplierKnown) return null;
  const what = [clusterKnown ? null : `cluster ${clusterId}`, supplierKnown ? null : `supplier ${supplierId}`]
    .filter(Boolean)
    .join(' and ');
  const invalid = [
    memberId.safeParse(clusterId).success ? null : clusterId,
    memberId.safeParse(supplierId).success ? null : supplierId,
  ].filter(Boolean);
  if (invalid.length > 0)
    return `${invalid.join(' and ')} cannot be registered: ids are capital letters, digits and _; the subgraph must speak for ids the programme can hold`;
  if (clusterKnown)
    return `The programme knows cluster ${clusterId} but not supplier ${supplierId}: the cluster's supplier is registered with it; ask the operator`;
  return `An operator must register ${what} before a publish will pass (with an operator token): ${registerCommand(clusterId, supplierId)}`;
}

/** The store's current membership, or the reason it could not be read within `ms` (for the CLIs: Redis may be away). */
export async function membershipWithin(store: MembershipStore, ms = 3000): Promise<MembershipState | Error> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Error>((resolve) => {
    timer = setTimeout(() => resolve(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([store.current(), late]);
  } catch (error) {
    return error as Error;
  } finally {
    clearTimeout(timer);
  }
}
