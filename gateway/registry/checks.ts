/**
 * The checks a subgraph goes through before it joins the supergraph, offline, shared by
 * `npm run subgraph:check` and the registry's publish: the SDL parses; it conforms to the
 * contract; it composes with the other subgraphs (insights re-derived); what it changes in
 * the API schema, each change breaking, dangerous or safe; and which of the dashboards'
 * persisted operations and the gateway's recorded operations it would break.
 */
import { composeServices } from '@apollo/composition';
import type { CriticalityLevel } from '@graphql-inspector/core';
import { buildASTSchema, GraphQLError, Kind, parse, Source, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import type { ServedSubgraph } from '../built-ins.js';
import type { SubgraphSource } from '../compose.js';
import { generatedClusterSdl, releaseViewField } from '../../schema/cluster-views.js';
import { contractSdl, withContract } from '../../schema/contract.js';
import { CheckCode } from '../../schema/errors.js';
import { checkConformance, type CheckIssue } from './conformance.js';
import { servedSdlMismatch } from './served-sdl.js';
import type { PublishedSubgraph, RegistryChange } from './store.js';

export type { CheckIssue } from './conformance.js';

/** How much a schema change matters to clients. */
export type ChangeLevel = 'BREAKING' | 'DANGEROUS' | 'SAFE';

export interface SchemaChange {
  readonly level: ChangeLevel;
  /** graphql-inspector's change type, e.g. `FIELD_REMOVED`. */
  readonly type: string;
  readonly message: string;
  /** The schema coordinate, e.g. `NmeReleaseView.localName`. */
  readonly path: string | null;
  /**
   * A removal of what the published version had deprecated: still breaking for whoever uses
   * it, so allowed only when no persisted or recorded operation does (deprecate, then remove).
   */
  readonly deprecatedFirst: boolean;
}

/** An application that ran an operation, as it named itself (`apollographql-client-name` / `-version`). */
export interface OperationClient {
  readonly name: string;
  readonly version: string | null;
  /** When the gateway last saw it run the operation (ISO 8601). */
  readonly lastSeen: string;
}

/** An operation that would stop validating, and why. */
export interface BrokenOperation {
  readonly name: string;
  readonly source: 'persisted' | 'recorded';
  /** The applications seen running it, newest first (absent: none named itself). */
  readonly clients?: readonly OperationClient[];
  /**
   * For an operation without a name (recorded as `anonymous:<hash>`): the start of its
   * document on one line, at most `EXCERPT_CHARS` characters, so it can be recognised by
   * what it asks.
   */
  readonly excerpt?: string;
  readonly errors: readonly string[];
}

/** The most characters of an operation's document a report repeats. */
export const EXCERPT_CHARS = 80;

/** `document` on one line, whitespace collapsed, cut to `EXCERPT_CHARS` characters. */
export function documentExcerpt(document: string): string {
  const line = document
    .slice(0, EXCERPT_CHARS * 4)
    .replace(/\s+/g, ' ')
    .trim();
  return line.length > EXCERPT_CHARS ? `${line.slice(0, EXCERPT_CHARS - 1)}…` : line;
}

/** An operation the checks run against the would-be schema. */
export interface CheckedOperation {
  readonly name: string;
  readonly source: 'persisted' | 'recorded';
  readonly document: string;
  /** The applications seen running it, newest first. */
  readonly clients?: readonly OperationClient[];
}

/** Everything the checks found; `ok` when the subgraph may be published. */
export interface CheckReport {
  readonly subgraph: string;
  /** What was checked: a publication, a withdrawal (`delete`) or a rollback. */
  readonly action: RegistryChange['action'];
  readonly ok: boolean;
  /** The published version it was compared with, or null for a new subgraph. */
  readonly comparedWith: number | null;
  readonly sdl: CheckIssue[];
  readonly contract: CheckIssue[];
  readonly composition: { readonly ok: boolean; readonly errors: CheckIssue[]; readonly hints: string[] };
  readonly changes: SchemaChange[];
  readonly operations: { readonly checked: number; readonly broken: BrokenOperation[] };
  /**
   * The routing URL's check: tried by a publish (`checked`), left out by `subgraph:check`
   * (`checked: false`, and the message says so); null in a deletion's or rollback's report.
   * A refused URL has one code and message whatever the cause (the log has the cause).
   */
  readonly reachability: { readonly ok: boolean; readonly checked: boolean; readonly code?: string; readonly message: string } | null;
}

/** A passing check's by-products, for the registry. */
export interface CheckOutcome {
  readonly report: CheckReport;
  /** The subgraph's full SDL (contract and kit additions included), when it parses. */
  readonly fullSdl: string | null;
  /** The would-be supergraph, when everything composes. */
  readonly supergraphSdl: string | null;
}

export interface CheckInput {
  readonly name: string;
  /** The supplier's SDL: its own (the kit completes it) or its service's full SDL. */
  readonly sdl: string;
  /** Its routing URL (composition records it); a placeholder when not given. */
  readonly url: string | null;
  /** The subgraphs published now (the candidate's current version among them, if any). */
  readonly published: readonly PublishedSubgraph[];
  /** The built-in subgraphs, with the SDL each serves. */
  readonly builtIns: readonly ServedSubgraph[];
  readonly operations: readonly CheckedOperation[];
  /** The SDL the routing URL serves (a publish fetched it), which the SDL posted must match; null: not fetched. */
  readonly served?: string | null;
}

/** A deletion or rollback: the published subgraphs now, and what they would become. */
export interface ChangeInput {
  /** A withdrawal of `subgraph`, or a rollback (`subgraph` then names the version restored). */
  readonly action: 'delete' | 'rollback';
  readonly subgraph: string;
  readonly published: readonly PublishedSubgraph[];
  readonly next: readonly PublishedSubgraph[];
  readonly builtIns: readonly ServedSubgraph[];
  readonly operations: readonly CheckedOperation[];
}

const PLACEHOLDER_URL = 'http://unpublished.invalid/graphql';
const CONTRACT_LINES = contractSdl.split('\n').length;

/**
 * A supplier's own SDL completed as the kit completes it (the contract in front, snapshots
 * fields and `FeedStatus` after); a full SDL (one that links federation itself) as it is.
 */
export function completeSdl(name: string, document: DocumentNode, sdl: string): { full: string; lineOffset: number } {
  const linksFederation = document.definitions.some(
    (d) => (d.kind === Kind.SCHEMA_EXTENSION || d.kind === Kind.SCHEMA_DEFINITION) && d.directives?.some((x) => x.name.value === 'link'),
  );
  if (linksFederation) return { full: sdl, lineOffset: 0 };
  const withoutKit = withContract(sdl);
  const viewField = releaseViewField(document);
  return { full: viewField ? withContract(`${sdl}\n${generatedClusterSdl(name, viewField)}`) : withoutKit, lineOffset: CONTRACT_LINES };
}

/**
 * Where a line of the completed SDL comes from: the supplier's own SDL (its line there), the
 * contract in front of it, or the kit's additions after it. Only the first is the supplier's
 * to fix, so only it is reported as a line; the others are named, never as a line the
 * supplier's file does not have (a negative line, or one past its end).
 */
type Place = { readonly line: number } | { readonly elsewhere: string };

/** Places `line` of the completed SDL; `ownLines` is the number of lines of the supplier's SDL. */
function placeLine(line: number, lineOffset: number, ownLines: number): Place {
  const own = line - lineOffset;
  if (own < 1) return { elsewhere: `schema/contract.graphql line ${line}` };
  if (own > ownLines) return { elsewhere: "the kit's generated fields" };
  return { line: own };
}

function located(error: GraphQLError, candidate: string, lineOffset: number, ownLines: number): CheckIssue {
  const code = String(error.extensions['code'] ?? 'ERROR');
  const locations: { line: number; column: number }[] = [];
  const elsewhere: string[] = [];
  for (const node of error.nodes ?? []) {
    if (!node.loc) continue;
    if (node.loc.source.name !== candidate) {
      elsewhere.push(node.loc.source.name);
      continue;
    }
    const place = placeLine(node.loc.startToken.line, lineOffset, ownLines);
    if ('line' in place) locations.push({ line: place.line, column: node.loc.startToken.column });
    else elsewhere.push(place.elsewhere);
  }
  const where = elsewhere.length > 0 ? ` (also in ${[...new Set(elsewhere)].join(', ')})` : '';
  return { code, message: `${error.message}${where}`, ...(locations.length > 0 ? { locations } : {}) };
}

/** A conformance issue's locations in the completed SDL, moved to the supplier's SDL. */
function relocated(issue: CheckIssue, lineOffset: number, ownLines: number): CheckIssue {
  if (!issue.locations) return issue;
  const places = issue.locations.map((l) => ({ place: placeLine(l.line, lineOffset, ownLines), column: l.column }));
  const locations = places.flatMap(({ place, column }) => ('line' in place ? [{ line: place.line, column }] : []));
  const elsewhere = [...new Set(places.flatMap(({ place }) => ('elsewhere' in place ? [place.elsewhere] : [])))];
  return {
    code: issue.code,
    message: elsewhere.length > 0 ? `${issue.message} (also in ${elsewhere.join(', ')})` : issue.message,
    ...(locations.length > 0 ? { locations } : {}),
  };
}

type Composed = { ok: true; supergraphSdl: string; api: GraphQLSchema; hints: string[] } | { ok: false; errors: readonly GraphQLError[] };

function compose(subgraphs: readonly SubgraphSource[]): Composed {
  const result = composeServices(subgraphs.map((s) => ({ name: s.name, url: s.url, typeDefs: parse(new Source(s.sdl, s.name)) })));
  if (result.errors) return { ok: false, errors: result.errors };
  return {
    ok: true,
    supergraphSdl: result.supergraphSdl,
    // Rebuilt from its AST: federation uses its own graphql-js copy, which `validate` refuses.
    api: buildASTSchema(result.schema.toAPISchema().toAST()),
    hints: result.hints.map((h) => h.toString()),
  };
}

const LEVELS: Record<`${CriticalityLevel}`, ChangeLevel> = {
  BREAKING: 'BREAKING',
  DANGEROUS: 'DANGEROUS',
  NON_BREAKING: 'SAFE',
};

async function apiChanges(before: GraphQLSchema, after: GraphQLSchema): Promise<SchemaChange[]> {
  // Loaded at the first check, not at start: most gateways never run one (some 50 modules).
  const { diff } = await import('@graphql-inspector/core');
  return (await diff(before, after)).map((c) => {
    const meta = (c.meta ?? {}) as { isRemovedFieldDeprecated?: boolean; isEnumValueDeprecated?: boolean };
    return {
      level: LEVELS[c.criticality.level],
      type: c.type,
      message: c.message,
      path: c.path ?? null,
      deprecatedFirst: meta.isRemovedFieldDeprecated === true || meta.isEnumValueDeprecated === true,
    };
  });
}

function brokenOperations(before: GraphQLSchema, after: GraphQLSchema, operations: readonly CheckedOperation[]): BrokenOperation[] {
  return operations.flatMap((op) => {
    let document: DocumentNode;
    try {
      document = parse(op.document);
    } catch {
      return []; // never valid, so nothing a schema change breaks
    }
    if (validate(before, document).length > 0) return [];
    const errors = validate(after, document);
    if (errors.length === 0) return [];
    const anonymous = document.definitions.some((d) => d.kind === Kind.OPERATION_DEFINITION && !d.name);
    return [
      {
        name: op.name,
        source: op.source,
        ...(op.clients?.length ? { clients: op.clients } : {}),
        ...(anonymous ? { excerpt: documentExcerpt(op.document) } : {}),
        errors: errors.map((e) => e.message),
      },
    ];
  });
}

/** The supergraph's subgraphs with `replacement` instead of (or besides) the published one of its name. */
export function subgraphsWith(
  builtIns: readonly ServedSubgraph[],
  published: readonly PublishedSubgraph[],
  replacement: SubgraphSource | null,
  removed: string | null = null,
): SubgraphSource[] {
  const others = published
    .filter((p) => p.name !== replacement?.name && p.name !== removed)
    .map((p) => ({ name: p.name, url: p.url, sdl: p.sdl }));
  // A built-in that follows the registry serves the SDL of the current state, not of the
  // candidate: it is left out here, and the swap composes it once it serves the change.
  return [...builtIns.filter((b) => !b.followsRegistry), ...others, ...(replacement ? [replacement] : [])];
}

/** Runs every offline check of `input`; `checkPublication` (publication.ts) adds the URL and the cluster identity. */
export async function checkSubgraph(input: CheckInput): Promise<CheckOutcome> {
  const empty = {
    sdl: [],
    contract: [],
    composition: { ok: false, errors: [], hints: [] },
    changes: [],
    operations: { checked: 0, broken: [] },
  };
  const current = input.published.find((p) => p.name === input.name) ?? null;
  const base = { subgraph: input.name, action: 'publish' as const, comparedWith: current?.version ?? null, reachability: null };
  let document: DocumentNode;
  try {
    document = parse(new Source(input.sdl, input.name));
  } catch (error) {
    const e = error as GraphQLError;
    // graphql-js parses nesting by recursion: 60,000 nested list brackets fit the byte limit.
    const message =
      error instanceof RangeError
        ? 'The SDL nests too deep to parse (list types or values nested thousands of levels): no real schema does'
        : e.message;
    const issue: CheckIssue = { code: 'SDL_INVALID', message, ...(e.locations ? { locations: e.locations } : {}) };
    return { report: { ...base, ...empty, ok: false, sdl: [issue] }, fullSdl: null, supergraphSdl: null };
  }
  const { full, lineOffset } = completeSdl(input.name, document, input.sdl);
  const ownLines = lineOffset > 0 ? input.sdl.split('\n').length : Number.POSITIVE_INFINITY;
  const candidate: SubgraphSource = { name: input.name, url: input.url ?? PLACEHOLDER_URL, sdl: full };
  // Insights as it serves itself: its own fields (`Query.feeds`, `Release.comparison`) are owned too.
  const builtIn = input.builtIns;
  const reserved = builtIn.some((s) => s.name === input.name);
  const contract = reserved
    ? [{ code: 'CONTRACT_NAME', message: `"${input.name}" is a built-in subgraph of this gateway; choose another name` }]
    : checkConformance(input.name, full, [...builtIn, ...input.published.map((p) => ({ name: p.name, sdl: p.sdl }))]).map((issue) =>
        relocated(issue, lineOffset, ownLines),
      );
  if (contract.some((i) => i.code === 'CONTRACT_CLUSTER_VIEW') || reserved) {
    return { report: { ...base, ...empty, ok: false, contract }, fullSdl: full, supergraphSdl: null };
  }
  const before = compose(subgraphsWith(input.builtIns, input.published, null));
  const after = compose(subgraphsWith(input.builtIns, input.published, candidate));
  if (!after.ok) {
    const errors = after.errors.map((e) => located(e, input.name, lineOffset, ownLines));
    return {
      report: { ...base, ...empty, ok: false, contract, composition: { ok: false, errors, hints: [] } },
      fullSdl: full,
      supergraphSdl: null,
    };
  }
  let changes: SchemaChange[] = [];
  let operations = { checked: input.operations.length, broken: [] as BrokenOperation[] };
  if (before.ok) {
    changes = await apiChanges(before.api, after.api);
    operations = { checked: input.operations.length, broken: brokenOperations(before.api, after.api, input.operations) };
  }
  const passed =
    contract.length === 0 && !changes.some((c) => c.level === 'BREAKING' && !c.deprecatedFirst) && operations.broken.length === 0;
  // What is routed to is what the URL serves: an SDL that passes on its own merits must also
  // be the subgraph its URL serves (checked last, so subgraph:check and a publish report the
  // same issues for the same SDL).
  const mismatch = passed && input.served ? servedSdlMismatch(full, input.served) : null;
  if (mismatch) contract.push({ code: CheckCode.SDL_MISMATCH, message: `The SDL posted is not what the URL serves: ${mismatch}` });
  const ok = passed && !mismatch;
  return {
    report: { ...base, ok, sdl: [], contract, composition: { ok: true, errors: [], hints: after.hints }, changes, operations },
    fullSdl: full,
    supergraphSdl: after.supergraphSdl,
  };
}

/**
 * What the supergraph would lose if `published` became `next` (a subgraph deleted, or a
 * rollback): it must compose, and the changes and broken operations are reported.
 */
export async function checkChange(input: ChangeInput): Promise<CheckOutcome> {
  const base = { subgraph: input.subgraph, action: input.action, comparedWith: null, reachability: null, sdl: [], contract: [] };
  const before = compose(subgraphsWith(input.builtIns, input.published, null));
  const after = compose(subgraphsWith(input.builtIns, input.next, null));
  if (!after.ok) {
    const errors = after.errors.map((e) => located(e, '', 0, Number.POSITIVE_INFINITY));
    const report = {
      ...base,
      ok: false,
      composition: { ok: false, errors, hints: [] },
      changes: [],
      operations: { checked: 0, broken: [] },
    };
    return { report, fullSdl: null, supergraphSdl: null };
  }
  const changes = before.ok ? await apiChanges(before.api, after.api) : [];
  const broken = before.ok ? brokenOperations(before.api, after.api, input.operations) : [];
  const report = {
    ...base,
    ok: broken.length === 0,
    composition: { ok: true, errors: [], hints: after.hints },
    changes,
    operations: { checked: input.operations.length, broken },
  };
  return { report, fullSdl: null, supergraphSdl: after.supergraphSdl };
}
