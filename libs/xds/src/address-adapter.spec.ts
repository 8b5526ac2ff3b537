// WDS adapters: exact round trips of full-featured workloads and services, istiod's defaults removed on encode and
// restored on decode, and one rejection (resource name + field) per kind of malformed resource.
import type { LoadBalancingMode, Service, Workload } from '@weft/mesh-model';
import {
  addressResourceName,
  decodeAddressResource,
  encodeAddressResource,
  encodeWorkload,
  toAny,
  type AddressResource,
} from './address-adapter';
import {
  Address as WireAddress,
  ApplicationTunnel_Protocol,
  IPFamilies,
  LoadBalancing_Scope,
  Service as WireService,
  TunnelProtocol,
  Workload as WireWorkload,
  WorkloadStatus,
  type LoadBalancing as WireLoadBalancing,
  type Port as WirePort,
} from './generated/istio/workload/workload';
import { ADDRESS_TYPE_URL } from './type-urls';
import { rejectionText, XdsEncodeError, type Result } from './xds-result';

const POD_UID = 'Kubernetes//Pod/bookinfo/reviews-v1-5fd6d4f8f8-knbht';
const SERVICE_NAME = 'bookinfo/reviews.bookinfo.svc.cluster.local';

const fullWorkload: Workload = {
  uid: POD_UID,
  name: 'reviews-v1-5fd6d4f8f8-knbht',
  namespace: 'bookinfo',
  addresses: ['10.244.1.5', 'fd00:10:244:1::5'],
  hostname: '',
  network: 'network-1',
  tunnelProtocol: 'HBONE',
  trustDomain: 'td.example',
  serviceAccount: 'bookinfo-reviews',
  waypoint: { destination: { kind: 'hostname', namespace: 'bookinfo', hostname: 'waypoint.bookinfo.svc.cluster.local' }, hboneMtlsPort: 15008 },
  networkGateway: { destination: { kind: 'address', network: 'network-1', address: '172.18.0.10' }, hboneMtlsPort: 15008 },
  node: 'ambient-worker',
  canonicalName: 'reviews',
  canonicalRevision: 'v1',
  workloadType: 'POD',
  workloadName: 'reviews-v1',
  nativeTunnel: true,
  applicationTunnel: { protocol: 'PROXY', port: 15088 },
  services: {
    [SERVICE_NAME]: [
      { servicePort: 9080, targetPort: 9080, appProtocol: 'HTTP11' },
      { servicePort: 9090, targetPort: 0, appProtocol: 'GRPC' },
    ],
    'bookinfo/metrics.bookinfo.svc.cluster.local': [],
  },
  authorizationPolicies: ['bookinfo/allow-productpage', 'istio-system/converted-peer-authentication'],
  status: 'UNHEALTHY',
  clusterId: 'Kubernetes',
  locality: { region: 'eu-west1', zone: 'eu-west1-b', subzone: 'rack-7' },
  networkMode: 'HOST_NETWORK',
  capacity: 3,
};

/** Defaults everywhere, a v6-only address and a waypoint in address form. */
const plainWorkload: Workload = {
  uid: 'Kubernetes//Pod/default/sleep-1',
  name: 'sleep-1',
  namespace: 'default',
  addresses: ['2001:db8::7'],
  hostname: '',
  network: '',
  tunnelProtocol: 'NONE',
  trustDomain: 'cluster.local',
  serviceAccount: 'default',
  waypoint: { destination: { kind: 'address', network: '', address: 'fd00::a' }, hboneMtlsPort: 15008 },
  node: '',
  canonicalName: 'sleep',
  canonicalRevision: 'latest',
  workloadType: 'DEPLOYMENT',
  workloadName: 'sleep',
  nativeTunnel: false,
  services: {},
  authorizationPolicies: [],
  status: 'HEALTHY',
  clusterId: '',
  networkMode: 'STANDARD',
  capacity: 1,
};

