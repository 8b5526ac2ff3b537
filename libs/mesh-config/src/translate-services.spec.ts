import type { KubeObject } from './kube-object';
import { namespace, service, waypointGateway, waypointPod } from '../test/translation/kube-builders';
import { buildInventory } from './translate-inventory';
import { appProtocolOf, translateService } from './translate-services';
import { translateSettings } from './translate-types';
import { collectWaypoints } from './translate-waypoints';

const settings = translateSettings();

function translate(svc: KubeObject, others: KubeObject[] = []) {
  const inventory = buildInventory([svc, ...others]);
  return translateService(svc, inventory, collectWaypoints(inventory, settings), settings);
}

describe('translateService (§4.4 Services → Service)', () => {
  it('builds hostname, VIPs and ports; named targetPort is 0, missing targetPort is the port', () => {
    const svc = service('web', {
      clusterIP: '10.96.0.1',
      clusterIPs: ['10.96.0.1', 'fd00::a'],
      ipFamilies: ['IPv4', 'IPv6'],
      ports: [{ port: 80, targetPort: 8080 }, { port: 81, targetPort: 'http-alt' }, { port: 82 }, { port: 83, targetPort: '9090' }],
    });
    const { service: out, messages } = translate(svc);
    expect(out).toBeDefined();
    expect(messages).toEqual([]);
    expect(out).toEqual({
      name: 'web',
      namespace: 'default',
      hostname: 'web.default.svc.cluster.local',
      vips: [{ network: '', address: '10.96.0.1' }, { network: '', address: 'fd00::a' }],
      ports: [
        { servicePort: 80, targetPort: 8080, appProtocol: 'UNKNOWN' },
        { servicePort: 81, targetPort: 0, appProtocol: 'UNKNOWN' },
        { servicePort: 82, targetPort: 82, appProtocol: 'UNKNOWN' },
        { servicePort: 83, targetPort: 9090, appProtocol: 'UNKNOWN' },
      ],
      subjectAltNames: [],
      ipFamilies: 'DUAL',
      canonical: true,
      ingressUseWaypoint: false,
      weightedWaypoints: [],
      visibility: 'PUBLIC',
    });
  });

  it('gives ztunnel nothing for an ExternalName Service, and says so', () => {
    const result = translate(service('ext', { type: 'ExternalName', externalName: 'example.com' }));
    expect(result.service).toBeUndefined();
    expect(result.messages.map((m) => m.code)).toEqual(['INFO_EXTERNAL_NAME_SKIPPED']);
  });

  it('has no VIPs when headless', () => {
    expect(translate(service('h', { clusterIP: 'None', clusterIPs: ['None'] })).service?.vips).toEqual([]);
  });

  it.each([
    ['internalTrafficPolicy Local', { internalTrafficPolicy: 'Local' }, {}, { routingPreference: ['NODE'], mode: 'STRICT', healthPolicy: 'ONLY_HEALTHY' }],
    ['trafficDistribution PreferClose', { trafficDistribution: 'PreferClose' }, {}, { routingPreference: ['NETWORK', 'REGION', 'ZONE'], mode: 'FAILOVER', healthPolicy: 'ONLY_HEALTHY' }],
    ['the namespace annotation', {}, { 'networking.istio.io/traffic-distribution': 'PreferSameNode' }, { routingPreference: ['NETWORK', 'REGION', 'ZONE', 'SUBZONE', 'NODE'], mode: 'FAILOVER', healthPolicy: 'ONLY_HEALTHY' }],
    ['publishNotReadyAddresses', { publishNotReadyAddresses: true }, {}, { routingPreference: [], mode: 'UNSPECIFIED_MODE', healthPolicy: 'ALLOW_ALL' }],
    ['nothing set', {}, {}, undefined],
  ])('load balancing from %s', (_case, spec, nsAnnotations, expected) => {
    const out = translate(service('s', spec), [namespace('default', {}, nsAnnotations)]).service;
    expect(out?.loadBalancing).toEqual(expected);
  });

  it('takes ingress_use_waypoint from the Service or its namespace', () => {
    expect(translate(service('s', {}, { labels: { 'istio.io/ingress-use-waypoint': 'true' } })).service?.ingressUseWaypoint).toBe(true);
    expect(translate(service('s', {}), [namespace('default', { 'istio.io/ingress-use-waypoint': 'true' })]).service?.ingressUseWaypoint).toBe(true);
  });

  it('binds the namespace waypoint, but never to a waypoint Service itself', () => {
    const others = [namespace('default', { 'istio.io/use-waypoint': 'waypoint' }), waypointGateway('waypoint'), waypointPod('waypoint')];
    expect(translate(service('s', {}), others).service?.waypoint).toBeDefined();
    const managed = service('waypoint', {}, { labels: { 'gateway.istio.io/managed': 'istio.io-mesh-controller' } });
    expect(translate(managed, others).service?.waypoint).toBeUndefined();
    const eastWest = service('eastwest', {}, { labels: { 'gateway.istio.io/managed': 'istio.io-eastwest-controller' } });
    expect(translate(eastWest, others).service?.waypoint).toBeUndefined();
    // istiod knows a waypoint's Service by the managed label alone; the gateway-name label does not exempt one.
    const named = service('by-hand', {}, { labels: { 'gateway.networking.k8s.io/gateway-name': 'waypoint' } });
    expect(translate(named, others).service?.waypoint).toBeDefined();
  });
});

describe('appProtocolOf (istiod toAppProtocolFromKube)', () => {
  it.each([
    [{ name: 'http' }, 'HTTP11'],
    [{ name: 'http2-api' }, 'HTTP2'],
    [{ name: 'grpc' }, 'GRPC'],
    [{ name: 'GRPC-Web-api' }, 'UNKNOWN'],
    [{ name: 'tcp-db' }, 'TCP'],
    [{ name: 'https' }, 'TLS'],
    [{ name: 'tls-passthrough' }, 'TLS'],
    [{ name: 'web', appProtocol: 'kubernetes.io/h2c' }, 'HTTP2'],
    [{ name: 'web', appProtocol: 'kubernetes.io/ws' }, 'HTTP11'],
    [{ name: 'web', appProtocol: 'kubernetes.io/wss' }, 'TLS'],
    [{ name: 'http', appProtocol: 'tcp' }, 'TCP'],
    [{ name: 'tcp', appProtocol: 'HTTP' }, 'HTTP11'],
    [{ name: 'http', protocol: 'UDP' }, 'UNKNOWN'],
    [{ name: 'redis' }, 'UNKNOWN'],
    [{ name: 'mysql', port: 3306 }, 'UNKNOWN'],
    [{ name: 'db', port: 3306 }, 'TCP'],
    [{ name: '', port: 53 }, 'TCP'],
    [{ name: 'web' }, 'UNKNOWN'],
  ])('%j is %s', (port, expected) => {
    expect(appProtocolOf({ port: 80, protocol: 'TCP', targetPort: undefined, ...port })).toBe(expected);
  });
});
