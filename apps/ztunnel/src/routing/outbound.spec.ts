import type { GatewayAddress, LoadBalancing, Workload } from '@weft/mesh-model';

import { meshOf, port, sequence, service, workload } from '@weft/testing';
import { routeOutbound, type OutboundDecision } from './outbound';

const WP_HOST = 'waypoint.default.svc.cluster.local';
const byHostname = (hostname: string, namespace = 'default'): GatewayAddress => ({
  destination: { kind: 'hostname', namespace, hostname },
  hboneMtlsPort: 15008,
});
const byAddress = (address: string, network = ''): GatewayAddress => ({
  destination: { kind: 'address', network, address },
  hboneMtlsPort: 15008,
});
const vip = (address: string, network = '') => [{ network, address }];
const lb = (mode: LoadBalancing['mode'], ...routingPreference: LoadBalancing['routingPreference']): LoadBalancing => ({
  mode,
  routingPreference,
  healthPolicy: 'ONLY_HEALTHY',
});

const client = workload({ name: 'client', addresses: ['10.0.0.1', 'fd00::1'], serviceAccount: 'client', node: 'node-a' });
const web1 = workload({
  name: 'web-1',
  addresses: ['10.0.1.1', 'fd00::101'],
  serviceAccount: 'web',
  node: 'node-b',
  services: { 'default/web.default.svc.cluster.local': [port(80, 8080)] },
});
const web2 = workload({
  name: 'web-2',
  addresses: ['10.0.1.2'],
  serviceAccount: 'web',
  node: 'node-a',
  services: { 'default/web.default.svc.cluster.local': [port(80, 8080)] },
});
const legacy = workload({
  name: 'legacy',
  addresses: ['10.0.2.1'],
  tunnelProtocol: 'NONE',
  services: { 'default/legacy.default.svc.cluster.local': [port(80, 9090)] },
});
const sidecarMtls = workload({ name: 'old-sidecar', addresses: ['10.0.2.2'], tunnelProtocol: 'LEGACY_ISTIO_MTLS' });
const waypoint = workload({
  name: 'waypoint-1',
  addresses: ['10.0.3.1'],
  serviceAccount: 'waypoint',
  services: { [`default/${WP_HOST}`]: [port(15008, 15008)] },
});
const canaryWaypoint = workload({
  name: 'waypoint-canary',
  addresses: ['10.0.3.9'],
  serviceAccount: 'waypoint-canary',
  services: { 'default/waypoint-canary.default.svc.cluster.local': [port(15008, 15008)] },
});
const reviews = workload({
  name: 'reviews-1',
  addresses: ['10.0.5.1'],
  serviceAccount: 'reviews',
  services: {
    'default/reviews.default.svc.cluster.local': [port(9080, 9080)],
    'default/canary.default.svc.cluster.local': [port(9080, 9080)],
  },
});
const bound = workload({ name: 'bound', addresses: ['10.0.4.1'], waypoint: byHostname(WP_HOST) });
const boundToMissing = workload({ name: 'bound-missing', addresses: ['10.0.4.2'], waypoint: byHostname('gone.default.svc.cluster.local') });
const boundByIp = workload({ name: 'bound-ip', addresses: ['10.0.4.3'], waypoint: byAddress('10.0.3.1') });
const remote = workload({
  name: 'remote-1',
  addresses: ['10.1.0.1'],
  network: 'net2',
  serviceAccount: 'global',
  networkGateway: byAddress('172.16.0.1', 'net2'),
  services: { 'default/global.default.svc.cluster.local': [port(80, 8080)] },
});
const remoteNoGateway = workload({
  name: 'remote-2',
  addresses: ['10.1.0.2'],
  network: 'net2',
  services: { 'default/isolated.default.svc.cluster.local': [port(80, 8080)] },
});
const eastWest = workload({
  name: 'istio-eastwestgateway',
  namespace: 'istio-system',
  addresses: ['172.16.0.1'],
  network: 'net2',
  serviceAccount: 'istio-eastwestgateway',
  tunnelProtocol: 'NONE',
});
const external = workload({
  name: 'api-endpoint',
  hostname: 'api.example.com',
  tunnelProtocol: 'NONE',
  uid: 'Kubernetes/networking.istio.io/ServiceEntry/default/api/api.example.com',
  services: { 'default/api.example.com': [port(443, 443)] },
});
const local = (w: Workload, region: string): Workload => ({ ...w, locality: { region, zone: `${region}-a`, subzone: '' } });

