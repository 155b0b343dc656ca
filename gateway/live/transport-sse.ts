/**
 * Live answers over server-sent events on `/graphql`: a request with
 * `Accept: text/event-stream` (a POST, or a GET, e.g. of a persisted operation) opens one
 * stream for one operation, the GraphQL-over-SSE protocol's "distinct connections" mode,
 * served by `graphql-sse`'s own handler. Each stream is admitted under the gateway's stream
 * limits first (429 past them, as `/events`), which also beat, end idle and old streams, and
 * end every stream when the gateway drains.
 */
import type { Request, RequestHandler, Response } from 'express';
import type { ExecutionResult, FormattedExecutionResult } from 'graphql';
import { createHandler } from 'graphql-sse/lib/use/express';
import { refuseStream, type OpenStream, type StreamLimits } from '../streams.js';
import type { LiveStream, StreamRequest } from './live-queries.js';
import type { Opened } from './operations.js';

export interface SseTransportOptions {
  readonly limits: StreamLimits;
  /** Opens a stream's operation (`operations.ts`). */
  readonly open: (request: StreamRequest) => Promise<Opened>;
}

/** The request headers as Apollo's plugins read them: lower-case names, one value each. */
export function requestHeaders(headers: Request['headers']): ReadonlyMap<string, string> {
  const map = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) map.set(name.toLowerCase(), Array.isArray(value) ? value.join(', ') : value);
  }
  return map;
}

/** A one-result stream: graphql-sse sends it as one `next`, then `complete`. */
async function* once(result: FormattedExecutionResult): AsyncGenerator<FormattedExecutionResult, undefined> {
  yield result;
  return undefined;
}

/**
 * Forwards a live stream to the transport, counting each result as activity and cutting a
 * client that has not read the previous result by the time the next is due (rather than
 * queueing results for it: it reconnects and gets the current one). `return` goes through at
 * once, even while a result is awaited, so the stream ends when the client does.
 */
export function relay(stream: LiveStream, admitted: OpenStream, reading: () => boolean): LiveStream {
  let first = true;
  const relayed: LiveStream = {
    next: async () => {
      const step = await stream.next();
      if (step.done) return step;
      if (!first && !reading()) {
        await stream.return(undefined);
        return { done: true, value: undefined };
      }
      first = false;
      admitted.activity();
      return step;
    },
    return: (value) => stream.return(value),
    throw: (error) => stream.throw(error),
    [Symbol.asyncIterator]: () => relayed,
  };
  return relayed;
}

/** The middleware, mounted on `/graphql` before Apollo's: it takes only event-stream requests. */
export function sseTransport(options: SseTransportOptions): RequestHandler {
  const admissions = new WeakMap<Request, { admitted: OpenStream; res: Response }>();
  const handler = createHandler({
    // No tokens: distinct connections only (no reservations held between requests).
    authenticate: () => null,
    onSubscribe: async (sseReq, params) => {
      const admission = admissions.get(sseReq.raw);
      if (!admission) throw new TypeError('sseTransport: a request reached graphql-sse without being admitted');
      const opened = await options.open({
        query: params.query,
        operationName: params.operationName ?? null,
        variables: params.variables ?? null,
        headers: requestHeaders(sseReq.raw.headers),
      });
      // Results arrive formatted (masked); graphql-sse types them as unformatted, but only serialises them.
      type Sent = AsyncGenerator<ExecutionResult>;
      if (!(Symbol.asyncIterator in opened)) return once(opened) as unknown as Sent;
      const { res } = admission;
      // A result still unsent when the next is due: the client does not read.
      const reading = () => {
        const behind = res.writableNeedDrain;
        if (behind) res.destroy();
        return !behind && !res.destroyed;
      };
      return relay(opened, admission.admitted, reading) as unknown as Sent;
    },
  });
  return (req, res, next) => {
    if (req.headers.accept !== 'text/event-stream') return next();
    const onGone = (listener: () => void) => {
      res.once('close', listener);
      res.on('error', listener);
      if (res.destroyed || req.socket.destroyed) queueMicrotask(listener);
    };
    const admitted = options.limits.admit(req, {
      heartbeat: () => {
        if (res.headersSent && res.writable) res.write(':\n\n');
      },
      end: () => res.end(),
      onGone,
    });
    if (admitted.refused) return refuseStream(res, admitted);
    admissions.set(req, { admitted, res });
    handler(req, res).catch((error: unknown) => next(error));
  };
}
