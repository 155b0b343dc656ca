import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';

/** A subgraph as composition needs it: name, routing URL and full SDL (as it serves it). */
export interface SubgraphSource {
  readonly name: string;
  readonly url: string;
  readonly sdl: string;
}

/** A composition outcome: a supergraph, or the reasons there is none. */
export type CompositionResult =
  | { readonly ok: true; readonly supergraphSdl: string; readonly hints: readonly string[] }
  | { readonly ok: false; readonly errors: readonly string[] };

/** Composes subgraphs into a federation-2 supergraph, locally and offline. */
export function composeSupergraph(subgraphs: readonly SubgraphSource[]): CompositionResult {
  let services;
  try {
    services = subgraphs.map((s) => ({ name: s.name, url: s.url, typeDefs: parse(s.sdl) }));
  } catch (error) {
    return { ok: false, errors: [`A subgraph's SDL does not parse: ${(error as Error).message}`] };
  }
  const result = composeServices(services);
  if (result.errors) {
    return { ok: false, errors: result.errors.map((e) => `${e.extensions['code'] ?? 'ERROR'}: ${e.message}`) };
  }
  return { ok: true, supergraphSdl: result.supergraphSdl, hints: result.hints.map((h) => h.toString()) };
}

/** Raised when the subgraphs do not compose; lists every composition error. */
export class CompositionError extends Error {
  override readonly name = 'CompositionError';
  readonly code = 'COMPOSITION_FAILED';
  constructor(readonly errors: readonly string[]) {
    super(`The subgraphs do not compose (COMPOSITION_FAILED):\n${errors.map((e) => `  - ${e}`).join('\n')}`);
  }
}
