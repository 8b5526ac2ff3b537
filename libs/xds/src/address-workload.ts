// istio.workload.Workload ⇄ the domain Workload (reference §4.2). Decoding fills in the defaults the wire leaves
// empty, as ztunnel's `TryFrom<XdsWorkload>` does; encoding spells them as istiod does (the trust domain
// `cluster.local` as "", a service account as written), so a real ztunnel reading our resources and a real istiod
// feeding our proxies both see the spelling they expect.

import {
  DEFAULT_SERVICE_ACCOUNT,
  DEFAULT_TRUST_DOMAIN,
  type ApplicationTunnel,
  type Locality,
  type NetworkMode,
  type PortMapping,
  type TunnelProtocol,
  type Workload,
  type WorkloadStatus,
  type WorkloadType,
} from '@weft/mesh-model';
import {
  ApplicationTunnel_Protocol as WireApplicationTunnelProtocol,
  NetworkMode as WireNetworkMode,
  TunnelProtocol as WireTunnelProtocol,
  WorkloadStatus as WireWorkloadStatus,
  WorkloadType as WireWorkloadType,
  type Address as WireAddress,
  type ApplicationTunnel as WireApplicationTunnel,
  type PortList as WirePortList,
  type Workload as WireWorkload,
} from './generated/istio/workload/workload';
import {
  decodeGatewayAddress,
  decodePortMappings,
  encodeGatewayAddress,
  encodePortMapping,
} from './address-messages';
import { decodeIp, decodePortNumber, encodeIp, enumCodec, FieldRejection, invalid } from './xds-result';

const tunnelProtocol = enumCodec<TunnelProtocol, WireTunnelProtocol>('istio.workload.TunnelProtocol', {
  NONE: WireTunnelProtocol.NONE,
  HBONE: WireTunnelProtocol.HBONE,
  LEGACY_ISTIO_MTLS: WireTunnelProtocol.LEGACY_ISTIO_MTLS,
});
const workloadType = enumCodec<WorkloadType, WireWorkloadType>('istio.workload.WorkloadType', {
  DEPLOYMENT: WireWorkloadType.DEPLOYMENT,
  CRONJOB: WireWorkloadType.CRONJOB,
  POD: WireWorkloadType.POD,
  JOB: WireWorkloadType.JOB,
});
const workloadStatus = enumCodec<WorkloadStatus, WireWorkloadStatus>('istio.workload.WorkloadStatus', {
  HEALTHY: WireWorkloadStatus.HEALTHY,
  UNHEALTHY: WireWorkloadStatus.UNHEALTHY,
});
const networkMode = enumCodec<NetworkMode, WireNetworkMode>('istio.workload.NetworkMode', {
  STANDARD: WireNetworkMode.STANDARD,
  HOST_NETWORK: WireNetworkMode.HOST_NETWORK,
});
const tunnelFraming = enumCodec<ApplicationTunnel['protocol'], WireApplicationTunnelProtocol>(
  'istio.workload.ApplicationTunnel.Protocol',
  { NONE: WireApplicationTunnelProtocol.NONE, PROXY: WireApplicationTunnelProtocol.PROXY },
);

/** `capacity` is a UInt32Value precisely so that unset can mean 1 (ztunnel `default_capacity`). */
const DEFAULT_CAPACITY = 1;

