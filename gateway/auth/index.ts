/**
 * Authorization, assembled: the rules of the supergraph served (read at load and on every
 * swap), enforced where every operation passes, whatever carried it (`/graphql` POST and GET,
 * SSE, WebSocket, live re-runs, subscription events): Apollo Gateway's executor. Apollo
 * Server's plugins see the client's document but cannot give the planner another one; the
 * executor is handed the document it plans, so `wrap` replaces it there with the cut one
 * (and its hash, so the plan cache keeps both apart), and reshapes the answer. The errors of
 * the cut are added by `plugin` to the formatted response rather than returned by the
 * executor: Apollo Server re-wraps errors of another copy of graphql (Vitest loads two) and
 * would drop their paths.
 */
import type { ApolloGateway } from '@apollo/gateway';
import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLFormattedError } from 'graphql';
import { ANONYMOUS } from '../caller.js';
import type { GatewayContext } from '../data-source.js';
import { Authorizer } from './authorize.js';
import type { Identity } from './jwt.js';
import { accessRules, hasRules } from './requirements.js';
import type { AnySchema } from './shape.js';

type Executor = ApolloGateway['executor'];
type ExecutorContext = Parameters<Executor>[0];

export interface Authorization {
  /** Takes over the gateway's executor (call once, before Apollo Server starts, after any other wrapper). */
  wrap(gateway: ApolloGateway): void;
  /** The rules of a newly loaded supergraph (`onSchemaLoadOrUpdate`). */
  supergraphChanged(coreSupergraphSdl: string, apiSchema: AnySchema): void;
  /** The response-cache key part access decides (see `Authorizer.accessKey`); null: do not cache. */
  accessKey(query: string, operationName: string | null | undefined, identity: Identity): string | null;
  /** First of the plugins: adds the cut's errors to the response before anything reads it (the response cache). */
  readonly plugin: ApolloServerPlugin<GatewayContext>;
}

const identityOf = (context: GatewayContext): Identity => context.caller ?? ANONYMOUS;

/** `rejectUnauthorized`: refuse an operation that touches anything denied, instead of cutting it. */
export function authorization(options: { readonly rejectUnauthorized: boolean }): Authorization {
  let authorizer: Authorizer | null = null;
  const denials = new WeakMap<GatewayContext, readonly GraphQLFormattedError[]>();
  return {
    wrap: (gateway) => {
      const internals = gateway as unknown as { executor: Executor };
      const inner = internals.executor;
      if (typeof inner !== 'function') throw new TypeError('authorization.wrap: this Apollo Gateway has no executor to wrap');
      internals.executor = async (requestContext: ExecutorContext) => {
        const context = requestContext.context as GatewayContext;
        const restriction =
          authorizer?.restrict(requestContext.document, requestContext.request.operationName, identityOf(context)) ?? null;
        if (!restriction) return inner(requestContext);
        denials.set(context, restriction.errors);
        // Refused whole: nothing planned, no subgraph called.
        if (options.rejectUnauthorized) return { data: null };
        const result = await inner({ ...requestContext, document: restriction.document, queryHash: restriction.queryHash });
        return { ...result, data: restriction.reshape(result.data, requestContext.request.variables) };
      };
    },
    supergraphChanged: (sdl, apiSchema) => {
      const rules = accessRules(sdl);
      // No rules (also a supergraph that links the specs but uses neither directive): operations run untouched, at no cost.
      authorizer = hasRules(rules) ? new Authorizer(rules, apiSchema) : null;
    },
    accessKey: (query, operationName, identity) => (authorizer ? authorizer.accessKey(query, operationName, identity) : ''),
    plugin: {
      async requestDidStart() {
        return {
          async willSendResponse(rc) {
            const errors = denials.get(rc.contextValue);
            const body = rc.response.body;
            if (!errors || body.kind !== 'single') return;
            body.singleResult.errors = [...errors, ...(body.singleResult.errors ?? [])];
          },
        };
      },
    },
  };
}
