import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import {
  ApolloServer,
  type ApolloServerOptionsWithGateway,
  type ApolloServerPlugin,
  type BaseContext,
  type ContextFunction,
} from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { GraphQLSchema } from 'graphql';
import { errorMasking } from './errors.js';
import { ErrorCode } from '../../schema/errors.js';
import { ApolloServerPluginCacheControl } from '@apollo/server/plugin/cacheControl';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware, type ExpressContextFunctionArgument } from '@as-integrations/express5';

type GatewayInterface = ApolloServerOptionsWithGateway<BaseContext>['gateway'];

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
  const httpServer = createServer(app);
  const apollo = options.apollo(ApolloServerPluginDrainHttpServer({ httpServer }));
  await apollo.start();
  options.before?.(app);
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok', service: options.name });
  });
  options.routes?.(app);
  app.use(
    '/graphql',
    requireJson,
    express.json({ limit: options.bodyLimitBytes ?? 1024 * 1024 }),
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

/** How a kit subgraph logs its masked errors and what its answers may be cached for. */
export interface SubgraphApolloOptions {
  /** The subgraph's name, first in its log lines. */
  readonly name?: string;
  /** Where masked errors are logged in full (stderr by default). */
  readonly log?: (line: string) => void;
  /** The `max-age` of answers whose fields give no cache hint (none: not cacheable). */
  readonly maxAge?: number;
}

/**
/**
 * The `max-age` a subgraph without feed versions states for its answers when they change only
 * with its deployment (programme's reference data) or with the supergraph (insights' derived
 * answers, computed from what the gateway sends): the gateway caches only what a subgraph
 * allows, or what is keyed by feed versions.
 */
export const FIXED_ANSWER_MAX_AGE = 60;

/**
 * The Apollo server of a subgraph (a fixed schema, or a gateway that swaps it): errors masked
 * as the gateway masks them (kit/errors.ts: an unknown error leaves as `INTERNAL_SERVER_ERROR`,
 * logged in full), no stack traces in responses (a named setting, never NODE_ENV), no inline
 * traces (no Apollo usage reporting), no CDN landing page. With `maxAge`, every answer says
 * `Cache-Control: max-age=<maxAge>, public` unless its fields hint otherwise.
 */
export function subgraphApollo<TContext extends BaseContext>(
  schema: GraphQLSchema | { readonly gateway: GatewayInterface },
  options: SubgraphApolloOptions = {},
) {
  const masking = errorMasking<TContext>({ service: options.name ?? 'subgraph', log: options.log ?? ((line) => console.error(line)) });
  return (drain: ApolloServerPlugin) =>
    new ApolloServer<TContext>({
      // A gateway without an executor swaps the schema while serving (insights, registry-derived).
      ...('gateway' in schema ? { gateway: schema.gateway } : { schema }),
      // Named settings, never NODE_ENV: analysts explore the schema, stack traces stay in logs.
      introspection: true,
      includeStacktraceInErrorResponses: false,
      formatError: masking.formatError,
      // The runner handles SIGTERM/SIGINT for every service at once (kit/main.ts).
      stopOnTerminationSignals: false,
      plugins: [
        drain,
        masking.plugin,
        ApolloServerPluginInlineTraceDisabled(),
        ApolloServerPluginLandingPageDisabled(),
        // Send a Cache-Control header only for answers that carry cache hints (or the
        // subgraph's `maxAge`); a cluster subgraph's answers are cached by its feed versions.
        ApolloServerPluginCacheControl({
          calculateHttpHeaders: 'if-cacheable',
          ...(options.maxAge ? { defaultMaxAge: options.maxAge } : {}),
        }),
      ],
    });
}
