/**
 * The documents of entity batching (`entity-batch.ts`): what one `_entities` fetch of Apollo's
 * query plan selects, worked out once per fetch text, and one document that asks a subgraph
 * for several such selections at once, each under an alias of its own (`_0: _entities(…)`,
 * `_1: …`), with the answer split back per selection. Both are pure functions of the fetch
 * texts, which a warm query plan repeats, so each is built once and kept (bounded).
 */
import {
  Kind,
  parse,
  print,
  visit,
  type DocumentNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type VariableDefinitionNode,
} from 'graphql';

/** What one entity fetch selects, as the batcher needs it. */
export interface EntityFetchShape {
  /** The fetch's operation name (Apollo's `Operation__subgraph__N`). */
  readonly operationName: string | undefined;
  /**
   * The fetch's document without its operation name: two fetches of a plan with the same key
   * ask for the same fields of their entities, and share one alias of a merged document.
   */
  readonly selectionKey: string;
  /** The type of its representations variable (`[_Any!]!`). */
  readonly representationsType: string;
  /** Its other variables (the operation's, with the same values in every fetch of an operation). */
  readonly variableDefinitions: readonly VariableDefinitionNode[];
  /** What it selects of each entity. */
  readonly selectionSet: SelectionSetNode;
  readonly fragments: readonly FragmentDefinitionNode[];
}

/** A document that asks for several selections, each under an alias. */
export interface MergedDocument {
  readonly query: string;
  readonly operationName: string | undefined;
  /** The alias of each selection's list, in the order of the shapes it was built from. */
  readonly aliases: readonly string[];
  /** The variable that carries each selection's representations, in the same order. */
  readonly variables: readonly string[];
}

/** An error of a subgraph's answer, as JSON gives it. */
export interface AnswerError {
  readonly message: string;
  readonly path?: readonly (string | number)[];
  readonly extensions?: Record<string, unknown>;
  readonly [other: string]: unknown;
}

/** One selection's part of a merged answer. */
export interface SelectionAnswer {
  /** Its list of entities; undefined when the answer has none of the expected length. */
  readonly entities: readonly unknown[] | undefined;
  /** Errors on one entity, by its index in the list, with paths relative to the entity. */
  readonly entityErrors: ReadonlyMap<number, readonly AnswerError[]>;
  /** Errors on the list as a whole, with paths relative to the list. */
  readonly listErrors: readonly AnswerError[];
}

/** Most fetch texts (and merged documents) kept; a plan cache's worth of fetches is far fewer. */
const MAX_KEPT = 2000;

/** A bounded map that forgets its least recently used entry. */
class Kept<V> {
  readonly #entries = new Map<string, V>();

