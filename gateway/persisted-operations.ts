import { hash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { NextFunction, Request, Response } from 'express';
import { z } from 'zod';

/** The manifest in Apollo's persisted query manifest format, so other engines can use it. */
const manifestSchema = z.object({
  format: z.literal('apollo-persisted-query-manifest'),
  version: z.literal(1),
  operations: z.array(
    z.object({
      id: z.string().min(1),
      name: z.string().min(1),
      type: z.enum(['query', 'mutation', 'subscription']),
      body: z.string().min(1),
    }),
  ),
});

export type PersistedOperations = ReadonlyMap<string, { readonly name: string; readonly body: string }>;

/** The dashboards' named operations, shipped with the gateway. */
export const PERSISTED_OPERATIONS_FILE = new URL('./persisted-operations.json', import.meta.url);

/**
 * Reads and checks a manifest; a bad one stops the gateway with the reason. A file given as
 * a path comes from `PERSISTED_OPERATIONS_FILE`, so the messages name that setting.
 */
export function loadPersistedOperations(file: URL | string = PERSISTED_OPERATIONS_FILE): PersistedOperations {
  const what =
    typeof file === 'string' ? `PERSISTED_OPERATIONS_FILE=${JSON.stringify(file)}` : `Persisted operation manifest ${fileURLToPath(file)}`;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`${what} cannot be read: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${what} is not JSON: ${(error as Error).message}`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue && issue.path.length > 0 ? ` (at ${issue.path.map(String).join('.')})` : '';
    throw new Error(`${what} is not an Apollo persisted query manifest: ${issue?.message}${at}`);
  }
  return new Map(parsed.data.operations.map((op) => [op.id, { name: op.name, body: op.body }]));
}

function refuse(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({ errors: [{ message, extensions: { code } }] });
}

/**
 * A persisted id resolved to its text, or why the operation is refused. `report`: a
 * `log`-stage operation outside the manifest resolved with `defer`, reported when called.
 */
export type PersistedResolution =
  | { readonly query: string | undefined; readonly report?: () => void }
  | { readonly status: number; readonly code: 'PERSISTED_QUERY_NOT_FOUND' | 'OPERATION_NOT_PERSISTED'; readonly message: string };

/**
 * `PERSISTED_OPERATIONS_ONLY`: `off` serves any operation; `log` serves any but reports each
 * operation not in the manifest (the stage before enforcing: see who would be refused);
 * `enforce` refuses them.
 */
export type SafelistStage = 'off' | 'log' | 'enforce';

/** A manifest as the resolver consults it: by id, and by text and its SHA-256 (what APQ sends). */
export interface PersistedIndex {
  readonly operations: PersistedOperations;
  readonly bodies: ReadonlySet<string>;
  readonly hashes: ReadonlySet<string>;
}

/**
 * The SHA-256 of an operation's text in hex: Apollo's query hash, and APQ's `sha256Hash`. Taken
 * for every request the `log` stage serves outside the manifest: the one-shot digest, as
 * `cacheKey`'s, costs half a `createHash` object.
 */
export const operationHash = (text: string) => hash('sha256', text, 'hex');

/** Indexes `operations` once per manifest (not per request). */
export function indexPersisted(operations: PersistedOperations): PersistedIndex {
  const bodies = new Set([...operations.values()].map((op) => op.body));
  return { operations, bodies, hashes: new Set([...bodies].map(operationHash)) };
}

/** An operation outside the manifest that the `log` stage served: its text, or only its APQ hash. */
export type OnUnlisted = (operation: { readonly text: string | undefined; readonly hash: string }) => void;

export interface ResolverOptions {
  /** The manifest now (it may be reloaded: `persisted-manifest.ts`). */
  readonly manifest: () => PersistedIndex;
  readonly stage: SafelistStage;
  /** Called in the `log` stage for each operation served that the manifest does not hold. */
  readonly onUnlisted?: OnUnlisted;
}

