import type { KubeObject } from './kube-object';
import { namespace, pod, service, waypointGateway, waypointPod } from '../test/translation/kube-builders';
import { buildInventory } from './translate-inventory';
import { translateSettings } from './translate-types';
import { bindWaypoint, collectWaypoints, type WaypointPurpose } from './translate-waypoints';

const settings = translateSettings();

function bind(subject: KubeObject, purpose: WaypointPurpose, others: KubeObject[]) {
  const inventory = buildInventory([subject, ...others]);
  return bindWaypoint(subject, purpose, collectWaypoints(inventory, settings), inventory);
}

const HOSTNAME_ADDRESS = {
  destination: { kind: 'hostname', namespace: 'default', hostname: 'waypoint.default.svc.cluster.local' },
  hboneMtlsPort: 15008,
};

describe('collectWaypoints', () => {
  it('keeps only istio-waypoint Gateways, with traffic type, service account and address', () => {
    const other = { ...waypointGateway('ingress'), spec: { gatewayClassName: 'istio' } };
    const inventory = buildInventory([waypointGateway('waypoint', { labels: { 'istio.io/waypoint-for': 'all' } }), other]);
    expect([...collectWaypoints(inventory, settings).values()].map((e) => e.info)).toEqual([
      { namespace: 'default', name: 'waypoint', trafficType: 'all', serviceAccount: 'waypoint', address: HOSTNAME_ADDRESS, ready: false },
    ]);
  });
  it.each([
    ['no status, no pod', [], undefined, false],
    ['a Ready waypoint pod', [waypointPod('waypoint')], undefined, true],
    ['a not-Ready waypoint pod', [pod('waypoint-x', { labels: { 'gateway.networking.k8s.io/gateway-name': 'waypoint' } }, { ready: false })], undefined, false],
    ['status.addresses', [], { addresses: [{ type: 'Hostname', value: 'waypoint.default.svc.cluster.local' }] }, true],
  ])('ready with %s', (_case, pods, status, ready) => {
    const inventory = buildInventory([waypointGateway('waypoint', {}, { status }), ...pods]);
    expect(collectWaypoints(inventory, settings).get('default/waypoint')?.info.ready).toBe(ready);
  });
  it('uses an IP from status.addresses as the address form', () => {
    const gw = waypointGateway('waypoint', {}, { status: { addresses: [{ type: 'IPAddress', value: '10.96.0.5' }] } });
    const info = collectWaypoints(buildInventory([gw]), settings).get('default/waypoint')?.info;
    expect(info?.address).toEqual({ destination: { kind: 'address', network: '', address: '10.96.0.5' }, hboneMtlsPort: 15008 });
  });

  it('prefers a Hostname wherever it is in status.addresses, as istiod getGatewayAddress does', () => {
    const addresses = [
      { type: 'IPAddress', value: '10.96.0.5' },
      { type: 'Hostname', value: 'waypoint.default.svc.cluster.local' },
    ];
    const gw = waypointGateway('waypoint', {}, { status: { addresses } });
    const info = collectWaypoints(buildInventory([gw]), settings).get('default/waypoint')?.info;
    expect(info?.address).toEqual({ destination: { kind: 'hostname', namespace: 'default', hostname: 'waypoint.default.svc.cluster.local' }, hboneMtlsPort: 15008 });
  });
});

describe('bindWaypoint (§4.5)', () => {
  const ready = [waypointGateway('waypoint'), waypointPod('waypoint')];
  const onService = service('svc', {}, { labels: { 'istio.io/use-waypoint': 'waypoint' } });

  it('binds a Service through its own label', () => {
    expect(bind(onService, 'service', ready)).toMatchObject({ waypoint: HOSTNAME_ADDRESS, messages: [] });
  });
  it('falls back to the namespace label', () => {
    const ns = namespace('default', { 'istio.io/use-waypoint': 'waypoint' });
    expect(bind(service('svc', {}), 'service', [ns, ...ready]).waypoint).toEqual(HOSTNAME_ADDRESS);
  });
  it('lets `none` on the object opt out of the namespace waypoint', () => {
    const ns = namespace('default', { 'istio.io/use-waypoint': 'waypoint' });
    const optOut = service('svc', {}, { labels: { 'istio.io/use-waypoint': 'none' } });
    expect(bind(optOut, 'service', [ns, ...ready])).toEqual({ messages: [] });
  });
  it('binds a pod only to a workload/all waypoint; an explicit label on the wrong type is reported', () => {
    const p = pod('p', { labels: { 'istio.io/use-waypoint': 'waypoint' } });
    const result = bind(p, 'workload', ready);
    expect(result.waypoint).toBeUndefined();
    expect(result.messages.map((m) => [m.object, m.code])).toEqual([['Pod default/p', 'WARN_WAYPOINT_TRAFFIC_TYPE']]);
    const all = [waypointGateway('waypoint', { labels: { 'istio.io/waypoint-for': 'workload' } }), waypointPod('waypoint')];
    expect(bind(p, 'workload', all).waypoint).toEqual(HOSTNAME_ADDRESS);
  });
  it('silently skips an inherited service waypoint for pods', () => {
    const ns = namespace('default', { 'istio.io/use-waypoint': 'waypoint' });
    expect(bind(pod('p'), 'workload', [ns, ...ready])).toMatchObject({ messages: [] });
    expect(bind(pod('p'), 'workload', [ns, ...ready]).waypoint).toBeUndefined();
  });
  it('reports a missing waypoint on the object and label that name it', () => {
    const result = bind(onService, 'service', []);
    expect(result.waypoint).toBeUndefined();
    expect(result.messages).toEqual([
      expect.objectContaining({ level: 'warning', object: 'Service default/svc', field: 'metadata.labels.istio.io/use-waypoint', code: 'WARN_WAYPOINT_NOT_FOUND' }),
    ]);
  });
  it('skips a waypoint without an address: traffic goes direct', () => {
    const result = bind(onService, 'service', [waypointGateway('waypoint')]);
    expect(result.waypoint).toBeUndefined();
    expect(result.messages).toEqual([expect.objectContaining({ level: 'info', code: 'INFO_WAYPOINT_NOT_READY' })]);
    expect(result.messages[0]?.message).toContain('goes direct');
  });
  describe('across namespaces (istio.io/use-waypoint-namespace)', () => {
    const labels = { 'istio.io/use-waypoint': 'shared', 'istio.io/use-waypoint-namespace': 'infra' };
    const svc = service('svc', {}, { namespace: 'app', labels });
    const appNs = namespace('app', { team: 'a' });
    const gateway = (from: Record<string, unknown>) =>
      waypointGateway('shared', { namespace: 'infra' }, { listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE', allowedRoutes: { namespaces: from } }] });
    it.each([
      ['Same (default) refuses', {}, false],
      ['All admits', { from: 'All' }, true],
      ['a matching Selector admits', { from: 'Selector', selector: { matchLabels: { team: 'a' } } }, true],
      ['a non-matching Selector refuses', { from: 'Selector', selector: { matchLabels: { team: 'b' } } }, false],
    ])('%s', (_case, from, bound) => {
      const result = bind(svc, 'service', [appNs, gateway(from), waypointPod('shared', 'infra')]);
      expect(result.waypoint !== undefined).toBe(bound);
      if (!bound) expect(result.messages[0]?.code).toBe('WARN_WAYPOINT_NAMESPACE_NOT_ALLOWED');
    });
  });
});
