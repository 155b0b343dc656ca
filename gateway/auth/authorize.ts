/**
 * What an operation may see, decided before any subgraph is called, as Apollo Router does:
 * the operation is walked (fragments included) on the API schema, and every field whose
 * definition, return type or (for an interface or union) any possible type's carries a
 * condition the caller does not meet is cut from the document that is planned and executed;
 * so is a fragment on such a type. The answer is then put back in the shape the client asked
 * for: `null` where a field was cut, propagated up per the non-null rules as graphql-js would,
 * and one `UNAUTHORIZED_FIELD_OR_TYPE` error per cut at its path, `@` standing for every list
 * item (the errors are static, like Router's: they name where, not how many). The schema is
 * read by shape (`shape.ts`); the answer is put back in shape by `reshape.ts`.
 */
import { createHash } from 'node:crypto';
import {
  Kind,
  parse,
  print,
  visit,
  type DocumentNode,
  type FieldNode,
  type GraphQLFormattedError,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';
import { ErrorCode } from '../../schema/errors.js';
import type { Identity } from './jwt.js';
import { conditionId, type AccessRules, type Condition } from './requirements.js';
import { reshape, TYPENAME_ALIAS } from './reshape.js';
import { fragmentsOf, isAbstract, isList, namedOf, rootOf, type AnySchema, type AnyType } from './shape.js';

/** `@` once per list level between a field and its named type (Router's list-item marker). */
function listLevels(type: AnyType): string[] {
  const levels: string[] = [];
  for (let t: AnyType | undefined = type; t; t = t.ofType) if (isList(t)) levels.push('@');
  return levels;
}

/** One operation as the walk found it: its conditions and the selections each one guards. */
interface Analysis {
  readonly operation: OperationDefinitionNode;
  /** Condition id → condition, for each one the operation touches. */
  readonly conditions: ReadonlyMap<string, Condition>;
  /** Guarded selection → the ids of its conditions. */
  readonly guarded: ReadonlyMap<SelectionNode, readonly string[]>;
  /** Guarded selection → where it is in the answer (one per place it is reached from). */
  readonly paths: ReadonlyMap<SelectionNode, readonly (readonly string[])[]>;
  /** Restrictions made so far, by which conditions were met (a few per operation). */
  readonly restrictions: Map<string, Restriction | null>;
}

/** The document to plan instead of the client's, and how to put the answer back in shape. */
export interface Restriction {
  readonly document: DocumentNode;
  /** A hash of `document`, for the query-plan cache. */
  readonly queryHash: string;
  readonly errors: readonly GraphQLFormattedError[];
  /** The answer as the client's document shapes it: nulls where cut, propagated. */
  reshape(
    data: Record<string, unknown> | null | undefined,
    variables: Readonly<Record<string, unknown>> | undefined,
  ): Record<string, unknown> | null;
}

/** Whether an identity meets a condition. */
function meets(identity: Identity, condition: Condition): boolean {
  if (condition.kind === 'authenticated') return identity.subject !== null;
  return condition.anyOf.some((all) => all.every((scope) => identity.scopes.has(scope)));
}

/** The rules of one supergraph on its API schema (only one that has any); built again on each swap. */
export class Authorizer {
  readonly #rules: AccessRules;
  readonly #schema: AnySchema;
  readonly #typeConditions = new Map<string, readonly Condition[]>();
  /**
   * Analyses by document text, then operation name (bounded: the most recent texts, a few
   * names each). By the text itself, not a string made of it: a response-cache hit asks for
   * the analysis of the same text object every time, whose hash V8 keeps.
   */
  readonly #analyses = new Map<string, Map<string, Analysis | null>>();
  /** Analyses of parsed documents (Apollo Server keeps one per query text), by operation name. */
  readonly #parsed = new WeakMap<DocumentNode, Map<string, Analysis | null>>();

  constructor(rules: AccessRules, schema: AnySchema) {
    this.#rules = rules;
    this.#schema = schema;
  }

  /** A named type's conditions: its own and, for an interface or union, every possible type's. */
  #ofType(type: AnyType): readonly Condition[] {
    const name = type.name ?? '';
    let found = this.#typeConditions.get(name);
    if (!found) {
      const own = this.#rules.types.get(name)?.conditions ?? [];
      const possible = isAbstract(type)
        ? this.#schema.getPossibleTypes(type as never).flatMap((t) => this.#rules.types.get((t as AnyType).name ?? '')?.conditions ?? [])
        : [];
      found = [...own, ...possible];
      this.#typeConditions.set(name, found);
    }
    return found;
  }

  /** A field's conditions: its definition's (an interface's implementations' too) and its return type's. */
  #ofField(parent: AnyType, field: string, returns: AnyType): readonly Condition[] {
    const own = this.#rules.fields.get(`${parent.name}.${field}`)?.conditions ?? [];
    const implementations = isAbstract(parent)
      ? this.#schema
          .getPossibleTypes(parent as never)
          .flatMap((t) => this.#rules.fields.get(`${(t as AnyType).name}.${field}`)?.conditions ?? [])
      : [];
    return [...own, ...implementations, ...this.#ofType(namedOf(returns))];
  }

  /** Walks an operation; null when it cannot be (no such operation, or it does not parse). */
  analyse(document: DocumentNode | string, operationName: string | null | undefined): Analysis | null {
    const name = operationName ?? '';
    if (typeof document !== 'string') {
      let byName = this.#parsed.get(document);
      if (!byName) this.#parsed.set(document, (byName = new Map()));
      if (!byName.has(name)) byName.set(name, this.#walkSafely(document, operationName));
      return byName.get(name)!;
    }
    let byName = this.#analyses.get(document);
    // A memoised null (it cannot be walked) is returned here too: only a name never seen is undefined.
    const known = byName?.get(name);
    if (known !== undefined) return known;
    let analysis: Analysis | null;
    try {
      analysis = this.#walk(parse(document, { noLocation: true }), operationName);
    } catch {
      analysis = null;
    }
    if (!byName) {
      if (this.#analyses.size >= 1000) this.#analyses.delete(this.#analyses.keys().next().value!);
      this.#analyses.set(document, (byName = new Map()));
    }
    // One text asked for under ever new operation names must not grow without bound either.
    if (byName.size >= 16) byName.clear();
    byName.set(name, analysis);
    return analysis;
  }

  #walkSafely(document: DocumentNode, operationName: string | null | undefined): Analysis | null {
    try {
      return this.#walk(document, operationName);
    } catch {
      return null;
    }
  }

  #walk(document: DocumentNode, operationName: string | null | undefined): Analysis | null {
    const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
    const operation = operationName
      ? operations.find((o) => o.name?.value === operationName)
      : operations.length === 1
        ? operations[0]
        : undefined;
    if (!operation) return null;
    const fragments = fragmentsOf(document);
    const root = rootOf(this.#schema, operation);
    const conditions = new Map<string, Condition>();
    const guarded = new Map<SelectionNode, string[]>();
    const paths = new Map<SelectionNode, string[][]>();
    const guard = (node: SelectionNode, found: readonly Condition[], path: string[]): boolean => {
      if (found.length === 0) return false;
      const ids = found.map((c) => {
        const id = conditionId(c);
        conditions.set(id, c);
        return id;
      });
      guarded.set(node, [...new Set(ids)]);
      paths.set(node, [...(paths.get(node) ?? []), path]);
      return true;
    };
    const walk = (parent: AnyType, set: SelectionSetNode, path: string[], within: ReadonlySet<string>): void => {
      for (const selection of set.selections) {
        if (selection.kind === Kind.FIELD) {
          const name = selection.name.value;
          const definition = parent.getFields?.()[name];
          if (!definition) continue;
          const at = [...path, selection.alias?.value ?? name];
          if (guard(selection, this.#ofField(parent, name, definition.type), at)) continue;
          if (selection.selectionSet)
            walk(namedOf(definition.type), selection.selectionSet, [...at, ...listLevels(definition.type)], within);
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          const type = selection.typeCondition ? (this.#schema.getType(selection.typeCondition.name.value) as AnyType | undefined) : parent;
          if (!type) continue;
          if (type.name !== parent.name && guard(selection, this.#ofType(type), path)) continue;
          walk(type, selection.selectionSet, path, within);
        } else {
          const fragment = fragments.get(selection.name.value);
          const type = fragment && (this.#schema.getType(fragment.typeCondition.name.value) as AnyType | undefined);
          if (!fragment || !type || within.has(fragment.name.value)) continue;
          if (type.name !== parent.name && guard(selection, this.#ofType(type), path)) continue;
          walk(type, fragment.selectionSet, path, new Set([...within, fragment.name.value]));
        }
      }
    };
    if (root) walk(root, operation.selectionSet, [], new Set());
    return { operation, conditions, guarded, paths, restrictions: new Map() };
  }

  /**
   * The part of a response-cache key that access decides: each condition the operation
   * touches and whether this identity meets it (empty when it touches none). Never the token:
   * callers who meet the same conditions share answers. Null when the operation cannot be walked.
   */
  accessKey(query: string, operationName: string | null | undefined, identity: Identity): string | null {
    const analysis = this.analyse(query, operationName);
    if (!analysis) return null;
    if (analysis.conditions.size === 0) return '';
    return [...analysis.conditions]
      .map(([id, condition]) => `${id}=${meets(identity, condition) ? 1 : 0}`)
      .sort()
      .join(',');
  }

  /** What to cut for this identity; null when the operation may run as it is. */
  restrict(document: DocumentNode, operationName: string | null | undefined, identity: Identity): Restriction | null {
    const analysis = this.analyse(document, operationName);
    if (!analysis || analysis.guarded.size === 0) return null;
    const met = new Map([...analysis.conditions].map(([id, c]) => [id, meets(identity, c)]));
    const verdict = [...met.values()].map(Number).join('');
    if (!analysis.restrictions.has(verdict)) analysis.restrictions.set(verdict, this.#restriction(document, analysis, met));
    return analysis.restrictions.get(verdict)!;
  }

  #restriction(document: DocumentNode, analysis: Analysis, met: ReadonlyMap<string, boolean>): Restriction | null {
    const denied = new Set([...analysis.guarded].filter(([, ids]) => ids.some((id) => !met.get(id))).map(([node]) => node));
    if (denied.size === 0) return null;
    const errors = [...denied].flatMap((node) =>
      (analysis.paths.get(node) ?? []).map((path) => ({
        message: node.kind === Kind.FIELD ? `Unauthorized field or type: ${node.name.value}` : 'Unauthorized field or type',
        path: [...path],
        extensions: { code: ErrorCode.UNAUTHORIZED_FIELD_OR_TYPE },
      })),
    );
    const cut = this.#cut(document, denied);
    // Read once per restriction, not once per answer reshaped.
    const fragments = fragmentsOf(document);
    return {
      document: cut,
      queryHash: createHash('sha256').update(print(cut)).digest('hex'),
      errors: dedupe(errors),
      reshape: (data, variables) => reshape(this.#schema, analysis.operation, fragments, denied, data, variables ?? {}),
    };
  }

  /** The document without the denied selections; `__typename` (aliased) where a selection set emptied or the type is abstract. */
  #cut(document: DocumentNode, denied: ReadonlySet<SelectionNode>): DocumentNode {
    const typename: FieldNode = {
      kind: Kind.FIELD,
      alias: { kind: Kind.NAME, value: TYPENAME_ALIAS },
      name: { kind: Kind.NAME, value: '__typename' },
    };
    const cut = visit(document, {
      Field: (node) => (denied.has(node) ? null : undefined),
      InlineFragment: (node) => (denied.has(node) ? null : undefined),
      FragmentSpread: (node) => (denied.has(node) ? null : undefined),
      // Every selection set gets the runtime type: the reshape needs it at abstract positions, and an emptied set needs a field.
      SelectionSet: { leave: (node) => ({ ...node, selections: [...node.selections, typename] }) },
    });
    // A fragment no longer spread anywhere would make the document invalid.
    const spread = new Set<string>();
    visit(cut, { FragmentSpread: (node) => void spread.add(node.name.value) });
    return { ...cut, definitions: cut.definitions.filter((d) => d.kind !== Kind.FRAGMENT_DEFINITION || spread.has(d.name.value)) };
  }
}

function dedupe(errors: GraphQLFormattedError[]): GraphQLFormattedError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const key = JSON.stringify(e.path);
    return !seen.has(key) && seen.add(key);
  });
}
