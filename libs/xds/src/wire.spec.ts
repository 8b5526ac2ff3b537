// Wire-compatibility checks for the generated protobuf code: messages survive an encode/decode round
// trip, and the bytes carry the exact field numbers of Istio's and Envoy's schemas (protos/README.md).
import { BinaryReader } from '@bufbuild/protobuf/wire';
import {
  AggregatedDiscoveryServiceService,
  DeltaDiscoveryRequest,
  DeltaDiscoveryResponse,
} from './generated/envoy/service/discovery/v3/discovery';
import { Action, Authorization, Scope } from './generated/istio/security/authorization';
import { IstioCertificateRequest, IstioCertificateServiceService } from './generated/istio/v1/auth/ca';
import { Address, AppProtocol, TunnelProtocol, Workload } from './generated/istio/workload/workload';
import { DelWorkload } from './generated/istio/workload/zds/zds';
import { ServicePort_Protocol, WaypointService } from './generated/weft/l7/v1/waypoint_service';

/**
 * A protobuf tag is the varint of (field_number << 3) | wire_type. Wire types used here:
 * 0 = varint, 2 = length-delimited (strings, bytes, messages, map entries, packed repeated).
 */
const VARINT = 0;
const LEN = 2;

/** First `count` bytes of an encoding, as plain numbers so jest prints readable diffs. */
function head(bytes: Uint8Array, count: number): number[] {
  return Array.from(bytes.subarray(0, count));
}

/** Field numbers of the top-level fields of an encoded message, in wire order. */
function fieldNumbers(bytes: Uint8Array): number[] {
  const reader = new BinaryReader(bytes);
  const fields: number[] = [];
  while (reader.pos < reader.len) {
    const [fieldNo, wireType] = reader.tag();
    fields.push(fieldNo);
    reader.skip(wireType);
  }
  return fields;
}

const podIp = Buffer.from([10, 244, 1, 5]);
const podIpV6 = Buffer.from('fd000000000000000000000000000005', 'hex');

describe('istio.workload.Address', () => {
  const workload: Workload = Workload.fromPartial({
    uid: 'Kubernetes//Pod/default/reviews-v1-5fd6d4f8f8-knbht',
    name: 'reviews-v1-5fd6d4f8f8-knbht',
    namespace: 'default',
    addresses: [podIp, podIpV6],
    tunnelProtocol: TunnelProtocol.HBONE,
    serviceAccount: 'bookinfo-reviews',
    node: 'ambient-worker',
    services: {
      'default/reviews.default.svc.cluster.local': {
        ports: [{ servicePort: 9080, targetPort: 9080, appProtocol: AppProtocol.HTTP11 }],
      },
    },
    capacity: 3,
  });

  it('round-trips a workload with addresses, services and capacity', () => {
    const address: Address = { type: { $case: 'workload', value: workload } };
    const decoded = Address.decode(Address.encode(address).finish());

    expect(decoded.type?.$case).toBe('workload');
    if (decoded.type?.$case !== 'workload') return;
    const got = decoded.type.value;
    expect(got.uid).toBe(workload.uid);
    expect(got.addresses.map((a) => Buffer.from(a).toString('hex'))).toEqual([
      podIp.toString('hex'),
      podIpV6.toString('hex'),
    ]);
    expect(got.services['default/reviews.default.svc.cluster.local']?.ports).toEqual([
      { servicePort: 9080, targetPort: 9080, appProtocol: AppProtocol.HTTP11 },
    ]);
    expect(got.capacity).toBe(3);
    expect(got.tunnelProtocol).toBe(TunnelProtocol.HBONE);
  });

  it('keeps an unset capacity distinct from 0 (ztunnel reads unset as 1)', () => {
    const unset = Workload.decode(Workload.encode(Workload.fromPartial({ uid: 'u' })).finish());
    const zero = Workload.decode(Workload.encode(Workload.fromPartial({ uid: 'u', capacity: 0 })).finish());
    expect(unset.capacity).toBeUndefined();
    expect(zero.capacity).toBe(0);
  });

  it('encodes Workload.uid as field 20', () => {
    // (20 << 3) | 2 = 162 = 0xA2; 162 >= 128 so the varint takes two bytes:
    // (162 & 0x7F) | 0x80 = 0x22 | 0x80 = 0xA2, then 162 >> 7 = 0x01.
    expect((20 << 3) | LEN).toBe(0xa2);
    const bytes = Workload.encode(Workload.fromPartial({ uid: 'u' })).finish();
    expect(head(bytes, 4)).toEqual([0xa2, 0x01, 0x01, 'u'.charCodeAt(0)]);
  });

  it('encodes Workload.services as field 22 and Workload.capacity as field 27', () => {
    // services: (22 << 3) | 2 = 178 = 0xB2 -> varint 0xB2 0x01 ((178 & 0x7F) | 0x80 = 0xB2, 178 >> 7 = 1).
    expect((22 << 3) | LEN).toBe(0xb2);
    const services = Workload.encode(Workload.fromPartial({ services: { 'ns/h': { ports: [] } } })).finish();
    expect(head(services, 2)).toEqual([0xb2, 0x01]);

    // capacity: (27 << 3) | 2 = 218 = 0xDA -> varint 0xDA 0x01; the UInt32Value inside is
    // { value (field 1, varint) }: tag (1 << 3) | 0 = 0x08, then 3.
    expect((27 << 3) | LEN).toBe(0xda);
    const capacity = Workload.encode(Workload.fromPartial({ capacity: 3 })).finish();
    expect(head(capacity, 5)).toEqual([0xda, 0x01, 0x02, 0x08, 0x03]);

    expect(fieldNumbers(Workload.encode(workload).finish())).toEqual([20, 1, 2, 3, 3, 5, 7, 9, 22, 27]);
  });
});

