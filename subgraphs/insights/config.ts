import { loadServiceConfig, type ServiceConfig } from '../kit/config.js';

/** The insights subgraph's settings: `HOST` and `INSIGHTS_PORT` (default 4004). */
export function loadInsightsConfig(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  return loadServiceConfig('INSIGHTS_PORT', 4004, env);
}
