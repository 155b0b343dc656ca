/** Runs the gateway alone (its subgraphs run elsewhere): `tsx gateway/main.ts`. */
import { listen } from '../schema/http.js';
import { runUntilSignal } from '../schema/process.js';
import { loadGatewayConfig } from './config.js';
import { buildGatewayService } from './server.js';

await runUntilSignal(async () => {
  const config = loadGatewayConfig();
  return [await listen(await buildGatewayService(config), config.host, config.port)];
});
