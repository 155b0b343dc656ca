/**
 * The programme's membership as a subgraph sees it, live: the seed (schema/seed.json), the
 * trusts of `EXTRA_TRUSTS_FILE`, and the clusters an operator registered at the gateway's
 * registry, learnt over HTTP (`GET /registry/clusters`, polled) with no restart. When the
 * registry cannot be reached, or answers what is not a membership, the last good membership
 * (at first: the seed) keeps serving and the fact is logged once.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { mergeMembership, MEMBERSHIP_PATH, membershipSchema, type MemberCluster } from '../../schema/membership.js';
import { odsCode, seed, type Reference, type TrustRecord } from '../../schema/seed.js';
import { LOCAL_REGISTRY_URL, type MembershipConfig } from './config.js';
import type { FeedReference } from './feed.js';

const extraTrustsSchema = z.array(
  z.strictObject({
    odsCode,
    name: z.string().min(1),
    clusterId: z.string().min(1),
    odsCodeConfidence: z.enum(['CONFIRMED', 'DISPUTED', 'UNVERIFIED']).default('UNVERIFIED'),
  }),
);

/** Reads the trusts of `EXTRA_TRUSTS_FILE` (a JSON array of `{ odsCode, name, clusterId }`); throws naming the file and index. */
export async function readExtraTrusts(file: string): Promise<TrustRecord[]> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new Error(`EXTRA_TRUSTS_FILE=${JSON.stringify(file)} cannot be read as JSON: ${(error as Error).message}`);
  }
  const parsed = extraTrustsSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`EXTRA_TRUSTS_FILE ${file} at [${issue.path.join('].')}]: ${issue.message}`);
  }
  return parsed.data;
}

/**
 * `base` with the extra trusts added. A trust already known, or one of a cluster `base`
 * does not have (neither in the seed nor registered), is left out and named in `problems`.
 */
export function addExtraTrusts(
  base: Reference,
  extras: readonly TrustRecord[],
  file: string,
): { reference: Reference; problems: string[] } {
  const known = new Set(base.trusts.map((t) => t.odsCode));
  const clusterIds = new Set(base.clusters.map((c) => c.id));
  const added: TrustRecord[] = [];
  const problems: string[] = [];
  extras.forEach((trust, index) => {
    if (known.has(trust.odsCode)) problems.push(`EXTRA_TRUSTS_FILE ${file} at [${index}]: trust ${trust.odsCode} is already known`);
    else if (!clusterIds.has(trust.clusterId))
      problems.push(
        `EXTRA_TRUSTS_FILE ${file} at [${index}]: unknown cluster ${trust.clusterId} (neither in the seed nor registered at the registry)`,
      );
    else {
      known.add(trust.odsCode);
      added.push(trust);
    }
  });
  return { reference: added.length ? { ...base, trusts: [...base.trusts, ...added] } : base, problems };
}

/** What a feed must agree with: known release codes and trust ODS codes. */
export function feedReferenceOf(reference: Reference): FeedReference {
  return {
    releaseCodes: new Set(reference.releases.map((r) => r.code)),
    trustCodes: new Set(reference.trusts.map((t) => t.odsCode)),
  };
}

const versions = new WeakMap<Reference, string>();

/**
 * The version of a membership as served (seed, extra trusts and registered clusters merged):
 * a hash of its content, so every replica serving the same membership has the same version
 * and any registration, change or removal changes it. The programme is feed-versioned by it:
 * gateways key their cached answers by it (`FeedEvents`, `FEED_VERSION_HEADER`).
 */
export function membershipVersionOf(reference: Reference): string {
  let version = versions.get(reference);
  if (version === undefined) {
    version = createHash('sha256').update(JSON.stringify(reference)).digest('hex').slice(0, 16);
    versions.set(reference, version);
  }
  return version;
}

/** The largest membership answer read from the registry. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

async function readBounded(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_ANSWER_BYTES) {
      await reader.cancel();
      throw new Error(`the answer is over ${MAX_ANSWER_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Asks a registry (its base URL, e.g. the gateway's) for the membership. */