/** A wire Workload as the domain type. The resource name of a workload is its uid (reference §4.1). */
export function decodeWorkload(wire: WireWorkload, resourceName: string): Workload {
  if (wire.uid === '') invalid('workload.uid', 'must not be empty: it is the primary key');
  if (wire.uid !== resourceName) {
    throw new FieldRejection(
      'workload.uid',
      `resource name ${JSON.stringify(resourceName)} is not the uid ${JSON.stringify(wire.uid)}`,
      'ERR_XDS_RESOURCE_NAME_MISMATCH',
    );
  }
  const waypoint = wire.waypoint && decodeGatewayAddress(wire.waypoint, 'workload.waypoint');
  const networkGateway = wire.networkGateway && decodeGatewayAddress(wire.networkGateway, 'workload.network_gateway');
  const applicationTunnel = wire.applicationTunnel && decodeApplicationTunnel(wire.applicationTunnel);
  const locality = wire.locality && { region: wire.locality.region, zone: wire.locality.zone, subzone: wire.locality.subzone };
  return {
    uid: wire.uid,
    name: wire.name,
    namespace: wire.namespace,
    addresses: wire.addresses.map((bytes, i) => decodeIp(bytes, `workload.addresses[${i}]`)),
    hostname: wire.hostname,
    network: wire.network,
    tunnelProtocol: tunnelProtocol.decode(wire.tunnelProtocol, 'workload.tunnel_protocol'),
    // Reference §3.1: "" means the default, and every consumer must fill it in before building a SPIFFE id.
    trustDomain: wire.trustDomain === '' ? DEFAULT_TRUST_DOMAIN : wire.trustDomain,
    serviceAccount: wire.serviceAccount === '' ? DEFAULT_SERVICE_ACCOUNT : wire.serviceAccount,
    ...(waypoint ? { waypoint } : {}),
    ...(networkGateway ? { networkGateway } : {}),
    node: wire.node,
    canonicalName: wire.canonicalName,
    canonicalRevision: wire.canonicalRevision,
    workloadType: workloadType.decode(wire.workloadType, 'workload.workload_type'),
    workloadName: wire.workloadName,
    nativeTunnel: wire.nativeTunnel,
    ...(applicationTunnel ? { applicationTunnel } : {}),
    services: decodeServices(wire.services),
    authorizationPolicies: [...wire.authorizationPolicies],
    status: workloadStatus.decode(wire.status, 'workload.status'),
    clusterId: wire.clusterId,
    ...(locality ? { locality } : {}),
    networkMode: networkMode.decode(wire.networkMode, 'workload.network_mode'),
    capacity: wire.capacity ?? DEFAULT_CAPACITY,
  };
}

function decodeApplicationTunnel(wire: WireApplicationTunnel): ApplicationTunnel {
  return {
    protocol: tunnelFraming.decode(wire.protocol, 'workload.application_tunnel.protocol'),
    port: decodePortNumber(wire.port, 'workload.application_tunnel.port'),
  };
}

/** Keys must be `<ns>/<hostname>`: ztunnel splits them on the first `/` and rejects the workload otherwise. */
function decodeServices(wire: Readonly<Record<string, WirePortList>>): Record<string, PortMapping[]> {
  return Object.fromEntries(
    Object.entries(wire).map(([key, list]) => {
      const path = `workload.services[${JSON.stringify(key)}]`;
      if (!key.includes('/')) invalid(path, 'key must be <namespace>/<hostname>');
      return [key, decodePortMappings(list.ports, `${path}.ports`)];
    }),
  );
}

/**
 * The wire form of a workload, inside the `Address` oneof a WDS resource carries. As istiod's `pickTrustDomain`
 * does, the default trust domain and service account are sent as "" and capacity 1 as unset (reference §3.1).
 * Throws `XdsEncodeError` when an address is not IP text (a broken domain invariant).
 */
export function encodeWorkload(workload: Workload): WireAddress {
  const w = workload;
  const value: WireWorkload = {
    uid: w.uid,
    name: w.name,
    namespace: w.namespace,
    addresses: w.addresses.map((ip, i) => encodeIp(ip, `workload.addresses[${i}]`)),
    hostname: w.hostname,
    network: w.network,
    tunnelProtocol: tunnelProtocol.encode(w.tunnelProtocol),
    trustDomain: w.trustDomain === DEFAULT_TRUST_DOMAIN ? '' : w.trustDomain,
    // As istiod: the pod's service account as written (`default` included); "" only where none is known.
    serviceAccount: w.serviceAccount,
    waypoint: w.waypoint && encodeGatewayAddress(w.waypoint, 'workload.waypoint'),
    networkGateway: w.networkGateway && encodeGatewayAddress(w.networkGateway, 'workload.network_gateway'),
    node: w.node,
    canonicalName: w.canonicalName,
    canonicalRevision: w.canonicalRevision,
    workloadType: workloadType.encode(w.workloadType),
    workloadName: w.workloadName,
    nativeTunnel: w.nativeTunnel,
    applicationTunnel: w.applicationTunnel && {
      protocol: tunnelFraming.encode(w.applicationTunnel.protocol),
      port: w.applicationTunnel.port,
    },
    services: Object.fromEntries(
      Object.entries(w.services).map(([key, ports]) => [key, { ports: ports.map(encodePortMapping) }]),
    ),
    authorizationPolicies: [...w.authorizationPolicies],
    status: workloadStatus.encode(w.status),
    clusterId: w.clusterId,
    locality: w.locality && encodeLocality(w.locality),
    networkMode: networkMode.encode(w.networkMode),
    extensions: [],
    capacity: w.capacity === DEFAULT_CAPACITY ? undefined : w.capacity,
  };
  return { type: { $case: 'workload', value } };
}

function encodeLocality(locality: Locality): { region: string; zone: string; subzone: string } {
  return { region: locality.region, zone: locality.zone, subzone: locality.subzone };
}
