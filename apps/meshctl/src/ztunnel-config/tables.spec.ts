import { certificateTable, policyTable, serviceTable, workloadTable, ztunnelConfigObjects } from './tables';

const dump = {
  workloads: [
    { uid: 'Kubernetes//Pod/default/sleep-1', name: 'sleep-1', namespace: 'default', workloadIps: ['10.244.1.5'], node: 'node-a', waypoint: null, protocol: 'HBONE', status: 'Healthy' },
    { uid: 'Kubernetes//Pod/default/httpbin-1', name: 'httpbin-1', namespace: 'default', workloadIps: ['10.244.2.7'], node: 'node-b', waypoint: { destination: 'default/waypoint.default.svc.cluster.local', hboneMtlsPort: 15008 }, protocol: 'HBONE', status: 'Healthy' },
    { uid: 'Kubernetes//Pod/plain/web-1', name: 'web-1', namespace: 'plain', workloadIps: ['10.244.2.9'], node: 'node-b', waypoint: null, protocol: 'TCP', status: 'Unhealthy' },
  ],
  services: [
    {
      name: 'httpbin',
      namespace: 'default',
      vips: ['/10.96.0.20'],
      waypoint: null,
      endpoints: { a: { workloadUid: 'Kubernetes//Pod/default/httpbin-1' }, b: { workloadUid: 'Kubernetes//Pod/plain/web-1' } },
    },
  ],
  policies: [{ name: 'allow-sleep', namespace: 'default', action: 'Allow', scope: 'WorkloadSelector' }],
  certificates: [
    {
      identity: 'spiffe://cluster.local/ns/default/sa/sleep',
      state: 'Available',
      certChain: [{ serialNumber: '1a', validFrom: '2026-12-01T00:00:00Z', expirationTime: '2026-12-02T00:00:00Z' }],
      rootCerts: [{ serialNumber: '01', validFrom: '2026-01-01T00:00:00Z', expirationTime: '2036-01-01T00:00:00Z' }],
    },
  ],
};

describe('ztunnel-config tables', () => {
  it('workload: the columns istioctl prints, HBONE for enrolled pods, the waypoint by name', () => {
    expect(workloadTable(dump)).toBe(
      [
        'NAMESPACE POD NAME  ADDRESS    NODE   WAYPOINT PROTOCOL',
        'default   httpbin-1 10.244.2.7 node-b waypoint HBONE',
        'default   sleep-1   10.244.1.5 node-a None     HBONE',
        'plain     web-1     10.244.2.9 node-b None     TCP',
        '',
      ].join('\n'),
    );
  });

  it('service: VIP and healthy/total endpoints', () => {
    expect(serviceTable(dump)).toBe(['NAMESPACE SERVICE NAME SERVICE VIP WAYPOINT ENDPOINTS', 'default   httpbin      10.96.0.20  None     1/2', ''].join('\n'));
  });

  it('policy', () => {
    expect(policyTable(dump)).toBe(['NAMESPACE POLICY NAME ACTION SCOPE', 'default   allow-sleep Allow  WorkloadSelector', ''].join('\n'));
  });

  it('certificate: the leaf and the root, with validity at the given time', () => {
    const table = certificateTable(dump, new Date('2026-12-01T12:00:00Z'));
    expect(table.split('\n')[1]).toMatch(/^spiffe:\/\/cluster\.local\/ns\/default\/sa\/sleep Leaf +Available true +1a +2026-12-02T00:00:00Z 2026-12-01T00:00:00Z$/);
    expect(table.split('\n')[2]).toMatch(/^ROOTCA +CA +Available true +01 /);
    expect(certificateTable(dump, new Date('2026-12-03T00:00:00Z')).split('\n')[1]).toContain(' false ');
  });

  it('-o json gives the raw objects of the kind', () => {
    expect(ztunnelConfigObjects('policy', dump)).toEqual(dump.policies);
    expect(ztunnelConfigObjects('workload', {})).toEqual([]);
  });
});
