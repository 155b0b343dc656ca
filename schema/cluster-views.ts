/**
 * The shape every cluster subgraph has: a `cluster-view` field per shared entity (written by
 * the supplier), and what the kit generates next to it: argument-free `<field>Snapshots`
 * fields (tagged `cluster-snapshots`, @inaccessible) that the comparison requires, and a
 * `FeedStatus` entity. Insights and the contract checks read this shape from SDL alone.
 */
import {
  Kind,
  parse,
  print,
  type ConstDirectiveNode,
  type DocumentNode,
  type FieldDefinitionNode,
  type InterfaceTypeDefinitionNode,
  type ObjectTypeDefinitionNode,
  type ObjectTypeExtensionNode,
  type TypeNode,
} from 'graphql';
import { feedStatusSdl } from './contract.js';

/** A subgraph's name and its full SDL (contract included), as composition sees it. */
export interface SubgraphSdl {
  readonly name: string;
  readonly sdl: string;
}

/** What insights needs to know of one cluster subgraph. */
export interface ClusterShape {
  readonly subgraph: string;
  /** The view field, e.g. `south` for `Release.south`. */
  readonly viewField: string;
  /** The type of `Release.<field>`, e.g. `SouthReleaseView`. */
  readonly releaseViewType: string;
  /** The type of `Trust.<field>`, when the subgraph has trust views. */
  readonly trustViewType: string | null;
  /** `Release.<field>Snapshots`, the argument-free history the comparison requires. */
  readonly releaseSnapshots: string;
  /** `Trust.<field>Snapshots`, when the subgraph has trust views. */
  readonly trustSnapshots: string | null;
  /** The subgraph's `FeedStatus` entity type, e.g. `SouthFeedStatus`. */
  readonly feedStatusType: string | null;
}

/** Raised when a cluster subgraph does not follow the contract. */
export class ClusterViewError extends Error {
  override readonly name = 'ClusterViewError';
}

/** The contract's entities that cluster views extend, and the interface each view type implements. */
export const VIEW_INTERFACES = { Release: 'ClusterReleaseView', Trust: 'ClusterTrustView' } as const;
const ENTITY_INTERFACES = VIEW_INTERFACES;

/** The tag that marks a supplier's cluster view field. */
export const CLUSTER_VIEW_TAG = 'cluster-view';
/** The tag that marks the kit's generated snapshots fields. */
export const CLUSTER_SNAPSHOTS_TAG = 'cluster-snapshots';

/** Whether `directives` hold `@tag(name: "<tag>")`: the one reading of a tag, for every check. */
export function hasTag(directives: readonly ConstDirectiveNode[] | undefined, tag: string): boolean {
  return (
    directives?.some(
      (d) =>
        d.name.value === 'tag' &&
        d.arguments?.some((a) => a.name.value === 'name' && a.value.kind === Kind.STRING && a.value.value === tag),
    ) === true
  );
}

/** The named type under any list and non-null wrappers. */
export function namedType(type: TypeNode): string {
  return type.kind === Kind.NAMED_TYPE ? type.name.value : namedType(type.type);
}

/** `south` -> `South`, `north-east` -> `NorthEast`. */
export function pascal(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
}

/** Name of the kit-generated `FeedStatus` type of subgraph `name`. */
export const feedStatusTypeName = (name: string) => `${pascal(name)}FeedStatus`;

/** `north-east` -> `northEast`: the view field a cluster subgraph named so must use. */
export function viewFieldOf(name: string): string {
  const p = pascal(name);
  return p.charAt(0).toLowerCase() + p.slice(1);
}

/** The `cluster-view` field of `Release` in `document`, if it has one. */
export function releaseViewField(document: DocumentNode): string | null {
  return (
    document.definitions
      .flatMap((d) =>
        (d.kind === Kind.OBJECT_TYPE_EXTENSION || d.kind === Kind.OBJECT_TYPE_DEFINITION) && d.name.value === 'Release'
          ? (d.fields ?? [])
          : [],
      )
      .find((f) => hasTag(f.directives, CLUSTER_VIEW_TAG))?.name.value ?? null
  );
}

/** Name of the kit-generated snapshots field of view field `viewField`. */
export const snapshotsFieldName = (viewField: string) => `${viewField}Snapshots`;

