/**
 * How every service of the programme answers HTTP, the gateway and each subgraph alike:
 * GraphQL at `/graphql` (JSON only), `/health`, one JSON error body shape (never an HTML page
 * or a stack), and a port already taken refused naming its setting. The kit's `createService`
 * (subgraphs/kit/http.ts) offers a supplier's subgraph the part it needs; the gateway adds
 * its own middleware through the options only it uses (`before`, `graphqlMiddleware`,
 * `bodyLimitBytes`, `fastPath`).
 */
import { createServer, IncomingMessage, ServerResponse, type Server } from 'node:http';
import { Readable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { ApolloServer, ApolloServerPlugin, BaseContext, ContextFunction } from '@apollo/server';
import { ErrorCode } from './errors.js';
import { GRAPHQL_PATH } from './wire.js';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware, type ExpressContextFunctionArgument } from '@as-integrations/express5';

/** Options for a GraphQL-over-HTTP service (a subgraph or the gateway). */
export interface ServiceOptions<TContext extends BaseContext> {
  readonly name: string;
  /** Builds the Apollo server; `drain` must be in its plugins so shutdown drains requests. */
  readonly apollo: (drain: ApolloServerPlugin) => ApolloServer<TContext>;
  readonly context: ContextFunction<[ExpressContextFunctionArgument], TContext>;
  /** Adds routes of the service's own (they are mounted before `/graphql`). */
  readonly routes?: (app: express.Express) => void;
  /** Runs on `/graphql` requests after body parsing, before Apollo (e.g. persisted operations). */
  readonly graphqlMiddleware?: readonly express.RequestHandler[];
  /** Runs after the server has drained, to release what the service holds (watchers, stores). */
  readonly onStop?: () => Promise<void>;
  /** Largest `/graphql` request body, in bytes (1 MiB by default). */
  readonly bodyLimitBytes?: number;
  /** Adds app-wide middleware, before any route (request ids, access logs, CORS, rate limits). */
  readonly before?: (app: express.Express) => void;
  /**
   * Sees every request before Express routes it, as Express's own `req`/`res` (their helpers
   * work), and answers what it can cheaply (the gateway's response-cache hits): true when it
   * has answered, false to hand the request on to Express. A body it read with `readBody`
   * is handed on too: Express parses it as if it had read it.
   */
  readonly fastPath?: (req: express.Request, res: express.Response) => boolean | Promise<boolean>;
}

/**
 * When the request arrived (`process.hrtime.bigint()`): set before a `fastPath` reads
 * anything, so access logs and metrics time a request from its arrival on either path.
 */
export function receivedAt(res: express.Response): bigint {
  return (res.locals['receivedAt'] as bigint | undefined) ?? process.hrtime.bigint();
}

/** Bodies `readBody` read before Express, for the JSON parser to parse as if it had read them. */
const prereadBodies = new WeakMap<IncomingMessage, Buffer>();

/**
 * Reads a request body for a `fastPath`, only when that is cheap and bounded: a stated
 * `Content-Length` of at most `limitBytes`, not compressed. Null (nothing read) otherwise;
 * the request then goes on to Express whole. What is read stays with the request, so a
 * request handed on to Express is parsed exactly as if Express had read it.
 */
export function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> | null {
  const length = Number(req.headers['content-length']);
  const encoding = req.headers['content-encoding'];
  if (!Number.isInteger(length) || length < 0 || length > limitBytes || (encoding !== undefined && encoding !== 'identity')) return null;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('error', reject);
    req.once('end', () => {
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      prereadBodies.set(req, body);
      resolve(body);
    });
  });
}

/** `express.json`, also for a body a `fastPath` read: replayed to it, with the request's headers. */
function jsonBody(limitBytes: number): express.RequestHandler {
  const json = express.json({ limit: limitBytes });
  return (req, res, next) => {
    const body = prereadBodies.get(req);
    if (!body) return json(req, res, next);
    const replay = Object.assign(Readable.from([body], { objectMode: false }), { headers: req.headers }) as Readable & {
      body?: unknown;
    };
    json(replay as unknown as express.Request, res, (error?: unknown) => {
      req.body = replay.body;
      next(error);
    });
  };
}

/**
 * The request listener: `fastPath` first, Express for what it hands on. The request and
 * response are made with Express's prototypes (`expressClasses`) and get the links Express's
 * `app.handle` gives them, so the fast path can call Express's helpers and the same
 * middleware functions.
 */
function withFastPath(app: express.Express, fastPath: NonNullable<ServiceOptions<BaseContext>['fastPath']>) {
  const handOn = (req: express.Request, res: express.Response) => void app(req, res);
  return (rawReq: IncomingMessage, rawRes: ServerResponse): void => {
    const req = rawReq as express.Request;
    const res = rawRes as express.Response;
    (req as { res: express.Response }).res = res;
    (res as { req: express.Request }).req = req;
    res.locals ??= Object.create(null) as Record<string, unknown>;
    res.locals['receivedAt'] = process.hrtime.bigint();
    let answered: boolean | Promise<boolean>;
    try {
      answered = fastPath(req, res);
    } catch {
      answered = false;
    }
    if (answered === true) return;
    if (answered === false) return handOn(req, res);
    answered.then(
      (done) => done || handOn(req, res),
      () => (res.headersSent ? res.destroy() : handOn(req, res)),
    );
  };
}

