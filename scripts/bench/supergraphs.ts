/**
 * The subgraph processes the bench tools load, each with the supergraph composed over where
 * it listens: this project's four (subgraphs.ts) for `npm run bench` and hit-cpu, the Guild
 * workload's (guild-subgraphs.ts) for `npm run bench` and `npm run profile`. Each prints one
 * JSON line once it listens, with the URL of its request counter.
 */
import { writeFileSync } from 'node:fs';
import { composeSupergraph } from '../../gateway/compose.js';
import { loadGatewayConfig } from '../../gateway/config.js';
import { supergraphSubgraphs } from '../../subgraphs/catalog.js';
import { composeGuildSupergraph, guildSubgraphUrls } from '../../test/bench/guild/subgraphs.js';
import { FREE_PORTS } from '../stack.js';
import { start, type Proc } from './process.js';

/** Subgraphs started for a benchmark, and the supergraph file over them. */
export interface BenchSubgraphs<Urls = unknown> {
  readonly proc: Proc;
  /** The supergraph composed over where they listen. */
  readonly file: string;
  /** Counts the requests they answer (request-counter.ts). */
  readonly counter: string;
  readonly urls: Urls;
}

const node = (root: string, script: string, env: NodeJS.ProcessEnv) =>
  start(process.execPath, ['--import', 'tsx', script], /^(\{.*\})$/, { cwd: root, env: { ...process.env, ...env } });

/** This project's subgraphs on free ports of 127.0.0.1, with `env` (feeds, polling) on top of the defaults. */
export async function startOurSubgraphs(
  root: string,
  env: NodeJS.ProcessEnv,
  file: string,
): Promise<BenchSubgraphs<Record<'programme' | 'south' | 'london' | 'insights', string>>> {
  const proc = await node(root, 'scripts/bench/subgraphs.ts', { ...FREE_PORTS, ...env });
  const { urls, counter } = JSON.parse(proc.url) as {
    urls: Record<'programme' | 'south' | 'london' | 'insights', string>;
    counter: string;
  };
  const composed = composeSupergraph(supergraphSubgraphs({ ...loadGatewayConfig({}).subgraphUrls, ...urls }));
  if (!composed.ok) throw new Error(composed.errors.join('\n'));
  writeFileSync(file, composed.supergraphSdl);
  return { proc, file, counter, urls };
}

/** The Guild workload's four subgraphs (one process), their base URL as `urls`. */
export async function startGuildSubgraphs(root: string, file: string): Promise<BenchSubgraphs<string>> {
  const proc = await node(root, 'scripts/bench/guild-subgraphs.ts', {});
  const { base, counter } = JSON.parse(proc.url) as { base: string; counter: string };
  writeFileSync(file, composeGuildSupergraph(guildSubgraphUrls(base)));
  return { proc, file, counter, urls: base };
}
