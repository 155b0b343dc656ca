/**
 * The `@live` directive on a query (`query Matrix @live { … }`): it asks the streaming
 * transports to keep the answer current. It is the gateway's own and no subgraph knows it, so
 * it is taken off the document before Apollo validates it (the API schema does not declare
 * it) and it never reaches a subgraph.
 */
import type { RequestHandler } from 'express';
import { GraphQLError, Kind, parse, print, visit, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import { ErrorCode } from '../../schema/errors.js';
import { sendError } from '../../schema/http.js';

/** What a document asks of a stream, once `@live` is read and removed. */
export interface LiveRead {
  /** The operation carries `@live`. */
  readonly live: boolean;
  /** The document to execute: without `@live`, or the text as sent when it had none. */
  readonly query: string;
}

const LIVE = 'live';

/** Cheap check before parsing: most operations never mention it. */
const MENTIONS_LIVE = /@\s*live\b/;

/** Whether a document may carry `@live`: a cheap test, before any parse (the fast path leaves such requests to Apollo's). */
export function mentionsLive(query: string): boolean {
  return MENTIONS_LIVE.test(query);
}

/** The operation the request names (or the only one), as graphql-js picks it. */
function selectedOperation(document: DocumentNode, operationName: string | null | undefined): OperationDefinitionNode | undefined {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (operationName) return operations.find((o) => o.name?.value === operationName);
  return operations.length === 1 ? operations[0] : undefined;
}

/**
 * Reads `@live` off the selected operation and removes every `@live` on an operation of the
 * document. A document that does not parse is returned as it is (Apollo reports the syntax
 * error as for any request); `maxTokens` bounds the parse as Apollo's own does. `@live` on a
 * mutation or a subscription is refused: only a query has an answer to keep current.
 */
export function readLive(query: string, operationName: string | null | undefined, maxTokens: number): LiveRead | GraphQLError {
  if (!MENTIONS_LIVE.test(query)) return { live: false, query };
  let document: DocumentNode;
  try {
    document = parse(query, { maxTokens });
  } catch {
    return { live: false, query };
  }
  const selected = selectedOperation(document, operationName);
  const isLive = (node: OperationDefinitionNode) => node.directives?.some((d) => d.name.value === LIVE) ?? false;
  if (!document.definitions.some((d) => d.kind === Kind.OPERATION_DEFINITION && isLive(d))) return { live: false, query };
  const wrongKind = document.definitions.find(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION && isLive(d) && d.operation !== 'query',
  );
  if (wrongKind)
    return new GraphQLError(`@live applies to queries only, not to the ${wrongKind.operation} ${wrongKind.name?.value ?? '(anonymous)'}`, {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  const stripped = visit(document, {
    OperationDefinition: (node) =>
      isLive(node) ? { ...node, directives: node.directives?.filter((d) => d.name.value !== LIVE) } : undefined,
  });
  return { live: selected ? isLive(selected) : false, query: print(stripped) };
}

/**
 * `@live` over plain HTTP (no event stream): the one answer a stream would start with, so a
 * client that cannot stream still gets it. Runs on `/graphql` after body parsing.
 */
export function liveOverHttp(maxTokens: number): RequestHandler {
  return (req, res, next) => {
    if (req.method === 'POST') {
      const body = req.body as Record<string, unknown> | undefined;
      if (!body || typeof body !== 'object' || typeof body['query'] !== 'string') return next();
      const read = readLive(body['query'], typeof body['operationName'] === 'string' ? body['operationName'] : null, maxTokens);
      if (read instanceof GraphQLError) return sendError(res, 400, ErrorCode.BAD_USER_INPUT, read.message);
      body['query'] = read.query;
      return next();
    }
    const query = req.query['query'];
    if (typeof query !== 'string') return next();
    const operationName = typeof req.query['operationName'] === 'string' ? req.query['operationName'] : null;
    const read = readLive(query, operationName, maxTokens);
    if (read instanceof GraphQLError) return sendError(res, 400, ErrorCode.BAD_USER_INPUT, read.message);
    if (read.query !== query) {
      const url = new URL(req.url, 'http://gateway');
      url.searchParams.set('query', read.query);
      req.url = `${url.pathname}${url.search}`;
    }
    next();
  };
}
