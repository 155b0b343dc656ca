/**
 * The bounds on what a publish hands the registry, checked before anything costly: a subgraph
 * name of bounded length, and an SDL of bounded bytes, types and fields. Composition and the
 * checks grow with the size of the SDL (a 4,000-type SDL held the event loop for 22 s and ran
 * the gateway out of memory), so an SDL over a limit is refused after one bounded parse. The
 * limits count the subgraph as it is stored and composed (completed with the contract and the
 * kit's fields), and the same bounds apply to what a gateway finds stored, so a subgraph
 * published before a limit was lowered cannot take a restarting gateway down either.
 */
import { Kind, parse, type DocumentNode } from 'graphql';
import { completeSdl } from './checks.js';
import { SUBGRAPH_NAME } from './conformance.js';

/** The SDL limits, from `REGISTRY_SDL_MAX_BYTES`, `REGISTRY_SDL_MAX_TYPES`, `REGISTRY_SDL_MAX_FIELDS`. */
export interface SdlLimits {
  readonly maxBytes: number;
  readonly maxTypes: number;
  readonly maxFields: number;
}

/** Longest subgraph name: names become type names, Redis keys and log lines. */
export const SUBGRAPH_NAME_MAX = 63;

/** An SDL over one of the limits: which, its setting, the limit and what was measured. */
export interface SdlLimitProblem {
  readonly limit: 'bytes' | 'types' | 'fields';
  readonly setting: 'REGISTRY_SDL_MAX_BYTES' | 'REGISTRY_SDL_MAX_TYPES' | 'REGISTRY_SDL_MAX_FIELDS';
  readonly max: number;
  readonly measured: number;
  readonly message: string;
}

/** Why `name` cannot be a subgraph's name, or null when it can. */
export function subgraphNameProblem(name: string): string | null {
  if (name.length > SUBGRAPH_NAME_MAX)
    return `A subgraph name has at most ${SUBGRAPH_NAME_MAX} characters (got ${name.length}): lower-case words joined by hyphens, e.g. "nme"`;
  if (!SUBGRAPH_NAME.test(name)) return `Subgraph name "${name}" must be lower-case words joined by hyphens, e.g. "nme"`;
  return null;
}

function problem(limit: SdlLimitProblem['limit'], setting: SdlLimitProblem['setting'], max: number, measured: number, what: string) {
  return {
    limit,
    setting,
    max,
    measured,
    message: `${what} has ${measured} ${limit}; the registry takes at most ${max} (${setting})`,
  };
}

/**
 * The first limit `sdl` is over, or null. `what` names it in the message ("The SDL",
 * "Stored subgraph nme"). An SDL that does not parse is not this function's concern (the
 * checks report it with its line); its size is still bounded by the byte limit.
 */
export function sdlLimitProblem(sdl: string, limits: SdlLimits, what = 'The SDL'): SdlLimitProblem | null {
  const bytes = Buffer.byteLength(sdl, 'utf8');
  if (bytes > limits.maxBytes) return problem('bytes', 'REGISTRY_SDL_MAX_BYTES', limits.maxBytes, bytes, what);
  let document: DocumentNode;
  try {
    // Within the byte limit, one parse is a few milliseconds; every token is at least a byte.
    document = parse(sdl, { noLocation: true, maxTokens: limits.maxBytes });
  } catch {
    return null;
  }
  let types = 0;
  let fields = 0;
  for (const definition of document.definitions) {
    switch (definition.kind) {
      case Kind.OBJECT_TYPE_DEFINITION:
      case Kind.OBJECT_TYPE_EXTENSION:
      case Kind.INTERFACE_TYPE_DEFINITION:
      case Kind.INTERFACE_TYPE_EXTENSION:
      case Kind.INPUT_OBJECT_TYPE_DEFINITION:
      case Kind.INPUT_OBJECT_TYPE_EXTENSION:
        types++;
        fields += definition.fields?.length ?? 0;
        break;
      case Kind.ENUM_TYPE_DEFINITION:
      case Kind.ENUM_TYPE_EXTENSION:
        types++;
        fields += definition.values?.length ?? 0;
        break;
      case Kind.UNION_TYPE_DEFINITION:
      case Kind.UNION_TYPE_EXTENSION:
      case Kind.SCALAR_TYPE_DEFINITION:
      case Kind.SCALAR_TYPE_EXTENSION:
        types++;
        break;
      default:
        break;
    }
  }
  if (types > limits.maxTypes) return problem('types', 'REGISTRY_SDL_MAX_TYPES', limits.maxTypes, types, what);
  if (fields > limits.maxFields) return problem('fields', 'REGISTRY_SDL_MAX_FIELDS', limits.maxFields, fields, what);
  return null;
}

/**
 * The first limit a supplier's SDL is over, once completed as the registry stores it (the
 * contract in front, the kit's fields after), or null. The SDL as sent is measured first, so
 * an oversized one is never completed.
 */
export function publishedSdlProblem(name: string, sdl: string, limits: SdlLimits): SdlLimitProblem | null {
  const sent = sdlLimitProblem(sdl, limits);
  if (sent) return sent;
  let document: DocumentNode;
  try {
    document = parse(sdl, { noLocation: true, maxTokens: limits.maxBytes });
  } catch {
    return null;
  }
  const { full, lineOffset } = completeSdl(name, document, sdl);
  return lineOffset === 0 ? null : sdlLimitProblem(full, limits, 'The SDL with the contract and fields the kit adds');
}
