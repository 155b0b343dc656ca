import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLSchema } from 'graphql';
import { FEED_VERSION_HEADER } from '../../schema/wire.js';
import { readSdl } from '../kit/contract.js';
import { FeedEvents } from '../kit/feed-events.js';
import { createService, subgraphApollo, type Service } from '../kit/http.js';
import { subgraphTracing, type TracingConfig } from '../kit/tracing.js';
import { membershipVersionOf, type LiveReference } from '../kit/membership.js';
import { RedisAnnouncer } from '../kit/redis-announcer.js';
import { buildContractSubgraph } from '../kit/schema.js';
import { builtInReference, type Reference } from './reference.js';
import { programmeResolvers } from './resolvers.js';

/** The programme subgraph's own SDL (without the contract). */
export const programmeSdl = readSdl(import.meta.url, './schema.graphql');

/** Fixed reference data, or a live one that follows the registry's membership. */
export type ProgrammeReference = Reference | LiveReference;

const currentOf = (reference: ProgrammeReference) => ('current' in reference ? () => reference.current : () => reference);

/** The programme subgraph's executable schema. */
export function buildProgrammeSchema(reference: ProgrammeReference = builtInReference): GraphQLSchema {
  return buildContractSubgraph(programmeSdl, programmeResolvers(currentOf(reference)));
}

/** Per-request context: the membership version as the request started. */
interface ProgrammeContext {
  readonly version: string;
}

/**
 * Says which membership version each answer came from (`FEED_VERSION_HEADER`). The version
 * is taken as the request starts, so an answer is never labelled newer than its data: one
 * that straddles a registration is labelled with the old version, which a gateway already
 * keying by the new one does not keep.
 */
const answeredVersion: ApolloServerPlugin<ProgrammeContext> = {
  async requestDidStart() {
    return {
      async willSendResponse({ contextValue, response }) {
        response.http.headers.set(FEED_VERSION_HEADER, contextValue.version);
      },
    };
  },
};

export interface ProgrammeServiceOptions {
  /** Redis on which to announce membership versions to every gateway replica (`REDIS_URL`), or null. */
  readonly redisUrl?: string | null;
  readonly log?: (line: string) => void;
  /** OpenTelemetry tracing (`OTEL_*`); off when absent. */
  readonly tracing?: TracingConfig;
}

/**
 * Builds the programme subgraph service (started, not listening). It is feed-versioned by
 * the membership it serves (`membershipVersionOf`): `/feed/version`, `/feed/events`, an
 * announcement on Redis when given, and `FEED_VERSION_HEADER` on every answer. Its answers
 * state no `max-age`: gateways cache them under that version, so a registration is served
 * as soon as the programme serves it.
 */
export async function buildProgrammeService(
  reference: ProgrammeReference = builtInReference,
  options: ProgrammeServiceOptions = {},
): Promise<Service> {
  const current = currentOf(reference);
  const schema = buildProgrammeSchema(reference);
  const announcer = options.redisUrl
    ? new RedisAnnouncer(options.redisUrl, { what: 'programme announcements', ...(options.log ? { log: options.log } : {}) })
    : null;
  const events = new FeedEvents('programme', {
    version: () => membershipVersionOf(current()),
    ...(announcer ? { announce: (event) => announcer.announce(event) } : {}),
  });
  const log = options.log ?? (() => {});
  const unfollow =
    'onChange' in reference
      ? reference.onChange(() => void events.changed().catch((e: Error) => log(`programme: ${e.message}`)))
      : () => {};
  const release = async () => {
    unfollow();
    events.close();
    announcer?.close();
  };
  return createService<ProgrammeContext>({
    name: 'programme',
    tracing: await subgraphTracing('programme', options.tracing),
    apollo: subgraphApollo<ProgrammeContext>(schema, { name: 'programme', plugins: [answeredVersion] }),
    context: async () => ({ version: membershipVersionOf(current()) }),
    routes: (app) => events.routes(app),
    onStop: release,
  }).catch(async (error: unknown) => {
    await release();
    throw error;
  });
}
