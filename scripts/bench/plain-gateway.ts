/**
 * Plain Apollo Gateway, no plugins and no tuning: the baseline every ratio of `npm run bench`
 * is taken against. Serves SUPERGRAPH_PATH on GATEWAY_PORT (0 = free port) of 127.0.0.1.
 * Apollo Gateway refuses a supergraph whose @authenticated / @requiresScopes links are
 * `for: SECURITY` (this project's contract uses @requiresScopes): it gets the same text with
 * that purpose dropped, and so serves the restricted fields to anyone (no workload asks for them).
 * Apollo's usage-metrics meter is off (`APOLLO_TELEMETRY_DISABLED`), as in this project's gateway
 * (`offline-gateway.ts`): left on, it probes four clouds' metadata addresses and reports to
 * apollographql.com, traffic a benchmark on this machine must not send, and its memory and CPU
 * would count against plain Apollo Gateway alone.
 */
import { readFileSync } from 'node:fs';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { gatewaySupergraph } from '../../gateway/auth/requirements.js';

process.env['APOLLO_TELEMETRY_DISABLED'] = 'true';
const path = process.env['SUPERGRAPH_PATH'];
if (!path) throw new Error('SUPERGRAPH_PATH is required');
const server = new ApolloServer({ gateway: new ApolloGateway({ supergraphSdl: gatewaySupergraph(readFileSync(path, 'utf8')) }) });
const { url } = await startStandaloneServer(server, { listen: { host: '127.0.0.1', port: Number(process.env['GATEWAY_PORT'] ?? 0) } });
console.log(`gateway   listening on ${url}`);
const stop = () => void server.stop().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
