/**
 * Header propagation: which of a client's request headers each subgraph fetch carries, as
 * data (`PROPAGATE_HEADERS` / `PROPAGATE_HEADERS_FILE`), in the shape of Apollo Router's
 * `headers:` section: rules for `all` subgraphs, then each subgraph's own, applied in order.
 *
 * - `propagate: { named, rename?, default? }` passes one header (renamed, or a default value
 *   when the client sent none); `propagate: { matching }` passes every header whose name
 *   matches a regular expression;
 * - `remove: { named } | { matching }` takes back what earlier rules passed;
 * - `insert: { name, value }` adds a fixed header;
 * - `claims: { include? }` sends the validated JWT's claims (`CALLER_CLAIMS_HEADER`).
 *
 * Never passed, whatever the rules: hop-by-hop headers (RFC 9110 §7.6.1, and any the client
 * lists in its `Connection`), the headers the gateway sets itself (pin, request id, claims,
 * trace context, content negotiation), and, by a `matching` rule, credentials
 * (`Authorization`, `Cookie`, `X-Api-Key`): those go only where a `named` rule says so.
 */
import { encodeCallerClaims } from '../schema/caller-claims.js';
import { CALLER_CLAIMS_HEADER, FEED_VERSION_HEADER, PIN_HEADER, REQUEST_ID_HEADER, SUBGRAPHS_HEADER } from '../schema/wire.js';
import type { Caller } from './caller.js';

/** A client's request headers: lower-case names, one value each (Apollo's `HeaderMap` is one, and a `Map`). */
export interface ClientHeaders {
  get(name: string): string | null | undefined;
  [Symbol.iterator](): Iterator<[string, string]>;
}

/** Headers never passed on: hop-by-hop, framing and content negotiation (the gateway's own), and what the gateway sets. */
export const NEVER_PROPAGATED: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'trailers',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'content-type',
  'content-encoding',
  'accept',
  'accept-encoding',
  'expect',
  // The gateway's own, which a client must not be able to forge (schema/wire.ts).
  PIN_HEADER,
  SUBGRAPHS_HEADER,
  REQUEST_ID_HEADER,
  FEED_VERSION_HEADER,
  CALLER_CLAIMS_HEADER,
  // The trace context is continued by the tracing, never copied.
  'traceparent',
  'tracestate',
  'baggage',
]);

/** Credentials: passed only by a rule that names them, never by a `matching` one. */
export const CREDENTIALS: ReadonlySet<string> = new Set(['authorization', 'cookie', 'x-api-key']);

const never = (name: string) => NEVER_PROPAGATED.has(name) || name.startsWith('proxy-');

/** One compiled rule. */
type Rule =
  | { readonly kind: 'named'; readonly name: string; readonly rename: string; readonly default: string | null }
  | { readonly kind: 'matching'; readonly pattern: RegExp }
  | { readonly kind: 'remove-named'; readonly name: string }
  | { readonly kind: 'remove-matching'; readonly pattern: RegExp }
  | { readonly kind: 'insert'; readonly name: string; readonly value: string }
  | { readonly kind: 'claims'; readonly include: readonly string[] | null };

