/**
 * Derives the insights subgraph's schema from the cluster subgraphs' SDL. Each cluster
 * subgraph (built with the kit) has `Release.<cluster>Snapshots` and
 * `Trust.<cluster>Snapshots`: every accepted snapshot, argument-free and @inaccessible.
 * The comparison requires those, not the `asOf` view fields, because Apollo Gateway merges
 * a required field with a client's selection of the same field with other arguments.
 * Nothing here names a cluster: a new conforming subgraph is compared once its SDL is passed.
 */
import { EVENT_ERRORS } from './reports.js';
import { findClusterShapes, type ClusterShape, type SubgraphSdl } from '../../schema/cluster-views.js';

export type { SubgraphSdl } from '../../schema/cluster-views.js';

/** The aspects of a release view that the comparison compares, in the order listed. */
export const RELEASE_ASPECTS = [
  'localName',
  'designStatus',
  'designSuspendedOn',
  'plannedDate',
  'plannedYear',
  'spineCompliant',
  'capabilities',
  'trustsLive',
  'trustsPlanned',
] as const;
export type ReleaseAspect = (typeof RELEASE_ASPECTS)[number];

const RELEASE_SNAPSHOT_SELECTION = `asOf file cluster { id } ${RELEASE_ASPECTS.join(' ').replace('capabilities', 'capabilities { capability localTerm scope }')} supplier { id }`;
const TRUST_SNAPSHOT_SELECTION = 'asOf file cluster { id } rollout { release { code } status localStatus plannedGoLive actualGoLive note }';

const requirement = (fields: readonly string[], selection: string) => fields.map((f) => `${f} { ${selection} }`).join(' ');

/**
 * The report subscriptions insights owns (`reports.ts`): the gateway resolves `Cluster`'s
 * other fields from the subgraphs that own them. Events are public-safe and bounded: a file's
 * name, date and row count, or its problem count and first problems, as `feeds` shows them.
 */
const REPORT_EVENTS_SDL = [
  '"Events pushed to subscribers, over server-sent events or WebSocket."',
  'type Subscription {',
  '  "Each report a cluster subgraph accepts (of one cluster by id, or of all); the latest of each is sent first, with `replayed: true`."',
  '  reportAccepted("Only this cluster\'s reports (by id, e.g. `SOUTH`); all when omitted." cluster: ID): ReportEvent!',
  '  "Each report a cluster subgraph refuses (of one cluster by id, or of all); the latest of each is sent first, with `replayed: true`."',
  '  reportRejected("Only this cluster\'s reports (by id, e.g. `SOUTH`); all when omitted." cluster: ID): ReportEvent!',
  '}',
  '',
  '"A report a cluster subgraph accepted or refused."',
  'type ReportEvent {',
  '  "The cluster whose feed it is."',
  '  cluster: Cluster!',
  '  "The subgraph that read it, e.g. `south`."',
  '  subgraph: String!',
  '  "The report\'s file name."',
  '  file: String!',
  '  "The date the report is dated (accepted reports; null for refused ones)."',
  '  asOf: Date',
  '  "Its data rows (accepted reports; null for refused ones)."',
  '  rows: Int',
  '  "The releases an accepted report covers (none for refused ones)."',
  '  releases: [Release!]!',
  '  "How many problems it had (0 for accepted reports)."',
  '  errorCount: Int!',
  `  "Its first problems (at most ${EVENT_ERRORS})."`,
  '  errors: [ReportProblem!]!',
  '  "True for the latest report, sent first on subscribe (the current state); false for a new one."',
  '  replayed: Boolean!',
  '}',
  '',
  '"One problem of a refused report."',
  'type ReportProblem {',
  '  "The 1-based line, in line-based formats."',
  '  line: Int',
  '  "The JSON path, in JSON formats."',
  '  path: String',
  '  "The supplier\'s field name."',
  '  field: String!',
  '  "What is wrong."',
  '  message: String!',
  '}',
];

/** The cluster subgraphs the comparison reads. */
export function findClusters(subgraphs: readonly SubgraphSdl[]): ClusterShape[] {
  return findClusterShapes(subgraphs);
}

