/**
 * Records the operations identified clients execute, so a schema check can say which
 * operations in real use a change would break, not only the persisted ones (those are
 * protected from the manifest itself). Only identified clients count: a known API key
 * (`RATE_LIMIT_API_KEYS`) or a registry token. Anonymous traffic can neither add an
 * operation nor evict one, and each client keeps at most `RECORDED_OPERATIONS_PER_CLIENT`
 * (its newest), so no client's traffic pushes out another's. A response-cache hit is a use
 * too (`hit`, called by the cache's fast path, which answers before Apollo), so a hot cached
 * query stays recorded. Kept in memory and written to the registry's store every few
 * seconds, so every replica's traffic counts and `subgraph:check` can read it offline.
 */
import { createHash } from 'node:crypto';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { Kind, parse, type OperationDefinitionNode } from 'graphql';
import type { Caller } from '../caller.js';
import { clientOf, subjectHash } from '../client-awareness.js';
import { knownApiKey } from '../rate-limit.js';
import { mergeOperations, type RecordedOperation, type RegistryStore } from './store.js';
import { authenticate, bearerToken, readTokens, type TokenEntry } from './tokens.js';

/** Operations longer than this are not recorded (a check needs dashboards' operations, not every query). */
const MAX_DOCUMENT_CHARS = 20_000;
/** An operation seen again within this long is not recorded again: one map lookup per request. */
const RECORD_AGAIN_MS = 60_000;
/** Bound of that map (only identified clients' operations reach it). */
const RECENT_LIMIT = 1000;
/** The tokens file is read at most this often for identifying clients (it is on the request path). */
const TOKENS_TTL_MS = 1000;

/** Reads one request header, whichever way the caller holds them. */
export type HeaderOf = (name: string) => string | undefined;

/** Who may add recorded operations: the known API keys and the registry's tokens. */
export interface ClientIdentities {
  /** SHA-256 digests (hex) of the known API keys (`RATE_LIMIT_API_KEYS`). */
  readonly apiKeys: ReadonlySet<string>;
  /** The registry tokens file; null: no tokens. */
  readonly tokensFile: string | null;
}

export interface RecorderOptions {
  readonly identities: ClientIdentities;
  /** Operations kept per client (`RECORDED_OPERATIONS_PER_CLIENT`). */
  readonly perClient: number;
  readonly intervalMs?: number;
  /** How soon the same client's same operation is recorded again (default a minute). */
  readonly againMs?: number;
  readonly log?: (line: string) => void;
}

export interface OperationRecorder {
  readonly plugin: ApolloServerPlugin<BaseContext>;
  /** A query answered from the response cache before Apollo saw it: counts as a use. */
  hit(header: HeaderOf, operationName: string | null, document: string, caller?: Caller): void;
  /** Writes what was recorded since the last flush. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The identified client a request comes from, or null (anonymous): `key:<digest>` for a known
 * API key (the rate limiter's key for it), `registry:<supplier>` for a registry token.
 */
export function identifiedClient(header: HeaderOf, identities: ClientIdentities, tokens: () => readonly TokenEntry[]): string | null {
  const known = knownApiKey(header('x-api-key'), identities.apiKeys);
  if (known) return known;
  const token = bearerToken(header('authorization'));
  const principal = token ? authenticate(tokens(), token) : null;
  return principal ? `registry:${principal.supplier}` : null;
}

/** The name Apollo gives the operation of `document` (`operationName` chosen), or null when it has none. */
function operationNameIn(document: string, operationName: string | null): string | null | undefined {
  try {
    const operations = parse(document, { noLocation: true }).definitions.filter(
      (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
    );
    const chosen = operationName
      ? operations.find((op) => op.name?.value === operationName)
      : operations.length === 1
        ? operations[0]
        : undefined;
    return chosen ? (chosen.name?.value ?? null) : undefined;
  } catch {
    return undefined; // it was answered from the cache, so it parsed once; never fail a hit for this
  }
}

/** Records identified clients' executed queries into `store`, flushing every `intervalMs`. */
export function recordOperations(store: RegistryStore, options: RecorderOptions): OperationRecorder {
  const againMs = options.againMs ?? RECORD_AGAIN_MS;
  let pending: RecordedOperation[] = [];
  const recent = new Map<string, number>();
  let tokens: { entries: readonly TokenEntry[]; at: number } = { entries: [], at: -Infinity };
  const readTokensNow = (): readonly TokenEntry[] => {
    const { tokensFile } = options.identities;
    if (!tokensFile || Date.now() - tokens.at < TOKENS_TTL_MS) return tokens.entries;
    try {
      tokens = { entries: readTokens(tokensFile), at: Date.now() };
    } catch (error) {
      tokens = { entries: [], at: Date.now() }; // the registry's routes report a bad file; here it identifies nobody
      options.log?.(`gateway: recorded operations: ${(error as Error).message}`);
    }
    return tokens.entries;
  };

  /**
   * Records `document` for the request's client, if it has one, with the application and
   * version it names and its subject hashed; `nameOf` runs only when due.
   */
  const record = (
    header: HeaderOf,
    document: string,
    keyName: string | null,
    nameOf: () => string | null | undefined,
    caller: Caller | undefined,
  ) => {
    if (document.length > MAX_DOCUMENT_CHARS) return;
    const client = identifiedClient(header, options.identities, readTokensNow);
    if (!client) return;
    const named = clientOf(header);
    const now = Date.now();
    const key = `${client}\n${named.name ?? ''}@${named.version ?? ''}\n${keyName ?? ''}\n${document}`;
    if (now - (recent.get(key) ?? -Infinity) < againMs) return;
    const resolved = nameOf();
    if (resolved === undefined) return;
    if (recent.size >= RECENT_LIMIT) recent.clear();
    recent.set(key, now);
    const name = resolved ?? `anonymous:${createHash('sha256').update(document).digest('hex').slice(0, 12)}`;
    const subject = subjectHash(caller?.subject);
    const op: RecordedOperation = {
      name,
      document,
      lastSeen: new Date(now).toISOString(),
      client,
      ...(named.name ? { clientName: named.name } : {}),
      ...(named.version ? { clientVersion: named.version } : {}),
      ...(subject ? { subject } : {}),
    };
    pending = mergeOperations(pending, [op], options.perClient);
  };

  const flush = async () => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    try {
      await store.recordOperations(batch, options.perClient);
    } catch (error) {
      options.log?.(`gateway: recorded operations not saved: ${(error as Error).message}`);
    }
  };
  const timer = setInterval(() => void flush(), options.intervalMs ?? 2000);
  timer.unref();
  const plugin: ApolloServerPlugin<BaseContext> = {
    async requestDidStart() {
      return {
        async didResolveOperation({ source, operationName, operation, request, contextValue }) {
          if (!source || operation?.operation !== 'query') return;
          const header: HeaderOf = (name) => request.http?.headers.get(name) ?? undefined;
          record(header, source, operationName, () => operationName, (contextValue as { caller?: Caller }).caller);
        },
      };
    },
  };
  return {
    plugin,
    hit: (header, operationName, document, caller) =>
      record(header, document, operationName, () => operationNameIn(document, operationName), caller),
    flush,
    close: async () => {
      clearInterval(timer);
      await flush();
    },
  };
}