const state = meshOf({
  workloads: [
    local(client, 'us'),
    local(web1, 'eu'),
    local(web2, 'us'),
    legacy,
    sidecarMtls,
    waypoint,
    canaryWaypoint,
    reviews,
    bound,
    boundToMissing,
    boundByIp,
    remote,
    remoteNoGateway,
    eastWest,
    external,
  ],
  services: [
    service({ name: 'web', vips: vip('10.96.0.10'), subjectAltNames: ['spiffe://cluster.local/ns/default/sa/web-extra', 'not-a-spiffe-id'] }),
    service({ name: 'legacy', vips: vip('10.96.0.20') }),
    service({ name: 'waypoint', vips: vip('10.96.0.30'), ports: [port(15008, 15008)] }),
    service({ name: 'waypoint-canary', vips: vip('10.96.0.31'), ports: [port(15008, 15008)] }),
    service({ name: 'reviews', vips: vip('10.96.0.40'), ports: [port(9080, 9080)], waypoint: byHostname(WP_HOST) }),
    service({
      name: 'canary',
      vips: vip('10.96.0.41'),
      ports: [port(9080, 9080)],
      waypoint: byHostname(WP_HOST),
      weightedWaypoints: [
        { destination: byHostname(WP_HOST), weight: 90 },
        { destination: byHostname('waypoint-canary.default.svc.cluster.local'), weight: 10 },
      ],
    }),
    service({ name: 'broken-wp', vips: vip('10.96.0.42'), waypoint: byHostname('gone.default.svc.cluster.local') }),
    service({ name: 'empty', vips: vip('10.96.0.50') }),
    service({ name: 'global', vips: vip('10.96.0.60') }),
    service({ name: 'isolated', vips: vip('10.96.0.61') }),
    service({
      name: 'api',
      hostname: 'api.example.com',
      vips: vip('240.240.0.1'),
      ports: [port(443, 443)],
      loadBalancing: { ...lb('UNSPECIFIED_MODE'), healthPolicy: 'ALLOW_ALL' },
    }),
    service({ name: 'egress-any', hostname: 'any.example.com', vips: vip('240.240.0.2'), loadBalancing: lb('PASSTHROUGH') }),
  ],
});

// The two locality services select the same pods as `web`.
const withLocality = meshOf({
  workloads: [
    local(client, 'us'),
    local({ ...web1, services: { 'default/web-local.default.svc.cluster.local': [port(80, 8080)], 'default/web-close.default.svc.cluster.local': [port(80, 8080)] } }, 'eu'),
    local({ ...web2, services: { 'default/web-local.default.svc.cluster.local': [port(80, 8080)], 'default/web-close.default.svc.cluster.local': [port(80, 8080)] } }, 'us'),
  ],
  services: [
    service({ name: 'web-local', vips: vip('10.96.0.11'), loadBalancing: lb('STRICT', 'NODE') }),
    service({ name: 'web-close', vips: vip('10.96.0.12'), loadBalancing: lb('FAILOVER', 'NETWORK', 'REGION', 'ZONE') }),
  ],
});

/** One line per decision so each table row reads as the expected behaviour. */
function summarize(d: OutboundDecision): string {
  switch (d.kind) {
    case 'refused':
      return `refused ${d.code}`;
    case 'passthrough':
      return `passthrough ${d.nextHop.host}:${d.nextHop.port}${d.destinationService ? ` svc=${d.destinationService.name}` : ''}`;
    case 'tcp':
      return `tcp ${d.nextHop.host}:${d.nextHop.port}${d.nextHop.dns ? ' (dns)' : ''} dst=${d.destinationWorkload.name}`;
    case 'hbone':
      return `hbone ${d.route} ${d.nextHop.host}:${d.nextHop.port} authority=${d.authority} dst=${d.destinationWorkload.name}${d.destinationService ? ` svc=${d.destinationService.name}` : ''}`;
    case 'double-hbone':
      return `double-hbone ${d.route} ${d.nextHop.host}:${d.nextHop.port} authority=${d.authority} dst=${d.destinationWorkload.name}`;
  }
}

