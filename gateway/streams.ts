/**
 * Bounds on long-lived streams, the one mechanism every streaming endpoint goes through
 * (`/events` today; live queries over SSE or WebSocket later). Without them one client
 * opening thousands of connections runs the gateway out of memory (each open stream holds
 * buffers, timers and listeners), so:
 *
 * - a client (the rate limiter's key: a known API key, else its address) holds at most
 *   `STREAMS_MAX_PER_CLIENT` streams, and the gateway at most `STREAMS_MAX_TOTAL`; beyond
 *   either a new stream is refused with HTTP 429, `Retry-After` and a body naming the limit;
 * - every stream sends a heartbeat every `STREAMS_HEARTBEAT_SECONDS` (proxies close quiet
 *   connections), is closed after `STREAMS_IDLE_SECONDS` with nothing to send (which also
 *   reclaims connections whose peer vanished without closing: heartbeats to it fail only
 *   when TCP gives up, many minutes later) and after `STREAMS_MAX_LIFETIME_SECONDS` whatever
 *   it does (so streams rebalance across replicas); clients reconnect, as EventSource does;
 * - a client that does not read what is sent cannot make the gateway buffer for it: past
 *   `MAX_BUFFERED_BYTES` unsent, its stream is cut.
 *
 * A slot is released exactly once, however the stream ends (closed by either side, aborted,
 * failed), so the counts return to zero.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import type { Request, Response } from 'express';
import { ErrorCode } from '../schema/errors.js';
import type { StreamsConfig } from './config.js';

/** The setting a refused stream ran into. */
export type StreamLimit = 'STREAMS_MAX_PER_CLIENT' | 'STREAMS_MAX_TOTAL';

/** Why the gateway ended a stream. */
export type StreamEnd = 'idle' | 'lifetime' | 'shutdown';

/** A stream refused: answer it with `refuseStream` (HTTP) or the transport's own refusal. */
export interface StreamRefusal {
  readonly refused: true;
  readonly limit: StreamLimit;
  readonly max: number;
  readonly retryAfterSeconds: number;
  readonly message: string;
}

/** What a streaming endpoint tells the limits: how to beat, how to end, and when it is gone. */
export interface StreamTransport {
  /** Sends a heartbeat (an SSE comment, a WebSocket ping). */
  heartbeat(): void;
  /** Ends the stream from the gateway's side. */
  end(reason: StreamEnd): void;
  /** Calls `listener` when the connection is gone, however it went; more than once is fine. */
  onGone(listener: () => void): void;
}

/** A stream admitted under the limits. */
export interface OpenStream {
  readonly refused: false;
  /** The client key it is counted under. */
  readonly client: string;
  /** Something was sent or received: the idle clock starts again. */
  activity(): void;
}

/**
 * How long a refused client is told to wait: slots free up as streams end, and the
 * dashboard polls every 30 s meanwhile anyway.
 */
const RETRY_AFTER_SECONDS = 30;
/** Unsent bytes a stream may queue for a client that does not read before it is cut. */
export const MAX_BUFFERED_BYTES = 64 * 1024;

/** Counts open streams per client and in total, and keeps each one's clocks. */
export class StreamLimits {
  readonly #config: StreamsConfig;
  readonly #clientOf: (req: Request) => string;
  readonly #byClient = new Map<string, number>();
  readonly #ends = new Set<(reason: StreamEnd) => void>();

  /** `clientOf` gives a request's client key (the rate limiter's `clientKey`). */
  constructor(config: StreamsConfig, clientOf: (req: Request) => string) {
    this.#config = config;
    this.#clientOf = clientOf;
  }

  /** Streams open now, all clients together. */
  get open(): number {
    return this.#ends.size;
  }

  /** Streams `client` holds now. */
  openBy(client: string): number {
    return this.#byClient.get(client) ?? 0;
  }