describe('istio.security.Authorization', () => {
  // Istio's converted STRICT PeerAuthentication: deny when the peer has no identity.
  const strict: Authorization = Authorization.fromPartial({
    name: 'istio_converted_static_strict',
    namespace: 'istio-system',
    scope: Scope.WORKLOAD_SELECTOR,
    action: Action.DENY,
    rules: [{ clauses: [{ matches: [{ notPrincipals: [{ matchType: { $case: 'presence', value: {} } }] }] }] }],
  });

  it('round-trips a StringMatch presence (an empty message is still sent)', () => {
    const decoded = Authorization.decode(Authorization.encode(strict).finish());
    expect(decoded).toEqual(strict);
    expect(decoded.rules[0]?.clauses[0]?.matches[0]?.notPrincipals[0]?.matchType).toEqual({
      $case: 'presence',
      value: {},
    });
  });

  it('encodes the rules/clauses/matches/not_principals/presence path with Istio numbers', () => {
    // rules = 5, clauses = 1, matches = 2, not_principals = 4, presence = 4, all length-delimited:
    // (5 << 3) | 2 = 0x2A, (1 << 3) | 2 = 0x0A, (2 << 3) | 2 = 0x12, (4 << 3) | 2 = 0x22.
    // Innermost first: presence = 0x22 0x00 (empty); not_principals wraps 2 bytes; and so on outwards.
    const rulesOnly = Authorization.encode(Authorization.fromPartial({ rules: strict.rules })).finish();
    expect(Array.from(rulesOnly)).toEqual([0x2a, 0x08, 0x0a, 0x06, 0x12, 0x04, 0x22, 0x02, 0x22, 0x00]);
  });
});

describe('istio.workload.zds.DelWorkload', () => {
  it('encodes uid as field 2', () => {
    // (2 << 3) | 2 = 18 = 0x12; one byte because 18 < 128.
    expect((2 << 3) | LEN).toBe(0x12);
    const bytes = DelWorkload.encode({ uid: 'p' }).finish();
    expect(Array.from(bytes)).toEqual([0x12, 0x01, 'p'.charCodeAt(0)]);
    expect(DelWorkload.decode(bytes)).toEqual({ uid: 'p' });
  });
});

