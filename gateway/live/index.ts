/**
 * Live answers, assembled: `@live` queries (and any other operation, run once) over
 * server-sent events and WebSocket on `/graphql`, under the same stream limits as `/events`,
 * the same operation limits, persisted-operation rule, rate limit and error mask as any
 * `/graphql` request. `server.ts` mounts `middleware` before Apollo's and hands the HTTP
 * server's upgrades to `upgrade`.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ApolloGateway } from '@apollo/gateway';
import type { ApolloServer } from '@apollo/server';
import type { Express, Request, RequestHandler } from 'express';
import type { GatewayContext } from '../data-source.js';
import type { RateVerdict } from '../rate-limit.js';
import type { StreamLimits } from '../streams.js';
import { operationRunner } from './execute.js';
import { liveOverHttp } from './live-directive.js';
import { LiveQueries, type LiveQueriesOptions, type StreamRequest } from './live-queries.js';
import { maskWith, streamOperations } from './operations.js';
import { FederatedSubscriptions } from './subscriptions.js';
import { sseTransport } from './transport-sse.js';
import { wsTransport, type ResolvePersisted } from './transport-ws.js';

export interface LiveAnswersOptions {
  readonly streams: StreamLimits;
  readonly feedVersions: LiveQueriesOptions['feedVersions'];
  readonly onSupergraphChange: LiveQueriesOptions['onSupergraphChange'];
  /** The gateway's Apollo server (built after this, hence a function). */
  readonly apollo: () => ApolloServer<GatewayContext>;
  /** What else a live run's answer depends on (the propagated headers, `headers.ts`). */
  readonly vary?: LiveQueriesOptions['vary'];
  /** A fresh operation context for a stream's request (its caller from its headers), as `/graphql` builds one. */
  readonly context: (request: StreamRequest) => Promise<GatewayContext>;
  /** The gateway's `formatError` (the one mask), and where what it hides is logged. */
  readonly formatError: Parameters<typeof maskWith>[0];
  readonly log: (line: string) => void;
  readonly maxTokens: number;
  readonly maxPerClient: number;
  /** SUBGRAPH_MAX_RESPONSE_BYTES, for the events a subgraph pushes on a subscription. */
  readonly maxEventBytes: number;
  /** BODY_LIMIT, for WebSocket messages. */
  readonly maxMessageBytes: number;
  readonly rate: (req: Request) => Promise<RateVerdict | null>;
  readonly persisted: ResolvePersisted;
  /** CORS_ORIGINS, for WebSocket upgrades from browser pages of other origins. */
  readonly allowedOrigins: readonly string[];
  readonly metrics: { livePushed(): void; liveExecuted(): void };
  /** The gateway whose subscriptions are executed (`subscriptions.ts`); none: subscriptions are refused. */
  readonly gateway?: ApolloGateway;
}

export interface LiveAnswers {
  readonly live: LiveQueries;
  /** Federated subscriptions, with a gateway. */
  readonly subscriptions: FederatedSubscriptions | null;
  /** On `/graphql` after body parsing and persisted ids, before the response cache and Apollo. */
  readonly middleware: RequestHandler[];
  /** Takes the HTTP server's WebSocket upgrades on `app`. */
  attach(app: Express): (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  close(): Promise<void>;
}

export function liveAnswers(options: LiveAnswersOptions): LiveAnswers {
  const mask = maskWith(options.formatError, options.log);
  const run = operationRunner({ apollo: options.apollo, context: options.context, mask });
  // A live query's runs are its own: never joined with an identical operation (operation-dedupe.ts).
  const runLive = operationRunner({
    apollo: options.apollo,
    context: async (request) => ({ ...(await options.context(request)), live: true }),
    mask,
  });
  const live = new LiveQueries({
    execute: runLive,
    feedVersions: options.feedVersions,
    onSupergraphChange: options.onSupergraphChange,
    onPush: () => options.metrics.livePushed(),
    onExecution: () => options.metrics.liveExecuted(),
    ...(options.vary ? { vary: options.vary } : {}),
  });
  const subscriptions = options.gateway
    ? new FederatedSubscriptions({
        apollo: options.apollo,
        context: options.context,
        mask,
        log: options.log,
        maxEventBytes: options.maxEventBytes,
      })
    : null;
  if (options.gateway) subscriptions!.wrap(options.gateway);
  const open = streamOperations({
    live,
    run,
    mask,
    maxTokens: options.maxTokens,
    ...(subscriptions ? { subscribe: subscriptions.subscribe } : {}),
  });
  let ws: ReturnType<typeof wsTransport> | null = null;
  return {
    live,
    subscriptions,
    middleware: [sseTransport({ limits: options.streams, open }), liveOverHttp(options.maxTokens)],
    attach: (app) => {
      ws = wsTransport({
        app,
        limits: options.streams,
        open,
        mask,
        maxTokens: options.maxTokens,
        maxOperations: options.maxPerClient,
        maxMessageBytes: options.maxMessageBytes,
        rate: options.rate,
        persisted: options.persisted,
        allowedOrigins: options.allowedOrigins,
      });
      return ws.upgrade;
    },
    close: async () => {
      await ws?.close();
    },
  };
}
