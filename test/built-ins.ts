/**
 * The built-in subgraphs with the SDL each serves, derived from their code (as scripts/ and
 * test/ may): for gateway unit tests that compose without starting them.
 */
import { supergraphSubgraphs, type SubgraphSource } from '../subgraphs/catalog.js';

export const BUILT_IN_URLS = {
  programme: 'http://p/graphql',
  south: 'http://s/graphql',
  london: 'http://l/graphql',
  insights: 'http://i/graphql',
};

/** The built-ins at placeholder URLs (or `urls`), with `extra` clusters (insights derived with them). */
export function builtInSdls(
  urls: Readonly<Record<string, string>> = BUILT_IN_URLS,
  extra: readonly SubgraphSource[] = [],
): SubgraphSource[] {
  return supergraphSubgraphs(urls, extra);
}

/** A kit cluster subgraph's full SDL, as it serves it. */
export { clusterSubgraphSdl } from '../subgraphs/kit/cluster.js';