const fullService: Service = {
  name: 'reviews',
  namespace: 'bookinfo',
  hostname: 'reviews.bookinfo.svc.cluster.local',
  vips: [
    { network: '', address: '10.96.0.12' },
    { network: '', address: 'fd00:10:96::c' },
    { network: 'network-2', address: '240.240.0.0', length: 16 },
    { network: '', address: '2001:2::', length: 48 },
  ],
  ports: [
    { servicePort: 9080, targetPort: 9080, appProtocol: 'HTTP11' },
    { servicePort: 9090, targetPort: 0, appProtocol: 'UNKNOWN' },
  ],
  subjectAltNames: ['spiffe://td.example/ns/bookinfo/sa/reviews'],
  waypoint: { destination: { kind: 'hostname', namespace: 'bookinfo', hostname: 'waypoint.bookinfo.svc.cluster.local' }, hboneMtlsPort: 15008 },
  loadBalancing: {
    routingPreference: ['NETWORK', 'REGION', 'ZONE', 'SUBZONE', 'NODE', 'CLUSTER'],
    mode: 'FAILOVER',
    healthPolicy: 'ALLOW_ALL',
  },
  ipFamilies: 'DUAL',
  canonical: true,
  ingressUseWaypoint: true,
  weightedWaypoints: [
    { destination: { destination: { kind: 'hostname', namespace: 'bookinfo', hostname: 'waypoint.bookinfo.svc.cluster.local' }, hboneMtlsPort: 15008 }, weight: 90 },
    { destination: { destination: { kind: 'address', network: '', address: '10.96.0.99' }, hboneMtlsPort: 15008 }, weight: 10 },
  ],
  visibility: 'NAMESPACE',
};

const headlessService: Service = {
  name: 'db',
  namespace: 'data',
  hostname: 'db.data.svc.cluster.local',
  vips: [],
  ports: [],
  subjectAltNames: [],
  ipFamilies: 'AUTOMATIC',
  canonical: false,
  ingressUseWaypoint: false,
  weightedWaypoints: [],
  visibility: 'PUBLIC',
};

function roundTrip(resource: AddressResource): Result<AddressResource> {
  const encoded = encodeAddressResource(resource);
  return decodeAddressResource({ name: encoded.name, version: 'v1', value: encoded.value });
}

function encodeWire(address: WireAddress): Buffer {
  return Buffer.from(WireAddress.encode(address).finish());
}

describe('Address round trip', () => {
  it.each<[string, AddressResource]>([
    ['full workload', { kind: 'workload', workload: fullWorkload }],
    ['workload with defaults', { kind: 'workload', workload: plainWorkload }],
    ['workload with explicit capacity 0', { kind: 'workload', workload: { ...plainWorkload, capacity: 0 } }],
    ['full service', { kind: 'service', service: fullService }],
    ['headless service', { kind: 'service', service: headlessService }],
  ])('%s decodes to exactly what was encoded', (_, resource) => {
    expect(roundTrip(resource)).toStrictEqual({ ok: true, value: resource });
  });

  it.each<LoadBalancingMode>(['UNSPECIFIED_MODE', 'STRICT', 'FAILOVER', 'PASSTHROUGH'])('keeps load-balancing mode %s', (mode) => {
    const service = { ...fullService, loadBalancing: { routingPreference: ['NODE' as const], mode, healthPolicy: 'ONLY_HEALTHY' as const } };
    expect(roundTrip({ kind: 'service', service })).toStrictEqual({ ok: true, value: { kind: 'service', service } });
  });

  it('names workloads by uid and services by namespace/hostname', () => {
    expect(addressResourceName({ kind: 'workload', workload: fullWorkload })).toBe(POD_UID);
    expect(addressResourceName({ kind: 'service', service: fullService })).toBe(SERVICE_NAME);
    expect(encodeAddressResource({ kind: 'service', service: fullService })).toMatchObject({ name: SERVICE_NAME, typeUrl: ADDRESS_TYPE_URL });
  });

  it('wraps the bytes in an Any with the type URL', () => {
    const { value } = encodeAddressResource({ kind: 'workload', workload: plainWorkload });
    expect(toAny(ADDRESS_TYPE_URL, value)).toEqual({ typeUrl: ADDRESS_TYPE_URL, value });
  });
});

