import { ApolloGateway, type GatewayConfig, type SupergraphSdlHook } from '@apollo/gateway';
import { gatewaySupergraph } from './auth/requirements.js';

/**
 * Every supergraph a gateway of this project loads (a fixed string, or each one a hook hands
 * over, at start and on every swap) as Apollo Gateway accepts it: the authorization features
 * it refuses are ones this gateway enforces itself (`auth/`), so their `for: SECURITY` is
 * dropped before Apollo Gateway sees them.
 */
function accepted(config: GatewayConfig): GatewayConfig {
  const given = 'supergraphSdl' in config ? config.supergraphSdl : undefined;
  if (typeof given === 'string') return { ...config, supergraphSdl: gatewaySupergraph(given) };
  if (typeof given !== 'function') return config;
  const hook: SupergraphSdlHook = async (options) => {
    const initial = await given({ ...options, update: (sdl) => options.update(gatewaySupergraph(sdl)) });
    return { ...initial, supergraphSdl: gatewaySupergraph(initial.supergraphSdl) };
  };
  return { ...config, supergraphSdl: hook };
}

/**
 * An Apollo Gateway that talks only to its subgraphs. Left to its defaults, Apollo Gateway
 * 2.14 builds an OpenTelemetry meter that probes the metadata services of four clouds
 * (100.100.100.200, 169.254.169.254, metadata.google.internal, …) and exports usage metrics to
 * usage-reporting.api.apollographql.com every few minutes: traffic an air-gapped hospital
 * network must never see, and that the operator did not ask for. Its only switch is the
 * `APOLLO_TELEMETRY_DISABLED` variable, read when a gateway is constructed, so it is set here,
 * for every gateway this project builds (the served one and the check worker's).
 */
export function offlineGateway(config: GatewayConfig): ApolloGateway {
  process.env['APOLLO_TELEMETRY_DISABLED'] = 'true';
  return new ApolloGateway(accepted(config));
}
