import { EMPTY_MATCH } from '@weft/mesh-model';

import { authorization, meshOf, port, service, workload } from '@weft/testing';
import { buildConfigDump, type CertificateSnapshot } from './config-dump';

const waypointRef = { destination: { kind: 'hostname' as const, namespace: 'default', hostname: 'waypoint.default.svc.cluster.local' }, hboneMtlsPort: 15008 };
const web = workload({
  name: 'web-1',
  addresses: ['10.0.1.1'],
  serviceAccount: 'web',
  workloadName: 'web',
  workloadType: 'DEPLOYMENT',
  canonicalName: 'web',
  canonicalRevision: 'v1',
  waypoint: waypointRef,
  locality: { region: 'us', zone: 'us-1', subzone: '' },
  services: { 'default/web.default.svc.cluster.local': [port(80, 8080)] },
  authorizationPolicies: ['default/allow-client'],
});
const legacy = workload({ name: 'legacy', addresses: ['10.0.2.1'], tunnelProtocol: 'NONE', status: 'UNHEALTHY', applicationTunnel: { protocol: 'PROXY', port: 15088 } });
const policy = authorization({
  name: 'allow-client',
  scope: 'WORKLOAD_SELECTOR',
  rules: [
    {
      clauses: [
        {
          matches: [
            {
              ...EMPTY_MATCH,
              principals: [{ kind: 'exact', value: 'cluster.local/ns/default/sa/client' }, { kind: 'presence' }],
              notNamespaces: [{ kind: 'prefix', value: 'dev-' }, { kind: 'suffix', value: '-test' }],
              sourceIps: [{ address: '10.0.0.0', prefixLength: 16 }],
              destinationPorts: [8080],
              serviceAccounts: [{ namespace: 'default', serviceAccount: 'client' }],
            },
          ],
        },
      ],
    },
  ],
});
const certs: CertificateSnapshot[] = [
  {
    identity: 'spiffe://cluster.local/ns/default/sa/web',
    state: 'Available',
    certChain: [{ serialNumber: '1a2b', validFrom: '2026-01-01T00:00:00Z', expirationTime: '2026-01-02T00:00:00Z' }],
  },
];

describe('buildConfigDump (reference §8.4)', () => {
  it('renders workloads, services, policies and certificates in ztunnel’s shape', () => {
    const state = meshOf({
      workloads: [web, legacy],
      services: [
        service({
          name: 'web',
          vips: [
            { network: '', address: '10.96.0.10' },
            { network: '', address: '240.240.0.0', length: 16 },
          ],
          waypoint: waypointRef,
          loadBalancing: { mode: 'FAILOVER', routingPreference: ['NETWORK', 'REGION'], healthPolicy: 'ONLY_HEALTHY' },
          subjectAltNames: ['spiffe://cluster.local/ns/default/sa/web'],
        }),
      ],
      authorizations: [policy],
    });
    const dump = buildConfigDump({ state, certificates: certs, config: { proxyMode: 'dedicated' } });
    expect(Object.keys(dump)).toEqual(['workloads', 'services', 'policies', 'certificates', 'workloadState', 'staticConfig', 'version', 'config']);
    expect(dump).toEqual({
      workloads: [
        {
          uid: 'Kubernetes//Pod/default/legacy',
          workloadIps: ['10.0.2.1'],
          waypoint: null,
          networkGateway: null,
          protocol: 'TCP',
          name: 'legacy',
          namespace: 'default',
          serviceAccount: 'default',
          workloadName: 'legacy',
          workloadType: 'pod',
          canonicalName: 'legacy',
          canonicalRevision: 'latest',
          clusterId: 'Kubernetes',
          trustDomain: 'cluster.local',
          locality: {},
          node: 'node-a',
          network: '',
          status: 'Unhealthy',
          hostname: '',
          capacity: 1,
          applicationTunnel: { protocol: 'PROXY', port: 15088 },
          authorizationPolicies: [],
        },
        {
          uid: 'Kubernetes//Pod/default/web-1',
          workloadIps: ['10.0.1.1'],
          waypoint: { destination: 'default/waypoint.default.svc.cluster.local', hboneMtlsPort: 15008 },
          networkGateway: null,
          protocol: 'HBONE',
          name: 'web-1',
          namespace: 'default',
          serviceAccount: 'web',
          workloadName: 'web',
          workloadType: 'deployment',
          canonicalName: 'web',
          canonicalRevision: 'v1',
          clusterId: 'Kubernetes',
          trustDomain: 'cluster.local',
          locality: { region: 'us', zone: 'us-1', subzone: '' },
          node: 'node-a',
          network: '',
          status: 'Healthy',
          hostname: '',
          capacity: 1,
          applicationTunnel: null,
          authorizationPolicies: ['default/allow-client'],
        },
      ],
      services: [
        {
          name: 'web',
          namespace: 'default',
          hostname: 'web.default.svc.cluster.local',
          vips: ['/10.96.0.10'],
          cidrVips: ['/240.240.0.0/16'],
          ports: { '80': 8080 },
          loadBalancer: { mode: 'FAILOVER', routingPreferences: ['NETWORK', 'REGION'], healthPolicy: 'ONLY_HEALTHY' },
          waypoint: { destination: 'default/waypoint.default.svc.cluster.local', hboneMtlsPort: 15008 },
          endpoints: {
            'Kubernetes//Pod/default/web-1': {
              workloadUid: 'Kubernetes//Pod/default/web-1',
              service: 'default/web.default.svc.cluster.local',
              address: '/10.0.1.1',
              port: { '80': 8080 },
            },
          },
          subjectAltNames: ['spiffe://cluster.local/ns/default/sa/web'],
          ipFamilies: 'AUTOMATIC',
          canonical: true,
          visibility: 'PUBLIC',
        },
      ],
      policies: [
        {
          name: 'allow-client',
          namespace: 'default',
          scope: 'WorkloadSelector',
          action: 'Allow',
          rules: [
            [
              [
                {
                  namespaces: [],
                  notNamespaces: [{ Prefix: 'dev-' }, { Suffix: '-test' }],
                  principals: [{ Exact: 'cluster.local/ns/default/sa/client' }, { Presence: {} }],
                  notPrincipals: [],
                  sourceIps: ['10.0.0.0/16'],
                  notSourceIps: [],
                  destinationIps: [],
                  notDestinationIps: [],
                  destinationPorts: [8080],
                  notDestinationPorts: [],
                  serviceAccounts: [{ namespace: 'default', serviceAccount: 'client' }],
                  notServiceAccounts: [],
                },
              ],
            ],
          ],
          dryRun: false,
        },
      ],
      certificates: [
        {
          identity: 'spiffe://cluster.local/ns/default/sa/web',
          state: 'Available',
          certChain: [{ pem: '', serialNumber: '1a2b', validFrom: '2026-01-01T00:00:00Z', expirationTime: '2026-01-02T00:00:00Z' }],
          rootCerts: [],
        },
      ],
      workloadState: {},
      staticConfig: {},
      version: {},
      config: { proxyMode: 'dedicated' },
    });
  });

  it('an empty store dumps empty lists', () => {
    const dump = buildConfigDump({ state: meshOf({}), certificates: [] });
    expect([dump.workloads, dump.services, dump.policies, dump.certificates]).toEqual([[], [], [], []]);
  });
});
