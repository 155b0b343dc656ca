/**
 * Contract conformance of a subgraph's SDL, beyond what composition checks: its cluster
 * views implement the contract's interfaces, carry the `cluster-view` tag, take `asOf: Date`
 * and are named after the subgraph; it uses the contract's entity keys; and it takes nothing
 * from another subgraph (`ownership.ts`: no `@override`, no field or type another owns).
 */
import { Kind, parse, print, type DefinitionNode, type ObjectTypeDefinitionNode, type ObjectTypeExtensionNode } from 'graphql';
import {
  CLUSTER_VIEW_TAG,
  ClusterViewError,
  findClusterShapes,
  hasTag,
  namedType,
  pascal,
  VIEW_INTERFACES,
  viewFieldOf,
  type ClusterShape,
  type SubgraphSdl,
} from '../../schema/cluster-views.js';
import { contractSdl } from '../../schema/contract.js';
import { CheckCode } from '../../schema/errors.js';
import { ownershipIssues } from './ownership.js';

/** One problem a check found. */
export interface CheckIssue {
  readonly code: string;
  readonly message: string;
  /** Where in the submitted SDL, when known. */
  readonly locations?: readonly { readonly line: number; readonly column: number }[];
}

/** Subgraph names a supplier may use: lower-case words joined by hyphens. */
export const SUBGRAPH_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

type ObjectNode = ObjectTypeDefinitionNode | ObjectTypeExtensionNode;
const isObject = (d: DefinitionNode): d is ObjectNode => d.kind === Kind.OBJECT_TYPE_DEFINITION || d.kind === Kind.OBJECT_TYPE_EXTENSION;

/** The contract's entities and their key fields, read from the contract itself. */
const CONTRACT_KEYS: ReadonlyMap<string, string> = new Map(
  parse(contractSdl)
    .definitions.filter(isObject)
    .flatMap((o) => {
      const key = o.directives?.find((d) => d.name.value === 'key')?.arguments?.[0]?.value;
      return key?.kind === Kind.STRING ? [[o.name.value, key.value] as const] : [];
    }),
);

/** The own definitions of a full SDL: what follows the contract the kit put in front. */
function ownDefinitions(sdl: string): readonly DefinitionNode[] {
  const contractCount = parse(contractSdl).definitions.length;
  const all = parse(sdl).definitions;
  return sdl.startsWith(contractSdl) ? all.slice(contractCount) : all;
}

/**
 * Checks the full SDL of subgraph `name` against the contract and against the other
 * subgraphs (built-in and published). Returns every problem found; none means it conforms.
 */
export function checkConformance(name: string, sdl: string, others: readonly SubgraphSdl[]): CheckIssue[] {
  const issues: CheckIssue[] = [];
  if (!SUBGRAPH_NAME.test(name)) {
    issues.push({
      code: CheckCode.CONTRACT_NAME,
      message: `Subgraph name "${name}" must be lower-case words joined by hyphens, e.g. "nme"`,
    });
  }
  let shape: ClusterShape | undefined;
  try {
    [shape] = findClusterShapes([{ name, sdl }]);
  } catch (error) {
    if (!(error instanceof ClusterViewError)) throw error;
    issues.push({ code: CheckCode.CONTRACT_CLUSTER_VIEW, message: error.message });
  }
  const own = ownDefinitions(sdl);
  const objects = own.filter(isObject);
  const implementsOf = new Map<string, string[]>();
  for (const o of objects)
    implementsOf.set(o.name.value, [...(implementsOf.get(o.name.value) ?? []), ...(o.interfaces ?? []).map((i) => i.name.value)]);

  for (const o of objects) {
    const contractKey = CONTRACT_KEYS.get(o.name.value);
    if (contractKey === undefined) continue;
    for (const key of o.directives?.filter((d) => d.name.value === 'key') ?? []) {
      const fields = key.arguments?.find((a) => a.name.value === 'fields')?.value;
      if (fields?.kind !== Kind.STRING || fields.value !== contractKey) {
        issues.push({
          code: CheckCode.CONTRACT_KEY,
          message: `${o.name.value} is keyed by ${fields ? print(fields) : '(nothing)'}; the contract's key is "${contractKey}"`,
          ...(key.loc ? { locations: [{ line: key.loc.startToken.line, column: key.loc.startToken.column }] } : {}),
        });
      }
    }
    const iface = VIEW_INTERFACES[o.name.value as keyof typeof VIEW_INTERFACES];
    for (const field of o.fields ?? []) {
      const at = field.loc ? { locations: [{ line: field.loc.startToken.line, column: field.loc.startToken.column }] } : {};
      const type = namedType(field.type);
      if (iface && implementsOf.get(type)?.includes(iface) && !hasTag(field.directives, CLUSTER_VIEW_TAG)) {
        issues.push({
          code: CheckCode.CONTRACT_TAG,
          message: `${o.name.value}.${field.name.value} returns a ${iface} but is not tagged @tag(name: "cluster-view")`,
          ...at,
        });
      }
      if (hasTag(field.directives, CLUSTER_VIEW_TAG) && field.name.value !== viewFieldOf(name)) {
        issues.push({
          code: CheckCode.CONTRACT_NAMING,
          message: `${o.name.value}.${field.name.value}: the cluster view of subgraph "${name}" must be named "${viewFieldOf(name)}"`,
          ...at,
        });
      }
    }
  }
  if (shape) {
    const prefix = pascal(shape.viewField);
    for (const [type, suffix] of [
      [shape.releaseViewType, 'ReleaseView'],
      [shape.trustViewType, 'TrustView'],
    ] as const) {
      if (type && type !== `${prefix}${suffix}`) {
        issues.push({ code: CheckCode.CONTRACT_NAMING, message: `View type ${type} must be named ${prefix}${suffix}` });
      }
    }
  }
  issues.push(...ownershipIssues(name, sdl, others));
  return issues;
}
