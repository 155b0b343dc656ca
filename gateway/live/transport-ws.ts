/**
 * Live answers over WebSocket on `/graphql`, the `graphql-transport-ws` protocol served by
 * `graphql-ws` on a `ws` server that takes the HTTP server's upgrades. A connection is one
 * stream under the gateway's stream limits (as an SSE stream is): past them it is closed with
 * 1013 "Try Again Later" naming the limit (graphql-ws clients retry it); the limits beat it
 * (pings), end it idle or old, and end it on drain with 1001 "Going Away", which clients
 * reconnect from. The upgrade counts once against the `/graphql` rate limit, however many
 * results the connection carries, and at most STREAMS_MAX_PER_CLIENT operations run on one
 * connection at once.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Express, Request } from 'express';
import { GraphQLError, GraphQLSchema, parse, type DocumentNode, type ExecutionResult, type FormattedExecutionResult } from 'graphql';
import type { ServerOptions } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { ErrorCode } from '../../schema/errors.js';
import type { PersistedResolution } from '../persisted-operations.js';
import type { RateVerdict } from '../rate-limit.js';
import { MAX_BUFFERED_BYTES, type OpenStream, type StreamEnd, type StreamLimits } from '../streams.js';
import type { StreamRequest } from './live-queries.js';
import type { Mask, Opened } from './operations.js';
import { requestHeaders } from './transport-sse.js';

/** Resolves a persisted id and applies PERSISTED_OPERATIONS_ONLY (`persisted-operations.ts`). */
export type ResolvePersisted = (documentId: string | undefined, query: string) => PersistedResolution;

export interface WsTransportOptions {
  readonly app: Express;
  readonly limits: StreamLimits;
  readonly open: (request: StreamRequest) => Promise<Opened>;
  readonly mask: Mask;
  readonly maxTokens: number;
  /** BODY_LIMIT: the largest message, as the largest `/graphql` request body. */
  readonly maxMessageBytes: number;
  /** Operations one connection may run at once. */
  readonly maxOperations: number;
  /** Counts the upgrade against the `/graphql` rate limit. */
  readonly rate: (req: Request) => Promise<RateVerdict | null>;
  /** Resolves a `documentId` and applies PERSISTED_OPERATIONS_ONLY, as `/graphql` does. */
  readonly persisted: ResolvePersisted;
  /** CORS_ORIGINS: the pages of other origins allowed to open a connection. */
  readonly allowedOrigins: readonly string[];
}

/**
 * Whether a browser page may open a connection: WebSocket has no CORS, so without this
 * check any site a user visits could read live answers through the user's network position.
 * Clients that are not browsers send no `Origin`; the gateway's own pages are same-origin.
 */
