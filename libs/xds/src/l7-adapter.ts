// weft.l7.v1 WaypointService resources (waypoint_service.proto) ⇄ the domain WaypointService a waypoint routes with.
// Resource name `<namespace>/<hostname>`. The policy resources (L7Authorization, RequestAuthentication) are in
// l7-policy-adapter.ts and re-exported here, so this file is the one entry for every weft.l7.v1 resource.

import {
  waypointServiceKey,
  type WaypointPortProtocol,
  type WaypointService,
  type WaypointServicePort,
} from '@weft/mesh-model';
import {
  ServicePort_Protocol as WireProtocol,
  WaypointService as WireWaypointService,
  type ServicePort as WireServicePort,
} from './generated/weft/l7/v1/waypoint_service';
import { compact, nonEmpty } from './l7-codec';
import { decodeRouteRule, encodeRouteRule } from './l7-route-adapter';
import { decodeSubsets, decodeTrafficPolicy, encodeSubset, encodeTrafficPolicy } from './l7-traffic-policy-adapter';
import { WAYPOINT_SERVICE_TYPE_URL } from './type-urls';
import {
  decodePortNumber,
  decodeResource,
  enumCodec,
  FieldRejection,
  invalid,
  type EncodedResource,
  type Result,
  type XdsResourceInput,
} from './xds-result';

export {
  decodeL7AuthorizationResource,
  decodeRequestAuthenticationResource,
  encodeL7AuthorizationResource,
  encodeRequestAuthenticationResource,
  l7AuthorizationResourceName,
  requestAuthenticationResourceName,
} from './l7-policy-adapter';

const protocol = enumCodec<WaypointPortProtocol, WireProtocol>('weft.l7.v1.ServicePort.Protocol', {
  UNKNOWN: WireProtocol.PROTOCOL_UNKNOWN,
  HTTP: WireProtocol.PROTOCOL_HTTP,
  HTTP2: WireProtocol.PROTOCOL_HTTP2,
  GRPC: WireProtocol.PROTOCOL_GRPC,
  TCP: WireProtocol.PROTOCOL_TCP,
});

/** Decodes one WaypointService resource; every problem becomes a rejection naming the resource and the field. */
export function decodeWaypointServiceResource(input: XdsResourceInput): Result<WaypointService> {
  return decodeResource(
    WAYPOINT_SERVICE_TYPE_URL,
    input,
    'waypoint_service',
    (bytes) => WireWaypointService.decode(bytes),
    (wire) => decodeWaypointService(wire, input.name),
  );
}

function decodeWaypointService(wire: WireWaypointService, resourceName: string): WaypointService {
  nonEmpty(wire.hostname, 'waypoint_service.hostname', 'hostname');
  const key = waypointServiceKey(wire.namespace, wire.hostname);
  if (key !== resourceName) {
    throw new FieldRejection(
      'waypoint_service.hostname',
      `resource name ${JSON.stringify(resourceName)} is not <namespace>/<hostname> ${JSON.stringify(key)}`,
      'ERR_XDS_RESOURCE_NAME_MISMATCH',
    );
  }
  const seen = new Set<number>();
  const ports = wire.ports.map((p, i) => {
    const port = decodePort(p, `waypoint_service.ports[${i}]`);
    if (seen.has(port.port)) invalid(`waypoint_service.ports[${i}].port`, `port ${port.port} is listed twice`);
    seen.add(port.port);
    return port;
  });
  return compact<WaypointService>({
    hostname: wire.hostname,
    namespace: wire.namespace,
    name: wire.name,
    ports,
    httpRoutes: wire.httpRoutes.map((r, i) => decodeRouteRule(r, `waypoint_service.http_routes[${i}]`)),
    routeSource: wire.routeSource,
    trafficPolicy: wire.trafficPolicy === undefined ? undefined : decodeTrafficPolicy(wire.trafficPolicy, 'waypoint_service.traffic_policy'),
    subsets: decodeSubsets(wire.subsets, 'waypoint_service.subsets'),
    trafficPolicySource: wire.trafficPolicySource,
  });
}

function decodePort(wire: WireServicePort, path: string): WaypointServicePort {
  if (wire.port === 0) invalid(`${path}.port`, 'port must not be 0');
  return {
    name: wire.name,
    port: decodePortNumber(wire.port, `${path}.port`),
    targetPort: decodePortNumber(wire.targetPort, `${path}.target_port`),
    protocol: protocol.decode(wire.protocol, `${path}.protocol`),
  };
}

/** The wire form of a service. Throws `XdsEncodeError` for a negative or non-finite duration. */
function encodeWaypointService(s: WaypointService): WireWaypointService {
  return {
    hostname: s.hostname,
    namespace: s.namespace,
    name: s.name,
    ports: s.ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.targetPort, protocol: protocol.encode(p.protocol) })),
    httpRoutes: s.httpRoutes.map((r, i) => encodeRouteRule(r, `waypoint_service.http_routes[${i}]`)),
    routeSource: s.routeSource,
    trafficPolicy: s.trafficPolicy === undefined ? undefined : encodeTrafficPolicy(s.trafficPolicy, 'waypoint_service.traffic_policy'),
    subsets: s.subsets.map((sub, i) => encodeSubset(sub, `waypoint_service.subsets[${i}]`)),
    trafficPolicySource: s.trafficPolicySource,
  };
}

/** The resource name of a service, `<namespace>/<hostname>`. */
export function waypointServiceResourceName(service: WaypointService): string {
  return waypointServiceKey(service.namespace, service.hostname);
}

/** Name, type URL and serialized bytes for a Delta ADS `Resource`, without exposing generated types. */
export function encodeWaypointServiceResource(service: WaypointService): EncodedResource {
  const bytes = WireWaypointService.encode(encodeWaypointService(service)).finish();
  return {
    name: waypointServiceResourceName(service),
    typeUrl: WAYPOINT_SERVICE_TYPE_URL,
    value: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
  };
}
