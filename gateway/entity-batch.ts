/**
 * Entity lookups of one operation, sent to one subgraph in as few requests as its query plan
 * allows. Apollo's executor sends one request per fetch node; the fetch nodes of one plan
 * stage (parallel branches, and sequences that the same answer resumes) to the same subgraph
 * go here into one batch, sent as one request: one `_entities` list per distinct selection
 * (`entity-merge.ts`), each representation sent once. An entity a fetch of the operation has
 * already asked for with the same selection, or is asking for, is answered from that lookup
 * instead of being asked again. Created per operation and per subgraph, never shared across
 * operations (the classic DataLoader leak and data-mixing bug); mutations never come here.
 */
import type { GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { SubgraphHint } from './cache-policy.js';
import type { GatewayContext } from './data-source.js';
import { splitAnswer, type AnswerError, type EntityDocuments, type EntityFetchShape, type MergedDocument } from './entity-merge.js';
import { copyJson } from './json-copy.js';

type Options = GraphQLDataSourceProcessOptions<GatewayContext>;

/** A subgraph's answer to one fetch, as the data source passes it on. */
export interface Answer {
  readonly data?: Record<string, unknown> | null;
  readonly errors?: readonly AnswerError[];
  readonly extensions?: Record<string, unknown>;
}

/** An answer and its cacheability (undefined: not known, so not cacheable). */
export interface Fetched {
  readonly answer: Answer;
  readonly hint: SubgraphHint | undefined;
}

/** Sends one request through the data source's own path (in-flight merging, resilience, hints). */
export type Send = (options: Options) => Promise<Fetched>;

const NOT_CACHEABLE: SubgraphHint = { maxAge: 0, markedPublic: false };

/** The most restrictive of two hints: what an answer made of both may be kept for. */
const restrictive = (a: SubgraphHint, b: SubgraphHint): SubgraphHint => ({
  maxAge: Math.min(a.maxAge, b.maxAge),
  markedPublic: a.markedPublic && b.markedPublic,
});

/** One entity's answer. */
interface Slot {
  /** As answered; undefined when the answer had no list. */
  readonly entity: unknown;
  /** Errors on it, paths relative to it. */
  readonly errors: readonly AnswerError[];
  readonly hint: SubgraphHint;
  /** Every value a scalar: copies need not be deep. */
  readonly flat: boolean;
  /** Handed out as it is once (Apollo merges it into its result in place); copies after that. */
  given: boolean;
}

/** The fetches of one batch that select alike, and the representations they send. */
interface Group {
  readonly shape: EntityFetchShape;
  readonly representations: unknown[];
  /** The keys (`representationKey`) of the lookups it answers, among its selection's. */
  readonly lookups: string[];
  readonly parts: Part[];
  slots: Slot[];
  /** Whether the answer had its list. */
  listed: boolean;
  /** Errors on the list as a whole or on the request, for every fetch of the group. */
  errors: AnswerError[];
  hint: SubgraphHint;
  extensions: Record<string, unknown> | undefined;
}

/** Where one representation of a fetch is answered: in its batch, or by an earlier lookup. */
type Source = { readonly group: Group; readonly index: number } | { readonly reused: Promise<Slot | null> };

/** A fetch's share of its batch: its entities and errors, taken as the answer arrives. */
interface Share {
  readonly entities: unknown[];
  /** Whether the answer had the list (else its data was null). */
  readonly listed: boolean;
  readonly errors: AnswerError[];
  readonly hint: SubgraphHint;
  readonly extensions: Record<string, unknown> | undefined;
}

interface Part {
  readonly options: Options;
  readonly sources: readonly Source[];
  resolve(share: Share): void;
  reject(error: unknown): void;
}

interface Batch {
  readonly groups: Map<string, Group>;
}

/** A lookup of the operation: the batch it went out in, and its entity once that answers (null: not reusable). */
interface Lookup {
  readonly batch: Batch;
  readonly group: Group;
  readonly index: number;
  readonly slot: Promise<Slot | null>;
  settle(slot: Slot | null): void;
}

/**
 * What identifies a representation among its selection's lookups: its JSON as the executor
 * built it, not canonical JSON (keys sorted). Apollo's executor builds a fetch's representations
 * from its `requires` selection, so equal ones come in one key order; two built in different
 * orders are only asked for twice. Canonical JSON of each representation, joined to the
 * selection's text for the id of its lookup, cost 12% of the gateway's CPU on the Guild
 * workload B. Null for a representation JSON cannot write (then the fetch is sent as it is).
 */
function representationKey(representation: unknown): string | null {
  try {
    return JSON.stringify(representation) ?? null;
  } catch {
    return null;
  }
}

const isFlat = (entity: unknown): boolean =>
  entity !== null &&
  typeof entity === 'object' &&
  !Array.isArray(entity) &&
  Object.values(entity).every((v) => v === null || typeof v !== 'object');

/** The entity for one more fetch: never the same object twice, as Apollo's executor writes into what it is given. */
function take(slot: Slot): unknown {
  if (slot.entity === undefined || slot.entity === null) return null;
  if (slot.flat) return { ...(slot.entity as object) };
  if (slot.given) return copyJson(slot.entity);
  slot.given = true;
  return slot.entity;
}

/** One operation's entity lookups to one subgraph. */
export class EntityBatcher {
  readonly #documents: EntityDocuments;
  readonly #send: Send;
  /** By selection (`selectionKey`), then by representation (`representationKey`). */
  readonly #lookups = new Map<string, Map<string, Lookup>>();
  #open: Batch | null = null;

  constructor(documents: EntityDocuments, send: Send) {
    this.#documents = documents;
    this.#send = send;
  }

  /** The answer to one entity fetch of the plan; null when it is not one this batches (send it as it is). */
  load(options: Options): Promise<Fetched> | null {
    const representations = options.request.variables?.['representations'];
    // Apollo's trace header (usage reporting) belongs to one fetch node.
    if (!Array.isArray(representations) || options.request.http) return null;
    const shape = this.#documents.shape(options.request.query ?? '');
    if (!shape) return null;
    const keys = representations.map(representationKey);
    if (keys.some((key) => key === null)) return null;
    const lookups = this.#lookupsOf(shape.selectionKey);
    const sources = keys.map((key, i): Source => {
      const known = lookups.get(key!);
      if (known) return known.batch === this.#open ? known : { reused: known.slot };
      const group = this.#group(shape);
      const index = group.representations.push(representations[i]) - 1;
      let settle!: (slot: Slot | null) => void;
      const slot = new Promise<Slot | null>((resolve) => (settle = resolve));
      lookups.set(key!, { batch: this.#open!, group, index, slot, settle });
      group.lookups.push(key!);
      return { group, index };
    });
    const group = sources.find((s): s is Exclude<Source, { reused: unknown }> => 'group' in s)?.group;
    const share = group ? new Promise<Share>((resolve, reject) => group.parts.push({ options, sources, resolve, reject })) : null;
    return this.#answer(options, sources, share);
  }

  /** The lookups of one selection. */
  #lookupsOf(selectionKey: string): Map<string, Lookup> {
    let lookups = this.#lookups.get(selectionKey);
    if (!lookups) this.#lookups.set(selectionKey, (lookups = new Map()));
    return lookups;
  }

  /** The group of this shape in the open batch (opening one, sent once this turn's fetches have come). */
  #group(shape: EntityFetchShape): Group {
    let batch = this.#open;
    if (!batch) {
      const opened: Batch = (batch = this.#open = { groups: new Map() });
      // As DataLoader schedules its batches: after this turn's promise jobs, so every fetch
      // that one answer sets off (parallel branches, sequences it resumes) is in the batch.
      void Promise.resolve().then(() => process.nextTick(() => void this.#dispatch(opened)));
    }
    let group = batch.groups.get(shape.selectionKey);
    if (!group) {
      group = {
        shape,
        representations: [],
        lookups: [],
        parts: [],
        slots: [],
        errors: [],
        listed: false,
        hint: NOT_CACHEABLE,
        extensions: undefined,
      };
      batch.groups.set(shape.selectionKey, group);
    }
    return group;
  }

  async #answer(options: Options, sources: readonly Source[], share: Promise<Share> | null): Promise<Fetched> {
    const own = share ? await share : null;
    const reused = sources.some((s) => 'reused' in s) ? await Promise.all(sources.map((s) => ('reused' in s ? s.reused : null))) : null;
    // An entity another fetch was asking for came back with errors: ask again, as Apollo would.
    if (reused && sources.some((s, i) => 'reused' in s && reused[i] === null)) return this.#send(options);
    let hint = own?.hint;
    const entities = reused
      ? sources.map((_, i) => {
          const slot = reused[i];
          if (!slot) return own!.entities[i];
          hint = hint ? restrictive(hint, slot.hint) : slot.hint;
          return take(slot);
        })
      : own!.entities;
    const errors = own?.errors ?? [];
    const answer: Answer = {
      // No list in the answer and nothing reused: no data, as the subgraph said.
      data: reused || own!.listed ? { _entities: entities } : null,
      ...(errors.length > 0 ? { errors } : {}),
      ...(own?.extensions ? { extensions: own.extensions } : {}),
    };
    return { answer, hint: hint ?? NOT_CACHEABLE };
  }

  /** Sends a batch: one request for all its selections (apart only if they cannot share a document). */
  async #dispatch(batch: Batch): Promise<void> {
    if (this.#open === batch) this.#open = null;
    const groups = [...batch.groups.values()];
    const merged = groups.length > 1 ? this.#documents.merged(groups.map((g) => g.shape)) : null;
    if (groups.length === 1 || merged) await this.#request(groups, merged);
    else await Promise.all(groups.map((group) => this.#request([group], null)));
  }

  /** One request for these groups (`merged`: their merged document, when more than one), and each fetch's share of its answer. */
  async #request(groups: readonly Group[], merged: MergedDocument | null): Promise<void> {
    const template = groups[0]!.parts[0]!.options;
    const variables: Record<string, unknown> = {};
    for (const part of groups.flatMap((g) => g.parts)) Object.assign(variables, part.options.request.variables);
    let options: Options;
    if (merged) {
      delete variables['representations'];
      groups.forEach((g, i) => (variables[merged.variables[i]!] = g.representations));
      const request = { query: merged.query, operationName: merged.operationName, variables };
      options = { ...template, request, ...('document' in template ? { document: undefined } : {}) } as typeof template;
    } else if (
      groups[0]!.parts.length === 1 &&
      groups[0]!.representations.length === template.request.variables!['representations']!.length
    ) {
      // One fetch, nothing shared: sent exactly as Apollo built it.
      options = template;
    } else {
      const request = { ...template.request, variables: { ...variables, representations: groups[0]!.representations } };
      options = { ...template, request };
    }
    let fetched: Fetched;
    try {
      fetched = await this.#send(options);
    } catch (error) {
      for (const group of groups) this.#fail(group, error);
      return;
    }
    const aliases = merged ? merged.aliases : ['_entities'];
    const { selections, shared } = splitAnswer(
      fetched.answer,
      aliases,
      groups.map((g) => g.representations.length),
    );
    groups.forEach((group, i) => this.#settle(group, selections[i]!, shared, fetched));
  }

  /** A group's entities as answered: reusable ones kept for later fetches, each fetch given its share. */
  #settle(group: Group, selection: ReturnType<typeof splitAnswer>['selections'][number], shared: AnswerError[], fetched: Fetched) {
    group.hint = fetched.hint ?? NOT_CACHEABLE;
    group.extensions = fetched.answer.extensions;
    group.listed = selection.entities !== undefined;
    group.errors = [...selection.listErrors.map((e) => ({ ...e, path: ['_entities', ...(e.path ?? [])] })), ...shared];
    group.slots = group.representations.map((_, index) => {
      const entity = selection.entities?.[index];
      return { entity, errors: selection.entityErrors.get(index) ?? [], hint: group.hint, flat: isFlat(entity), given: false };
    });
    // Only a flat entity answered without any error is reused: it is copied cheaply, and a
    // failed lookup is asked again (as Apollo would) rather than repeated.
    const clean = group.errors.length === 0;
    const lookups = this.#lookupsOf(group.shape.selectionKey);
    for (const key of group.lookups) {
      const lookup = lookups.get(key)!;
      const slot = group.slots[lookup.index]!;
      const reusable = clean && slot.flat && slot.errors.length === 0;
      lookup.settle(reusable ? slot : null);
      if (!reusable) lookups.delete(key);
    }
    for (const part of group.parts) {
      const entities: unknown[] = [];
      const errors: AnswerError[] = [];
      part.sources.forEach((source, i) => {
        if (!('group' in source)) return;
        const slot = source.group.slots[source.index]!;
        entities[i] = take(slot);
        for (const error of slot.errors) errors.push({ ...error, path: ['_entities', i, ...(error.path ?? [])] });
      });
      part.resolve({
        entities,
        listed: group.listed,
        errors: [...errors, ...group.errors],
        hint: group.hint,
        extensions: group.extensions,
      });
    }
  }

  /** A request that failed outright (not a subgraph failure, which is an answer): each of its fetches fails. */
  #fail(group: Group, error: unknown) {
    const lookups = this.#lookupsOf(group.shape.selectionKey);
    for (const key of group.lookups) {
      lookups.get(key)!.settle(null);
      lookups.delete(key);
    }
    for (const part of group.parts) part.reject(error);
  }
}