/** The insights subgraph's own SDL (the contract goes in front of it) for these clusters. */
export function insightsSdl(clusters: readonly ClusterShape[]): string {
  if (clusters.length === 0) throw new Error('No cluster subgraph contributes a Release cluster view');
  const releaseFields = clusters.map((c) => c.releaseSnapshots);
  const trustFields = clusters.flatMap((c) => (c.trustSnapshots ? [c.trustSnapshots] : []));
  const requires = `@requires(fields: ${JSON.stringify(`release { ${requirement(releaseFields, RELEASE_SNAPSHOT_SELECTION)} }`)})`;
  const statusTypes = clusters.flatMap((c) => (c.feedStatusType ? [c.feedStatusType] : []));
  const asOf =
    '"Compare the snapshots current at this day (the latest report dated on or before it in each cluster); default: the latest." asOf: Date';
  return [
    '# Subgraph "insights": generated from the cluster subgraphs. Do not edit.',
    '',
    'extend type Query {',
    '  "The state of every cluster subgraph\'s feed: freshness, snapshots, the last refused file, the store."',
    '  feeds: [FeedStatus!]!',
    '}',
    '',
    '"The state of one cluster subgraph\'s feed."',
    'interface FeedStatus {',
    '  "The subgraph\'s name."',
    '  id: ID!',
    '}',
    ...statusTypes.map((t) => `type ${t} implements FeedStatus @key(fields: "id", resolvable: false) {\n  id: ID!\n}`),
    '',
    ...REPORT_EVENTS_SDL,
    '',
    'extend type Release {',
    ...releaseFields.map((f) => `  ${f}: [ReleaseSnapshot!]! @external`),
    '  "How this release differs between the clusters."',
    `  comparison(${asOf}): ReleaseComparison!`,
    '}',
    '',
    'extend type Trust {',
    ...trustFields.map((f) => `  ${f}: [TrustSnapshot!]! @external`),
    '  "The trust\'s go-lives in every cluster that reports it, by release then cluster."',
    `  rolloutAcrossClusters(${asOf}): [ClusterRolloutEntry!]!${
      trustFields.length > 0 ? ` @requires(fields: ${JSON.stringify(requirement(trustFields, TRUST_SNAPSHOT_SELECTION))})` : ''
    }`,
    '}',
    '',
    '"How one release differs between the clusters that have a view of it, as of a day."',
    'type ReleaseComparison @key(fields: "id") {',
    '  "The comparison\'s id: the release code, with `@` and the day when compared as of a day."',
    '  id: ID!',
    '  release: Release! @external',
    '  "The clusters that have a view of the release at that day."',
    `  clusters: [Cluster!]! ${requires}`,
    '  "Which snapshot of each cluster\'s feed the values come from."',
    `  snapshots: [ComparedSnapshot!]! ${requires}`,
    '  "True when any aspect differs between those clusters."',
    `  divergent: Boolean! ${requires}`,
    '  "Each compared aspect of the cluster views, with every cluster\'s value."',
    `  aspects: [AspectComparison!]! ${requires}`,
    '  "Each capability in any cluster\'s scope, with the clusters that have it and those that lack it."',
    `  capabilities: [CapabilityComparison!]! ${requires}`,
    '}',
    '',
    '"The snapshot a cluster\'s values in a comparison come from."',
    'type ComparedSnapshot {',
    '  "The cluster."',
    '  cluster: Cluster!',
    '  "The date of its report."',
    '  asOf: Date!',
    '  "Its feed file."',
    '  file: String!',
    '  "What the snapshot says of the release: every aspect, as the cluster\'s feed gives it."',
    '  view: ReleaseSnapshot!',
    '  """',
    "  The release as each accepted snapshot of this cluster's feed described it, oldest first:",
    '  how the plan moved. `from` and `to` keep snapshots dated within those days.',
    '  """',
    '  history("Keep snapshots dated on or after this day." from: Date, "Keep snapshots dated on or before this day." to: Date): [ReleaseSnapshot!]!',
    '}',
    '',
    '"One aspect of the release (a field of ClusterReleaseView) compared across clusters."',
    'type AspectComparison {',
    '  "The aspect: the name of the ClusterReleaseView field compared, e.g. `designStatus`."',
    '  aspect: String!',
    '  "True when the clusters\' values are not all equal."',
    '  differs: Boolean!',
    '  "Each cluster\'s value."',
    '  values: [ClusterValue!]!',
    '}',
    '',
    '"One cluster\'s value of an aspect, rendered as text (dates ISO, lists comma-separated, null when unset)."',
    'type ClusterValue {',
    '  "The cluster."',
    '  cluster: Cluster!',
    '  "The value as text; null when the cluster gives none."',
    '  value: String',
    '}',
    '',
    '"One capability compared across clusters."',
    'type CapabilityComparison {',
    '  "The capability."',
    '  capability: Capability!',
    '  "Clusters whose scope of the release includes it."',
    '  presentIn: [Cluster!]!',
    '  "Clusters that have a view of the release but lack this capability."',
    '  missingFrom: [Cluster!]!',
    '  "Each including cluster\'s scope note."',
    '  scopes: [ClusterValue!]!',
    '}',
    '',
    '"One trust\'s go-live on one release in one cluster."',
    'type ClusterRolloutEntry {',
    '  "The cluster that reports it."',
    '  cluster: Cluster!',
    '  "The date of the report it comes from."',
    '  asOf: Date!',
    '  "The release."',
    '  release: Release!',
    '  "Where the go-live stands."',
    '  status: RolloutStatus!',
    '  "The supplier\'s own status word."',
    '  localStatus: String!',
    '  "The planned go-live date, if any."',
    '  plannedGoLive: Date',
    '  "The actual go-live date, if any."',
    '  actualGoLive: Date',
    '  "The supplier\'s note."',
    '  note: String',
    '}',
    '',
  ].join('\n');
}