describe('routeOutbound (reference §2.6)', () => {
  it.each<[string, string, number, number[], string]>([
    // step 1: service VIPs
    ['service VIP → endpoint over HBONE, authority = pod IP:target port', '10.96.0.10', 80, [0], 'hbone direct 10.0.1.1:15008 authority=10.0.1.1:8080 dst=web-1 svc=web'],
    ['weighted random endpoint: second half of the draw picks the second pod', '10.96.0.10', 80, [0.75], 'hbone direct 10.0.1.2:15008 authority=10.0.1.2:8080 dst=web-2 svc=web'],
    ['service waypoint: HBONE to the waypoint, authority = VIP:service port', '10.96.0.40', 9080, [0], 'hbone service-waypoint 10.0.3.1:15008 authority=10.96.0.40:9080 dst=waypoint-1 svc=reviews'],
    ['weighted waypoints: primary at draw < 0.9', '10.96.0.41', 9080, [0.5, 0], 'hbone service-waypoint 10.0.3.1:15008 authority=10.96.0.41:9080 dst=waypoint-1 svc=canary'],
    ['weighted waypoints: canary at draw ≥ 0.9', '10.96.0.41', 9080, [0.95, 0], 'hbone service-waypoint 10.0.3.9:15008 authority=10.96.0.41:9080 dst=waypoint-canary svc=canary'],
    ['service waypoint that cannot be resolved fails', '10.96.0.42', 80, [], 'refused ERR_WAYPOINT_UNRESOLVED'],
    ['service VIP of a non-mesh pod → plain TCP to pod IP:target port', '10.96.0.20', 80, [0], 'tcp 10.0.2.1:9090 dst=legacy'],
    ['service without endpoints: no healthy upstream', '10.96.0.50', 80, [], 'refused ERR_NO_HEALTHY_UPSTREAM'],
    ['service port not on the service: no healthy upstream', '10.96.0.10', 81, [], 'refused ERR_NO_HEALTHY_UPSTREAM'],
    ['PASSTHROUGH service: original destination, plain TCP', '240.240.0.2', 443, [], 'passthrough 240.240.0.2:443 svc=egress-any'],
    ['DNS ServiceEntry endpoint: hostname to resolve, plain TCP', '240.240.0.1', 443, [0], 'tcp api.example.com:443 (dns) dst=api-endpoint'],
    // step 2: workload IPs and unknown addresses
    ['pod IP of a mesh pod → HBONE direct, authority = pod IP:original port', '10.0.1.1', 8080, [], 'hbone direct 10.0.1.1:15008 authority=10.0.1.1:8080 dst=web-1'],
    ['pod IP of a non-mesh pod → plain TCP', '10.0.2.1', 9090, [], 'tcp 10.0.2.1:9090 dst=legacy'],
    ['LEGACY_ISTIO_MTLS is never sent: plain TCP', '10.0.2.2', 8080, [], 'tcp 10.0.2.2:8080 dst=old-sidecar'],
    ['unknown address → passthrough', '93.184.216.34', 443, [], 'passthrough 93.184.216.34:443'],
    ['IPv4-mapped IPv6 destination is looked up as IPv4', '::ffff:10.0.1.1', 8080, [], 'hbone direct 10.0.1.1:15008 authority=10.0.1.1:8080 dst=web-1'],
    // step 4: workload waypoints
    ['pod with a workload waypoint → HBONE to the waypoint, authority = pod IP:port', '10.0.4.1', 8080, [0], 'hbone workload-waypoint 10.0.3.1:15008 authority=10.0.4.1:8080 dst=waypoint-1'],
    ['workload waypoint by address', '10.0.4.3', 8080, [], 'hbone workload-waypoint 10.0.3.1:15008 authority=10.0.4.3:8080 dst=waypoint-1'],
    ['workload waypoint that cannot be resolved fails', '10.0.4.2', 8080, [], 'refused ERR_WAYPOINT_UNRESOLVED'],
    // step 3: other networks
    ['endpoint on another network → double HBONE via its network gateway, authority = svc host:port', '10.96.0.60', 80, [0], 'double-hbone direct 172.16.0.1:15008 authority=global.default.svc.cluster.local:80 dst=remote-1'],
    ['endpoint on another network without a gateway cannot be reached', '10.96.0.61', 80, [0], 'refused ERR_NETWORK_GATEWAY_UNRESOLVED'],
    // illegal ports
    ['loopback 15001 is ztunnel itself', '127.0.0.1', 15001, [], 'refused ERR_SELF_CALL'],
    ['loopback 15006 is ztunnel itself', '127.0.0.1', 15006, [], 'refused ERR_SELF_CALL'],
    ['loopback ::1 15008 is ztunnel itself', '::1', 15008, [], 'refused ERR_SELF_CALL'],
    ['loopback 15080 is allowed while SOCKS5 is off', '127.0.0.1', 15080, [], 'passthrough 127.0.0.1:15080'],
    ['another pod’s 15008 is not a self call', '10.0.1.1', 15008, [], 'hbone direct 10.0.1.1:15008 authority=10.0.1.1:15008 dst=web-1'],
  ])('%s', (_name, ip, dstPort, draws, expected) => {
    const decision = routeOutbound(state, { source: local(client, 'us'), originalDestination: { ip, port: dstPort }, random: sequence(...draws) });
    expect(summarize(decision)).toBe(expected);
  });

  it('refuses loopback 15080 while SOCKS5 is on', () => {
    const decision = routeOutbound(state, {
      source: client,
      originalDestination: { ip: '127.0.0.1', port: 15080 },
      random: sequence(),
      socks5Enabled: true,
    });
    expect(decision.kind).toBe('refused');
  });

  it.each<[string, string, number, string]>([
    ['STRICT [NODE] keeps only the same-node pod', '10.96.0.11', 0.99, 'web-2'],
    ['FAILOVER [NETWORK, REGION, ZONE] keeps the same-region pod', '10.96.0.12', 0.01, 'web-2'],
  ])('locality: %s', (_name, ip, draw, expected) => {
    const decision = routeOutbound(withLocality, { source: local(client, 'us'), originalDestination: { ip, port: 80 }, random: sequence(draw) });
    expect(decision.kind === 'hbone' ? decision.destinationWorkload.name : decision.kind).toBe(expected);
  });

  it('expects the workload identity plus the service SANs that parse as SPIFFE IDs', () => {
    const decision = routeOutbound(state, { source: client, originalDestination: { ip: '10.96.0.10', port: 80 }, random: sequence(0) });
    expect(decision).toMatchObject({
      kind: 'hbone',
      sourceIdentity: 'spiffe://cluster.local/ns/default/sa/client',
      expectedIdentities: ['spiffe://cluster.local/ns/default/sa/web', 'spiffe://cluster.local/ns/default/sa/web-extra'],
    });
  });

  it('expects the waypoint identity on a waypoint hop', () => {
    const decision = routeOutbound(state, { source: client, originalDestination: { ip: '10.96.0.40', port: 9080 }, random: sequence(0) });
    expect(decision).toMatchObject({ expectedIdentities: ['spiffe://cluster.local/ns/default/sa/waypoint'] });
  });

  it('double HBONE verifies the gateway on the outer and the pod on the inner handshake', () => {
    const decision = routeOutbound(state, { source: client, originalDestination: { ip: '10.96.0.60', port: 80 }, random: sequence(0) });
    expect(decision).toMatchObject({
      kind: 'double-hbone',
      gatewayIdentities: ['spiffe://cluster.local/ns/istio-system/sa/istio-eastwestgateway'],
      expectedIdentities: ['spiffe://cluster.local/ns/default/sa/global'],
      sourceNetwork: '',
    });
  });

  it('picks the destination address of the original family', () => {
    const decision = routeOutbound(state, { source: client, originalDestination: { ip: 'fd00::101', port: 8080 }, random: sequence() });
    expect(decision).toMatchObject({ kind: 'hbone', nextHop: { host: 'fd00::101', port: 15008 }, authority: '[fd00::101]:8080' });
  });

  it('a waypoint sending to a service it serves goes to the endpoint, not back to itself (sandwich)', () => {
    const decision = routeOutbound(state, { source: waypoint, originalDestination: { ip: '10.96.0.40', port: 9080 }, random: sequence(0) });
    expect(summarize(decision)).toBe('hbone direct 10.0.5.1:15008 authority=10.0.5.1:9080 dst=reviews-1 svc=reviews');
  });

  it('a waypoint sending to a pod it serves goes direct', () => {
    const decision = routeOutbound(state, { source: waypoint, originalDestination: { ip: '10.0.4.1', port: 8080 }, random: sequence() });
    expect(summarize(decision)).toBe('hbone direct 10.0.4.1:15008 authority=10.0.4.1:8080 dst=bound');
  });

  it('service-addressed traffic ignores the endpoint’s workload waypoint', () => {
    const store = meshOf({
      workloads: [client, { ...bound, services: { 'default/b.default.svc.cluster.local': [port(80, 8080)] } }, waypoint],
      services: [service({ name: 'b', vips: vip('10.96.1.1') }), service({ name: 'waypoint', vips: vip('10.96.0.30'), ports: [port(15008, 15008)] })],
    });
    const decision = routeOutbound(store, { source: client, originalDestination: { ip: '10.96.1.1', port: 80 }, random: sequence(0) });
    expect(summarize(decision)).toBe('hbone direct 10.0.4.1:15008 authority=10.0.4.1:8080 dst=bound svc=b');
  });
});
