/**
 * The built-in subgraphs, known to the gateway by URL only (`PROGRAMME_URL`, `SOUTH_URL`, …):
 * their SDL is what each serves (`{ _service { sdl } }`), fetched at start and on every
 * registry change, never read from their code. A starting gateway waits for them a bounded
 * time (`SUBGRAPH_SDL_WAIT_MS`), saying what it waits for; past that it starts on the
 * committed `schema/supergraph.graphql` (routed to the configured URLs) and keeps asking.
 */
import { readFileSync } from 'node:fs';
import { SCHEMA_VERSION_PATH, type SchemaVersion } from '../schema/wire.js';
import type { SubgraphSource } from './compose.js';
import { fetchSubgraph } from './subgraph-fetch.js';

/**
 * A built-in subgraph as it serves itself. One that follows the registry (insights, whose
 * schema is derived from the cluster subgraphs, answers `GET /schema/version`) serves an SDL
 * that belongs to one registry state: a change's checks compose without it, and a swap waits
 * until it serves the new state, then asks again.
 */
export interface ServedSubgraph extends SubgraphSource {
  readonly followsRegistry?: true;
}

/** The query every federation subgraph answers with its SDL. */
const SERVICE_SDL_QUERY = '{ _service { sdl } }';
const RETRY_MS = 250;

/** The committed supergraph, the offline fallback. */
const COMMITTED_SUPERGRAPH = new URL('../schema/supergraph.graphql', import.meta.url);

/** The SDL `url` serves, or throws saying why not (unreachable, not a subgraph, too large). */
export async function fetchServedSdl(url: string, timeoutMs = 2000): Promise<string> {
  const response = await fetchSubgraph(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: SERVICE_SDL_QUERY }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  let body: { data?: { _service?: { sdl?: unknown } } } | null;
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    body = null; // not JSON: reported below
  }
  const sdl = body?.data?._service?.sdl;
  if (!response.ok || typeof sdl !== 'string') throw new Error(`answered ${response.status} without a subgraph SDL (${SERVICE_SDL_QUERY})`);
  return sdl;
}

/** The committed supergraph, each subgraph routed to the URL this gateway is configured with. */
export function committedSupergraph(urls: Readonly<Record<string, string>>): string {
  return readFileSync(COMMITTED_SUPERGRAPH, 'utf8').replace(/@join__graph\(name: "([^"]+)", url: "([^"]+)"\)/g, (all, name: string) =>
    urls[name] ? `@join__graph(name: ${JSON.stringify(name)}, url: ${JSON.stringify(urls[name])})` : all,
  );
}

/** The built-in subgraphs (and any a test adds with their SDL given), by what they serve. */
export class BuiltInSubgraphs {
  readonly #urls: Readonly<Record<string, string>>;
  readonly #extra: readonly SubgraphSource[];
  readonly #log: (line: string) => void;

  constructor(urls: Readonly<Record<string, string>>, extra: readonly SubgraphSource[], log: (line: string) => void) {
    this.#urls = urls;
    this.#extra = extra;
    this.#log = log;
  }

  /** Routing URLs by name. */
  get urls(): Readonly<Record<string, string>> {
    return this.#urls;
  }

