import { loadExtraTrustsFile, loadMembershipConfig, loadServiceConfig, type MembershipConfig, type ServiceConfig } from '../kit/config.js';

/** The programme subgraph's settings. */
export interface ProgrammeConfig extends ServiceConfig {
  /** A JSON file of trusts added to the reference data, or null. */
  readonly extraTrustsFile: string | null;
  /** Where registered clusters are learnt (`REGISTRY_URL`, `MEMBERSHIP_POLL_MS`). */
  readonly membership: MembershipConfig;
}

/** Reads `HOST`, `PROGRAMME_PORT` (default 4001), `EXTRA_TRUSTS_FILE`, `REGISTRY_URL` and `MEMBERSHIP_POLL_MS`. */
export function loadProgrammeConfig(env: NodeJS.ProcessEnv = process.env): ProgrammeConfig {
  return {
    ...loadServiceConfig('PROGRAMME_PORT', 4001, env),
    extraTrustsFile: loadExtraTrustsFile(env),
    membership: loadMembershipConfig(env),
  };
}
