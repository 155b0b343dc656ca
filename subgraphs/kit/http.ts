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
import { formatError } from './errors.js';
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
}

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
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok', service: options.name });
  });
  options.routes?.(app);
  app.use(
    '/graphql',
    express.json({ limit: '1mb' }),
    ...(options.graphqlMiddleware ?? []),
    expressMiddleware(apollo, { context: options.context }),
  );
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

/** Listens on `host:port` (port 0 picks a free one) and resolves with the service's URL. */
export function listen(service: Service, host: string, port: number): Promise<Listening> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(`${service.name}: port ${port} on ${host} is already in use; set another port in the environment`)
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

/**
 * The Apollo server of a subgraph (a fixed schema, or a gateway that swaps it): no stack traces in responses (a named setting, never
 * NODE_ENV), no inline traces (no Apollo usage reporting), no CDN landing page.
 */
export function subgraphApollo<TContext extends BaseContext>(schema: GraphQLSchema | { readonly gateway: GatewayInterface }) {
  return (drain: ApolloServerPlugin) =>
    new ApolloServer<TContext>({
      // A gateway without an executor swaps the schema while serving (insights, registry-derived).
      ...('gateway' in schema ? { gateway: schema.gateway } : { schema }),
      // Named settings, never NODE_ENV: analysts explore the schema, stack traces stay in logs.
      introspection: true,
      includeStacktraceInErrorResponses: false,
      formatError,
      // The runner handles SIGTERM/SIGINT for every service at once (kit/main.ts).
      stopOnTerminationSignals: false,
      plugins: [
        drain,
        ApolloServerPluginInlineTraceDisabled(),
        ApolloServerPluginLandingPageDisabled(),
        // Send a Cache-Control header only for answers that carry cache hints; the gateway
        // applies its default TTL to the others (its caches are keyed by feed versions).
        ApolloServerPluginCacheControl({ calculateHttpHeaders: 'if-cacheable' }),
      ],
    });
}
