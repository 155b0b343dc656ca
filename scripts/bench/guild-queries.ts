/**
 * The queries of the Guild workloads A and B, as `npm run bench` and `npm run profile` send
 * them, so a profile is always of the workload the bench measures.
 */
import { readFileSync } from 'node:fs';

/** A: three fetches with small answers (about 5 KB); B: the public Guild query, 16 fetch nodes, ~87 KB answers. */
export function guildQueries(): Readonly<Record<'A' | 'B', string>> {
  return {
    A: '{ topProducts { upc name price weight inStock shippingEstimate reviews { id body } } }',
    B: readFileSync(new URL('../../test/bench/guild/query.graphql', import.meta.url), 'utf8'),
  };
}
