import { loadRegistryStoreConfig, type RegistryStoreConfig } from '../../gateway/config.js';
import { loadServiceConfig, type ServiceConfig } from '../kit/config.js';

/** The insights subgraph's settings. */
export interface InsightsConfig extends ServiceConfig {
  /** The supplier registry it derives published clusters from (the gateway's). */
  readonly registry: RegistryStoreConfig;
}

/**
 * Reads `HOST` and `INSIGHTS_PORT` (default 4004), and the registry's store settings
 * (`REGISTRY`, `REGISTRY_DIR`, `REGISTRY_REDIS_PREFIX`, `REDIS_URL`).
 */
export function loadInsightsConfig(env: NodeJS.ProcessEnv = process.env): InsightsConfig {
  return { ...loadServiceConfig('INSIGHTS_PORT', 4004, env), registry: loadRegistryStoreConfig(env) };
}
