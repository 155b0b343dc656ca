import { Redis } from 'ioredis';

/**
 * A Redis connection for uses that must never fail a request: while Redis is away, commands
 * fail at once (no offline queue) so the caller can fall back, the outage is logged once,
 * and the connection comes back by itself.
 */
export class RedisLink {
  readonly redis: Redis;
  #available = false;
  #problem: string | null = 'connecting to Redis';
  readonly #log: (line: string) => void;
  readonly #what: string;

  /**
   * `what` names the user in log lines (e.g. "gateway cache"); `onReady` runs whenever the
   * connection becomes usable after not being so.
   */
  constructor(url: string, options: { what: string; log?: (line: string) => void; onReady?: () => void }) {
    this.#log = options.log ?? (() => {});
    this.#what = options.what;
    this.redis = new Redis(url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(200 * times, 2000),
    });
    this.redis.on('ready', () => {
      const wasDown = !this.#available;
      if (wasDown && this.#problem !== 'connecting to Redis') this.#log(`${this.#what}: Redis is back`);
      this.#available = true;
      this.#problem = null;
      if (wasDown) options.onReady?.();
    });
    this.redis.on('error', (error: Error) => this.#down(error));
    this.redis.on('close', () => this.#down(new Error('connection closed')));
  }

  get available(): boolean {
    return this.#available;
  }

  /** Why Redis is not usable, or null. */
  get problem(): string | null {
    return this.#problem;
  }

  /**
   * Records a failed command: a lost connection marks Redis down until it is ready again;
   * an error Redis answered with (a command refused, say for memory) fails only that call.
   */
  failed(error: Error): void {
    if (error.name === 'ReplyError' || error instanceof SyntaxError) {
      this.#log(`${this.#what}: Redis refused a command (${error.message}); that call fell back`);
      return;
    }
    this.#down(error);
  }

  #down(error: Error): void {
    if (this.#available || this.#problem === 'connecting to Redis') {
      this.#log(`${this.#what}: Redis unreachable (${error.message}); falling back until it is back`);
    }
    this.#available = false;
    this.#problem = `Redis unreachable (${error.message})`;
  }

  close(): void {
    this.redis.disconnect();
  }
}
