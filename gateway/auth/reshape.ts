/**
 * The answer to a cut document (`authorize.ts`) put back in the shape the client's document
 * asks for: `null` where a selection was cut, propagated up per the non-null rules as
 * graphql-js would, `@skip`/`@include` and fragments applied by runtime type, and the
 * `__typename` the cut added (aliased) read for that type and never returned.
 */
import {
  Kind,
  type FieldNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';
import { isAbstract, isList, isNonNull, rootOf, type AnySchema, type AnyType } from './shape.js';

/** The alias under which the cut document asks `__typename` (abstract positions, emptied selections); never in an answer. */
export const TYPENAME_ALIAS = '_authorizationTypename';

/** The client's shape over the answer to its document without the `denied` selections. */
export function reshape(
  schema: AnySchema,
  operation: OperationDefinitionNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  denied: ReadonlySet<SelectionNode>,
  data: Record<string, unknown> | null | undefined,
  variables: Readonly<Record<string, unknown>>,
): Record<string, unknown> | null {
  if (!data) return data ?? null;
  const PROPAGATE = Symbol('null propagates');
  const included = (node: SelectionNode) =>
    (node.directives ?? []).every((d) => {
      const value = d.arguments?.find((a) => a.name.value === 'if')?.value;
      const on = value?.kind === Kind.BOOLEAN ? value.value : value?.kind === Kind.VARIABLE ? Boolean(variables[value.name.value]) : true;
      return d.name.value === 'skip' ? !on : d.name.value === 'include' ? on : true;
    });
  const applies = (condition: string, type: AnyType) => {
    if (condition === type.name) return true;
    const abstract = schema.getType(condition) as AnyType | undefined;
    return !!abstract && isAbstract(abstract) && schema.getPossibleTypes(abstract as never).some((t) => (t as AnyType).name === type.name);
  };
  const collect = (type: AnyType, sets: readonly SelectionSetNode[], into = new Map<string, FieldNode[]>(), seen = new Set<string>()) => {
    for (const set of sets)
      for (const selection of set.selections) {
        if (!included(selection) || (selection.kind !== Kind.FIELD && denied.has(selection))) continue;
        if (selection.kind === Kind.FIELD) {
          const key = selection.alias?.value ?? selection.name.value;
          into.set(key, [...(into.get(key) ?? []), selection]);
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          if (!selection.typeCondition || applies(selection.typeCondition.name.value, type))
            collect(type, [selection.selectionSet], into, seen);
        } else {
          const fragment = fragments.get(selection.name.value);
          if (!fragment || seen.has(fragment.name.value) || !applies(fragment.typeCondition.name.value, type)) continue;
          seen.add(fragment.name.value);
          collect(type, [fragment.selectionSet], into, seen);
        }
      }
    return into;
  };
  const objectOf = (
    type: AnyType,
    nodes: readonly FieldNode[],
    value: Record<string, unknown>,
  ): Record<string, unknown> | typeof PROPAGATE => {
    const out: Record<string, unknown> = {};
    const fields = collect(
      type,
      nodes.flatMap((n) => (n.selectionSet ? [n.selectionSet] : [])),
    );
    for (const [key, same] of fields) {
      const name = same[0]!.name.value;
      if (name === '__typename') {
        out[key] = value[key] ?? value[TYPENAME_ALIAS] ?? type.name;
        continue;
      }
      const definition = type.getFields?.()[name];
      if (!definition) {
        out[key] = value[key];
        continue;
      }
      const completed = same.some((n) => denied.has(n))
        ? isNonNull(definition.type)
          ? PROPAGATE
          : null
        : complete(definition.type, same, value[key]);
      if (completed === PROPAGATE) return PROPAGATE;
      out[key] = completed;
    }
    return out;
  };
  const complete = (type: AnyType, nodes: readonly FieldNode[], value: unknown): unknown => {
    if (isNonNull(type)) {
      const inner = complete(type.ofType!, nodes, value);
      return inner === null || inner === PROPAGATE ? PROPAGATE : inner;
    }
    if (value === null || value === undefined) return null;
    if (isList(type)) {
      if (!Array.isArray(value)) return value;
      const items = value.map((item) => complete(type.ofType!, nodes, item));
      return items.includes(PROPAGATE) ? null : items;
    }
    if (!type.getFields && !isAbstract(type)) return value;
    if (typeof value !== 'object') return value;
    const record = value as Record<string, unknown>;
    const runtime = isAbstract(type)
      ? (schema.getType(String(record[TYPENAME_ALIAS] ?? record['__typename'])) as AnyType | undefined)
      : type;
    if (!runtime) return value;
    const object = objectOf(runtime, nodes, record);
    return object === PROPAGATE ? null : object;
  };
  // A restriction exists only for an operation whose root the walk found.
  const root = rootOf(schema, operation)!;
  const rootField: FieldNode = { kind: Kind.FIELD, name: { kind: Kind.NAME, value: 'data' }, selectionSet: operation.selectionSet };
  const shaped = objectOf(root, [rootField], data);
  return shaped === PROPAGATE ? null : shaped;
}
