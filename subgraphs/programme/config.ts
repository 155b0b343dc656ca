import { loadExtraTrustsFile, loadServiceConfig, type ServiceConfig } from '../kit/config.js';

/** The programme subgraph's settings. */
export interface ProgrammeConfig extends ServiceConfig {
  /** A JSON file of trusts added to the reference data, or null. */
  readonly extraTrustsFile: string | null;
}

/** Reads `HOST`, `PROGRAMME_PORT` (default 4001) and `EXTRA_TRUSTS_FILE`. */
export function loadProgrammeConfig(env: NodeJS.ProcessEnv = process.env): ProgrammeConfig {
  return { ...loadServiceConfig('PROGRAMME_PORT', 4001, env), extraTrustsFile: loadExtraTrustsFile(env) };
}
