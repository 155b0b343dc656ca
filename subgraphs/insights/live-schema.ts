/**
 * The insights schema, swapped while serving. Insights' schema is derived from the cluster
 * subgraphs' SDL, learnt over HTTP (`sources.ts`): the built-in ones from their URLs, the
 * published ones from the gateway's registry. A cluster published at runtime must be in it
 * BEFORE any gateway plans against a supergraph that has it (else a plan asks insights for
 * types it does not know, such as the new cluster's `FeedStatus`), so insights says which
 * registry version it serves (`GET /schema/version`) and gateways swap only once it does.
 *
 * Insights polls the registry (`INSIGHTS_REGISTRY_POLL_MS`), and a gateway waiting for it
 * says which registry version it waits for (`/schema/version?registryVersion=N`), which makes
 * insights read the registry at once: a publish waits one round trip, not a poll interval,
 * with no stream for the gateway to hold open. A cluster that leaves stays in the schema for
 * a grace period, so gateways still planning with it (they converge within a second) keep
 * working. With the registry unreachable, insights keeps what it learnt (built-in and last
 * published clusters), logs it once, and catches up when the registry answers again.
 *
 * To Apollo Server this is a "gateway" without an executor: Apollo validates and executes
 * each request against the schema current when it started, with every plugin as usual.
 */
import type { ApolloServerOptionsWithGateway, BaseContext } from '@apollo/server';
import type { GraphQLSchema } from 'graphql';
import type { SubgraphSdl } from '../../schema/cluster-views.js';
import type { SchemaVersion as InsightsSchemaVersion } from '../../schema/wire.js';
import { readRegistry, readServedSdl, type RegistryRead } from './sources.js';

export { SUBGRAPHS_HEADER } from '../../schema/wire.js';

/** The subgraphs a request's header names, or null (all) when it has none. */
export function subgraphsOf(header: string | string[] | undefined): ReadonlySet<string> | null {
  return typeof header === 'string' ? new Set(header.split(',').filter(Boolean)) : null;
}

type Gateway = ApolloServerOptionsWithGateway<BaseContext>['gateway'];
type Listener = Parameters<Gateway['onSchemaLoadOrUpdate']>[0];

/** A built-in cluster subgraph: its name in the supergraph and where it serves its SDL. */
export interface ClusterUrl {
  readonly name: string;
  readonly url: string;
}

/**
 * Whether insights reads the registry now. `unreachable` also tells a starting gateway that
 * insights may be waiting for that very gateway to listen.
 */
export type RegistryFollowing = 'following' | 'unreachable' | 'off';

/** What `GET /schema/version` answers (schema/wire.ts). */
export type { InsightsSchemaVersion };

export interface LiveInsightsOptions {
  /** The built-in cluster subgraphs, always compared once learnt. */
  readonly builtIn: readonly ClusterUrl[];
  /**
   * The gateway whose registry is followed; a function when its address is known only later
   * (a stack listening on port 0; null until then); null follows none.
   */
  readonly registryUrl: string | (() => string | null) | null;
  /** How often the registry is read, in ms. */
  readonly pollMs: number;
  /** Builds the schema and lists the clusters compared. */
  readonly build: (clusters: readonly SubgraphSdl[]) => { schema: GraphQLSchema; clusters: readonly string[] };
  /** How long a cluster that left stays in the schema, in ms. */
  readonly graceMs?: number;
  /**
   * Told the published subgraphs (name and `/graphql` URL, as the registry lists them) after
   * each registry read: where their reports are heard (`reports.ts`). One withdrawn is left out at once.
   */
  readonly onPublished?: (published: readonly ClusterUrl[]) => void;
  /** How long `start` waits for every built-in cluster subgraph to answer, in ms. */
  readonly startTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

/**
 * Between two reads a waiting gateway asks for, at least this long (it asks every 50 ms):
 * insights' reads count against the gateway's `/registry` rate budget of its address.
 */
const HINT_INTERVAL_MS = 200;

export class LiveInsightsSchema implements Gateway {
  readonly #options: LiveInsightsOptions;
  readonly #listeners = new Set<Listener>();
  /** The SDL learnt of each built-in cluster subgraph, by name. */
  readonly #builtIn = new Map<string, string>();
  /** Published clusters served now, by name, with when they left the registry (if they did). */
  #published = new Map<string, { sdl: SubgraphSdl; leftAt: number | null }>();
  #registryVersion = 0;
  /** The published list last read, to notice a change even when a version number is reused. */
  #registryKey = '';
  #following: RegistryFollowing;
  #schema: GraphQLSchema | null = null;
  #clusters: readonly string[] = [];
  #builtKey = '';
  /** The problem logged of each concern (`registry`, `build`, a built-in's name): logged once. */
  readonly #problems = new Map<string, string>();
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> = Promise.resolve();
  #queued: Promise<void> | null = null;
  #lastHint = 0;
  #stopped = false;

