/**
 * The insights schema, swapped while serving. Insights' schema is derived from the cluster
 * subgraphs; a cluster published through the registry at runtime must be in it BEFORE any
 * gateway plans against a supergraph that has it (else a plan asks insights for types it does
 * not know, such as the new cluster's `FeedStatus`). So insights follows the registry's store
 * itself, re-derives on every change and says which registry version it serves
 * (`GET /schema/version`); gateways swap only once it does. A cluster that leaves stays in
 * the schema for a grace period, so gateways still planning with it (they converge within a
 * second) keep working.
 *
 * To Apollo Server this is a "gateway" without an executor: Apollo validates and executes
 * each request against the schema current when it started, with every plugin as usual.
 */
import type { ApolloServerOptionsWithGateway, BaseContext } from '@apollo/server';
import type { GraphQLSchema } from 'graphql';
import type { SubgraphSdl } from '../../schema/cluster-views.js';
import type { RegistryStore } from '../../gateway/registry/store.js';
import type { SchemaVersion as InsightsSchemaVersion } from '../../schema/wire.js';

export { SUBGRAPHS_HEADER } from '../../schema/wire.js';

/** The subgraphs a request's header names, or null (all) when it has none. */
export function subgraphsOf(header: string | string[] | undefined): ReadonlySet<string> | null {
  return typeof header === 'string' ? new Set(header.split(',').filter(Boolean)) : null;
}

type Gateway = ApolloServerOptionsWithGateway<BaseContext>['gateway'];
type Listener = Parameters<Gateway['onSchemaLoadOrUpdate']>[0];

/** What `GET /schema/version` answers (schema/wire.ts). */
export type { InsightsSchemaVersion };

export interface LiveInsightsOptions {
  /** The cluster subgraphs that are always there (built-in). */
  readonly fixed: readonly SubgraphSdl[];
  /** Builds the schema and lists the clusters compared. */
  readonly build: (clusters: readonly SubgraphSdl[]) => { schema: GraphQLSchema; clusters: readonly string[] };
  readonly registry: RegistryStore | null;
  /** How long a cluster that left stays in the schema, in ms. */
  readonly graceMs?: number;
  readonly log?: (line: string) => void;
}

export class LiveInsightsSchema implements Gateway {
  readonly #options: LiveInsightsOptions;
  readonly #listeners = new Set<Listener>();
  #schema: GraphQLSchema;
  #version: InsightsSchemaVersion;
  /** Published clusters served now, by name, with when they left the registry (if they did). */
  #published = new Map<string, { sdl: SubgraphSdl; leftAt: number | null }>();
  #unsubscribe: (() => void) | null = null;
  #timer: NodeJS.Timeout | null = null;
  #refreshing: Promise<void> = Promise.resolve();

  constructor(options: LiveInsightsOptions) {
    this.#options = options;
    const built = options.build(options.fixed);
    this.#schema = built.schema;
    this.#version = { registryVersion: 0, clusters: built.clusters };
  }

  /** Which registry version the schema serves now. */
  version(): InsightsSchemaVersion {
    return this.#version;
  }

  /** Reads the registry and follows it; call before serving. */
  async start(): Promise<void> {
    if (!this.#options.registry) return;
    this.#unsubscribe = this.#options.registry.onChange(() => void this.refresh());
    await this.refresh();
  }

  /** Re-derives from the registry's current state (serialised: one refresh at a time). */
  refresh(): Promise<void> {
    this.#refreshing = this.#refreshing
      .then(() => this.#refresh())
      .catch((error: unknown) => {
        this.#options.log?.(`insights: cannot follow the registry: ${(error as Error).message}`);
      });
    return this.#refreshing;
  }

  async #refresh(): Promise<void> {
    const registry = this.#options.registry;
    if (!registry) return;
    const state = await registry.current();
    if (state.version === this.#version.registryVersion && !this.#expired()) return;
    const now = Date.now();
    const next = new Map<string, { sdl: SubgraphSdl; leftAt: number | null }>();
    for (const s of state.subgraphs) next.set(s.name, { sdl: { name: s.name, sdl: s.sdl }, leftAt: null });
    const grace = this.#options.graceMs ?? 5000;
    for (const [name, kept] of this.#published) {
      if (next.has(name)) continue;
      const leftAt = kept.leftAt ?? now;
      if (now - leftAt < grace) next.set(name, { ...kept, leftAt });
    }
    const built = this.#options.build([...this.#options.fixed, ...[...next.values()].map((k) => k.sdl)]);
    this.#published = next;
    this.#schema = built.schema;
    this.#version = { registryVersion: state.version, clusters: built.clusters };
    for (const listener of this.#listeners) listener({ apiSchema: built.schema, coreSupergraphSdl: '' });
    this.#options.log?.(`insights: serving registry version ${state.version} (clusters ${built.clusters.join(', ')})`);
    this.#schedule(grace);
  }

  #expired(): boolean {
    const grace = this.#options.graceMs ?? 5000;
    return [...this.#published.values()].some((k) => k.leftAt !== null && Date.now() - k.leftAt >= grace);
  }

  #schedule(grace: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    const leaving = [...this.#published.values()].flatMap((k) => (k.leftAt === null ? [] : [k.leftAt]));
    if (leaving.length === 0) return;
    this.#timer = setTimeout(() => void this.refresh(), Math.max(0, Math.min(...leaving) + grace - Date.now()) + 10);
    this.#timer.unref();
  }

  onSchemaLoadOrUpdate(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async load(): Promise<{ executor: null }> {
    for (const listener of this.#listeners) listener({ apiSchema: this.#schema, coreSupergraphSdl: '' });
    return { executor: null };
  }

  async stop(): Promise<void> {
    this.#unsubscribe?.();
    if (this.#timer) clearTimeout(this.#timer);
    await this.#refreshing;
  }
}
