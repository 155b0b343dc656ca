/**
 * Derives the insights subgraph's schema from the cluster views that the supplier subgraphs
 * contribute. A view is a field of `Release` or `Trust` tagged `@tag(name: "cluster-view")`
 * whose type implements the contract interface. Nothing here names a cluster: a new
 * conforming supplier subgraph is compared as soon as its SDL is passed in.
 */
import {
  Kind,
  parse,
  print,
  type ConstDirectiveNode,
  type FieldDefinitionNode,
  type ObjectTypeDefinitionNode,
  type ObjectTypeExtensionNode,
  type TypeNode,
} from 'graphql';

/** A subgraph's name and its full SDL (contract included), as composition sees it. */
export interface SubgraphSdl {
  readonly name: string;
  readonly sdl: string;
}

/** One cluster view field found in a supplier subgraph. */
export interface ClusterViewField {
  readonly subgraph: string;
  /** The field on the entity, e.g. `south`. */
  readonly field: string;
  /** The view's object type, e.g. `SouthReleaseView`. */
  readonly typeName: string;
  /** The view type's field definitions, by name, for redeclaring required fields. */
  readonly typeFields: ReadonlyMap<string, FieldDefinitionNode>;
}

/** Every cluster view, by entity. */
export interface ClusterViews {
  readonly release: readonly ClusterViewField[];
  readonly trust: readonly ClusterViewField[];
}

/** The fields of a release view that the comparison reads, in the order aspects are listed. */
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

/** What the comparison requires of each release view. */
const RELEASE_VIEW_SELECTION: Readonly<Record<string, string>> = {
  cluster: 'cluster { id }',
  ...Object.fromEntries(RELEASE_ASPECTS.map((a) => [a, a])),
  capabilities: 'capabilities { capability localTerm scope }',
};

/** What the merged rollout requires of each trust view. */
const TRUST_VIEW_SELECTION: Readonly<Record<string, string>> = {
  cluster: 'cluster { id }',
  rollout: 'rollout { release { code } status localStatus plannedGoLive actualGoLive note }',
};

const ENTITY_INTERFACES = { Release: 'ClusterReleaseView', Trust: 'ClusterTrustView' } as const;

/** Raised when a supplier subgraph's views do not follow the contract. */
export class ClusterViewError extends Error {
  override readonly name = 'ClusterViewError';
}

function isClusterViewTag(directive: ConstDirectiveNode): boolean {
  return (
    directive.name.value === 'tag' &&
    directive.arguments?.some((a) => a.name.value === 'name' && a.value.kind === Kind.STRING && a.value.value === 'cluster-view') === true
  );
}

function namedType(type: TypeNode): string {
  return type.kind === Kind.NAMED_TYPE ? type.name.value : namedType(type.type);
}

/** Finds the cluster view fields of every supplier subgraph. */
export function findClusterViews(subgraphs: readonly SubgraphSdl[]): ClusterViews {
  const found: { release: ClusterViewField[]; trust: ClusterViewField[] } = { release: [], trust: [] };
  for (const subgraph of subgraphs) {
    const objects = parse(subgraph.sdl).definitions.filter(
      (d): d is ObjectTypeDefinitionNode | ObjectTypeExtensionNode =>
        d.kind === Kind.OBJECT_TYPE_DEFINITION || d.kind === Kind.OBJECT_TYPE_EXTENSION,
    );
    const fieldsOf = (typeName: string) =>
      new Map(objects.filter((o) => o.name.value === typeName).flatMap((o) => o.fields ?? []).map((f) => [f.name.value, f]));
    const interfacesOf = (typeName: string) =>
      objects.filter((o) => o.name.value === typeName).flatMap((o) => o.interfaces ?? []).map((i) => i.name.value);

    for (const [entity, iface] of Object.entries(ENTITY_INTERFACES)) {
      const views = objects
        .filter((o) => o.name.value === entity)
        .flatMap((o) => o.fields ?? [])
        .filter((f) => f.directives?.some(isClusterViewTag));
      for (const view of views) {
        const typeName = namedType(view.type);
        if (!interfacesOf(typeName).includes(iface)) {
          throw new ClusterViewError(
            `Subgraph "${subgraph.name}": ${entity}.${view.name.value} is tagged cluster-view but its type ${typeName} does not implement ${iface}`,
          );
        }
        const list = entity === 'Release' ? found.release : found.trust;
        const clash = list.find((v) => v.field === view.name.value);
        if (clash) {
          throw new ClusterViewError(
            `Subgraph "${subgraph.name}": ${entity}.${view.name.value} is already the cluster view of subgraph "${clash.subgraph}"`,
          );
        }
        list.push({ subgraph: subgraph.name, field: view.name.value, typeName, typeFields: fieldsOf(typeName) });
      }
    }
  }
  return found;
}

