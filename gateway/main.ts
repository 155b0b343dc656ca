/** Runs the gateway alone (its subgraphs run elsewhere): `tsx gateway/main.ts`. */
import { listen } from '../subgraphs/kit/http.js';
import { runUntilSignal } from '../subgraphs/kit/main.js';
import { loadGatewayConfig } from './config.js';
import { buildGatewayService } from './server.js';

await runUntilSignal(async () => {
  const config = loadGatewayConfig();
  return [await listen(await buildGatewayService(config), config.host, config.port)];
});
