import { z } from 'zod';
import { host, httpUrl, loadSubgraphTracing, parseEnv, port } from '../kit/config.js';
import type { TracingConfig } from '../kit/tracing.js';
import type { ClusterUrl } from './live-schema.js';

/** The insights subgraph's settings. */
export interface InsightsConfig {
  readonly host: string;
  readonly port: number;
  /** The built-in cluster subgraphs it compares, by name in the supergraph and URL. */
  readonly clusters: readonly ClusterUrl[];
  /** The gateway whose supplier registry it follows for published clusters, or null for none. */
  readonly registryUrl: string | null;
  /** How often it reads that registry, in ms. */
  readonly registryPollMs: number;
  /** OpenTelemetry tracing (`OTEL_*` but `OTEL_SERVICE_NAME`). */
  readonly tracing: TracingConfig;
}

/** The built-in cluster subgraphs of `npm start`: the defaults of `SOUTH_PORT` and `LONDON_PORT`. */
const DEFAULT_CLUSTERS = 'south=http://127.0.0.1:4002/graphql,london=http://127.0.0.1:4003/graphql';

/** `name=url,name=url`: subgraph names as the gateway names them, each once. */
const clusterList = z
  .string()
  .default(DEFAULT_CLUSTERS)
  .transform((text, ctx) => {
    const clusters: ClusterUrl[] = [];
    for (const item of text
      .split(',')
      .map((i) => i.trim())
      .filter(Boolean)) {
      const at = item.indexOf('=');
      const name = item.slice(0, at);
      const url = httpUrl.safeParse(item.slice(at + 1));
      if (at < 1 || !/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(name) || !url.success) {
        ctx.addIssue({ code: 'custom', message: `"${item}" is not name=http(s)-URL, e.g. south=http://127.0.0.1:4002/graphql` });
        return z.NEVER;
      }
      if (clusters.some((c) => c.name === name)) {
        ctx.addIssue({ code: 'custom', message: `names ${name} twice` });
        return z.NEVER;
      }
      clusters.push({ name, url: url.data });
    }
    if (clusters.length === 0) ctx.addIssue({ code: 'custom', message: 'names no cluster subgraph' });
    return clusters;
  });

/**
 * Reads `HOST`, `INSIGHTS_PORT` (default 4004), `INSIGHTS_CLUSTERS` (the built-in cluster
 * subgraphs, default south and london on their default ports), `INSIGHTS_REGISTRY_URL` (the
 * gateway, default `http://127.0.0.1:4000`; `off` follows no registry) and
 * `INSIGHTS_REGISTRY_POLL_MS` (default 5000: a gateway waiting for a new version makes it
 * read at once, so the poll only catches up after an outage; its reads count against the
 * gateway's `/registry` rate budget).
 */
export function loadInsightsConfig(env: NodeJS.ProcessEnv = process.env): InsightsConfig {
  const parsed = parseEnv(
    {
      HOST: host,
      INSIGHTS_PORT: port(4004),
      INSIGHTS_CLUSTERS: clusterList,
      INSIGHTS_REGISTRY_URL: z
        .string()
        .refine((v) => v === 'off' || httpUrl.safeParse(v).success, "must be the gateway's http(s) URL or off")
        .default('http://127.0.0.1:4000'),
      INSIGHTS_REGISTRY_POLL_MS: z.coerce
        .number({ error: 'must be a number' })
        .int('must be a whole number')
        .min(50, 'must be at least 50')
        .default(5000),
    },
    env,
  );
  return {
    host: parsed.HOST,
    port: parsed.INSIGHTS_PORT,
    clusters: parsed.INSIGHTS_CLUSTERS,
    registryUrl: parsed.INSIGHTS_REGISTRY_URL === 'off' ? null : parsed.INSIGHTS_REGISTRY_URL,
    registryPollMs: parsed.INSIGHTS_REGISTRY_POLL_MS,
    tracing: loadSubgraphTracing(env),
  };
}
