import {
  loadExtraTrustsFile,
  loadMembershipConfig,
  loadServiceConfig,
  loadSubgraphTracing,
  parseEnv,
  redisUrl,
  type MembershipConfig,
  type ServiceConfig,
} from '../kit/config.js';
import type { TracingConfig } from '../kit/tracing.js';

/** The programme subgraph's settings. */
export interface ProgrammeConfig extends ServiceConfig {
  /** A JSON file of trusts added to the reference data, or null. */
  readonly extraTrustsFile: string | null;
  /** Where registered clusters are learnt (`REGISTRY_URL`, `MEMBERSHIP_POLL_MS`). */
  readonly membership: MembershipConfig;
  /** Redis on which membership versions are announced to the gateways (`REDIS_URL`), or null: streams only. */
  readonly redisUrl: string | null;
  /** OpenTelemetry tracing (`OTEL_*` but `OTEL_SERVICE_NAME`). */
  readonly tracing: TracingConfig;
}

/** Reads `HOST`, `PROGRAMME_PORT` (default 4001), `EXTRA_TRUSTS_FILE`, `REGISTRY_URL`, `MEMBERSHIP_POLL_MS` and `REDIS_URL`. */
export function loadProgrammeConfig(env: NodeJS.ProcessEnv = process.env): ProgrammeConfig {
  return {
    ...loadServiceConfig('PROGRAMME_PORT', 4001, env),
    extraTrustsFile: loadExtraTrustsFile(env),
    membership: loadMembershipConfig(env),
    redisUrl: (parseEnv({ REDIS_URL: redisUrl.optional() }, env) as { REDIS_URL?: string }).REDIS_URL ?? null,
    tracing: loadSubgraphTracing(env),
  };
}