/**
 * The one rule for persisted operations, on every transport (HTTP here, WebSocket in
 * `live/transport-ws.ts`): an id is replaced by its operation's text (an unknown one is
 * `PERSISTED_QUERY_NOT_FOUND`); in the `enforce` stage any other text is
 * `OPERATION_NOT_PERSISTED`; in the `log` stage it is served and reported to `onUnlisted`,
 * as is an APQ hash (`apqHash`) that is no manifest operation's. With `defer`, the report is
 * left to the caller (`report` of the resolution): the fast path resolves before it knows
 * whether it answers, and a request it hands on to Express is resolved (and reported) there.
 */
export function persistedResolver({ manifest, stage, onUnlisted }: ResolverOptions) {
  return (id: string | undefined, text: unknown, apqHash?: string, defer = false): PersistedResolution => {
    const { operations, bodies, hashes } = manifest();
    if (id !== undefined) {
      const operation = operations.get(id);
      if (!operation)
        return { status: 404, code: 'PERSISTED_QUERY_NOT_FOUND', message: `No persisted operation has the id ${JSON.stringify(id)}` };
      return { query: operation.body };
    }
    const listed = typeof text === 'string' && bodies.has(text);
    if (stage === 'enforce' && text !== undefined && !listed)
      return {
        status: 400,
        code: 'OPERATION_NOT_PERSISTED',
        message: 'This gateway accepts only persisted operations: send a documentId from its manifest',
      };
    const query = typeof text === 'string' ? text : undefined;
    if (stage !== 'log' || !onUnlisted || listed) return { query };
    let report: (() => void) | undefined;
    if (typeof text === 'string' && text !== '') report = () => onUnlisted({ text, hash: operationHash(text) });
    else if (text === undefined && apqHash !== undefined && !hashes.has(apqHash))
      report = () => onUnlisted({ text: undefined, hash: apqHash });
    if (!report || !defer) {
      report?.();
      return { query };
    }
    return { query, report };
  };
}

/** The APQ hash of a request (`extensions.persistedQuery.sha256Hash`, an object in a POST body, JSON in a GET). */
function apqHashOf(extensions: unknown): string | undefined {
  let value = extensions;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined; // Apollo refuses it as it would any bad extensions
    }
  }
  const hash = (value as { persistedQuery?: { sha256Hash?: unknown } } | null)?.persistedQuery?.sha256Hash;
  return typeof hash === 'string' ? hash : undefined;
}

/**
 * Lets clients call a persisted operation by id instead of sending its text: POST
 * `{ "documentId": "ReleaseMatrix", "variables": … }` or GET
 * `/graphql?documentId=ReleaseMatrix&variables=…` (cacheable by an HTTP cache or CDN). An
 * unknown id is `PERSISTED_QUERY_NOT_FOUND`; other operations follow the safelist stage
 * (`persistedResolver`).
 */
export function persistedOperationsMiddleware(resolve: ReturnType<typeof persistedResolver>) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const fromQuery = typeof req.query['documentId'] === 'string' ? req.query['documentId'] : undefined;
    const body = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
    const id = fromQuery ?? (typeof body['documentId'] === 'string' ? body['documentId'] : undefined);
    const get = req.method === 'GET';
    const resolved = resolve(id, get ? req.query['query'] : body['query'], apqHashOf(get ? req.query['extensions'] : body['extensions']));
    if ('code' in resolved) return refuse(res, resolved.status, resolved.code, resolved.message);
    if (id !== undefined) {
      if (req.method === 'GET') {
        const url = new URL(req.url, 'http://gateway');
        url.searchParams.delete('documentId');
        url.searchParams.set('query', resolved.query ?? '');
        req.url = `${url.pathname}${url.search}`;
        // A known, read-only operation: safe for a simple GET (Apollo's CSRF guard asks for a preflight header).
        req.headers['apollo-require-preflight'] = 'true';
      } else {
        delete body['documentId'];
        body['query'] = resolved.query;
      }
    }
    next();
  };
}
