/**
 * Operation limits, checked while Apollo Server validates an operation, so an abusive one is
 * refused (HTTP 400, `QUERY_TOO_COMPLEX`, naming the limit and its setting) before any
 * subgraph is called. Depth, aliases and directives use graphql-armor's rules. Its cost rule
 * counts list sizes only from literal `first`/`last` arguments, and this schema's lists
 * (releases, trusts, rollouts) take none, so the cost estimate here is our own: every field
 * costs 1, times the sizes of the lists around it (a `first`/`last`/`limit` argument when
 * given, else `COST_LIST_SIZE`). Tokens are limited by graphql-js's own parser
 * (`parseOptions.maxTokens`), which stops reading at the limit.
 */
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import {
  GraphQLError,
  Kind,
  type GraphQLFormattedError,
  type GraphQLNamedType,
  type GraphQLOutputType,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { ErrorCode, GraphQLErrorWithCode } from '../schema/errors.js';
import type { OperationLimits } from './config.js';

const SIZE_ARGUMENTS = new Set(['first', 'last', 'limit']);

/**
 * How many list levels a field type has (`[[T]]` is 2), read from its printed form: graphql's
 * type predicates refuse types from Apollo's CommonJS copy of graphql when this file runs as
 * ESM (as under vitest), so this file uses none.
 */
function listLevels(type: GraphQLOutputType): number {
  return String(type).split('[').length - 1;
}

/** The named type under a field type's lists and non-nulls. */
function namedType(context: ValidationContext, type: GraphQLOutputType): GraphQLNamedType | undefined {
  return context.getSchema().getType(String(type).replace(/[[\]!]/g, ''));
}

interface WithFields {
  getFields(): Record<string, { type: GraphQLOutputType }>;
}

/**
 * Each named fragment's cost at multiplier 1, computed once per operation: the cost is linear
 * in the multiplier, so a fragment spread costs its multiplier times that. Without it, a
 * small document whose fragments each spread the next one twice costs 2^n steps to estimate
 * (an 851-byte request held the event loop for seconds).
 */
interface FragmentCosts {
  readonly unit: Map<string, number>;
  /** Fragments being estimated: a spread of one of them is a cycle (validation reports it). */
  readonly inProgress: Set<string>;
}

/** The estimated cost of a selection set under `parent`, each field weighted by `multiplier`. */
function selectionCost(
  context: ValidationContext,
  selectionSet: SelectionSetNode | undefined,
  parent: GraphQLNamedType | null | undefined,
  multiplier: number,
  listSize: number,
  fragments: FragmentCosts,
): number {
  if (!selectionSet) return 0;
  let cost = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      const name = selection.name.value;
      // Introspection is for analysts and bounded by the depth limit; __typename is free.
      if (name.startsWith('__')) continue;
      const fields = parent && 'getFields' in parent ? (parent as unknown as WithFields).getFields() : undefined;
      const field = fields?.[name];
      if (!field) continue; // an unknown field is validation's to report
      const sizeArgument = selection.arguments?.find((a) => SIZE_ARGUMENTS.has(a.name.value));
      const size = sizeArgument?.value.kind === Kind.INT ? Math.max(1, Number(sizeArgument.value.value)) : listSize;
      const childMultiplier = multiplier * size ** listLevels(field.type);
      cost +=
        multiplier + selectionCost(context, selection.selectionSet, namedType(context, field.type), childMultiplier, listSize, fragments);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      const type = selection.typeCondition ? context.getSchema().getType(selection.typeCondition.name.value) : parent;
      cost += selectionCost(context, selection.selectionSet, type, multiplier, listSize, fragments);
    } else {
      const name = selection.name.value;
      const fragment = context.getFragment(name);
      // A fragment cycle is a validation error of its own: do not loop on it.
      if (!fragment || fragments.inProgress.has(name)) continue;
      let unit = fragments.unit.get(name);
      if (unit === undefined) {
        fragments.inProgress.add(name);
        const type = context.getSchema().getType(fragment.typeCondition.name.value);
        unit = selectionCost(context, fragment.selectionSet, type, 1, listSize, fragments);
        fragments.inProgress.delete(name);
        fragments.unit.set(name, unit);
      }
      cost += multiplier * unit;
    }
  }
  return cost;
}

