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
import { clientHeaders, type ClientHeaders } from './headers.js';
import { mentionsLive } from './live/live-directive.js';
import type { PersistedResolution } from './persisted-operations.js';
import { resultType, sendHit, type CachedOperation, type Hit } from './response-cache.js';

export interface FastPathOptions {
  /** The response cache's lookup (`responseCache(…).lookup`). */
  readonly lookup: (operation: CachedOperation) => Hit | null | Promise<Hit | null>;
  /**
   * The persisted-operation rule (`persistedResolver`): an id to its text, or a refusal. Asked
   * with `defer`: an unlisted operation is reported only if the hit is answered here.
   */
  readonly persisted: (id: string | undefined, text: unknown, apqHash: undefined, defer: true) => PersistedResolution;
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
  /**
   * Whether later requests are handed this very object (a kept POST body): only then is it
   * worth keeping the key made for it. A GET's parameters and a long body are parsed for each
   * request, so a key kept for them would only be one more weak entry per request.
   */
  readonly shared: boolean;
}

/** A POST body's fields, or null when it is not one object without `extensions` (APQ), or not JSON. */
function fromBody(text: string, shared: boolean): Asked | null {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return null;
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) return null;
  const fields = body as Record<string, unknown>;
  if (fields['extensions'] !== undefined) return null;
  return {
    documentId: fields['documentId'],
    query: fields['query'],
    variables: deepFreeze(fields['variables']),
    operationName: fields['operationName'],
    body: Object.freeze(fields),
    shared,
  };
}

/**
 * POST bodies read before, each parsed once: a fleet of dashboards sends the same few bodies
 * over and over. The same `Asked` for the same text also lets the response cache keep the
 * key it made for it (`CachedOperation.same`). What is kept is frozen: requests share it, and
 * on a hit it becomes `req.body`, only read (the metrics read the operation name there).
 * Small bodies only, a bounded number of them, the oldest forgotten first.
 */
class ParsedBodies {
  readonly #byText = new Map<string, Asked | null>();

  asked(raw: Buffer): Asked | null {
    const text = raw.toString('utf8');
    if (text.length > MAX_KEPT_BODY) return fromBody(text, false);
    const known = this.#byText.get(text);
    if (known !== undefined) return known;
    const asked = fromBody(text, true);
    if (this.#byText.size >= MAX_KEPT_BODIES) this.#byText.delete(this.#byText.keys().next().value!);
    this.#byText.set(text, asked);
    return asked;
  }
}

/** Most bodies kept parsed, and the longest kept. */
const MAX_KEPT_BODIES = 256;
const MAX_KEPT_BODY = 4096;

/** `value` and everything in it frozen (without recursion: a body may nest deeply). */
function deepFreeze<T>(value: T): T {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (item === null || typeof item !== 'object' || Object.isFrozen(item)) continue;
    Object.freeze(item);
    for (const child of Object.values(item)) stack.push(child);
  }
  return value;
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
  return { documentId: params['documentId'], query: params['query'], variables, operationName: params['operationName'], shared: false };
}

/**
 * A request on its way through the fast path, as the response cache keys it. Its steps are
 * methods, not closures made for each request (a hit is a few tens of microseconds: making
 * and naming functions was a visible part of them).
 */
class Asking implements CachedOperation {
  readonly operationName: string | null | undefined;
  readonly variables: unknown;
  readonly same: object | undefined;
  // Only anonymous requests come this way when tokens are checked (`skip`).
  readonly caller = ANONYMOUS;

  constructor(
    private readonly options: FastPathOptions,
    private readonly req: Request,
    private readonly res: Response,
    private readonly contentType: string,
    private readonly asked: Asked,
    private readonly id: string | undefined,
    readonly query: string,
    /** Reports the operation as unlisted (the `log` stage), once it is answered here. */
    private readonly report: (() => void) | undefined,
  ) {
    this.operationName = asked.operationName as string | null | undefined;
    this.variables = asked.variables;
    this.same = asked.shared ? asked : undefined;
  }

  header(name: string): string | undefined {
    return this.req.headers[name] as string | undefined;
  }

  headers(): ClientHeaders {
    return clientHeaders(this.req.headers);
  }

  /** The lookup's answer: false for a miss (Express answers), else true once the hit is sent or the edge answered. */
  found(hit: Hit | null): boolean | Promise<boolean> {
    if (!hit) return false;
    const { asked, id, req, res } = this;
    // As the persisted-operation middleware leaves it, so the metrics name the operation alike.
    if (asked.body) {
      const { documentId: _id, ...rest } = asked.body;
      req.body = id === undefined ? asked.body : { ...rest, query: this.query };
    }
    const passed = this.options.edge(req, res);
    return typeof passed === 'boolean' ? this.send(hit, passed) : passed.then((ok) => this.send(hit, ok));
  }

  /** Sends the hit when the edge let it through; true either way (the edge answered otherwise). */
  send(hit: Hit, passed: boolean): true {
    if (!passed) return true;
    sendHit(this.res, hit, this.contentType);
    this.report?.();
    this.options.onHit?.(this.req, this.operationName ?? null, this.query);
    return true;
  }
}

/** The request listener's fast path (`createService`'s `fastPath`): true when it answered. */
export function fastPath(options: FastPathOptions): (req: Request, res: Response) => boolean | Promise<boolean> {
  const bodies = new ParsedBodies();
  const answer = (req: Request, res: Response, contentType: string, asked: Asked | null): boolean | Promise<boolean> => {
    if (!asked) return false;
    const id = typeof asked.documentId === 'string' ? asked.documentId : undefined;
    if (asked.documentId !== undefined && id === undefined) return false;
    const resolved = options.persisted(id, asked.query, undefined, true);
    const { operationName } = asked;
    if ('code' in resolved || typeof resolved.query !== 'string' || mentionsLive(resolved.query)) return false;
    if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return false;
    const asking = new Asking(options, req, res, contentType, asked, id, resolved.query, resolved.report);
    const found = options.lookup(asking);
    return found instanceof Promise ? found.then((hit) => asking.found(hit)) : asking.found(found);
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
    return body ? body.then((raw) => answer(req, res, contentType, bodies.asked(raw))) : false;
  };
}