  get(key: string): V | undefined {
    const value = this.#entries.get(key);
    if (value !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: V): V {
    if (this.#entries.size >= MAX_KEPT) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, value);
    return value;
  }
}

/** The shape of an Apollo entity fetch, or null for any other document (then it is not batched). */
export function entityFetchShape(query: string): EntityFetchShape | null {
  let document: DocumentNode;
  try {
    document = parse(query, { noLocation: true });
  } catch {
    return null;
  }
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const fragments = document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION);
  const operation = operations[0];
  if (operations.length !== 1 || fragments.length + 1 !== document.definitions.length) return null;
  if (operation!.operation !== 'query' || operation!.directives?.length) return null;
  const [field, ...others] = operation!.selectionSet.selections;
  if (others.length > 0 || field?.kind !== Kind.FIELD || field.name.value !== '_entities' || field.alias) return null;
  if (field.directives?.length || !field.selectionSet || field.arguments?.length !== 1) return null;
  const argument = field.arguments[0]!;
  if (argument.name.value !== 'representations' || argument.value.kind !== Kind.VARIABLE) return null;
  const name = argument.value.name.value;
  const definitions = operation!.variableDefinitions ?? [];
  const own = definitions.find((d) => d.variable.name.value === name);
  if (!own || own.defaultValue) return null;
  const unnamed: OperationDefinitionNode = { ...operation!, name: undefined };
  return {
    operationName: operation!.name?.value,
    selectionKey: print({ ...document, definitions: [unnamed, ...fragments] }),
    representationsType: print(own.type),
    variableDefinitions: definitions.filter((d) => d !== own),
    selectionSet: field.selectionSet,
    fragments,
  };
}

/** The same fragments and selection with each fragment `name` renamed as `names` says. */
function renamed(shape: EntityFetchShape, names: ReadonlyMap<string, string>) {
  const rename = {
    FragmentSpread: (node: { name: { value: string } }) => ({ ...node, name: { ...node.name, value: names.get(node.name.value)! } }),
    FragmentDefinition: (node: FragmentDefinitionNode) => ({ ...node, name: { ...node.name, value: names.get(node.name.value)! } }),
  };
  return {
    selectionSet: visit(shape.selectionSet, rename as never) as SelectionSetNode,
    fragments: shape.fragments.map((f) => visit(f, rename as never) as FragmentDefinitionNode),
  };
}

/**
 * One document asking for every shape's selection under the alias `_<i>`, its representations
 * in `$representations<i>`. Fragments the shapes define alike are defined once; a shape whose
 * fragment differs from another's of the same name has its fragments renamed `<name>_<i>`.
 * Null when the shapes cannot share a document (one variable defined two ways), so the
 * caller sends them apart.
 */
export function mergedDocument(shapes: readonly EntityFetchShape[]): MergedDocument | null {
  const variables = shapes.map((_, i) => `representations${i}`);
  const definitions = new Map<string, string>(shapes.map((s, i) => [variables[i]!, `$${variables[i]}: ${s.representationsType}`]));
  const fragments = new Map<string, string>();
  const fields: string[] = [];
  for (const [i, shape] of shapes.entries()) {
    for (const definition of shape.variableDefinitions) {
      const name = definition.variable.name.value;
      const text = print(definition);
      if ((definitions.get(name) ?? text) !== text) return null;
      definitions.set(name, text);
    }
    const clash = shape.fragments.some((f) => (fragments.get(f.name.value) ?? print(f)) !== print(f));
    const own = clash ? renamed(shape, new Map(shape.fragments.map((f) => [f.name.value, `${f.name.value}_${i}`]))) : shape;
    for (const fragment of own.fragments) {
      const text = print(fragment);
      if ((fragments.get(fragment.name.value) ?? text) !== text) return null;
      fragments.set(fragment.name.value, text);
    }
    fields.push(`_${i}: _entities(representations: $${variables[i]}) ${print(own.selectionSet)}`);
  }
  const operationName = shapes[0]?.operationName;
  const query = `query ${operationName ?? ''}(${[...definitions.values()].join(', ')}) {\n${fields.join('\n')}\n}\n${[...fragments.values()].join('\n')}`;
  return { query, operationName, aliases: shapes.map((_, i) => `_${i}`), variables };
}

/**
 * Splits a subgraph's answer to a document of several `_entities` lists (under `aliases`, of
 * `sizes` entities each): each list with the errors that fell on it, and the errors that fell
 * on none (no path, or a path outside the lists), which concern every fetch it answered.
 */
export function splitAnswer(
  answer: { readonly data?: unknown; readonly errors?: readonly AnswerError[] },
  aliases: readonly string[],
  sizes: readonly number[],
): { selections: SelectionAnswer[]; shared: AnswerError[] } {
  const data = answer.data !== null && typeof answer.data === 'object' ? (answer.data as Record<string, unknown>) : undefined;
  const selections = aliases.map((alias, i) => {
    const list = data?.[alias];
    return {
      entities: Array.isArray(list) && list.length === sizes[i] ? (list as unknown[]) : undefined,
      entityErrors: new Map<number, AnswerError[]>(),
      listErrors: [] as AnswerError[],
    };
  });
  const shared: AnswerError[] = [];
  for (const error of answer.errors ?? []) {
    const [head, index, ...rest] = Array.isArray(error.path) ? error.path : [];
    const selection = typeof head === 'string' ? selections[aliases.indexOf(head)] : undefined;
    if (!selection) shared.push(error);
    else if (typeof index === 'number') {
      const errors = selection.entityErrors.get(index) ?? [];
      errors.push({ ...error, path: rest });
      selection.entityErrors.set(index, errors);
    } else selection.listErrors.push({ ...error, path: index === undefined ? [] : [index, ...rest] });
  }
  return { selections, shared };
}

/** The shapes of fetch texts and the merged documents of lists of shapes, each built once. */
export class EntityDocuments {
  readonly #shapes = new Kept<EntityFetchShape | false>();
  readonly #merged = new Kept<MergedDocument | false>();

  /** The shape of a fetch text, or null when it is not an entity fetch that can be batched. */
  shape(query: string): EntityFetchShape | null {
    const known = this.#shapes.get(query);
    if (known !== undefined) return known || null;
    return this.#shapes.set(query, entityFetchShape(query) ?? false) || null;
  }

  /** `mergedDocument` of these shapes (the same list of shapes gives the same object). */
  merged(shapes: readonly EntityFetchShape[]): MergedDocument | null {
    const key = `${shapes[0]?.operationName ?? ''}\u0000${shapes.map((s) => s.selectionKey).join('\u0000')}`;
    const known = this.#merged.get(key);
    if (known !== undefined) return known || null;
    return this.#merged.set(key, mergedDocument(shapes) ?? false) || null;
  }
}
