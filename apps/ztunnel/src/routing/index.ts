// Outbound routing and the addressing helpers the inbound side shares.
export * from './addressing';
export {
  describeGateway,
  gatewayInstances,
  gatewayService,
  isGatewayInstance,
  pickServiceWaypoint,
  resolveGatewayUpstream,
  type GatewayUpstream,
} from './gateway-resolution';
export { routeOutbound, type NextHop, type OutboundDecision, type OutboundErrorCode, type OutboundInput, type OutboundRoute } from './outbound';
