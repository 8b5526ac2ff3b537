// A bound service's ports and how the waypoint treats each one: Istio's protocol selection (`kube.ConvertProtocol`
// and `protocol.Parse`): `appProtocol` wins, else the port name up to the first `-`; HTTP kinds are routed, other
// known protocols are TCP, anything unrecognised is UNKNOWN (Istio would sniff it).

import type { PortMapping, WaypointPortProtocol, WaypointServicePort } from '@weft/mesh-model';

import type { KubeObject } from './kube-object';
import type { L7Messages } from './translate-l7-common';
import { numericTargetPort, servicePorts } from './translate-services';
import { asArray, asNumber, asRecord, asString } from './translate-types';

const PROTOCOLS: Readonly<Record<string, WaypointPortProtocol>> = {
  http: 'HTTP',
  // gRPC-Web rides on HTTP/1.1; Istio counts it as HTTP.
  'grpc-web': 'HTTP',
  'kubernetes.io/ws': 'HTTP',
  'kubernetes.io/wss': 'HTTP',
  http2: 'HTTP2',
  'kubernetes.io/h2c': 'HTTP2',
  grpc: 'GRPC',
  tcp: 'TCP',
  tls: 'TCP',
  https: 'TCP',
  mongo: 'TCP',
  redis: 'TCP',
  mysql: 'TCP',
};

/** Istio's protocol for a port: appProtocol, else the name (whole, or its prefix before `-`). */
export function waypointProtocolOf(name: string, appProtocol: string | undefined): WaypointPortProtocol {
  if (appProtocol !== undefined && appProtocol !== '') return PROTOCOLS[appProtocol.toLowerCase()] ?? 'UNKNOWN';
  const lower = name.toLowerCase();
  if (lower.startsWith('grpc-web')) return 'HTTP';
  return PROTOCOLS[lower.split('-')[0] ?? ''] ?? 'UNKNOWN';
}

/** Ports of a Kubernetes Service; UDP and SCTP ports never reach a waypoint (HBONE carries TCP) and are left out. */
export function kubernetesServicePorts(service: KubeObject, messages: L7Messages): WaypointServicePort[] {
  const ports: WaypointServicePort[] = [];
  servicePorts(service).forEach((p, i) => {
    if (p.protocol !== 'TCP') {
      messages.warn(service, 'WARN_L7_PORT_NOT_TCP', `${p.protocol} port ${p.port} is not carried over HBONE; the waypoint does not serve it`, `spec.ports[${i}].protocol`);
      return;
    }
    ports.push({ name: p.name, port: p.port, targetPort: numericTargetPort(p), protocol: waypointProtocolOf(p.name, p.appProtocol) });
  });
  return ports;
}

/** Ports of a ServiceEntry: `protocol` is an Istio protocol name (HTTP, GRPC, TLS …). */
export function serviceEntryPorts(entry: KubeObject): WaypointServicePort[] {
  const ports: WaypointServicePort[] = [];
  for (const raw of asArray(asRecord(entry.spec)?.['ports'])) {
    const p = asRecord(raw);
    const number = asNumber(p?.['number']);
    if (p === undefined || number === undefined) continue;
    const name = asString(p['name']) ?? '';
    const protocol = asString(p['protocol']);
    ports.push({ name, port: number, targetPort: asNumber(p['targetPort']) ?? number, protocol: waypointProtocolOf(name, protocol ?? undefined) });
  }
  return ports;
}

/** Without the source object: the WDS port map, whose app protocol already says HTTP, HTTP2 or gRPC. */
export function portsFromMapping(mappings: readonly PortMapping[]): WaypointServicePort[] {
  const protocol = (p: PortMapping): WaypointPortProtocol =>
    p.appProtocol === 'HTTP11' ? 'HTTP' : p.appProtocol === 'HTTP2' ? 'HTTP2' : p.appProtocol === 'GRPC' ? 'GRPC' : p.appProtocol === 'UNKNOWN' ? 'UNKNOWN' : 'TCP';
  return mappings.map((p) => ({ name: '', port: p.servicePort, targetPort: p.targetPort, protocol: protocol(p) }));
}
