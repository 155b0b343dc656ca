import type { ApolloServerOptionsWithGateway, ApolloServerPlugin, BaseContext } from '@apollo/server';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControl } from '@apollo/server/plugin/cacheControl';
import { ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { GraphQLSchema } from 'graphql';
import { errorMasking } from '../../schema/error-mask.js';
import { createService as createAnyService, type ServiceOptions as AnyServiceOptions, type Service } from '../../schema/http.js';
import type { SubgraphTracing } from './tracing.js';

export { listen, type Listening, type Service } from '../../schema/http.js';

type GatewayInterface = ApolloServerOptionsWithGateway<BaseContext>['gateway'];

/** Options for a subgraph's GraphQL-over-HTTP service. */
export type ServiceOptions<TContext extends BaseContext> = Omit<
  AnyServiceOptions<TContext>,
  'before' | 'graphqlMiddleware' | 'bodyLimitBytes'
> & {
  /** The subgraph's OpenTelemetry tracing (kit/tracing.ts), stopped with the service; none: not traced. */
  readonly tracing?: SubgraphTracing;
};

/**
 * Builds and starts a subgraph's service: `/graphql` (POST and GET), `/health` and its own
 * `routes`. It does not listen; `listen` does, so tests and the all-in-one runner choose ports.
 */
export function createService<TContext extends BaseContext>(options: ServiceOptions<TContext>): Promise<Service> {
  const { tracing, ...rest } = options;
  if (!tracing) return createAnyService(rest);
  return createAnyService({
    ...rest,
    before: (app) => tracing.before(app),
    onStop: async () => {
      await rest.onStop?.();
      await tracing.shutdown();
    },
  });
}

/** How a kit subgraph logs its masked errors and what its answers may be cached for. */
export interface SubgraphApolloOptions<TContext extends BaseContext = BaseContext> {
  /** The subgraph's name, first in its log lines. */
  readonly name?: string;
  /** Where masked errors are logged in full (stderr by default). */
  readonly log?: (line: string) => void;
  /** The `max-age` of answers whose fields give no cache hint (none: not cacheable). */
  readonly maxAge?: number;
  /** The subgraph's own plugins, after the kit's. */
  readonly plugins?: readonly ApolloServerPlugin<TContext>[];
}

/**
 * The `max-age` a subgraph without feed versions states for its answers when they change only
 * with the supergraph (insights' derived answers, computed from what the gateway sends): the
 * gateway caches only what a subgraph allows, or what is keyed by feed versions. Data that
 * changes at runtime (a cluster's reports, the programme's membership) is feed-versioned instead.
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
  options: SubgraphApolloOptions<TContext> = {},
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
        ...(options.plugins ?? []),
      ],
    });
}