function externalType(view: ClusterViewField, selection: Readonly<Record<string, string>>): string {
  const fields = Object.keys(selection).map((name) => {
    const definition = view.typeFields.get(name);
    if (!definition) throw new ClusterViewError(`Subgraph "${view.subgraph}": ${view.typeName} has no field ${name}`);
    return `  ${name}: ${print(definition.type)} @external`;
  });
  return `type ${view.typeName} {\n${fields.join('\n')}\n}`;
}

function requirement(views: readonly ClusterViewField[], selection: Readonly<Record<string, string>>): string {
  const inner = Object.values(selection).join(' ');
  return views.map((v) => `${v.field} { ${inner} }`).join(' ');
}

/** The insights subgraph's own SDL (the contract goes in front of it) for these views. */
export function insightsSdl(views: ClusterViews): string {
  if (views.release.length === 0) throw new ClusterViewError('No supplier subgraph contributes a Release cluster view');
  const releaseRequires = `release { ${requirement(views.release, RELEASE_VIEW_SELECTION)} }`;
  const requires = `@requires(fields: ${JSON.stringify(releaseRequires)})`;
  const trustViews = views.trust.length > 0;
  return [
    '# Subgraph "insights": generated from the cluster views of the supplier subgraphs. Do not edit.',
    '',
    'extend type Release {',
    ...views.release.map((v) => `  ${v.field}: ${v.typeName} @external`),
    '  "How this release differs between the clusters."',
    '  comparison: ReleaseComparison!',
    '}',
    '',
    'extend type Trust {',
    ...views.trust.map((v) => `  ${v.field}: ${v.typeName} @external`),
    '  "The trust\'s go-lives in every cluster that reports it, oldest release first."',
    trustViews
      ? `  rolloutAcrossClusters: [ClusterRolloutEntry!]! @requires(fields: ${JSON.stringify(requirement(views.trust, TRUST_VIEW_SELECTION))})`
      : '  rolloutAcrossClusters: [ClusterRolloutEntry!]!',
    '}',
    '',
    ...views.release.map((v) => externalType(v, RELEASE_VIEW_SELECTION)),
    ...views.trust.map((v) => externalType(v, TRUST_VIEW_SELECTION)),
    '',
    '"How one release differs between the clusters that have a view of it."',
    'type ReleaseComparison @key(fields: "code") {',
    '  "The release\'s code."',
    '  code: ID!',
    '  release: Release! @external',
    '  "The clusters that have a view of the release."',
    `  clusters: [Cluster!]! ${requires}`,
    '  "True when any aspect differs between those clusters."',
    `  divergent: Boolean! ${requires}`,
    '  "Each compared aspect of the cluster views, with every cluster\'s value."',
    `  aspects: [AspectComparison!]! ${requires}`,
    '  "Each capability in any cluster\'s scope, with the clusters that have it and those that lack it."',
    `  capabilities: [CapabilityComparison!]! ${requires}`,
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
