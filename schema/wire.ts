/**
 * What the gateway and the subgraphs say to each other over HTTP besides GraphQL: header
 * names, paths, the feed-version event and its Redis channel, and what `/schema/version`
 * answers. Both sides import these from here, so neither can rename one alone.
 */

/** Where every service answers GraphQL. */
export const GRAPHQL_PATH = '/graphql';

/**
 * The snapshot pin: the gateway stamps every subgraph fetch of one operation with the
 * operation's start, and cluster subgraphs answer from the snapshots visible then, so a
 * reload between two fetches of one operation cannot mix snapshots in its response.
 */
export const PIN_HEADER = 'x-snapshot-pin';

/**
 * The subgraphs of the supergraph an operation is planned on, sent by the gateway with each
 * fetch: while gateways swap (or when a gateway serves a fixed supergraph), insights may know
 * a cluster that the caller's plan does not, and must not answer with types that plan cannot
 * place (the cluster's `FeedStatus`).
 */
export const SUBGRAPHS_HEADER = 'x-supergraph-subgraphs';

/**
 * The feed version a cluster subgraph answered from: that of the snapshots visible at the
 * request's pin (and of the refusal shown as the request started). The gateway caches an
 * answer under a feed version only when the subgraph says it answered from exactly that one:
 * otherwise a subgraph whose clock runs ahead of the gateway's, or whose new report the
 * gateway heard of within the millisecond it became visible, would have its old snapshot's
 * answer kept under the new version (`gateway/cache-policy.ts`).
 */
export const FEED_VERSION_HEADER = 'x-feed-version';

/** A request's id: the gateway echoes it to the client and sends it on to every subgraph. */
export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * The caller's validated JWT claims, as the gateway sends them to the subgraphs configured to
 * receive them (`claims` rule of `PROPAGATE_HEADERS`): base64url of their JSON
 * (`schema/caller-claims.ts`). Trusted by a subgraph only because only the gateway can reach
 * it: the gateway never passes on a client's own header of this name.
 */
export const CALLER_CLAIMS_HEADER = 'x-caller-claims';

/** A cluster subgraph's feed version as JSON (`FeedVersionEvent`). */
export const FEED_VERSION_PATH = '/feed/version';

/** A cluster subgraph's feed versions as server-sent events (`event: version`, `FeedVersionEvent`). */
export const FEED_EVENTS_PATH = '/feed/events';

/** The Redis pub/sub channel on which cluster subgraphs announce a new feed version. */
export const FEED_CHANNEL = 'msg:feeds';

/** What a cluster subgraph announces: its name and the version of its current reports. */
export interface FeedVersionEvent {
  readonly subgraph: string;
  readonly version: string;
}

/** Where a subgraph whose schema follows the registry says which version it serves (`SchemaVersion`). */
export const SCHEMA_VERSION_PATH = '/schema/version';

/** What `GET /schema/version` answers. */
export interface SchemaVersion {
  /** The registry version whose cluster subgraphs the schema is derived from (0: built-in only). */
  readonly registryVersion: number;
  /** The cluster subgraphs compared. */
  readonly clusters: readonly string[];
  /** Whether it reads the registry now (`following`), cannot (`unreachable`), or has none (`off`). */
  readonly registry: 'following' | 'unreachable' | 'off';
}
