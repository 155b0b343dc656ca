/**
 * The API schema as authorization reads it. Its objects come from Apollo Gateway's copy of
 * graphql, which need not be ours (under Vitest it is not), so they are read by shape
 * (`Symbol.toStringTag`) rather than with graphql-js's `instanceof`-based helpers or
 * `TypeInfo`; documents are plain objects either way.
 */
import { Kind, type DocumentNode, type FragmentDefinitionNode, type OperationDefinitionNode, type OperationTypeNode } from 'graphql';

/** What of a schema type authorization reads (any copy of graphql-js has these). */
export interface AnyType {
  readonly name?: string;
  readonly ofType?: AnyType;
  getFields?(): Record<string, { readonly type: AnyType }>;
}
/** What of the schema authorization reads. */
export interface AnySchema {
  getType(name: string): unknown;
  getRootType(operation: OperationTypeNode): unknown;
  getPossibleTypes(abstract: never): readonly unknown[];
}

/** The class name graphql-js gives a schema object, whichever copy made it. */
const tag = (type: unknown) => Object.prototype.toString.call(type).slice(8, -1);
/** Whether a type is a non-null wrapper. */
export const isNonNull = (type: AnyType) => tag(type) === 'GraphQLNonNull';
/** Whether a type is a list wrapper. */
export const isList = (type: AnyType) => tag(type) === 'GraphQLList';
/** Whether a type is an interface or a union. */
export const isAbstract = (type: AnyType) => tag(type) === 'GraphQLInterfaceType' || tag(type) === 'GraphQLUnionType';
/** The named type inside any wrappers. */
export function namedOf(type: AnyType): AnyType {
  let t = type;
  while (t.ofType) t = t.ofType;
  return t;
}
/** The root type an operation starts from (null: the schema has none for its kind). */
export function rootOf(schema: AnySchema, operation: OperationDefinitionNode): AnyType | null {
  return (schema.getRootType(operation.operation) ?? null) as AnyType | null;
}
/** A document's fragment definitions by name. */
export function fragmentsOf(document: DocumentNode): ReadonlyMap<string, FragmentDefinitionNode> {
  return new Map(
    document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]),
  );
}