  /** Every built-in's SDL as served now; rejects naming each that did not answer, and why. */
  async fetch(): Promise<ServedSubgraph[]> {
    const entries = Object.entries(this.#urls);
    const [answers, follows] = await Promise.all([
      Promise.allSettled(entries.map(([, url]) => fetchServedSdl(url))),
      Promise.all(entries.map(([, url]) => followsRegistry(url))),
    ]);
    const failed = answers.flatMap((a, i) =>
      a.status === 'rejected' ? [`${entries[i]![0]} (${entries[i]![1]}: ${reason(a.reason)})`] : [],
    );
    if (failed.length > 0) throw new Error(`not serving their SDL yet: ${failed.join(', ')}`);
    const served = answers.map((a, i) => ({
      name: entries[i]![0],
      url: entries[i]![1],
      sdl: (a as PromiseFulfilledResult<string>).value,
      ...(follows[i] ? { followsRegistry: true as const } : {}),
    }));
    return [...served, ...this.#extra];
  }

  /**
   * Asks until every built-in serves its SDL, for at most `budgetMs`; logs what it waits for
   * (once, and again when that changes). Null when the budget ran out.
   */
  async waitFor(budgetMs: number, stopped: () => boolean = () => false): Promise<ServedSubgraph[] | null> {
    const deadline = Date.now() + budgetMs;
    let said: string | null = null;
    for (;;) {
      try {
        const served = await this.fetch();
        if (said) this.#log('gateway: every built-in subgraph serves its SDL');
        return served;
      } catch (error) {
        const waiting = (error as Error).message.replace(/ \([^)]*\)/g, '');
        if (waiting !== said)
          this.#log(`gateway: waiting up to ${budgetMs} ms (SUBGRAPH_SDL_WAIT_MS) for built-in subgraphs ${(error as Error).message}`);
        said = waiting;
      }
      if (Date.now() + RETRY_MS > deadline || stopped()) return null;
      await new Promise((r) => setTimeout(r, RETRY_MS));
    }
  }
}

/** How long and for what `followersServe` waits. */
export interface FollowerWait {
  /** The registry version whose clusters are needed. */
  readonly registryVersion: number;
  /** The gateway is starting: its registry may not answer yet. */
  readonly starting: boolean;
  readonly timeoutMs: number;
  readonly stopped: () => boolean;
}

/**
 * Waits (up to `timeoutMs` each) until every built-in that follows the registry (insights: it
 * answers `GET /schema/version`) compares exactly the clusters in `needed`; true, or what one
 * serves instead.
 */
export async function followersServe(
  followers: readonly ServedSubgraph[],
  needed: readonly string[],
  wait: FollowerWait,
): Promise<true | string> {
  const { timeoutMs, stopped } = wait;
  for (const follower of followers) {
    // Told the registry version waited for, a follower reads the registry at once.
    const url = new URL(`${SCHEMA_VERSION_PATH}?registryVersion=${wait.registryVersion}`, follower.url);
    const deadline = Date.now() + timeoutMs;
    let seen = 'no answer';
    for (;;) {
      try {
        const response = await fetchSubgraph(url, { signal: AbortSignal.timeout(2000) });
        if (response.ok) {
          const served = (await response.json()) as SchemaVersion;
          // Exactly: one that still compares a cluster that left (its grace period) requires
          // fields nobody serves any more, and does not compose with this state.
          if (served.clusters.length === needed.length && needed.every((n) => served.clusters.includes(n))) break;
          seen = `it compares ${served.clusters.join(', ')} (registry version ${served.registryVersion})`;
          // A starting gateway does not wait for a follower that cannot read the registry: that
          // registry may be this very gateway, not listening yet (it swaps once it does).
          if (wait.starting && served.registry !== 'following') return `${seen}, and it cannot read the registry yet`;
        } else {
          seen = `${url} answered ${response.status}`;
        }
      } catch (error) {
        seen = `${url}: ${(error as Error).message}`;
      }
      if (stopped()) return 'the gateway is stopping';
      if (Date.now() > deadline)
        return `${follower.name} does not compare exactly ${needed.join(', ')} yet (${seen}); does it follow this registry (INSIGHTS_REGISTRY_URL)?`;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return true;
}

/** Whether the subgraph at `url` says which registry state it serves (`GET /schema/version`). */
async function followsRegistry(url: string): Promise<boolean> {
  try {
    const response = await fetchSubgraph(new URL(SCHEMA_VERSION_PATH, url), { signal: AbortSignal.timeout(2000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

const reason = (error: unknown) => {
  const e = error as Error & { cause?: { code?: string } };
  return e.cause?.code ?? e.message;
};