/** Finds the cluster shape of every subgraph that contributes a Release cluster view. */
export function findClusterShapes(subgraphs: readonly SubgraphSdl[]): ClusterShape[] {
  const shapes: ClusterShape[] = [];
  const claimed = new Map<string, string>();
  for (const subgraph of subgraphs) {
    const objects = parse(subgraph.sdl).definitions.filter(
      (d): d is ObjectTypeDefinitionNode | ObjectTypeExtensionNode =>
        d.kind === Kind.OBJECT_TYPE_DEFINITION || d.kind === Kind.OBJECT_TYPE_EXTENSION,
    );
    const fieldsOf = (typeName: string) => objects.filter((o) => o.name.value === typeName).flatMap((o) => o.fields ?? []);
    const interfacesOf = (typeName: string) =>
      objects
        .filter((o) => o.name.value === typeName)
        .flatMap((o) => o.interfaces ?? [])
        .map((i) => i.name.value);

    const found: Partial<
      Record<keyof typeof ENTITY_INTERFACES, { view: FieldDefinitionNode; snapshots: FieldDefinitionNode | undefined }>
    > = {};
    for (const [entity, iface] of Object.entries(ENTITY_INTERFACES) as [keyof typeof ENTITY_INTERFACES, string][]) {
      const views = fieldsOf(entity).filter((f) => hasTag(f.directives, CLUSTER_VIEW_TAG));
      if (views.length > 1) {
        throw new ClusterViewError(
          `Subgraph "${subgraph.name}": ${entity} has ${views.length} cluster-view fields; a subgraph contributes one per entity`,
        );
      }
      const view = views[0];
      if (!view) continue;
      const typeName = namedType(view.type);
      if (!interfacesOf(typeName).includes(iface)) {
        throw new ClusterViewError(
          `Subgraph "${subgraph.name}": ${entity}.${view.name.value} is tagged cluster-view but its type ${typeName} does not implement ${iface}`,
        );
      }
      if (!view.arguments?.some((a) => a.name.value === 'asOf' && print(a.type) === 'Date')) {
        throw new ClusterViewError(`Subgraph "${subgraph.name}": ${entity}.${view.name.value} must take the argument asOf: Date`);
      }
      const snapshots = fieldsOf(entity).find((f) => hasTag(f.directives, CLUSTER_SNAPSHOTS_TAG));
      found[entity] = { view, snapshots };
    }
    const release = found.Release;
    if (!release) continue;
    const viewField = release.view.name.value;
    const owner = claimed.get(viewField);
    if (owner)
      throw new ClusterViewError(`Subgraph "${subgraph.name}": Release.${viewField} is already the cluster view of subgraph "${owner}"`);
    claimed.set(viewField, subgraph.name);
    if (!release.snapshots) {
      throw new ClusterViewError(
        `Subgraph "${subgraph.name}": Release has no cluster-snapshots field (build the subgraph with the kit, which adds it)`,
      );
    }
    const feedStatus = objects.find((o) => o.interfaces?.some((i) => i.name.value === 'FeedStatus'));
    shapes.push({
      subgraph: subgraph.name,
      viewField,
      releaseViewType: namedType(release.view.type),
      trustViewType: found.Trust ? namedType(found.Trust.view.type) : null,
      releaseSnapshots: release.snapshots.name.value,
      trustSnapshots: found.Trust?.snapshots?.name.value ?? null,
      feedStatusType: feedStatus?.name.value ?? null,
    });
  }
  return shapes;
}

const feedStatusInterface = parse(feedStatusSdl).definitions.find(
  (d): d is InterfaceTypeDefinitionNode => d.kind === Kind.INTERFACE_TYPE_DEFINITION && d.name.value === 'FeedStatus',
);

/**
 * The SDL the kit adds to a cluster subgraph named `name` whose view field is `viewField`:
 * the snapshots fields the comparison requires and the subgraph's `FeedStatus` entity.
 */
export function generatedClusterSdl(name: string, viewField: string): string {
  if (!feedStatusInterface?.fields) throw new Error('schema/feed-status.graphql has no FeedStatus interface');
  const statusFields = feedStatusInterface.fields.map((f) => `  ${print(f)}`).join('\n');
  const snapshots = snapshotsFieldName(viewField);
  return [
    `# Generated by the subgraph kit for "${name}".`,
    'extend type Release {',
    `  "Every accepted snapshot of the ${name} view of the release, oldest first (for the comparison)."`,
    `  ${snapshots}: [ReleaseSnapshot!]! @inaccessible @tag(name: "cluster-snapshots")`,
    '}',
    'extend type Trust {',
    `  "Every accepted snapshot of the ${name} view of the trust, oldest first (for the merged rollout)."`,
    `  ${snapshots}: [TrustSnapshot!]! @inaccessible @tag(name: "cluster-snapshots")`,
    '}',
    feedStatusSdl,
    `"The state of the ${name} subgraph's feed."`,
    `type ${feedStatusTypeName(name)} implements FeedStatus @key(fields: "id") {`,
    statusFields,
    '}',
    '',
  ].join('\n');
}