export function originAllowed(req: IncomingMessage, allowed: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  if (allowed.includes(origin)) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/**
 * The upgrade's headers, with the `Authorization` of the `connection_init` payload when the
 * upgrade had none: browsers cannot set headers on a WebSocket, so their clients send the
 * token there (`{ "Authorization": "Bearer …" }`, either case). The header wins when both are sent.
 */
function connectionHeaders(
  headers: ReadonlyMap<string, string>,
  params: Readonly<Record<string, unknown>> | undefined,
): ReadonlyMap<string, string> {
  const given = params?.['Authorization'] ?? params?.['authorization'];
  if (headers.has('authorization') || typeof given !== 'string') return headers;
  return new Map([...headers, ['authorization', given]]);
}

/** The close code of a stream the gateway ends: all of them are ones clients retry. */
const CLOSE_GOING_AWAY = 1001;
const CLOSE_TRY_AGAIN_LATER = 1013;

/** A WebSocket close reason is at most 123 bytes. */
const closeReason = (text: string) => Buffer.from(text).subarray(0, 123).toString();

/** graphql-ws wants a schema; the gateway executes through Apollo instead (`execute` below). */
const NO_SCHEMA = new GraphQLSchema({});
/** The document graphql-ws is given for a refusal: any query (it only reads its kind). */
const REFUSED = parse('{ __typename }');

interface Extra {
  readonly socket: WebSocket;
  readonly request: IncomingMessage;
}

/** The `ws` server and graphql-ws on it: `upgrade` takes the HTTP server's upgrade requests. */
export function wsTransport(options: WsTransportOptions): {
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  close(): Promise<void>;
} {
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxMessageBytes });
  const admitted = new WeakMap<WebSocket, OpenStream>();
  // A refusal is answered as SSE answers it: one `next` with the (masked) errors, then
  // `complete`. (graphql-ws's own error path would need graphql-js's GraphQLError class from
  // its copy of graphql, which is not always the gateway's.)
  const answer = (result: FormattedExecutionResult) => ({ opened: async (): Promise<Opened> => result });
  const refusal = (code: string, message: string) => answer({ errors: options.mask(new GraphQLError(message, { extensions: { code } })) });
  const argsFor = (contextValue: { opened: () => Promise<Opened> }, document: DocumentNode = REFUSED) => ({
    schema: NO_SCHEMA,
    document,
    contextValue,
  });
  const serverOptions: ServerOptions<Record<string, unknown>, Extra> = {
    onSubscribe: (ctx, _id, payload) => {
      const running = Object.keys(ctx.subscriptions).length;
      if (running > options.maxOperations)
        return argsFor(
          refusal(
            ErrorCode.TOO_MANY_STREAMS,
            `This connection already runs ${running - 1} operations, the most STREAMS_MAX_PER_CLIENT allows (${options.maxOperations})`,
          ),
        );
      // A persisted operation by id, as in a POST body: `{ "documentId": "…", "query": "" }`.
      const given = (payload as { documentId?: unknown }).documentId;
      const documentId = typeof given === 'string' ? given : undefined;
      const resolved = options.persisted(documentId, payload.query);
      if ('code' in resolved) return argsFor(refusal(resolved.code, resolved.message));
      const query = resolved.query ?? '';
      let document: DocumentNode;
      try {
        document = parse(query, { maxTokens: options.maxTokens });
      } catch (error) {
        return argsFor(refusal(ErrorCode.GRAPHQL_PARSE_FAILED, error instanceof Error ? error.message : String(error)));
      }
      const request: StreamRequest = {
        query,
        operationName: payload.operationName ?? null,
        variables: payload.variables ?? null,
        headers: connectionHeaders(requestHeaders(ctx.extra.request.headers), ctx.connectionParams),
      };
      return {
        ...argsFor({ opened: () => options.open(request) }, document),
        ...(payload.operationName ? { operationName: payload.operationName } : {}),
      };
    },
    // Every operation goes through the gateway's router (live, once, or a subscription).
    execute: (args) => (args.contextValue as { opened: () => Promise<Opened> }).opened() as unknown as Promise<ExecutionResult>,
    subscribe: (args) => (args.contextValue as { opened: () => Promise<Opened> }).opened() as unknown as Promise<ExecutionResult>,
    // Results arrive masked and formatted: sent as they are.
    onNext: (ctx, _id, _payload, _args, result) => {
      const socket = ctx.extra.socket;
      admitted.get(socket)?.activity();
      // A client that does not read: cut it rather than buffer for it (it reconnects).
      if (socket.bufferedAmount > MAX_BUFFERED_BYTES) socket.terminate();
      return result as FormattedExecutionResult as ExecutionResult;
    },
    onError: (_ctx, _id, _payload, errors) => errors.flatMap((error) => options.mask(error)),
  };
  // Heartbeats come from the stream limits (one mechanism), not graphql-ws's own pings; no
  // internal error's text ever reaches a client (isProd), whatever NODE_ENV says.
  const server = useServer({ ...serverOptions, isProd: true } as Parameters<typeof useServer>[0], wss, 0);

  const endCode = (reason: StreamEnd) =>
    reason === 'shutdown' ? 'the gateway is stopping' : reason === 'idle' ? 'idle' : 'stream lifetime reached';
  const accept = (req: IncomingMessage, ws: WebSocket) => {
    const stream = options.limits.admit(req as Request, {
      // ping throws on a socket already closing: the limits' interval must never throw.
      heartbeat: () => {
        if (ws.readyState === ws.OPEN) ws.ping();
      },
      end: (reason) => ws.close(CLOSE_GOING_AWAY, closeReason(`Closed by the gateway: ${endCode(reason)}; reconnect`)),
      onGone: (listener) => {
        ws.once('close', listener);
        if (ws.readyState === ws.CLOSED) queueMicrotask(listener);
      },
    });
    if (stream.refused) {
      ws.close(
        CLOSE_TRY_AGAIN_LATER,
        closeReason(`${ErrorCode.TOO_MANY_STREAMS} ${stream.limit}=${stream.max}; retry after ${stream.retryAfterSeconds} s`),
      );
      return;
    }
    admitted.set(ws, stream);
    ws.on('message', () => stream.activity());
    wss.emit('connection', ws, req);
  };

  return {
    upgrade: (req, socket, head) => {
      const path = new URL(req.url ?? '/', 'http://gateway').pathname;
      if (path !== '/graphql') {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      if (!originAllowed(req, options.allowedOrigins)) {
        const body = JSON.stringify({
          errors: [{ message: `Origin ${req.headers.origin} is not in CORS_ORIGINS`, extensions: { code: ErrorCode.FORBIDDEN } }],
        });
        socket.end(
          `HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
        return;
      }
      // Express's request prototype (as Express gives every request), so `req.ip` honours TRUST_PROXY.
      Object.setPrototypeOf(req, options.app.request);
      options.rate(req as Request).then(
        (verdict) => {
          if (verdict && !verdict.allowed) {
            const body = JSON.stringify({ errors: [{ message: verdict.message, extensions: { code: ErrorCode.RATE_LIMITED } }] });
            socket.end(
              `HTTP/1.1 429 Too Many Requests\r\nRetry-After: ${verdict.retryAfterSeconds}\r\nContent-Type: application/json\r\n` +
                `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
            );
            return;
          }
          if (socket.destroyed) return;
          wss.handleUpgrade(req, socket, head, (ws) => accept(req, ws));
        },
        () => socket.destroy(),
      );
    },
    close: async () => {
      await server.dispose();
    },
  };
}
