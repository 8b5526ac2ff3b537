// Sub-messages of istio.workload shared by Workload and Service: GatewayAddress (waypoints, network gateways),
// NetworkAddress (service VIPs) and Port (service ports, and per-workload port maps in `Workload.services`).

import type { AppProtocol, GatewayAddress, NetworkAddress, PortMapping } from '@weft/mesh-model';
import {
  AppProtocol as WireAppProtocol,
  type GatewayAddress as WireGatewayAddress,
  type NetworkAddress as WireNetworkAddress,
  type Port as WirePort,
} from './generated/istio/workload/workload';
import { addressBits } from './ip-address';
import { decodeIp, decodePortNumber, encodeIp, enumCodec, invalid } from './xds-result';

const appProtocol = enumCodec<AppProtocol, WireAppProtocol>('istio.workload.AppProtocol', {
  UNKNOWN: WireAppProtocol.UNKNOWN,
  HTTP11: WireAppProtocol.HTTP11,
  HTTP2: WireAppProtocol.HTTP2,
  GRPC: WireAppProtocol.GRPC,
  TCP: WireAppProtocol.TCP,
  TLS: WireAppProtocol.TLS,
});

/** `Port`; target port 0 is kept as is: it marks a named port resolved per workload (reference §4.2). */
export function decodePortMapping(wire: WirePort, path: string): PortMapping {
  return {
    servicePort: decodePortNumber(wire.servicePort, `${path}.service_port`),
    targetPort: decodePortNumber(wire.targetPort, `${path}.target_port`),
    appProtocol: appProtocol.decode(wire.appProtocol, `${path}.app_protocol`),
  };
}

export function decodePortMappings(wire: readonly WirePort[], path: string): PortMapping[] {
  return wire.map((port, i) => decodePortMapping(port, `${path}[${i}]`));
}

export function encodePortMapping(port: PortMapping): WirePort {
  return {
    servicePort: port.servicePort,
    targetPort: port.targetPort,
    appProtocol: appProtocol.encode(port.appProtocol),
  };
}

/**
 * `GatewayAddress`: exactly one destination must be set; ztunnel rejects the resource with `MissingGatewayAddress`
 * otherwise. A `length` on the address form is ignored, as ztunnel reads only network and address there.
 */
export function decodeGatewayAddress(wire: WireGatewayAddress, path: string): GatewayAddress {
  const hboneMtlsPort = decodePortNumber(wire.hboneMtlsPort, `${path}.hbone_mtls_port`);
  const destination = wire.destination;
  switch (destination?.$case) {
    case 'hostname':
      return {
        destination: {
          kind: 'hostname',
          namespace: destination.value.namespace,
          hostname: destination.value.hostname,
        },
        hboneMtlsPort,
      };
    case 'address':
      return {
        destination: {
          kind: 'address',
          network: destination.value.network,
          address: decodeIp(destination.value.address, `${path}.address.address`),
        },
        hboneMtlsPort,
      };
    default:
      return invalid(`${path}.destination`, 'neither hostname nor address is set');
  }
}

export function encodeGatewayAddress(gateway: GatewayAddress, path: string): WireGatewayAddress {
  const d = gateway.destination;
  return {
    destination:
      d.kind === 'hostname'
        ? { $case: 'hostname', value: { namespace: d.namespace, hostname: d.hostname } }
        : {
            $case: 'address',
            value: { network: d.network, address: encodeIp(d.address, `${path}.address.address`), length: undefined },
          },
    hboneMtlsPort: gateway.hboneMtlsPort,
  };
}

/**
 * `NetworkAddress` of a service VIP. `length` (recent Istio, CIDR VIPs) is kept exactly as sent, including a
 * host-length value; one longer than the address family allows is rejected, as ztunnel's `IpNet::new` does.
 */
export function decodeNetworkAddress(wire: WireNetworkAddress, path: string): NetworkAddress {
  const address = decodeIp(wire.address, `${path}.address`);
  if (wire.length === undefined) return { network: wire.network, address };
  const bits = addressBits(wire.address);
  if (wire.length > bits) invalid(`${path}.length`, `prefix length ${wire.length} exceeds the ${bits}-bit address`);
  return { network: wire.network, address, length: wire.length };
}

export function encodeNetworkAddress(vip: NetworkAddress, path: string): WireNetworkAddress {
  return { network: vip.network, address: encodeIp(vip.address, `${path}.address`), length: vip.length };
}
