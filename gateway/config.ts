import { z } from 'zod';
import { host, httpUrl, parseEnv, port } from '../subgraphs/kit/config.js';
import { SUBGRAPH_NAMES, type SubgraphName } from '../subgraphs/catalog.js';

/** The gateway's settings, parsed once at start-up. */
export interface GatewayConfig {
  readonly host: string;
  readonly port: number;
  /** Serve this supergraph file as it is, instead of composing the built-in subgraphs. */
  readonly supergraphPath: string | null;
  /** Where each built-in subgraph answers. */
  readonly subgraphUrls: Readonly<Record<SubgraphName, string>>;
}

/** Default port of each built-in subgraph. */
export const SUBGRAPH_PORTS: Readonly<Record<SubgraphName, number>> = { programme: 4001, south: 4002, london: 4003, insights: 4004 };

/** A host the gateway can call: a wildcard listen address means this machine. */
function callableHost(listenHost: string): string {
  if (listenHost === '0.0.0.0' || listenHost === '::') return '127.0.0.1';
  return listenHost.includes(':') ? `[${listenHost}]` : listenHost;
}

/**
 * Reads `HOST`, `GATEWAY_PORT` (default 4000), `SUPERGRAPH_PATH`, and for each subgraph
 * `<NAME>_URL` or else `<NAME>_PORT` (defaults 4001-4004) on `HOST`.
 */
export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const upper = (name: SubgraphName) => name.toUpperCase();
  const shape = {
    HOST: host,
    GATEWAY_PORT: port(4000),
    SUPERGRAPH_PATH: z.string().min(1).optional(),
    ...Object.fromEntries(
      SUBGRAPH_NAMES.flatMap((n) => [
        [`${upper(n)}_PORT`, port(SUBGRAPH_PORTS[n])],
        [`${upper(n)}_URL`, httpUrl.optional()],
      ]),
    ),
  };
  const parsed = parseEnv(shape, env) as Record<string, unknown>;
  const listenHost = parsed['HOST'] as string;
  const subgraphUrls = Object.fromEntries(
    SUBGRAPH_NAMES.map((n) => [
      n,
      (parsed[`${upper(n)}_URL`] as string | undefined) ??
        `http://${callableHost(listenHost)}:${parsed[`${upper(n)}_PORT`] as number}/graphql`,
    ]),
  ) as Record<SubgraphName, string>;
  return {
    host: listenHost,
    port: parsed['GATEWAY_PORT'] as number,
    supergraphPath: (parsed['SUPERGRAPH_PATH'] as string | undefined) ?? null,
    subgraphUrls,
  };
}