describe('wire defaults (reference §3.1, istiod pickTrustDomain)', () => {
  it('sends the default trust domain and capacity as unset, and the service account as written (as istiod does)', () => {
    const { value } = encodeAddressResource({ kind: 'workload', workload: plainWorkload });
    expect(value.includes('cluster.local')).toBe(false);
    const wire = WireAddress.decode(value).type;
    expect(wire?.$case).toBe('workload');
    const w = wire?.value as WireWorkload;
    expect([w.trustDomain, w.serviceAccount, w.capacity]).toEqual(['', 'default', undefined]);
  });

  it('fills the defaults in when decoding what istiod sends', () => {
    const value = encodeWire({ type: { $case: 'workload', value: WireWorkload.fromPartial({ uid: 'u1', namespace: 'default' }) } });
    const result = decodeAddressResource({ name: 'u1', version: '1', value });
    expect(result.ok && result.value.kind === 'workload' && result.value.workload).toMatchObject({
      trustDomain: 'cluster.local',
      serviceAccount: 'default',
      capacity: 1,
      addresses: [],
      services: {},
    });
  });

  it('keeps non-default values on the wire', () => {
    const w = encodeWorkload(fullWorkload).type?.value as WireWorkload;
    expect([w.trustDomain, w.serviceAccount, w.capacity]).toEqual(['td.example', 'bookinfo-reviews', 3]);
  });
});

