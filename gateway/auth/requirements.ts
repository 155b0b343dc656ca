/**
 * The supergraph's authorization directives (federation 2.5+): `@authenticated` and
 * `@requiresScopes(scopes: [[…]])` on types and fields, read once per supergraph into rules
 * the gateway enforces itself (`authorize.ts`). Apollo Gateway refuses a supergraph that links
 * them `for: SECURITY` (it does not enforce them, and says so rather than serve fields
 * unprotected); `gatewaySupergraph` gives it the same supergraph with only that purpose
 * dropped from those two links, once the rules are read. Every supergraph the gateway serves
 * goes through it: the fixed `SUPERGRAPH_PATH` and each composed or hot-swapped one alike.
 */
import { Kind, parse, type ConstArgumentNode, type ConstDirectiveNode, type ConstValueNode, type DocumentNode } from 'graphql';

export const AUTHENTICATED_SPEC = 'https://specs.apollo.dev/authenticated/';
export const REQUIRES_SCOPES_SPEC = 'https://specs.apollo.dev/requiresScopes/';

/**
 * One condition on a type or field: a valid token, or scopes (any one of the lists, all of
 * the scopes in it). An element with several conditions needs all of them.
 */
export type Condition = { readonly kind: 'authenticated' } | { readonly kind: 'scopes'; readonly anyOf: readonly (readonly string[])[] };

/** The conditions of one type or field, and a stable id of them for cache keys. */
export interface Requirement {
  readonly id: string;
  readonly conditions: readonly Condition[];
}

/** Every condition of a supergraph, by type name and by `Type.field`. */
export interface AccessRules {
  readonly types: ReadonlyMap<string, Requirement>;
  readonly fields: ReadonlyMap<string, Requirement>;
}

const NO_RULES: AccessRules = { types: new Map(), fields: new Map() };

/** Whether the rules restrict anything (no rules: operations run untouched, at no cost). */
export function hasRules(rules: AccessRules): boolean {
  return rules.types.size > 0 || rules.fields.size > 0;
}

function stringArg(args: readonly ConstArgumentNode[] | undefined, name: string): string | null {
  const value = args?.find((a) => a.name.value === name)?.value;
  return value && value.kind === Kind.STRING ? value.value : null;
}

/** The local name a `@link`ed spec's directive has in this supergraph (`as:`, else the spec's name). */
function linkedName(document: DocumentNode, spec: string): string | null {
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.SCHEMA_DEFINITION && definition.kind !== Kind.SCHEMA_EXTENSION) continue;
    for (const directive of definition.directives ?? []) {
      if (directive.name.value !== 'link') continue;
      const url = stringArg(directive.arguments, 'url');
      if (!url?.startsWith(spec)) continue;
      return stringArg(directive.arguments, 'as') ?? spec.split('/').at(-2)!;
    }
  }
  return null;
}

function scopeLists(value: ConstValueNode | undefined): string[][] {
  if (value?.kind !== Kind.LIST) return [];
  return value.values.map((inner) =>
    inner.kind === Kind.LIST ? inner.values.flatMap((s) => (s.kind === Kind.STRING ? [s.value] : [])) : [],
  );
}

function conditionsOf(
  directives: readonly ConstDirectiveNode[] | undefined,
  names: { auth: string | null; scopes: string | null },
): Condition[] {
  const conditions: Condition[] = [];
  for (const directive of directives ?? []) {
    if (directive.name.value === names.auth) conditions.push({ kind: 'authenticated' });
    if (directive.name.value === names.scopes) {
      const lists = scopeLists(directive.arguments?.find((a) => a.name.value === 'scopes')?.value);
      conditions.push({ kind: 'scopes', anyOf: lists.map((list) => [...new Set(list)].sort()) });
    }
  }
  return conditions;
}

/** A condition's stable id (its scope lists in a canonical order), for cache keys. */
export function conditionId(c: Condition): string {
  return c.kind === 'authenticated'
    ? 'authenticated'
    : `scopes:${c.anyOf
        .map((l) => l.join('&'))
        .sort()
        .join('|')}`;
}

/** A requirement with its id: the conditions in a canonical order. */
function requirement(conditions: readonly Condition[]): Requirement {
  const ids = conditions.map(conditionId);
  const unique = [...new Set(ids)].sort();
  const seen = new Set<string>();
  const kept = conditions.filter((_, i) => !seen.has(ids[i]!) && seen.add(ids[i]!));
  return { id: unique.join(','), conditions: kept };
}

/** Reads the rules of a supergraph (none when it links neither spec). */
export function accessRules(supergraphSdl: string): AccessRules {
  if (!supergraphSdl.includes(AUTHENTICATED_SPEC) && !supergraphSdl.includes(REQUIRES_SCOPES_SPEC)) return NO_RULES;
  const document = parse(supergraphSdl, { noLocation: true });
  const names = { auth: linkedName(document, AUTHENTICATED_SPEC), scopes: linkedName(document, REQUIRES_SCOPES_SPEC) };
  const types = new Map<string, Requirement>();
  const fields = new Map<string, Requirement>();
  for (const definition of document.definitions) {
    if (!('name' in definition) || !definition.name || !('directives' in definition)) continue;
    const typeName = definition.name.value;
    const own = conditionsOf(definition.directives as readonly ConstDirectiveNode[] | undefined, names);
    if (own.length > 0) types.set(typeName, requirement(own));
    if (!('fields' in definition) || !definition.fields) continue;
    for (const field of definition.fields) {
      if (field.kind !== Kind.FIELD_DEFINITION) continue;
      const conditions = conditionsOf(field.directives, names);
      if (conditions.length > 0) fields.set(`${typeName}.${field.name.value}`, requirement(conditions));
    }
  }
  return { types, fields };
}

/**
 * The supergraph as Apollo Gateway takes it: the `for: SECURITY` purpose dropped from the
 * authenticated and requiresScopes links (the directives stay, and Apollo Gateway leaves them
 * out of the API schema as it does every linked feature's). Unchanged when it links neither.
 */
export function gatewaySupergraph(supergraphSdl: string): string {
  return supergraphSdl.replace(
    /(@link\(\s*url:\s*"https:\/\/specs\.apollo\.dev\/(?:authenticated|requiresScopes)\/v[\d.]+"[^)]*?),?\s*for:\s*SECURITY/g,
    '$1',
  );
}