/** Refuses an operation whose estimated cost is over `maxCost` (`QUERY_TOO_COMPLEX`, with the cost). */
export function costLimitRule(maxCost: number, listSize: number): ValidationRule {
  return (context) => ({
    OperationDefinition(operation) {
      const schema = context.getSchema();
      // A subscription's root costs as a query's: each event runs its whole selection.
      const root = schema.getRootType(operation.operation);
      const cost = selectionCost(context, operation.selectionSet, root, 1, listSize, { unit: new Map(), inProgress: new Set() });
      if (cost > maxCost) {
        context.reportError(
          new GraphQLErrorWithCode(
            `Operation cost ${cost} exceeds the limit of ${maxCost} (MAX_COST): every field costs 1, times the sizes of the lists around it ` +
              `(a first/last/limit argument, else ${listSize}, COST_LIST_SIZE)`,
            ErrorCode.QUERY_TOO_COMPLEX,
            { limit: 'MAX_COST', cost, maxCost },
          ),
        );
      }
    },
  });
}

/** graphql-armor's message, with the setting that changes it, as `QUERY_TOO_COMPLEX`. */
function refuse(setting: string) {
  return (context: ValidationContext | null, error: GraphQLError) => {
    const message = error.message.replace(/^Syntax Error: /, '').replace(/\.$/, '');
    context?.reportError(new GraphQLErrorWithCode(`${message} (${setting})`, ErrorCode.QUERY_TOO_COMPLEX, { limit: setting }));
  };
}

/** The validation rules and parse options that enforce `limits`. */
export function operationLimits(limits: OperationLimits): {
  validationRules: ValidationRule[];
  parseOptions: { maxTokens: number };
} {
  const armor = new ApolloArmor({
    // Analysts are helped by "Did you mean …?"; the schema is public to them anyway.
    blockFieldSuggestion: { enabled: false },
    // graphql-js enforces it while parsing (parseOptions below), answering 400 not 500.
    maxTokens: { enabled: false },
    costLimit: { enabled: false },
    maxDepth: { n: limits.maxDepth, propagateOnRejection: false, onReject: [refuse('MAX_DEPTH')] },
    maxAliases: { n: limits.maxAliases, propagateOnRejection: false, onReject: [refuse('MAX_ALIASES')] },
    maxDirectives: { n: limits.maxDirectives, propagateOnRejection: false, onReject: [refuse('MAX_DIRECTIVES')] },
  }).protect();
  return {
    validationRules: [...(armor.validationRules ?? []), costLimitRule(limits.maxCost, limits.costListSize)] as ValidationRule[],
    parseOptions: { maxTokens: limits.maxTokens },
  };
}

/**
 * Gives a limit's refusal its own code: Apollo Server reports every validation error as
 * `GRAPHQL_VALIDATION_FAILED`, keeping the other extensions (our `limit`).
 */
export function limitCode(formatted: GraphQLFormattedError): GraphQLFormattedError {
  // graphql-js's own token limit: name the setting that raises it.
  if (/^Syntax Error: Document contains more th(?:an|at) \d+ tokens/.test(formatted.message))
    return { ...formatted, message: `${formatted.message} (MAX_TOKENS)` };
  if (formatted.extensions?.['limit'] && formatted.extensions['code'] === 'GRAPHQL_VALIDATION_FAILED')
    return { ...formatted, extensions: { ...formatted.extensions, code: ErrorCode.QUERY_TOO_COMPLEX } };
  return formatted;
}

/**
 * Refuses, with HTTP 400, an operation name the document lacks and an operation type the
 * schema has no root for (a mutation here): Apollo Gateway would fail them as 500s.
 */
export function knownOperationPlugin(): ApolloServerPlugin<BaseContext> {
  const refuse = (message: string) =>
    new GraphQLError(message, { extensions: { code: 'OPERATION_RESOLUTION_FAILURE', http: { status: 400 } } });
  return {
    async requestDidStart() {
      return {
        async didResolveOperation(rc) {
          const name = rc.request.operationName;
          if (!rc.operation)
            throw refuse(
              name ? `Unknown operation named "${name}".` : 'Must provide an operation name when the document has several operations.',
            );
          const kind = rc.operation.operation;
          const root = rc.schema.getRootType(kind);
          if (!root) throw refuse(`This supergraph has no ${kind} operations.`);
        },
      };
    },
  };
}
