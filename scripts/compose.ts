/**
 * `npm run compose`: composes the built-in subgraphs (with their default local URLs) into
 * schema/supergraph.graphql, offline. Other engines (e.g. Apollo Router) can serve that file.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CompositionError, composeSupergraph } from '../gateway/compose.js';
import { loadGatewayConfig } from '../gateway/config.js';
import { supergraphSubgraphs } from '../subgraphs/catalog.js';

/** Where the committed supergraph lives. */
export const SUPERGRAPH_FILE = fileURLToPath(new URL('../schema/supergraph.graphql', import.meta.url));

/** The supergraph of the built-in subgraphs at their default URLs. */
export function defaultSupergraph(): string {
  const { subgraphUrls } = loadGatewayConfig({});
  const result = composeSupergraph(supergraphSubgraphs(subgraphUrls));
  if (!result.ok) throw new CompositionError(result.errors);
  return result.supergraphSdl;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    writeFileSync(SUPERGRAPH_FILE, defaultSupergraph());
    console.log(`wrote ${SUPERGRAPH_FILE}`);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
}
