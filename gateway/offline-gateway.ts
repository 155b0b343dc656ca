import { ApolloGateway, type GatewayConfig } from '@apollo/gateway';

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
  return new ApolloGateway(config);
}
