import { FEED_CHANNEL, type FeedVersionEvent } from '../../schema/wire.js';
import { RedisLink } from '../../schema/redis-link.js';

/**
 * Announces a subgraph's new versions on `FEED_CHANNEL`, the channel every gateway replica
 * with the same `REDIS_URL` follows, so all of them stop answering from the old version at
 * once. Best effort: while Redis is away nothing is sent, and gateways that lost Redis stop
 * caching that subgraph until they read its `/feed/version` again.
 */
export async function announceOn(link: RedisLink, event: FeedVersionEvent): Promise<void> {
  if (!link.available) return;
  try {
    await link.redis.publish(FEED_CHANNEL, JSON.stringify(event));
  } catch (error) {
    link.failed(error as Error);
  }
}

/** A Redis connection used only to announce versions (a subgraph without a Redis store: the programme). */
export class RedisAnnouncer {
  readonly #link: RedisLink;

  constructor(url: string, options: { what: string; log?: (line: string) => void }) {
    this.#link = new RedisLink(url, options);
  }

  announce(event: FeedVersionEvent): Promise<void> {
    return announceOn(this.#link, event);
  }

  close(): void {
    this.#link.close();
  }
}