  /** Admits a stream for `req` and starts its clocks, or says which limit refuses it. */
  admit(req: Request, transport: StreamTransport): OpenStream | StreamRefusal {
    const client = this.#clientOf(req);
    const held = this.openBy(client);
    const { maxPerClient, maxTotal } = this.#config;
    if (held >= maxPerClient) return refusal('STREAMS_MAX_PER_CLIENT', maxPerClient, `This client already holds ${held} open streams`);
    if (this.open >= maxTotal) return refusal('STREAMS_MAX_TOTAL', maxTotal, `The gateway already holds ${this.open} open streams`);
    this.#byClient.set(client, held + 1);

    const seconds = (s: number) => s * 1000;
    const heartbeat = setInterval(() => transport.heartbeat(), seconds(this.#config.heartbeatSeconds));
    const idle = setTimeout(() => end('idle'), seconds(this.#config.idleSeconds));
    // Up to a tenth early, so streams opened together (after a deploy) do not all reconnect together.
    const lifetime = setTimeout(() => end('lifetime'), seconds(this.#config.maxLifetimeSeconds) * (1 - Math.random() / 10));
    for (const timer of [heartbeat, idle, lifetime]) timer.unref();

    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      clearInterval(heartbeat);
      clearTimeout(idle);
      clearTimeout(lifetime);
      this.#ends.delete(end);
      const left = this.openBy(client) - 1;
      if (left > 0) this.#byClient.set(client, left);
      else this.#byClient.delete(client);
    };
    const end = (reason: StreamEnd) => {
      release();
      transport.end(reason);
    };
    this.#ends.add(end);
    transport.onGone(release);
    return { refused: false, client, activity: () => void (released || idle.refresh()) };
  }

  /** Ends every open stream (the gateway is stopping). */
  closeAll(): void {
    for (const end of [...this.#ends]) end('shutdown');
  }

  /** Ends the open streams when Apollo Server drains, so they never hold up a stop. */
  plugin(): ApolloServerPlugin {
    return {
      serverWillStart: async () => ({ drainServer: async () => this.closeAll() }),
    };
  }
}

function refusal(limit: StreamLimit, max: number, why: string): StreamRefusal {
  return {
    refused: true,
    limit,
    max,
    retryAfterSeconds: RETRY_AFTER_SECONDS,
    message: `${why}, the most ${limit} allows (${max}); close one or retry after ${RETRY_AFTER_SECONDS} s`,
  };
}

/** Answers a refused stream over HTTP: 429, `Retry-After`, and the limit in the error's extensions. */
export function refuseStream(res: Response, refused: StreamRefusal): void {
  res
    .status(429)
    .setHeader('retry-after', String(refused.retryAfterSeconds))
    .type('application/json')
    .send(
      JSON.stringify({
        errors: [{ message: refused.message, extensions: { code: ErrorCode.TOO_MANY_STREAMS, limit: refused.limit, max: refused.max } }],
      }),
    );
}

/** A server-sent-events stream admitted under the limits. */
export interface EventStream {
  /** Sends one event (`data` is one line: JSON, say). */
  send(event: string, data: string): void;
  /** Calls `listener` once the stream is gone, whoever ended it. */
  onClose(listener: () => void): void;
}

/**
 * Opens a server-sent-events stream on `res` under `limits`: 200 `text/event-stream` with
 * heartbeats (`: keep-alive` comments), or a 429 refusal (then null, and nothing to clean up).
 */
export function eventStream(limits: StreamLimits, req: Request, res: Response): EventStream | null {
  const write = (text: string) => {
    if (res.writableEnded || res.destroyed) return;
    res.write(text);
    // A client that does not read: cut it rather than buffer for it (it frees its slot).
    if (res.writableLength > MAX_BUFFERED_BYTES) res.destroy();
  };
  const onGone = (listener: () => void) => {
    res.once('close', listener);
    res.on('error', listener);
    // Gone before the route ran (the client aborted at once): no 'close' is coming.
    if (res.destroyed || req.socket.destroyed) queueMicrotask(listener);
  };
  const admitted = limits.admit(req, { heartbeat: () => write(': keep-alive\n\n'), end: () => res.end(), onGone });
  if (admitted.refused) {
    refuseStream(res, admitted);
    return null;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  return {
    send: (event, data) => {
      admitted.activity();
      write(`event: ${event}\ndata: ${data}\n\n`);
    },
    onClose: (listener) => {
      let called = false;
      onGone(() => {
        if (!called) listener();
        called = true;
      });
    },
  };
}