describe('istio.v1.auth.IstioCertificateRequest', () => {
  it('encodes validity_duration as field 3, varint', () => {
    // (3 << 3) | 0 = 24 = 0x18. 86400 as a varint, 7 bits at a time from the low end:
    // 86400 & 0x7F = 0x00 -> 0x80 (more follows); 86400 >> 7 = 675, 675 & 0x7F = 0x23 -> 0xA3;
    // 675 >> 7 = 5 -> 0x05 (last byte).
    expect((3 << 3) | VARINT).toBe(0x18);
    const bytes = IstioCertificateRequest.encode({ csr: '', validityDuration: 86400 }).finish();
    expect(Array.from(bytes)).toEqual([0x18, 0x80, 0xa3, 0x05]);
  });

  it('round-trips csr and the ImpersonatedIdentity metadata', () => {
    const request: IstioCertificateRequest = {
      csr: '-----BEGIN CERTIFICATE REQUEST-----\n',
      validityDuration: 86400,
      metadata: { ImpersonatedIdentity: 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews' },
    };
    expect(IstioCertificateRequest.decode(IstioCertificateRequest.encode(request).finish())).toEqual(request);
  });

  it('is served at Istio\'s gRPC path', () => {
    expect(IstioCertificateServiceService.createCertificate.path).toBe(
      '/istio.v1.auth.IstioCertificateService/CreateCertificate',
    );
  });
});

describe('envoy.service.discovery.v3 delta xDS', () => {
  it('round-trips a reconnect NACK with initial_resource_versions and error_detail', () => {
    const request: DeltaDiscoveryRequest = DeltaDiscoveryRequest.fromPartial({
      node: { id: 'ztunnel~10.244.1.2~ztunnel-abcde.istio-system~istio-system.svc.cluster.local' },
      typeUrl: 'type.googleapis.com/istio.workload.Address',
      initialResourceVersions: { 'default/reviews.default.svc.cluster.local': '8a3c1f' },
      responseNonce: 'nonce-1',
      errorDetail: { code: 3, message: 'invalid resource', details: [] },
    });
    const bytes = DeltaDiscoveryRequest.encode(request).finish();
    expect(DeltaDiscoveryRequest.decode(bytes)).toEqual(request);

    // node = 1, type_url = 2, initial_resource_versions = 5, response_nonce = 6, error_detail = 7.
    expect(fieldNumbers(bytes)).toEqual([1, 2, 5, 6, 7]);
  });

  it('encodes initial_resource_versions as field 5 and error_detail as field 7', () => {
    // (5 << 3) | 2 = 42 = 0x2A; each map entry is a nested message { key = 1, value = 2 }:
    // key tag (1 << 3) | 2 = 0x0A, value tag (2 << 3) | 2 = 0x12.
    expect((5 << 3) | LEN).toBe(0x2a);
    const versions = DeltaDiscoveryRequest.encode(
      DeltaDiscoveryRequest.fromPartial({ initialResourceVersions: { a: 'v' } }),
    ).finish();
    expect(Array.from(versions)).toEqual([0x2a, 0x06, 0x0a, 0x01, 0x61, 0x12, 0x01, 0x76]);

    // (7 << 3) | 2 = 58 = 0x3A; inside, google.rpc.Status.code (field 1, varint) tag 0x08.
    expect((7 << 3) | LEN).toBe(0x3a);
    const nack = DeltaDiscoveryRequest.encode(
      DeltaDiscoveryRequest.fromPartial({ errorDetail: { code: 3 } }),
    ).finish();
    expect(Array.from(nack)).toEqual([0x3a, 0x02, 0x08, 0x03]);
  });

  it('is served at Envoy\'s gRPC path', () => {
    expect(AggregatedDiscoveryServiceService.deltaAggregatedResources.path).toBe(
      '/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources',
    );
  });
});

describe('weft.l7.v1 over delta xDS', () => {
  it('carries a WaypointService as an Any in a delta response', () => {
    const service: WaypointService = WaypointService.fromPartial({
      hostname: 'reviews.default.svc.cluster.local',
      namespace: 'default',
      name: 'reviews',
      ports: [{ name: 'http', port: 9080, targetPort: 9080, protocol: ServicePort_Protocol.PROTOCOL_HTTP }],
      routeSource: 'VirtualService default/reviews',
      httpRoutes: [
        {
          name: 'canary',
          matches: [{ headers: { 'end-user': { matchType: { $case: 'exact', value: 'jason' } } } }],
          action: {
            $case: 'forward',
            value: {
              destinations: [{ destination: { host: 'reviews.default.svc.cluster.local', subset: 'v2' }, weight: 100 }],
            },
          },
          timeout: { seconds: 2, nanos: 0 },
        },
      ],
    });
    const typeUrl = 'type.googleapis.com/weft.l7.v1.WaypointService';
    const response = DeltaDiscoveryResponse.fromPartial({
      typeUrl,
      nonce: 'n1',
      resources: [
        {
          name: 'default/reviews.default.svc.cluster.local',
          version: '1',
          resource: { typeUrl, value: Buffer.from(WaypointService.encode(service).finish()) },
        },
      ],
    });

    const decoded = DeltaDiscoveryResponse.decode(DeltaDiscoveryResponse.encode(response).finish());
    const packed = decoded.resources[0]?.resource;
    expect(packed?.typeUrl).toBe(typeUrl);
    expect(WaypointService.decode(packed?.value ?? new Uint8Array())).toEqual(service);
  });
});
