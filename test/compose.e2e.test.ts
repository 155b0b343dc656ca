/** Local composition: the committed supergraph is current, and failures are explained. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { composeSupergraph } from '../gateway/compose.js';
import { loadGatewayConfig } from '../gateway/config.js';
import { defaultSupergraph, SUPERGRAPH_FILE } from '../scripts/compose.js';
import { supergraphSubgraphs } from '../subgraphs/catalog.js';
import { withContract } from '../subgraphs/kit/contract.js';

describe('composition', () => {
  it('matches the committed schema/supergraph.graphql (run `npm run compose` when this fails)', () => {
    expect(readFileSync(SUPERGRAPH_FILE, 'utf8')).toBe(defaultSupergraph());
  });

  it('routes each subgraph to its configured URL', () => {
    const { subgraphUrls } = loadGatewayConfig({ SOUTH_URL: 'http://south.internal:9000/graphql' });
    const result = composeSupergraph(supergraphSubgraphs(subgraphUrls));
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.supergraphSdl).toContain('url: "http://south.internal:9000/graphql"');
  });

  it('explains why subgraphs that disagree do not compose', () => {
    const { subgraphUrls } = loadGatewayConfig({});
    const rogue = {
      name: 'rogue',
      url: 'http://127.0.0.1:1/graphql',
      sdl: withContract('extend type Release { name: Int }'),
    };
    const result = composeSupergraph([...supergraphSubgraphs(subgraphUrls), rogue]);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.join('\n')).toMatch(/Release\.name/);
  });

  it('reports SDL that does not parse', () => {
    const result = composeSupergraph([{ name: 'broken', url: 'http://127.0.0.1:1/graphql', sdl: 'type {' }]);
    expect(result).toMatchObject({ ok: false });
    if (!result.ok) expect(result.errors[0]).toMatch(/does not parse/);
  });
});