/**
 * Request and response classes whose instances are born with Express's prototypes (those
 * `app.handle` gives every request), for a server whose fast path uses Express's helpers
 * before Express sees the request: changing an object's prototype after it is made (as
 * `app.handle` does) cost a response-cache hit 3% of its CPU. Express still sets the same
 * prototypes on what it is handed.
 */
function expressClasses(app: express.Express): { IncomingMessage: typeof IncomingMessage; ServerResponse: typeof ServerResponse } {
  const { request, response } = app as unknown as { request: object; response: object };
  class ExpressRequest extends IncomingMessage {}
  Object.setPrototypeOf(ExpressRequest.prototype, request);
  class ExpressResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {}
  Object.setPrototypeOf(ExpressResponse.prototype, response);
  return { IncomingMessage: ExpressRequest, ServerResponse: ExpressResponse };
}

/** Sends a GraphQL-shaped error body with an HTTP status: no HTML page, never a stack trace. */
export function sendError(res: express.Response, status: number, code: ErrorCode, message: string): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res
    .status(status)
    .type('application/json')
    .send(JSON.stringify({ errors: [{ message, extensions: { code } }] }));
}

/** A POST to `/graphql` must be JSON: anything else is refused before it is read. */
const requireJson: express.RequestHandler = (req, res, next) => {
  if (req.method !== 'POST' || req.is('application/json')) return next();
  const type = req.headers['content-type'] ?? '(none)';
  sendError(res, 415, ErrorCode.UNSUPPORTED_MEDIA_TYPE, `POST /graphql needs Content-Type: application/json, not ${type}`);
};

/** Body-parser failures (too large, not JSON, bad charset) as clear JSON errors; anything else masked. */
const errorHandler: express.ErrorRequestHandler = (
  error: { type?: string; status?: number; limit?: number; message?: string },
  _req,
  res,
  _next,
) => {
  if (error.type === 'entity.too.large')
    return sendError(res, 413, ErrorCode.PAYLOAD_TOO_LARGE, `Request body larger than ${error.limit} bytes`);
  if (error.type === 'entity.parse.failed')
    return sendError(res, 400, ErrorCode.BAD_REQUEST, `Request body is not valid JSON: ${error.message}`);
  if (error.status && error.status >= 400 && error.status < 500)
    return sendError(res, error.status, ErrorCode.BAD_REQUEST, error.message ?? 'Bad request');
  sendError(res, 500, ErrorCode.INTERNAL_SERVER_ERROR, 'Internal server error');
};

/** A built service: started, not yet listening. */
export interface Service {
  readonly name: string;
  readonly app: express.Express;
  readonly httpServer: Server;
  /** Stops the Apollo server and drains the HTTP server. */
  stop(): Promise<void>;
}

/** A service that listens. */
export interface Listening {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Builds and starts a service: `/graphql` (POST and GET) and `/health`. It does not listen;
 * `listen` does, so tests and the all-in-one runner choose ports.
 */
export async function createService<TContext extends BaseContext>(options: ServiceOptions<TContext>): Promise<Service> {
  const app = express();
  app.disable('x-powered-by');
  const httpServer = options.fastPath ? createServer(expressClasses(app), withFastPath(app, options.fastPath)) : createServer(app);
  const apollo = options.apollo(ApolloServerPluginDrainHttpServer({ httpServer }));
  await apollo.start();
  options.before?.(app);
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok', service: options.name });
  });
  options.routes?.(app);
  app.use(
    GRAPHQL_PATH,
    requireJson,
    jsonBody(options.bodyLimitBytes ?? 1024 * 1024),
    ...(options.graphqlMiddleware ?? []),
    expressMiddleware(apollo, { context: options.context }),
  );
  app.use(errorHandler);
  return {
    name: options.name,
    app,
    httpServer,
    stop: async () => {
      await apollo.stop();
      await options.onStop?.();
    },
  };
}

/**
 * Listens on `host:port` (port 0 picks a free one) and resolves with the service's URL. A
 * port already taken is refused naming the setting to change: every service reads its port
 * from `<NAME>_PORT` (`GATEWAY_PORT`, `SOUTH_PORT`, a kit subgraph's `NME_PORT`).
 */
export function listen(service: Service, host: string, port: number): Promise<Listening> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      const variable = `${service.name.toUpperCase().replace(/-/g, '_')}_PORT`;
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(`${service.name}: port ${port} on ${host} is already in use; set ${variable} to another port (0 picks a free one)`)
          : error,
      );
    };
    service.httpServer.once('error', onError);
    service.httpServer.listen(port, host, () => {
      service.httpServer.off('error', onError);
      const address = service.httpServer.address() as AddressInfo;
      const shownHost = host.includes(':') ? `[${host}]` : host;
      resolve({
        name: service.name,
        url: `http://${shownHost}:${address.port}/graphql`,
        port: address.port,
        close: () => service.stop(),
      });
    });
  });
}
