import { fileURLToPath } from 'node:url';
import { loadClusterConfig, type ClusterConfig } from '../kit/config.js';

/** The south subgraph's settings: `HOST`, `SOUTH_PORT` (default 4002), `SOUTH_FEED_DIR` (default its sample feed). */
export function loadSouthConfig(env: NodeJS.ProcessEnv = process.env): ClusterConfig {
  return loadClusterConfig('SOUTH', { port: 4002, feedDir: fileURLToPath(new URL('./feed/', import.meta.url)) }, env);
}
