import { fileURLToPath } from 'node:url';
import { loadClusterConfig, type ClusterConfig } from '../kit/config.js';

/** The london subgraph's settings: `HOST`, `LONDON_PORT` (default 4003), `LONDON_FEED_DIR` (default its sample feed). */
export function loadLondonConfig(env: NodeJS.ProcessEnv = process.env): ClusterConfig {
  return loadClusterConfig('LONDON', { port: 4003, feedDir: fileURLToPath(new URL('./feed/', import.meta.url)) }, env);
}
