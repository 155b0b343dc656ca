/**
 * What a subgraph may define: its own fields and types, and the contract's shared
 * definitions. Anything another subgraph of the supergraph defines is that subgraph's, root
 * fields included (`Query.release` is the programme's), and so is every field of a type it
 * owns (`SouthFeedStatus`, `SouthReleaseView`, an interface reached through `@interfaceObject`):
 * a subgraph that defined one too would answer for it, or take it with `@override`. So a candidate is refused any such field, and any
 * value or member it adds to an enum or union that another subgraph (or the contract) defines:
 * composition merges those as a union, so one added there would change the owner's type for
 * every client (a candidate may repeat the owner's values, as it must to use the type). And any
 * `@override` at all, however it is spelled: the federation directive names are resolved
 * through the SDL's own `@link` (`@override`, `@federation__override`, an import renamed
 * `as: "@takeover"`), by federation's own subgraph builder, never matched as text.
 *
 * Shared by design, and so never owned: what the contract (and its feed-status part, which
 * the kit adds to every cluster subgraph) defines, i.e. the entity keys (`Release.code`,
 * `Trust.odsCode`, ...), the `@shareable` value types and the interfaces views implement;
 * `@external` fields (declared to be required or provided, resolved by their owner); and
 * the root types themselves (a subgraph may add root fields of its own).
 */
import { buildSubgraph, type FieldDefinition, type Subgraph } from '@apollo/federation-internals';
import { Kind, parse, Source, type ASTNode, type DefinitionNode } from 'graphql';
import { CheckCode } from '../../schema/errors.js';
import type { SubgraphSdl } from '../../schema/cluster-views.js';
import { contractSdl, feedStatusSdl } from '../../schema/contract.js';
import type { CheckIssue } from './conformance.js';

const ROOT_TYPES: ReadonlySet<string> = new Set(['Query', 'Mutation', 'Subscription']);

const fieldHolders = (d: DefinitionNode) =>
  d.kind === Kind.OBJECT_TYPE_DEFINITION ||
  d.kind === Kind.OBJECT_TYPE_EXTENSION ||
  d.kind === Kind.INTERFACE_TYPE_DEFINITION ||
  d.kind === Kind.INTERFACE_TYPE_EXTENSION
    ? [d]
    : [];

/** The contract's types, its `Type.field` coordinates, and its enums' and unions' `Type.Element` coordinates. */
const CONTRACT = (() => {
  const definitions = [contractSdl, feedStatusSdl].flatMap((sdl) => parse(sdl).definitions);
  const holders = definitions.flatMap(fieldHolders);
  const elements = definitions.flatMap((d) =>
    d.kind === Kind.ENUM_TYPE_DEFINITION
      ? (d.values ?? []).map((v) => ({ type: d.name.value, coordinate: `${d.name.value}.${v.name.value}` }))
      : d.kind === Kind.UNION_TYPE_DEFINITION
        ? (d.types ?? []).map((t) => ({ type: d.name.value, coordinate: `${d.name.value}.${t.name.value}` }))
        : [],
  );
  return {
    types: new Set(holders.map((h) => h.name.value)),
    fields: new Set(holders.flatMap((h) => (h.fields ?? []).map((f) => `${h.name.value}.${f.name.value}`))),
    elements,
  };
})();

/** A field a subgraph's SDL defines (not `@external`, not one federation adds). */
interface DefinedField {
  readonly type: string;
  readonly coordinate: string;
  readonly node: ASTNode | undefined;
}

/** What one subgraph's SDL defines, and where it applies `@override`. */
interface Definitions {
  readonly fields: readonly DefinedField[];
  /** Enum values (`Type.VALUE`) and union members (`Type.Member`). */
  readonly elements: readonly DefinedField[];
  readonly overrides: readonly { readonly name: string; readonly coordinate: string; readonly node: ASTNode | undefined }[];
}

/** Root types come out renamed to `Query`, `Mutation` and `Subscription`, whatever the SDL calls them. */
function definitionsOf(name: string, sdl: string): Definitions | null {
  let subgraph: Subgraph;
  try {
    subgraph = buildSubgraph(name, 'http://ownership.invalid/graphql', parse(new Source(sdl, name)));
  } catch {
    return null; // composition refuses it, with federation's own error
  }
  const metadata = subgraph.metadata();
  const fields: DefinedField[] = [];
  for (const type of subgraph.schema.types()) {
    if ((type.kind !== 'ObjectType' && type.kind !== 'InterfaceType') || !type.sourceAST) continue;
    // An entity only referenced (every key `resolvable: false`, as insights refers to each
    // cluster's FeedStatus) is not owned: its owner is the subgraph that resolves it.
    const keys = type.appliedDirectivesOf(metadata.keyDirective());
    if (keys.length > 0 && keys.every((k) => k.arguments().resolvable === false)) continue;
    for (const field of type.fields() as FieldDefinition<never>[]) {
      if (!field.sourceAST || metadata.isFieldExternal(field)) continue;
      fields.push({ type: type.name, coordinate: field.coordinate, node: field.sourceAST });
    }
  }
  const elements: DefinedField[] = [];
  for (const type of subgraph.schema.types()) {
    if (!type.sourceAST) continue;
    if (type.kind === 'EnumType')
      for (const value of type.values)
        elements.push({ type: type.name, coordinate: value.coordinate, node: value.sourceAST ?? type.sourceAST });
    if (type.kind === 'UnionType')
      for (const member of type.members())
        elements.push({ type: type.name, coordinate: `${type.name}.${member.type.name}`, node: type.sourceAST });
  }
  const overrides = [...metadata.overrideDirective().applications()].map((application) => ({
    name: application.name,
    coordinate: String((application.parent as { coordinate?: unknown }).coordinate ?? application.parent),
    node: application.sourceAST,
  }));
  return { fields, elements, overrides };
}

