import { createHash } from 'node:crypto';
import type { Express, Response } from 'express';
import { manifestAt, type Manifest, type ViewStore } from './store.js';

/** The Redis pub/sub channel on which cluster subgraphs announce a new feed version. */
export const FEED_CHANNEL = 'msg:feeds';

/** What a cluster subgraph announces: its name and the version of its current reports. */
export interface FeedVersionEvent {
  readonly subgraph: string;
  readonly version: string;
}

/**
 * The version of a cluster's current reports: a hash of their content versions, so every
 * replica that serves the same reports has the same version, and any accepted, corrected or
 * new report changes it. Caches key their entries by it.
 */
export function feedVersionOf(manifest: Manifest): string {
  const current = manifestAt(manifest, null).snapshots.map((s) => `${s.file}@${s.version}`);
  return createHash('sha256').update(current.join('\n')).digest('hex').slice(0, 16);
}

/**
 * A cluster subgraph's feed version for gateways: `GET /feed/version` (JSON) and
 * `GET /feed/events` (server-sent events: the version on connect and on every change).
 */
export class FeedEvents {
  readonly #subgraph: string;
  readonly #store: ViewStore<unknown>;
  readonly #clients = new Set<Response>();
  #last: string | null = null;
  #heartbeat: NodeJS.Timeout | null = null;

  constructor(subgraph: string, store: ViewStore<unknown>) {
    this.#subgraph = subgraph;
    this.#store = store;
  }

  async current(): Promise<FeedVersionEvent> {
    return { subgraph: this.#subgraph, version: feedVersionOf(await this.#store.manifest()) };
  }

  /** Tells listening gateways when the version changed (call after a report is accepted). */
  async changed(): Promise<void> {
    const event = await this.current();
    if (event.version === this.#last) return;
    this.#last = event.version;
    for (const client of this.#clients) client.write(`event: version\ndata: ${JSON.stringify(event)}\n\n`);
  }

  routes(app: Express): void {
    app.get('/feed/version', async (_req, res) => {
      res.json(await this.current());
    });
    app.get('/feed/events', async (req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write(`event: version\ndata: ${JSON.stringify(await this.current())}\n\n`);
      this.#clients.add(res);
      req.on('close', () => this.#clients.delete(res));
      this.#heartbeat ??= setInterval(() => {
        for (const client of this.#clients) client.write(': keep-alive\n\n');
      }, 15_000).unref();
    });
  }

  /** Ends every event stream (on shutdown, so the HTTP server can drain). */
  close(): void {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    for (const client of this.#clients) client.end();
    this.#clients.clear();
  }
}
