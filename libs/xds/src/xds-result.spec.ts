// The per-resource convention: whatever bytes arrive, the decoders return a result and never throw, and the
// NACK text is one line that names the resource and the field.
import { decodeAddressResource, encodeAddressResource } from './address-adapter';
import { decodeAuthorizationResource, encodeAuthorizationResource } from './authorization-adapter';
import { rejectionText, type XdsRejection } from './xds-result';

/** Deterministic PRNG (mulberry32) so a failure reproduces. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('decoders on arbitrary bytes', () => {
  const address = encodeAddressResource({
    kind: 'workload',
    workload: {
      uid: 'u1',
      name: 'p',
      namespace: 'ns',
      addresses: ['10.0.0.1', 'fd00::1'],
      hostname: '',
      network: '',
      tunnelProtocol: 'HBONE',
      trustDomain: 'cluster.local',
      serviceAccount: 'sa',
      waypoint: { destination: { kind: 'hostname', namespace: 'ns', hostname: 'wp' }, hboneMtlsPort: 15008 },
      node: 'n',
      canonicalName: 'p',
      canonicalRevision: 'latest',
      workloadType: 'POD',
      workloadName: 'p',
      nativeTunnel: false,
      services: { 'ns/s': [{ servicePort: 80, targetPort: 8080, appProtocol: 'HTTP2' }] },
      authorizationPolicies: ['ns/a'],
      status: 'HEALTHY',
      clusterId: 'c',
      networkMode: 'STANDARD',
      capacity: 2,
    },
  }).value;
  const policy = encodeAuthorizationResource({
    name: 'a',
    namespace: 'ns',
    scope: 'NAMESPACE',
    action: 'DENY',
    dryRun: false,
    rules: [{ clauses: [{ matches: [{
      namespaces: [{ kind: 'presence' }],
      notNamespaces: [],
      principals: [{ kind: 'prefix', value: 'td/ns/x' }],
      notPrincipals: [],
      sourceIps: [{ address: '10.0.0.0', prefixLength: 8 }],
      notSourceIps: [],
      destinationIps: [],
      notDestinationIps: [],
      destinationPorts: [80],
      notDestinationPorts: [],
      serviceAccounts: [{ namespace: 'ns', serviceAccount: 'sa' }],
      notServiceAccounts: [],
    }] }] }],
  }).value;

  it('return a result for random bytes and for corrupted valid resources', () => {
    const next = random(7);
    const samples: Buffer[] = [];
    for (let n = 0; n < 1000; n += 1) {
      samples.push(Buffer.from(Array.from({ length: Math.floor(next() * 64) }, () => Math.floor(next() * 256))));
      for (const valid of [address, policy]) {
        const corrupted = Buffer.from(valid);
        corrupted[Math.floor(next() * corrupted.length)] = Math.floor(next() * 256);
        samples.push(corrupted);
      }
    }
    for (const value of samples) {
      for (const decode of [decodeAddressResource, decodeAuthorizationResource]) {
        const result = decode({ name: 'u1', version: '1', value });
        expect(typeof result.ok).toBe('boolean');
        if (!result.ok) expect(rejectionText(result.rejection)).not.toMatch(/[\r\n]/);
      }
    }
  });
});

describe('rejectionText', () => {
  it('names type, resource, field and code on one line', () => {
    const rejection: XdsRejection = {
      code: 'ERR_XDS_RESOURCE_INVALID',
      typeUrl: 'type.googleapis.com/istio.workload.Address',
      resourceName: 'ns/svc\r\n',
      field: 'service.ports[0].service_port',
      message: 'port 70000 is out of range\n(0-65535)',
    };
    expect(rejectionText(rejection)).toBe(
      'istio.workload.Address "ns/svc\\r\\n": service.ports[0].service_port: port 70000 is out of range (0-65535) ' +
        '(ERR_XDS_RESOURCE_INVALID)',
    );
  });
});