/** Raised for a bad rule; the message says where (`subgraphs.south.request[1].propagate.named`) and why. */
export class HeaderRulesError extends Error {
  override readonly name = 'HeaderRulesError';
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;
const VALUE = /^[\t\x20-\x7e]{0,4096}$/;
const SUBGRAPH = /^[A-Za-z_][\w-]{0,63}$/;

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function only(where: string, value: Record<string, unknown>, allowed: readonly string[]): void {
  const extra = Object.keys(value).filter((k) => !allowed.includes(k));
  if (extra.length > 0) throw new HeaderRulesError(`${where}: unknown key ${JSON.stringify(extra[0])} (expected ${allowed.join(', ')})`);
}

function headerName(where: string, value: unknown, passed: boolean): string {
  if (typeof value !== 'string' || !TOKEN.test(value))
    throw new HeaderRulesError(`${where}: ${JSON.stringify(value)} is not a header name`);
  const name = value.toLowerCase();
  if (passed && never(name))
    throw new HeaderRulesError(`${where}: ${JSON.stringify(value)} is never passed to subgraphs (hop-by-hop, or set by the gateway)`);
  return name;
}

function headerValue(where: string, value: unknown): string {
  if (typeof value !== 'string' || !VALUE.test(value))
    throw new HeaderRulesError(`${where}: ${JSON.stringify(value)} is not a header value (printable ASCII, at most 4096 characters)`);
  return value;
}

function pattern(where: string, value: unknown): RegExp {
  if (typeof value !== 'string' || value.length === 0 || value.length > 256)
    throw new HeaderRulesError(`${where}: must be a regular expression of 1-256 characters`);
  try {
    return new RegExp(value, 'i');
  } catch (error) {
    throw new HeaderRulesError(`${where}: ${(error as Error).message}`);
  }
}

function compileRule(where: string, raw: unknown): Rule {
  if (!isRecord(raw) || Object.keys(raw).length !== 1)
    throw new HeaderRulesError(`${where}: must be an object with one of propagate, remove, insert, claims`);
  const [kind, body] = Object.entries(raw)[0]!;
  const at = `${where}.${kind}`;
  if (!isRecord(body)) throw new HeaderRulesError(`${at}: must be an object`);
  switch (kind) {
    case 'propagate':
      if ('matching' in body) {
        only(at, body, ['matching']);
        return { kind: 'matching', pattern: pattern(`${at}.matching`, body['matching']) };
      }
      only(at, body, ['named', 'rename', 'default']);
      {
        const name = headerName(`${at}.named`, body['named'], true);
        const rename = body['rename'] === undefined ? name : headerName(`${at}.rename`, body['rename'], true);
        const fallback = body['default'] === undefined ? null : headerValue(`${at}.default`, body['default']);
        return { kind: 'named', name, rename, default: fallback };
      }
    case 'remove':
      if ('matching' in body) {
        only(at, body, ['matching']);
        return { kind: 'remove-matching', pattern: pattern(`${at}.matching`, body['matching']) };
      }
      only(at, body, ['named']);
      return { kind: 'remove-named', name: headerName(`${at}.named`, body['named'], false) };
    case 'insert':
      only(at, body, ['name', 'value']);
      return { kind: 'insert', name: headerName(`${at}.name`, body['name'], true), value: headerValue(`${at}.value`, body['value']) };
    case 'claims': {
      only(at, body, ['include']);
      const include = body['include'];
      if (include !== undefined && (!Array.isArray(include) || !include.every((c) => typeof c === 'string' && c.length > 0)))
        throw new HeaderRulesError(`${at}.include: must be a list of claim names`);
      return { kind: 'claims', include: (include as string[] | undefined) ?? null };
    }
    default:
      throw new HeaderRulesError(`${where}: unknown rule ${JSON.stringify(kind)} (expected propagate, remove, insert or claims)`);
  }
}

function compileRules(where: string, raw: unknown): Rule[] {
  if (raw === undefined) return [];
  if (!isRecord(raw)) throw new HeaderRulesError(`${where}: must be an object with a "request" list`);
  only(where, raw, ['request']);
  const list = raw['request'] ?? [];
  if (!Array.isArray(list)) throw new HeaderRulesError(`${where}.request: must be a list of rules`);
  return list.map((rule, i) => compileRule(`${where}.request[${i}]`, rule));
}

/** The names a client's `Connection` header declares hop-by-hop for this hop. */
function connectionListed(headers: ClientHeaders): ReadonlySet<string> {
  const connection = headers.get('connection');
  return connection ? new Set(connection.split(',').map((n) => n.trim().toLowerCase())) : new Set();
}

/** The rules of one subgraph (`all`'s first, then its own), ready to apply to a request. */
export class SubgraphHeaderRules {
  constructor(readonly rules: readonly Rule[]) {}

