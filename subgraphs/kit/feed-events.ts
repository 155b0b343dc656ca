import type { Express, Response } from 'express';
import { feedVersionOf } from './feed-version.js';
import type { ViewStore } from './store.js';
import { FEED_EVENTS_PATH, FEED_VERSION_PATH, type FeedVersionEvent } from '../../schema/wire.js';

export { FEED_CHANNEL, type FeedVersionEvent } from '../../schema/wire.js';
export { feedVersionOf } from './feed-version.js';

/**
 * A cluster subgraph's feed version for gateways: `GET /feed/version` (JSON) and
 * `GET /feed/events` (server-sent events: the version on connect and on every change).
 */
export class FeedEvents {
  readonly #subgraph: string;
  readonly #store: ViewStore<unknown>;
  readonly #rejection: () => string | null;
  readonly #clients = new Set<Response>();
  #last: string | null = null;
  #heartbeat: NodeJS.Timeout | null = null;

  /** `rejection` identifies the last refused file (the same on every replica), or null. */
  constructor(subgraph: string, store: ViewStore<unknown>, rejection: () => string | null = () => null) {
    this.#subgraph = subgraph;
    this.#store = store;
    this.#rejection = rejection;
  }

  async current(): Promise<FeedVersionEvent> {
    return { subgraph: this.#subgraph, version: feedVersionOf(await this.#store.manifest(), this.#rejection()) };
  }

  /**
   * Tells gateways when the version changed (call once an accepted report is visible, or a
   * file was refused): on the event streams, and through the store to every gateway replica.
   */
  async changed(): Promise<void> {
    const event = await this.current();
    if (event.version === this.#last) return;
    this.#last = event.version;
    for (const client of this.#clients) client.write(`event: version\ndata: ${JSON.stringify(event)}\n\n`);
    await this.#store.announce?.(event);
  }

  routes(app: Express): void {
    app.get(FEED_VERSION_PATH, async (_req, res) => {
      res.json(await this.current());
    });
    app.get(FEED_EVENTS_PATH, async (req, res) => {
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
