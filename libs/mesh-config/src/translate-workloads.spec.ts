import type { KubeObject } from './kube-object';
import {
  authorizationPolicy,
  namespace,
  node,
  peerAuthentication,
  pod,
  service,
  waypointGateway,
  waypointPod,
} from '../test/translation/kube-builders';
import { translateAuthorizations } from './translate-authorizations';
import { buildInventory } from './translate-inventory';
import { translateSettings } from './translate-types';
import { collectWaypoints } from './translate-waypoints';
import { translatePod } from './translate-workloads';

const settings = translateSettings();

function translate(subject: KubeObject, others: KubeObject[] = []) {
  const inventory = buildInventory([subject, ...others]);
  const authz = translateAuthorizations(inventory, settings);
  return translatePod(subject, {
    inventory,
    waypoints: collectWaypoints(inventory, settings),
    selectorPolicies: authz.selectorPolicies,
    peerAuthentications: authz.peerAuthentications,
    settings,
  });
}

const web = pod(
  'web-5d9c7b6f4-x',
  {
    labels: { app: 'web', 'pod-template-hash': '5d9c7b6f4' },
    annotations: { 'ambient.istio.io/redirection': 'enabled' },
    ownerReferences: [{ kind: 'ReplicaSet', name: 'web-5d9c7b6f4' }],
  },
  { spec: { serviceAccountName: 'web-sa', nodeName: 'n1', containers: [{ name: 'app', ports: [{ name: 'http', containerPort: 8080 }] }] } },
);

describe('translatePod (§4.4 Pods → Workload)', () => {
  it('builds the Workload istiod sends for an ambient Deployment pod', () => {
    const others = [node('n1', { 'topology.kubernetes.io/region': 'r1', 'topology.kubernetes.io/zone': 'z1' })];
    expect(translate(web, others)).toEqual({
      workload: {
        uid: 'Kubernetes//Pod/default/web-5d9c7b6f4-x',
        name: 'web-5d9c7b6f4-x',
        namespace: 'default',
        addresses: ['10.0.0.1'],
        hostname: '',
        network: '',
        tunnelProtocol: 'HBONE',
        nativeTunnel: false,
        trustDomain: 'cluster.local',
        serviceAccount: 'web-sa',
        node: 'n1',
        canonicalName: 'web',
        canonicalRevision: 'latest',
        workloadType: 'POD',
        workloadName: 'web',
        services: {},
        authorizationPolicies: [],
        status: 'HEALTHY',
        clusterId: 'Kubernetes',
        locality: { region: 'r1', zone: 'z1', subzone: '' },
        networkMode: 'STANDARD',
        capacity: 1,
      },
      messages: [],
    });
  });

  it('sends nothing for terminal pods or pods without an IP', () => {
    expect(translate(pod('done', {}, { phase: 'Succeeded' })).workload).toBeUndefined();
    expect(translate(pod('pending', {}, { ip: null })).workload).toBeUndefined();
  });

  it('defaults the service account and marks hostNetwork pods', () => {
    const w = translate(pod('h', {}, { spec: { hostNetwork: true } })).workload;
    expect(w?.serviceAccount).toBe('default');
    expect(w?.networkMode).toBe('HOST_NETWORK');
  });

  it('maps selecting Services, resolving named target ports against the pod and omitting unresolvable ones', () => {
    const svc = service('web', {
      selector: { app: 'web' },
      ports: [{ port: 80, targetPort: 'http' }, { port: 81, targetPort: 'missing' }, { port: 82, targetPort: 9090 }, { port: 83 }],
    });
    const otherNs = service('web', { selector: { app: 'web' }, ports: [{ port: 80 }] }, { namespace: 'other' });
    const notSelecting = service('db', { selector: { app: 'db' }, ports: [{ port: 5432 }] });
    expect(translate(web, [svc, otherNs, notSelecting]).workload?.services).toEqual({
      'default/web.default.svc.cluster.local': [
        { servicePort: 80, targetPort: 8080, appProtocol: 'UNKNOWN' },
        { servicePort: 82, targetPort: 9090, appProtocol: 'UNKNOWN' },
        { servicePort: 83, targetPort: 83, appProtocol: 'UNKNOWN' },
      ],
    });
  });

  it('maps a selector-less Service whose EndpointSlice targets the pod', () => {
    const manual = service('manual', { ports: [{ port: 90, targetPort: 9000 }] });
    const slice: KubeObject = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'manual-abc', namespace: 'default', labels: { 'kubernetes.io/service-name': 'manual' } },
      endpoints: [{ addresses: ['10.0.0.1'], targetRef: { kind: 'Pod', name: web.metadata.name, namespace: 'default' } }],
    };
    expect(Object.keys(translate(web, [manual, slice]).workload?.services ?? {})).toEqual(['default/manual.default.svc.cluster.local']);
    expect(Object.keys(translate(web, [manual]).workload?.services ?? {})).toEqual([]);
  });

  it('lists matching selector policies (own and root namespace), then the STRICT PeerAuthentication key', () => {
    const others = [
      authorizationPolicy('own', { selector: { matchLabels: { app: 'web' } }, rules: [{}] }),
      authorizationPolicy('mesh', { selector: { matchLabels: { app: 'web' } }, rules: [{}] }, { namespace: 'istio-system' }),
      authorizationPolicy('elsewhere', { selector: { matchLabels: { app: 'web' } }, rules: [{}] }, { namespace: 'other' }),
      authorizationPolicy('other-app', { selector: { matchLabels: { app: 'db' } }, rules: [{}] }),
      authorizationPolicy('namespace-wide', { rules: [{}] }),
      peerAuthentication('default', { mtls: { mode: 'STRICT' } }),
    ];
    // istiod's order: the selector policies sorted, then the converted PeerAuthentication keys.
    expect(translate(web, others).workload?.authorizationPolicies).toEqual([
      'default/own',
      'istio-system/mesh',
      'istio-system/istio_converted_static_strict',
    ]);
  });

  it('binds a workload waypoint, but never for a waypoint instance', () => {
    const ns = namespace('default', { 'istio.io/use-waypoint': 'wp' });
    const others = [ns, waypointGateway('wp', { labels: { 'istio.io/waypoint-for': 'all' } }), waypointPod('wp')];
    expect(translate(web, others).workload?.waypoint).toEqual({
      destination: { kind: 'hostname', namespace: 'default', hostname: 'wp.default.svc.cluster.local' },
      hboneMtlsPort: 15008,
    });
    expect(translate(waypointPod('wp'), others).workload?.waypoint).toBeUndefined();
  });
});
