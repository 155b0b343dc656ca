import type { Express, Response } from 'express';
import { FEED_EVENTS_PATH, FEED_VERSION_PATH, type FeedVersionEvent } from '../../schema/wire.js';

export { FEED_CHANNEL, type FeedVersionEvent } from '../../schema/wire.js';
export { feedVersionOf } from './feed-version.js';

/**
 * Where a feed-versioned subgraph's version comes from: a cluster's reports (`feedVersionOf`
 * of its store's manifest), the programme's membership (`membershipVersionOf`). The version
 * must be the same on every replica that serves the same data, and change whenever the data does.
 */
export interface VersionSource {
  /** The version of what the subgraph serves now. */
  version(): Promise<string> | string;
  /** Tells every gateway replica at once (with Redis: on `FEED_CHANNEL`); absent: streams only. */
  announce?(event: FeedVersionEvent): Promise<void>;
}

/**
 * A feed-versioned subgraph's version for gateways: `GET /feed/version` (JSON) and
 * `GET /feed/events` (server-sent events: the version on connect and on every change).
 * Gateways key their caches by it, and keep an answer only under the version it came from
 * (`FEED_VERSION_HEADER`, sent with every answer).
 */
export class FeedEvents {
  readonly #subgraph: string;
  readonly #source: VersionSource;
  readonly #clients = new Set<Response>();
  #last: string | null = null;
  #heartbeat: NodeJS.Timeout | null = null;

  constructor(subgraph: string, source: VersionSource) {
    this.#subgraph = subgraph;
    this.#source = source;
  }

  async current(): Promise<FeedVersionEvent> {
    return { subgraph: this.#subgraph, version: await this.#source.version() };
  }

  /**
   * Tells gateways when the version changed (call once the new data is served: an accepted
   * report visible, a file refused, a membership applied): on the event streams, and through
   * the source's `announce` to every gateway replica.
   */
  async changed(): Promise<void> {
    const event = await this.current();
    if (event.version === this.#last) return;
    this.#last = event.version;
    for (const client of this.#clients) client.write(`event: version\ndata: ${JSON.stringify(event)}\n\n`);
    await this.#source.announce?.(event);
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
