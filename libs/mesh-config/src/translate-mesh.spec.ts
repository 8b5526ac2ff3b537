import type { KubeObject } from './kube-object';
import { namespace, pod, service, waypointGateway, waypointPod } from '../test/translation/kube-builders';
import { sortMessages, translateMesh } from './translate-mesh';

describe('translateMesh', () => {
  const ns = namespace('default', { 'istio.io/use-waypoint': 'waypoint' });
  const objects = [
    ns,
    service('b', { selector: { app: 'b' }, clusterIP: '10.96.0.2' }),
    service('a', { selector: { app: 'a' }, clusterIP: '10.96.0.1' }),
    pod('b-1', { labels: { app: 'b' } }, { ip: '10.0.0.2' }),
    pod('a-1', { labels: { app: 'a' } }, { ip: '10.0.0.1' }),
    waypointGateway('waypoint'),
  ];

  it('returns sorted resources and skips a waypoint without an address, saying so once per labelled object', () => {
    const result = translateMesh({ objects });
    expect(result.workloads.map((w) => w.uid)).toEqual(['Kubernetes//Pod/default/a-1', 'Kubernetes//Pod/default/b-1']);
    expect(result.services.map((s) => s.hostname)).toEqual(['a.default.svc.cluster.local', 'b.default.svc.cluster.local']);
    expect(result.services.every((s) => s.waypoint === undefined)).toBe(true);
    expect(result.waypoints.map((w) => [w.name, w.ready])).toEqual([['waypoint', false]]);
    expect(result.messages).toEqual([
      expect.objectContaining({ level: 'info', object: 'Namespace default', code: 'INFO_WAYPOINT_NOT_READY' }),
    ]);
  });

  it('binds the namespace waypoint once it has a Ready pod', () => {
    const result = translateMesh({ objects: [...objects, waypointPod('waypoint')] });
    expect(result.services.map((s) => s.waypoint?.destination)).toEqual([
      { kind: 'hostname', namespace: 'default', hostname: 'waypoint.default.svc.cluster.local' },
      { kind: 'hostname', namespace: 'default', hostname: 'waypoint.default.svc.cluster.local' },
    ]);
    expect(result.messages).toEqual([]);
  });

  it('honours the cluster, trust domain and domain suffix options', () => {
    const result = translateMesh({ objects, clusterId: 'east', trustDomain: 'example.org', domainSuffix: 'corp.local', network: 'n1' });
    expect(result.workloads[0]).toMatchObject({ uid: 'east//Pod/default/a-1', trustDomain: 'example.org', clusterId: 'east', network: 'n1' });
    expect(result.services[0]?.hostname).toBe('a.default.svc.corp.local');
    expect(result.services[0]?.vips).toEqual([{ network: 'n1', address: '10.96.0.1' }]);
  });

  it('is the same for the same objects in any order', () => {
    expect(translateMesh({ objects: [...objects].reverse() })).toEqual(translateMesh({ objects }));
  });

  describe('with ServiceEntries next to Pods and Services', () => {
    const se = (name: string, spec: Record<string, unknown>): KubeObject => ({
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      metadata: { namespace: 'default', name },
      spec,
    });
    const withEntries = [
      ...objects,
      se('external', { hosts: ['api.example.com'], addresses: ['192.0.2.0/24'], ports: [{ number: 443, name: 'tls', protocol: 'TLS' }], resolution: 'STATIC', endpoints: [{ address: '192.0.2.7' }] }),
      se('a-alias', { hosts: ['a.internal'], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }], resolution: 'STATIC', workloadSelector: { labels: { app: 'a' } } }),
    ];

    it('adds their Services and endpoint Workloads to the sorted output, and their hosts to the selected pods', () => {
      const result = translateMesh({ objects: withEntries });
      expect(result.services.map((s) => [s.hostname, s.vips, s.canonical])).toEqual([
        ['a.default.svc.cluster.local', [{ network: '', address: '10.96.0.1' }], true],
        ['a.internal', [], true],
        ['api.example.com', [{ network: '', address: '192.0.2.0', length: 24 }], true],
        ['b.default.svc.cluster.local', [{ network: '', address: '10.96.0.2' }], true],
      ]);
      expect(result.workloads.map((w) => [w.uid, Object.keys(w.services)])).toEqual([
        ['Kubernetes//Pod/default/a-1', ['default/a.default.svc.cluster.local', 'default/a.internal']],
        ['Kubernetes//Pod/default/b-1', ['default/b.default.svc.cluster.local']],
        ['Kubernetes/networking.istio.io/ServiceEntry/default/external/192.0.2.7', ['default/api.example.com']],
      ]);
    });

    it('is the same in any order', () => {
      expect(translateMesh({ objects: [...withEntries].reverse() })).toEqual(translateMesh({ objects: withEntries }));
    });
  });
});

describe('sortMessages', () => {
  it('drops exact duplicates and orders by object, field, level and code', () => {
    const m = (object: string, code: 'INFO_WAYPOINT_NOT_READY' | 'WARN_WAYPOINT_NOT_FOUND', level: 'info' | 'warning') =>
      ({ level, object, field: 'f', code, message: 'x' }) as const;
    const sorted = sortMessages([m('Service b/x', 'INFO_WAYPOINT_NOT_READY', 'info'), m('Service a/x', 'INFO_WAYPOINT_NOT_READY', 'info'), m('Service a/x', 'WARN_WAYPOINT_NOT_FOUND', 'warning'), m('Service a/x', 'INFO_WAYPOINT_NOT_READY', 'info')]);
    expect(sorted.map((s) => `${s.object} ${s.code}`)).toEqual(['Service a/x WARN_WAYPOINT_NOT_FOUND', 'Service a/x INFO_WAYPOINT_NOT_READY', 'Service b/x INFO_WAYPOINT_NOT_READY']);
  });
});
