/**
 * Client awareness: which application asks (`apollographql-client-name` and
 * `-version`, the headers Apollo's clients and GraphOS use) and, hashed, which signed-in
 * subject, carried into the access log, the metrics, the recorded operations and the check
 * reports. Names are client-chosen: each is bounded to safe characters, and the metrics keep
 * a bounded label set (`ClientLabels`).
 */
import { createHash } from 'node:crypto';
import type { Caller } from './caller.js';

/** The client's name header (Apollo's convention). */
export const CLIENT_NAME_HEADER = 'apollographql-client-name';
/** The client's version header. */
export const CLIENT_VERSION_HEADER = 'apollographql-client-version';

/** A client name or version: letters, digits and `._:@/+-`, 1-64 characters. Anything else is not kept. */
const SAFE = /^[A-Za-z0-9._:@/+-]{1,64}$/;

/** Reads one request header. */
export type HeaderOf = (name: string) => string | string[] | undefined;

/** A client as it named itself (null where it did not, or not safely). */
export interface ClientId {
  readonly name: string | null;
  readonly version: string | null;
}

const safe = (value: string | string[] | undefined): string | null => {
  const text = Array.isArray(value) ? value[0] : value;
  return text !== undefined && SAFE.test(text) ? text : null;
};

/** The client a request names; a version without a name is dropped (it says nothing). */
export function clientOf(header: HeaderOf): ClientId {
  const name = safe(header(CLIENT_NAME_HEADER));
  return { name, version: name ? safe(header(CLIENT_VERSION_HEADER)) : null };
}

/** `caller` with the client a request names. */
export function withClient(caller: Caller, header: HeaderOf): Caller {
  const { name, version } = clientOf(header);
  return { ...caller, clientName: name, clientVersion: version };
}

/**
 * A JWT subject as logs, metrics and records may carry it: the first 16 hex digits of its
 * SHA-256, enough to tell subjects apart and follow one, never the subject itself.
 */
export function subjectHash(subject: string | null | undefined): string | null {
  return subject ? createHash('sha256').update(subject).digest('hex').slice(0, 16) : null;
}

/** What a label stands for when its name or version is not one of the kept ones. */
export const OTHER = 'other';
/** A request that named no client. */
export const NONE = 'none';

/**
 * The client labels of the metrics, bounded: with `known` (`METRICS_CLIENT_NAMES`), exactly
 * those names, every other name `other`; without, the first `maxNames` names seen. Each name
 * keeps its first `maxVersions` versions, later ones `other`. A client inventing names or
 * versions can thus never grow the series count past (names + 2) × (versions + 1).
 */
export class ClientLabels {
  readonly #known: ReadonlySet<string> | null;
  readonly #names = new Map<string, Set<string>>();

  constructor(
    known: readonly string[],
    readonly maxNames = 20,
    readonly maxVersions = 5,
  ) {
    this.#known = known.length > 0 ? new Set(known) : null;
  }

  /** The `client` and `client_version` labels of one request. */
  of(client: ClientId): { client: string; client_version: string } {
    if (!client.name) return { client: NONE, client_version: NONE };
    let versions = this.#names.get(client.name);
    if (!versions) {
      const admitted = this.#known ? this.#known.has(client.name) : this.#names.size < this.maxNames;
      if (!admitted) return { client: OTHER, client_version: OTHER };
      versions = new Set();
      this.#names.set(client.name, versions);
    }
    const version = client.version ?? NONE;
    if (!versions.has(version)) {
      if (versions.size >= this.maxVersions) return { client: client.name, client_version: OTHER };
      versions.add(version);
    }
    return { client: client.name, client_version: version };
  }
}