  private constructor(options: LiveInsightsOptions) {
    this.#options = options;
    this.#following = options.registryUrl === null ? 'off' : 'unreachable';
  }

  /**
   * Learns the built-in cluster subgraphs (retrying until each answers, within the start
   * timeout), reads the registry once, and follows it. Throws when no built-in cluster
   * subgraph answered: there would be nothing to compare.
   */
  static async start(options: LiveInsightsOptions): Promise<LiveInsightsSchema> {
    const live = new LiveInsightsSchema(options);
    const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
    while ((await live.#learnBuiltIn(false)) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    if (live.#builtIn.size === 0)
      throw new Error(
        `insights: no cluster subgraph answered { _service { sdl } }: ${options.builtIn.map((c) => `${c.name} at ${c.url}`).join(', ')}`,
      );
    await live.refresh();
    if (!live.#schema) throw new Error(`insights: cannot build a schema: ${live.#problems.get('build') ?? 'no cluster subgraph'}`);
    if (options.registryUrl !== null) {
      live.#timer = setInterval(() => void live.refresh(), options.pollMs);
      live.#timer.unref();
    }
    return live;
  }

  /** The schema served now (subscriptions are served from it outside Apollo, `server.ts`). */
  schema(): GraphQLSchema {
    return this.#schema!;
  }

  /** Which registry version the schema serves now. */
  version(): InsightsSchemaVersion {
    return { registryVersion: this.#registryVersion, clusters: this.#clusters, registry: this.#following };
  }

  /**
   * A gateway waits for `registryVersion`: read the registry now unless that is served, was
   * just read, or the last read failed (the poll tries again; hammering a registry that
   * refuses, or is not there, would not help).
   */
  hint(registryVersion: number): void {
    if (registryVersion === this.#registryVersion || Date.now() - this.#lastHint < HINT_INTERVAL_MS) return;
    if (this.#problems.has('registry')) return;
    this.#lastHint = Date.now();
    void this.refresh();
  }

  /** Reads the sources and rebuilds on a change. One at a time; callers meanwhile share the next. */
  refresh(): Promise<void> {
    if (this.#queued) return this.#queued;
    const run = this.#running.then(() => {
      this.#queued = null;
      return this.#stopped ? undefined : this.#refresh();
    });
    this.#queued = run;
    this.#running = run;
    return run;
  }

  /** Reads the built-in cluster subgraphs (every one, or those not learnt yet); how many are missing. */
  async #learnBuiltIn(all: boolean): Promise<number> {
    const wanted = this.#options.builtIn.filter((c) => all || !this.#builtIn.has(c.name));
    const read = await Promise.all(
      wanted.map((c) =>
        readServedSdl(c.url).then(
          (sdl) => ({ ...c, sdl }),
          (error: Error) => ({ ...c, error }),
        ),
      ),
    );
    let missing = 0;
    for (const answer of read) {
      if ('sdl' in answer) {
        this.#builtIn.set(answer.name, answer.sdl);
        this.#solved(answer.name, `reads built-in cluster subgraph ${answer.name} again`);
      } else if (!this.#builtIn.has(answer.name)) {
        // A built-in that answered before keeps its last SDL.
        missing++;
        this.#problem(answer.name, `cannot read the SDL of built-in cluster subgraph ${answer.name}: ${answer.error.message}; retrying`);
      }
    }
    return missing;
  }

  async #readRegistry(): Promise<RegistryRead | null> {
    const source = this.#options.registryUrl;
    const url = typeof source === 'function' ? source() : source;
    if (source === null) return { kind: 'off' };
    if (url === null) {
      this.#following = 'unreachable';
      return null;
    }
    try {
      const read = await readRegistry(url);
      this.#solved('registry', `reads the registry at ${url} again`);
      this.#following = read.kind === 'off' ? 'off' : 'following';
      return read;
    } catch (error) {
      this.#following = 'unreachable';
      this.#problem(
        'registry',
        `cannot read the registry at ${url} (${(error as Error).message}): serving the built-in clusters and the last published ones it knew until it can`,
      );
      return null;
    }
  }

  async #refresh(): Promise<void> {
    const read = await this.#readRegistry();
    const now = Date.now();
    if (read) {
      const subgraphs = read.kind === 'published' ? read.subgraphs : [];
      const key = JSON.stringify(subgraphs.map((s) => [s.name, s.sdl]));
      // A registry change may come with built-ins redeployed: read them all again then.
      await this.#learnBuiltIn(key !== this.#registryKey);
      this.#registryKey = key;
      this.#registryVersion = read.kind === 'published' ? read.registryVersion : 0;
      const next = new Map<string, { sdl: SubgraphSdl; leftAt: number | null }>();
      for (const s of subgraphs) next.set(s.name, { sdl: { name: s.name, sdl: s.sdl }, leftAt: null });
      this.#options.onPublished?.(subgraphs.filter((s) => !this.#builtIn.has(s.name)).map((s) => ({ name: s.name, url: s.url })));
      for (const [name, kept] of this.#published) if (!next.has(name)) next.set(name, { ...kept, leftAt: kept.leftAt ?? now });
      this.#published = next;
    } else {
      await this.#learnBuiltIn(false);
    }
    const grace = this.#options.graceMs ?? 5000;
    for (const [name, kept] of this.#published) if (kept.leftAt !== null && now - kept.leftAt >= grace) this.#published.delete(name);
    const clusters = [
      ...this.#options.builtIn.flatMap((c) => {
        const sdl = this.#builtIn.get(c.name);
        return sdl === undefined ? [] : [{ name: c.name, sdl }];
      }),
      ...[...this.#published.values()].filter((k) => !this.#builtIn.has(k.sdl.name)).map((k) => k.sdl),
    ];
    const key = JSON.stringify(clusters);
    if (key === this.#builtKey) return;
    let built: ReturnType<LiveInsightsOptions['build']>;
    try {
      built = this.#options.build(clusters);
    } catch (error) {
      this.#problem(
        'build',
        `cannot derive a schema from ${clusters.map((c) => c.name).join(', ')}: ${(error as Error).message}; serving the last one`,
      );
      return;
    }
    this.#problems.delete('build');
    this.#builtKey = key;
    this.#schema = built.schema;
    this.#clusters = built.clusters;
    for (const listener of this.#listeners) listener({ apiSchema: built.schema, coreSupergraphSdl: '' });
    this.#options.log?.(`insights: serving registry version ${this.#registryVersion} (clusters ${built.clusters.join(', ')})`);
  }

  /** Logs a problem of `concern` once (until another one, or none, comes). */
  #problem(concern: string, problem: string): void {
    if (this.#problems.get(concern) !== problem) this.#options.log?.(`insights: ${problem}`);
    this.#problems.set(concern, problem);
  }

  /** Logs `line` when `concern` had a problem, which is gone. */
  #solved(concern: string, line: string): void {
    if (this.#problems.delete(concern)) this.#options.log?.(`insights: ${line}`);
  }

  onSchemaLoadOrUpdate(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async load(): Promise<{ executor: null }> {
    if (this.#schema) for (const listener of this.#listeners) listener({ apiSchema: this.#schema, coreSupergraphSdl: '' });
    return { executor: null };
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#running;
  }
}
