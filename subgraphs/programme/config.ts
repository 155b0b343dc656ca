import { loadServiceConfig, type ServiceConfig } from '../kit/config.js';

/** The programme subgraph's settings: `HOST` and `PROGRAMME_PORT` (default 4001). */
export function loadProgrammeConfig(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  return loadServiceConfig('PROGRAMME_PORT', 4001, env);
}