/** The other subgraphs' definitions, by SDL: the same few SDLs are checked against on every publish. */
const cache = new Map<string, Definitions | null>();
const CACHE_SIZE = 32;
function cachedDefinitionsOf(name: string, sdl: string): Definitions | null {
  const key = `${name}\n${sdl}`;
  if (cache.has(key)) return cache.get(key) ?? null;
  const definitions = definitionsOf(name, sdl);
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(key, definitions);
  return definitions;
}

const at = (node: ASTNode | undefined) =>
  node?.loc ? { locations: [{ line: node.loc.startToken.line, column: node.loc.startToken.column }] } : {};

/**
 * The `@override`s of the full SDL of subgraph `name`, and every field it defines that
 * another subgraph of `others` owns (the candidate's own published version excluded).
 */
export function ownershipIssues(name: string, sdl: string, others: readonly SubgraphSdl[]): CheckIssue[] {
  const candidate = definitionsOf(name, sdl);
  if (!candidate) return [];
  const fieldOwners = new Map<string, string>();
  const typeOwners = new Map<string, string>();
  for (const other of others) {
    if (other.name === name) continue;
    for (const field of cachedDefinitionsOf(other.name, other.sdl)?.fields ?? []) {
      if (!CONTRACT.fields.has(field.coordinate) && !fieldOwners.has(field.coordinate)) fieldOwners.set(field.coordinate, other.name);
      if (!CONTRACT.types.has(field.type) && !ROOT_TYPES.has(field.type) && !typeOwners.has(field.type))
        typeOwners.set(field.type, other.name);
    }
  }
  // An enum's or union's elements, by type, as its first definer (the contract first) has them.
  const elementOwners = new Map<string, { owner: string; elements: Set<string> }>();
  const addElements = (owner: string, elements: readonly { type: string; coordinate: string }[]) => {
    const mine = new Map<string, Set<string>>();
    for (const e of elements) mine.set(e.type, (mine.get(e.type) ?? new Set()).add(e.coordinate));
    for (const [type, set] of mine) if (!elementOwners.has(type)) elementOwners.set(type, { owner, elements: set });
  };
  addElements('the contract', CONTRACT.elements);
  for (const other of others)
    if (other.name !== name) addElements(`subgraph "${other.name}"`, cachedDefinitionsOf(other.name, other.sdl)?.elements ?? []);
  const issues: CheckIssue[] = candidate.overrides.map((o) => ({
    code: CheckCode.CONTRACT_OVERRIDE,
    message:
      `${o.coordinate} applies @${o.name} (federation's @override): ` +
      "a subgraph may not take another subgraph's fields; define fields of your own instead",
    ...at(o.node),
  }));
  for (const field of candidate.fields) {
    if (CONTRACT.fields.has(field.coordinate)) continue;
    const fieldOwner = fieldOwners.get(field.coordinate);
    const typeOwner = typeOwners.get(field.type);
    if (fieldOwner) {
      issues.push({
        code: CheckCode.CONTRACT_FIELD_OWNED,
        message: `${field.coordinate} belongs to subgraph "${fieldOwner}"; a subgraph defines only its own fields (and the contract's)`,
        ...at(field.node),
      });
    } else if (typeOwner) {
      issues.push({
        code: CheckCode.CONTRACT_FIELD_OWNED,
        message: `${field.coordinate} is on type ${field.type}, which belongs to subgraph "${typeOwner}"; define your own type instead`,
        ...at(field.node),
      });
    }
  }
  for (const element of candidate.elements) {
    const owned = elementOwners.get(element.type);
    if (owned && !owned.elements.has(element.coordinate)) {
      issues.push({
        code: CheckCode.CONTRACT_FIELD_OWNED,
        message: `${element.coordinate} is added to ${element.type}, which belongs to ${owned.owner}; a subgraph may use its values, not add to them`,
        ...at(element.node),
      });
    }
  }
  return issues;
}