  /**
   * What the subgraph receives for one request: the headers the rules pass, rename, default
   * or insert, and the caller's claims where a `claims` rule says so (with `caller`).
   */
  apply(headers: ClientHeaders, caller?: Caller): Record<string, string> {
    const out = new Map<string, string>();
    const hop = connectionListed(headers);
    const passable = (name: string) => !never(name) && !hop.has(name);
    for (const rule of this.rules) {
      switch (rule.kind) {
        case 'named': {
          const value = passable(rule.name) ? headers.get(rule.name) : null;
          if (typeof value === 'string') out.set(rule.rename, value);
          else if (rule.default !== null) out.set(rule.rename, rule.default);
          break;
        }
        case 'matching':
          for (const [name, value] of headers)
            if (passable(name) && !CREDENTIALS.has(name) && rule.pattern.test(name)) out.set(name, value);
          break;
        case 'remove-named':
          out.delete(rule.name);
          break;
        case 'remove-matching':
          for (const name of [...out.keys()]) if (rule.pattern.test(name)) out.delete(name);
          break;
        case 'insert':
          out.set(rule.name, rule.value);
          break;
        case 'claims': {
          const encoded = caller ? encodeCallerClaims(caller.claims, rule.include ?? undefined) : null;
          if (encoded) out.set(CALLER_CLAIMS_HEADER, encoded);
          break;
        }
      }
    }
    return Object.fromEntries(out);
  }
}

/** The validated rules of `PROPAGATE_HEADERS`: for every subgraph, and per subgraph. */
export class HeaderRules {
  readonly #all: readonly Rule[];
  readonly #subgraphs: ReadonlyMap<string, SubgraphHeaderRules>;
  readonly #default: SubgraphHeaderRules;

  constructor(all: readonly Rule[], subgraphs: ReadonlyMap<string, readonly Rule[]>) {
    this.#all = all;
    this.#default = new SubgraphHeaderRules(all);
    this.#subgraphs = new Map([...subgraphs].map(([name, rules]) => [name, new SubgraphHeaderRules([...all, ...rules])]));
  }

  /** No rules at all: subgraphs receive no client header (the default). */
  get empty(): boolean {
    return this.#all.length === 0 && this.#subgraphs.size === 0;
  }

  /** The rules of subgraph `name` (those for `all` when it has none of its own). */
  forSubgraph(name: string): SubgraphHeaderRules {
    return this.#subgraphs.get(name) ?? this.#default;
  }

  /**
   * What the response cache must key an answer by: the client-derived headers every subgraph
   * would receive (null when nothing is propagated). `Authorization` is left out: a request
   * that carries one shares only entries its subgraphs marked public (`response-cache.ts`),
   * and the claims come from that token; keying by it would only split public entries.
   */
  cacheVary(headers: ClientHeaders): Record<string, Record<string, string>> | null {
    if (this.empty) return null;
    const vary: Record<string, Record<string, string>> = {};
    const add = (key: string, rules: SubgraphHeaderRules) => {
      const { authorization: _authorization, ...rest } = rules.apply(headers);
      vary[key] = rest;
    };
    add('*', this.#default);
    for (const [name, rules] of this.#subgraphs) add(name, rules);
    return vary;
  }
}

/** No propagation: subgraphs receive only the gateway's own headers. */
export const NO_HEADER_RULES = new HeaderRules([], new Map());

/**
 * Parses and validates `PROPAGATE_HEADERS`' JSON: `{ "all": { "request": [rules] },
 * "subgraphs": { "<name>": { "request": [rules] } } }`. Throws a `HeaderRulesError` that
 * says which rule is wrong and why.
 */
export function parseHeaderRules(text: string): HeaderRules {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new HeaderRulesError(`not JSON: ${(error as Error).message}`);
  }
  if (!isRecord(raw)) throw new HeaderRulesError('must be an object with "all" and/or "subgraphs"');
  only('(top level)', raw, ['all', 'subgraphs']);
  const all = compileRules('all', raw['all']);
  const subgraphs = new Map<string, Rule[]>();
  if (raw['subgraphs'] !== undefined) {
    if (!isRecord(raw['subgraphs'])) throw new HeaderRulesError('subgraphs: must be an object keyed by subgraph name');
    for (const [name, rules] of Object.entries(raw['subgraphs'])) {
      if (!SUBGRAPH.test(name)) throw new HeaderRulesError(`subgraphs: ${JSON.stringify(name)} is not a subgraph name`);
      subgraphs.set(name, compileRules(`subgraphs.${name}`, rules));
    }
  }
  return new HeaderRules(all, subgraphs);
}

/** A Node request's headers as `ClientHeaders` (arrays joined as Apollo joins them). */
export function clientHeaders(headers: Readonly<Record<string, string | string[] | undefined>>): Map<string, string> {
  const map = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) map.set(name.toLowerCase(), Array.isArray(value) ? value.join(', ') : value);
  }
  return map;
}