describe('malformed Address resources', () => {
  const workload = (patch: Partial<WireWorkload>): Buffer =>
    encodeWire({ type: { $case: 'workload', value: { ...WireWorkload.fromPartial({ uid: POD_UID }), ...patch } } });
  const service = (patch: Partial<WireService>): Buffer =>
    encodeWire({
      type: {
        $case: 'service',
        value: { ...WireService.fromPartial({ namespace: 'bookinfo', hostname: 'reviews.bookinfo.svc.cluster.local' }), ...patch },
      },
    });
  const valid = encodeAddressResource({ kind: 'workload', workload: fullWorkload }).value;
  const v4 = Buffer.from([10, 0, 0, 1]);
  const hostnameGateway = { destination: { $case: 'hostname' as const, value: { namespace: 'ns', hostname: 'wp' } } };
  const port = (servicePort: number, targetPort: number, appProtocol = 0): WirePort => ({ servicePort, targetPort, appProtocol });
  const lb = (routingPreference: LoadBalancing_Scope[]): WireLoadBalancing => ({ routingPreference, mode: 0, healthPolicy: 0, dnsConnectStrategy: 0 });

  // Truncated mid-message rather than by a few bytes: a cut on a field boundary would leave a valid, shorter message.
  it.each<[string, string, Buffer, string, string]>([
    ['truncated protobuf', POD_UID, valid.subarray(0, Math.floor(valid.length / 2)), 'ERR_XDS_RESOURCE_UNDECODABLE', 'address'],
    ['no oneof set', POD_UID, Buffer.alloc(0), 'ERR_XDS_RESOURCE_INVALID', 'address.type'],
    ['5-byte address', POD_UID, workload({ addresses: [v4, Buffer.alloc(5)] }), 'ERR_XDS_RESOURCE_INVALID', 'workload.addresses[1]'],
    ['empty uid', '', workload({ uid: '' }), 'ERR_XDS_RESOURCE_INVALID', 'workload.uid'],
    ['resource name is not the uid', 'Kubernetes//Pod/bookinfo/other', workload({}), 'ERR_XDS_RESOURCE_NAME_MISMATCH', 'workload.uid'],
    ['unknown tunnel protocol 99', POD_UID, workload({ tunnelProtocol: 99 as TunnelProtocol }), 'ERR_XDS_RESOURCE_INVALID', 'workload.tunnel_protocol'],
    ['unknown workload status', POD_UID, workload({ status: 7 as WorkloadStatus }), 'ERR_XDS_RESOURCE_INVALID', 'workload.status'],
    ['gateway without destination', POD_UID, workload({ waypoint: { destination: undefined, hboneMtlsPort: 15008 } }), 'ERR_XDS_RESOURCE_INVALID', 'workload.waypoint.destination'],
    [
      'gateway with empty address bytes',
      POD_UID,
      workload({ networkGateway: { destination: { $case: 'address', value: { network: '', address: Buffer.alloc(0) } }, hboneMtlsPort: 15008 } }),
      'ERR_XDS_RESOURCE_INVALID',
      'workload.network_gateway.address.address',
    ],
    ['HBONE port 70000', POD_UID, workload({ waypoint: { ...hostnameGateway, hboneMtlsPort: 70000 } }), 'ERR_XDS_RESOURCE_INVALID', 'workload.waypoint.hbone_mtls_port'],
    ['unknown application tunnel protocol', POD_UID, workload({ applicationTunnel: { protocol: 9 as ApplicationTunnel_Protocol, port: 0 } }), 'ERR_XDS_RESOURCE_INVALID', 'workload.application_tunnel.protocol'],
    [
      'per-workload target port 70000',
      POD_UID,
      workload({ services: { [SERVICE_NAME]: { ports: [port(80, 70000)] } } }),
      'ERR_XDS_RESOURCE_INVALID',
      `workload.services["${SERVICE_NAME}"].ports[0].target_port`,
    ],
    ['services key without namespace', POD_UID, workload({ services: { 'reviews.bookinfo': { ports: [] } } }), 'ERR_XDS_RESOURCE_INVALID', 'workload.services["reviews.bookinfo"]'],
    ['service port 70000', SERVICE_NAME, service({ ports: [port(70000, 80)] }), 'ERR_XDS_RESOURCE_INVALID', 'service.ports[0].service_port'],
    ['unknown app protocol', SERVICE_NAME, service({ ports: [port(80, 80, 99)] }), 'ERR_XDS_RESOURCE_INVALID', 'service.ports[0].app_protocol'],
    ['resource name is not ns/hostname', 'bookinfo/reviews', service({}), 'ERR_XDS_RESOURCE_NAME_MISMATCH', 'service.hostname'],
    ['empty hostname', 'bookinfo/', service({ hostname: '' }), 'ERR_XDS_RESOURCE_INVALID', 'service.hostname'],
    ['CIDR VIP length 33 on IPv4', SERVICE_NAME, service({ addresses: [{ network: '', address: v4, length: 33 }] }), 'ERR_XDS_RESOURCE_INVALID', 'service.addresses[0].length'],
    ['CIDR VIP length 129 on IPv6', SERVICE_NAME, service({ addresses: [{ network: '', address: Buffer.alloc(16), length: 129 }] }), 'ERR_XDS_RESOURCE_INVALID', 'service.addresses[0].length'],
    [
      'unknown scope 99',
      SERVICE_NAME,
      service({ loadBalancing: lb([LoadBalancing_Scope.ZONE, 99 as LoadBalancing_Scope]) }),
      'ERR_XDS_RESOURCE_INVALID',
      'service.load_balancing.routing_preference[1]',
    ],
    [
      'unspecified scope',
      SERVICE_NAME,
      service({ loadBalancing: lb([LoadBalancing_Scope.UNSPECIFIED_SCOPE]) }),
      'ERR_XDS_RESOURCE_INVALID',
      'service.load_balancing.routing_preference[0]',
    ],
    ['unknown ip families', SERVICE_NAME, service({ ipFamilies: 99 as IPFamilies }), 'ERR_XDS_RESOURCE_INVALID', 'service.ip_families'],
    ['weighted waypoint without destination', SERVICE_NAME, service({ weightedWaypoints: [{ destination: undefined, weight: 5 }] }), 'ERR_XDS_RESOURCE_INVALID', 'service.weighted_waypoints[0].destination'],
  ])('%s', (_, name, value, code, field) => {
    const result = decodeAddressResource({ name, version: '7', value });
    expect(result).toStrictEqual({
      ok: false,
      rejection: { code, typeUrl: ADDRESS_TYPE_URL, resourceName: name, field, message: expect.any(String) },
    });
  });

  it('gives a one-line NACK text naming the resource and the field', () => {
    const result = decodeAddressResource({ name: POD_UID, version: '7', value: workload({ addresses: [Buffer.alloc(5)] }) });
    if (result.ok) throw new Error('expected a rejection');
    expect(rejectionText(result.rejection)).toBe(
      `istio.workload.Address "${POD_UID}": workload.addresses[0]: address must be 4 or 16 bytes, got 5 (ERR_XDS_RESOURCE_INVALID)`,
    );
  });

  it('keeps the NACK text on one line whatever the resource name holds', () => {
    const result = decodeAddressResource({ name: 'evil\nname', version: '7', value: workload({}) });
    if (result.ok) throw new Error('expected a rejection');
    expect(rejectionText(result.rejection)).not.toMatch(/[\r\n]/);
  });
});

describe('encoding a broken domain value', () => {
  it('throws a typed error naming the field', () => {
    const broken = { ...plainWorkload, addresses: ['10.0.0.1', 'not-an-ip'] };
    expect(() => encodeWorkload(broken)).toThrow(XdsEncodeError);
    expect(() => encodeWorkload(broken)).toThrow('workload.addresses[1]');
  });
});