export async function fetchMembership(registryUrl: string, timeoutMs = 3000): Promise<{ version: number; clusters: MemberCluster[] }> {
  const url = new URL(MEMBERSHIP_PATH, registryUrl);
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await readBounded(response);
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  const parsed = membershipSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${url} answered what is not a membership, at ${issue?.path.join('.') || '(top)'}: ${issue?.message}`);
  }
  return parsed.data;
}

export interface LiveReferenceOptions {
  /** The seed; schema/seed.json by default. */
  readonly base?: Reference;
  /** `EXTRA_TRUSTS_FILE`, or null. */
  readonly extraTrustsFile?: string | null;
  /** The registry to follow (its base URL); null: none until `follow()`. */
  readonly registryUrl?: string | null;
  /** How often to ask the registry, in ms (default 2000); 0: only once, at start. */
  readonly pollMs?: number;
  readonly log?: (line: string) => void;
}

/**
 * The reference data a subgraph serves and checks feeds against, kept current with the
 * registry. `feed` is a live `FeedReference`: a feed read after a registration knows its trusts.
 */
export class LiveReference {
  readonly #base: Reference;
  readonly #extras: readonly TrustRecord[];
  readonly #extrasFile: string;
  readonly #pollMs: number;
  readonly #log: (line: string) => void;
  readonly #listeners = new Set<(reference: Reference) => void>();
  #current: Reference;
  #feed: FeedReference;
  #registered: readonly MemberCluster[] = [];
  #version = -1;
  #url: string | null = null;
  #timer: NodeJS.Timeout | null = null;
  #failing: string | null = null;
  #reported = '';

  private constructor(options: LiveReferenceOptions, extras: readonly TrustRecord[]) {
    this.#base = options.base ?? seed;
    this.#extras = extras;
    this.#extrasFile = options.extraTrustsFile ?? '';
    this.#pollMs = options.pollMs ?? 2000;
    this.#log = options.log ?? (() => {});
    this.#current = this.#merge();
    this.#feed = feedReferenceOf(this.#current);
    const live = this;
    this.feed = {
      get releaseCodes() {
        return live.#feed.releaseCodes;
      },
      get trustCodes() {
        return live.#feed.trustCodes;
      },
    };
  }

  /** A feed reference that always answers from the current membership. */
  readonly feed: FeedReference;

  /** Reads the extra trusts (a bad file throws) and, given a registry, asks it once before answering. */
  static async open(options: LiveReferenceOptions = {}): Promise<LiveReference> {
    const extras = options.extraTrustsFile ? await readExtraTrusts(options.extraTrustsFile) : [];
    const live = new LiveReference(options, extras);
    if (options.registryUrl) await live.follow(options.registryUrl);
    return live;
  }

  /** The reference data now: seed, extra trusts and registered clusters. */
  get current(): Reference {
    return this.#current;
  }

  /** The membership version last learnt from the registry; -1 before any. */
  get version(): number {
    return this.#version;
  }

  /** Calls `listener` with the new reference data after each change. */
  onChange(listener: (reference: Reference) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Follows the registry at `registryUrl` from now on (asked at once, then every `pollMs`). */
  async follow(registryUrl: string): Promise<void> {
    this.#url = registryUrl;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.refresh();
    if (this.#pollMs > 0) {
      this.#timer = setInterval(() => void this.refresh(), this.#pollMs);
      this.#timer.unref();
    }
  }

  /** Asks the registry now; on failure keeps what it had and logs the failure once. */
  async refresh(): Promise<void> {
    const url = this.#url;
    if (!url) return;
    try {
      const membership = await fetchMembership(url);
      if (this.#failing) this.#log(`membership: the registry at ${url} answers again`);
      this.#failing = null;
      if (membership.version === this.#version) return;
      this.#version = membership.version;
      this.#registered = membership.clusters.filter((c) => c.source === 'registered');
      this.#apply();
    } catch (error) {
      const why = (error as Error).message;
      if (this.#failing !== why)
        this.#log(`membership: cannot read ${new URL(MEMBERSHIP_PATH, url)} (${why}); serving the membership known so far`);
      this.#failing = why;
    }
  }

  #merge(): Reference {
    const merged = mergeMembership(this.#base, this.#registered);
    const withExtras = addExtraTrusts(merged.reference, this.#extras, this.#extrasFile);
    const problems = [...merged.skipped.map((s) => `membership: left out ${s}`), ...withExtras.problems].join('\n');
    if (problems && problems !== this.#reported) this.#log(problems);
    this.#reported = problems;
    return withExtras.reference;
  }

  #apply(): void {
    this.#current = this.#merge();
    this.#feed = feedReferenceOf(this.#current);
    for (const listener of this.#listeners) listener(this.#current);
  }

  /** Stops following the registry. */
  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#listeners.clear();
  }
}

/**
 * The membership a subgraph run on its own follows (its `main.ts`): the seed with its
 * `EXTRA_TRUSTS_FILE`, and what operators register at `REGISTRY_URL` (the local gateway by
 * default), followed live; the seed serves until the registry answers.
 */
export function followMembership(
  config: { readonly extraTrustsFile: string | null; readonly membership: MembershipConfig },
  log: (line: string) => void = console.log,
): Promise<LiveReference> {
  return LiveReference.open({
    extraTrustsFile: config.extraTrustsFile,
    registryUrl: config.membership.registryUrl ?? LOCAL_REGISTRY_URL,
    pollMs: config.membership.pollMs,
    log,
  });
}
