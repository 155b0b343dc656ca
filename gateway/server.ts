import { readFile } from 'node:fs/promises';
import { ApolloGateway, RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { createService, type Service } from '../subgraphs/kit/http.js';
import { supergraphSubgraphs, type SubgraphSource } from '../subgraphs/catalog.js';
import { CompositionError, composeSupergraph } from './compose.js';
import type { GatewayConfig } from './config.js';
import { enforceContractScalars } from './scalars.js';
import { formatError } from '../subgraphs/kit/errors.js';
import { PIN_HEADER } from '../subgraphs/kit/pin.js';

/** Per-operation context of the gateway. */
export interface GatewayContext {
  /** The operation's start: the snapshot pin sent with every subgraph fetch. */
  readonly pin: string;
}

/** Sends the operation's snapshot pin with each subgraph fetch. */
class PinnedDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    if (context.pin) request.http?.headers.set(PIN_HEADER, context.pin);
  }
}

/** Options a test or an embedding program can add to the configuration. */
export interface GatewayOptions {
  /** Cluster subgraphs to compose besides the built-in ones (e.g. a third supplier). */
  readonly extraClusters?: readonly SubgraphSource[];
}

/** The supergraph the gateway serves: a given file, or the built-in subgraphs composed locally. */
export async function loadSupergraph(config: GatewayConfig, options: GatewayOptions = {}): Promise<string> {
  if (config.supergraphPath) {
    try {
      return await readFile(config.supergraphPath, 'utf8');
    } catch (error) {
      throw new Error(`SUPERGRAPH_PATH=${JSON.stringify(config.supergraphPath)} cannot be read: ${(error as Error).message}`);
    }
  }
  const result = composeSupergraph(supergraphSubgraphs(config.subgraphUrls, options.extraClusters));
  if (!result.ok) throw new CompositionError(result.errors);
  return result.supergraphSdl;
}

/**
 * Builds the gateway: Apollo Server over Apollo Gateway on a local supergraph, `/graphql`
 * and `/health`. Started, not listening.
 */
export async function buildGatewayService(config: GatewayConfig, options: GatewayOptions = {}): Promise<Service> {
  const supergraphSdl = await loadSupergraph(config, options);
  const gateway = new ApolloGateway({ supergraphSdl, buildService: ({ url }) => new PinnedDataSource({ url }) });
  gateway.onSchemaLoadOrUpdate(({ apiSchema }) => enforceContractScalars(apiSchema));
  return createService({
    name: 'gateway',
    apollo: (drain) =>
      new ApolloServer({
        gateway,
        includeStacktraceInErrorResponses: false,
        formatError,
        // The runner handles SIGTERM/SIGINT for every service at once (kit/main.ts).
        stopOnTerminationSignals: false,
        // Apollo's default landing page loads from a CDN and is blank offline.
        plugins: [drain, ApolloServerPluginLandingPageDisabled()],
      }),
    // Every subgraph fetch of this operation answers from the snapshots visible now.
    context: async (): Promise<GatewayContext> => ({ pin: new Date().toISOString() }),
  });
}
