/**
 * Response-cache hits answered before Express: a `/graphql` query whose answer is cached is
 * read (a small JSON body, or a GET's parameters), keyed by the one key builder, looked up,
 * and, when it is a hit, passed through the very middleware every `/graphql` request passes
 * through (request id and access log, metrics, CORS, rate limit: `Production.graphqlEdge`)
 * and sent as the bytes it was stored as. Persisted-only refusals and unknown ids are left to
 * the Express path, which refuses them as always. Anything else goes on to Express too,
 * unchanged: a miss, another path or method, a body that is compressed, large, chunked or not
 * JSON, a batch, automatic persisted queries, `@live`, event streams, upgrades (which never
 * reach a request listener).
 */
import type { Request, Response } from 'express';
import { readBody } from '../schema/http.js';
import { GRAPHQL_PATH } from '../schema/wire.js';
import { ANONYMOUS } from './caller.js';
import { clientHeaders } from './headers.js';
import { mentionsLive } from './live/live-directive.js';
import type { PersistedResolution } from './persisted-operations.js';
import { resultType, sendHit, type CachedOperation, type Hit } from './response-cache.js';

export interface FastPathOptions {
  /** The response cache's lookup (`responseCache(…).lookup`). */
  readonly lookup: (operation: CachedOperation) => Hit | null | Promise<Hit | null>;
  /** The persisted-operation rule (`persistedResolver`): an id to its text, or a refusal. */
  readonly persisted: (id: string | undefined, text: unknown) => PersistedResolution;
  /**
   * The `/graphql` middleware of the Express path, run on a hit before it is sent: true when
   * the hit may be sent, false when the middleware answered (at once when it could decide at once).
   */
  readonly edge: (req: Request, res: Response) => boolean | Promise<boolean>;
  readonly bodyLimitBytes: number;
  /**
   * Requests left to Express whatever they ask (e.g. those carrying a token, or all of them
   * under JWT_REQUIRED, when tokens are checked: authentication runs there, before any answer).
   */
  readonly skip?: (req: Request) => boolean;
  /** Told of every hit answered here (Apollo's plugins never see it). */
  readonly onHit?: (req: Request, operationName: string | null, query: string) => void;
}

/** A JSON POST Apollo would take as it is (Express's `type-is` reads the same media type). */
const JSON_TYPE = /^application\/json\s*(?:;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

/** What a request asks for, as the persisted-operation middleware would hand it to Apollo. */
interface Asked {
  readonly documentId: unknown;
  readonly query: unknown;
  readonly variables: unknown;
  readonly operationName: unknown;
  /** The body as the Express path would leave it, for the metrics' operation name; none for a GET. */
  readonly body?: Record<string, unknown>;
}

/** A POST body's fields, or null when it is not one object without `extensions` (APQ), or not JSON. */
function fromBody(raw: Buffer): Asked | null {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    return null;
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) return null;
  const fields = body as Record<string, unknown>;
  if (fields['extensions'] !== undefined) return null;
  return {
    documentId: fields['documentId'],
    query: fields['query'],
    variables: fields['variables'],
    operationName: fields['operationName'],
    body: fields,
  };
}

/** A GET's parameters, or null when Apollo's CSRF guard would refuse it or its variables are not JSON. */
function fromQuery(req: Request): Asked | null {
  const params = req.query as Record<string, unknown>;
  // As on the Express path: a persisted id is a safe read; any other GET needs the preflight header.
  if (params['documentId'] === undefined && !req.headers['apollo-require-preflight']) return null;
  if (params['extensions'] !== undefined) return null;
  const given = params['variables'];
  if (given !== undefined && typeof given !== 'string') return null;
  let variables: unknown;
  try {
    variables = given === undefined ? undefined : JSON.parse(given);
  } catch {
    return null;
  }
  return { documentId: params['documentId'], query: params['query'], variables, operationName: params['operationName'] };
}

/** The request listener's fast path (`createService`'s `fastPath`): true when it answered. */
export function fastPath(options: FastPathOptions): (req: Request, res: Response) => boolean | Promise<boolean> {
  /** Sends a hit once the edge lets it through; always true (the edge answered otherwise). */
  const serve = (req: Request, res: Response, hit: Hit, contentType: string, asked: Asked, query: string): boolean | Promise<boolean> => {
    const send = (passed: boolean): true => {
      if (!passed) return true;
      sendHit(res, hit, contentType);
      options.onHit?.(req, (asked.operationName as string | null | undefined) ?? null, query);
      return true;
    };
    const passed = options.edge(req, res);
    return typeof passed === 'boolean' ? send(passed) : passed.then(send);
  };

  const answer = (req: Request, res: Response, contentType: string, asked: Asked | null): boolean | Promise<boolean> => {
    if (!asked) return false;
    const id = typeof asked.documentId === 'string' ? asked.documentId : undefined;
    if (asked.documentId !== undefined && id === undefined) return false;
    const resolved = options.persisted(id, asked.query);
    const { operationName, variables } = asked;
    if ('code' in resolved || typeof resolved.query !== 'string' || mentionsLive(resolved.query)) return false;
    if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return false;
    const query = resolved.query;
    const found = options.lookup({
      operationName,
      query,
      variables,
      header: (name) => req.headers[name] as string | undefined,
      headers: () => clientHeaders(req.headers),
      // Only anonymous requests come this way when tokens are checked (`skip`).
      caller: ANONYMOUS,
    });
    const hit = (hit: Hit | null): boolean | Promise<boolean> => {
      if (!hit) return false;
      // As the persisted-operation middleware leaves it, so the metrics name the operation alike.
      if (asked.body) {
        const { documentId: _id, ...rest } = asked.body;
        req.body = id === undefined ? asked.body : { ...rest, query };
      }
      return serve(req, res, hit, contentType, asked, query);
    };
    return found instanceof Promise ? found.then(hit) : hit(found);
  };

  return (req, res) => {
    if (options.skip?.(req)) return false;
    const url = req.url ?? '';
    const post = req.method === 'POST';
    if (
      post
        ? url !== GRAPHQL_PATH || !JSON_TYPE.test(req.headers['content-type'] ?? '')
        : req.method !== 'GET' || !url.startsWith(`${GRAPHQL_PATH}?`)
    )
      return false;
    // Decided from the headers alone, before any body is read: event streams (their `Accept`)
    // and what Apollo would answer with a 406 go to Express untouched.
    const contentType = resultType(req);
    if (!contentType) return false;
    if (!post) return answer(req, res, contentType, fromQuery(req));
    const body = readBody(req, options.bodyLimitBytes);
    return body ? body.then((raw) => answer(req, res, contentType, fromBody(raw))) : false;
  };
}
