import { podUid, port, sequence, service, workload } from '../test/fixtures';
import { mapKubernetesTrafficPolicy } from './kubernetes-traffic-policy';
import {
  type EndpointCandidate,
  type EndpointSelection,
  pickWeighted,
  routingRank,
  selectEndpoint,
  targetPortFor,
} from './load-balancing';
import type { LoadBalancing, LoadBalancingScope, PortMapping, Service, Workload } from './types';
import { workloadEndpoints } from './workload-index';

const WEB = 'default/web.default.svc.cluster.local';

const client = workload({
  uid: podUid('client'),
  addresses: ['10.0.0.100'],
  node: 'node-a',
  locality: { region: 'us-east', zone: 'us-east-1a', subzone: 'rack-1' },
});

/** A backend of WEB; `mappings` is its own `services[WEB]` list. */
function backend(
  name: string,
  overrides: Partial<Workload> = {},
  mappings: PortMapping[] = [port(80, 8080)],
): EndpointCandidate {
  const w = workload({
    uid: podUid(name),
    addresses: [`10.0.1.${name.length}`],
    node: 'node-a',
    locality: client.locality,
    ...overrides,
    services: { [WEB]: mappings },
  });
  const [endpoint] = workloadEndpoints(w);
  if (endpoint === undefined) throw new Error('fixture has no endpoint');
  return { endpoint, workload: w };
}

function web(loadBalancing?: LoadBalancing, ports: PortMapping[] = [port(80, 8080)]): Service {
  return service({ name: 'web', ports, ...(loadBalancing === undefined ? {} : { loadBalancing }) });
}

function select(svc: Service, candidates: EndpointCandidate[], random = sequence(0), servicePort = 80): EndpointSelection {
  return selectEndpoint({ service: svc, servicePort, source: client, candidates, random });
}

function chosenName(result: EndpointSelection): string {
  return result.ok ? result.workload.name : `none: ${result.reason}`;
}

const failover = (...routingPreference: LoadBalancingScope[]): LoadBalancing => ({
  routingPreference,
  mode: 'FAILOVER',
  healthPolicy: 'ONLY_HEALTHY',
});

describe('selectEndpoint: what is selectable', () => {
  it('does no selection for PASSTHROUGH, before even looking at the port', () => {
    const passthrough: LoadBalancing = { routingPreference: [], mode: 'PASSTHROUGH', healthPolicy: 'ALLOW_ALL' };
    expect(select(web(passthrough), [backend('a')], sequence(), 9999)).toEqual({ ok: false, reason: 'passthrough' });
  });

  it('fails with "service port not found" for a port the service does not expose', () => {
    expect(select(web(), [backend('a')], sequence(), 81)).toEqual({
      ok: false,
      reason: 'service port not found',
      code: 'ERR_SERVICE_PORT_NOT_FOUND',
      servicePort: 81,
    });
  });

  it.each<[string, LoadBalancing | undefined, EndpointCandidate[], string]>([
    ['skips an UNHEALTHY endpoint by default', undefined, [backend('sick', { status: 'UNHEALTHY' }), backend('well')], 'well'],
    [
      'keeps UNHEALTHY endpoints under ALLOW_ALL (publishNotReadyAddresses)',
      mapKubernetesTrafficPolicy({ publishNotReadyAddresses: true }),
      [backend('sick', { status: 'UNHEALTHY' })],
      'sick',
    ],
    ['fails when every endpoint is UNHEALTHY', undefined, [backend('sick', { status: 'UNHEALTHY' })], 'none: no healthy upstream'],
    ['fails with no endpoints at all', undefined, [], 'none: no healthy upstream'],
  ])('%s', (_name, lb, candidates, expected) => {
    expect(chosenName(select(web(lb), candidates))).toBe(expected);
  });

  it('counts why every candidate was excluded', () => {
    const result = select(web(undefined, [port(80, 0)]), [
      backend('sick', { status: 'UNHEALTHY' }),
      backend('ghost', { addresses: [] }),
      backend('unnamed', {}, [port(80, 0)]),
      backend('idle', { capacity: 0 }, [port(80, 8080)]),
    ]);
    expect(result).toEqual({
      ok: false,
      reason: 'no healthy upstream',
      code: 'ERR_NO_HEALTHY_UPSTREAM',
      candidates: 4,
      excluded: { unhealthy: 1, unreachable: 1, noPortMapping: 1, routingPreference: 0, zeroCapacity: 1 },
    });
  });

  it.each<[string, Partial<Workload>, string]>([
    [
      'drops an address-less endpoint on the client network, gateway or not',
      { addresses: [], networkGateway: gateway() },
      'none: no healthy upstream',
    ],
    ['drops an address-less remote endpoint without a gateway', { addresses: [], network: 'net-2' }, 'none: no healthy upstream'],
    [
      'keeps an address-less remote endpoint behind a gateway',
      { addresses: [], network: 'net-2', networkGateway: gateway() },
      'remote',
    ],
    ['keeps a hostname-only endpoint (DNS ServiceEntry)', { addresses: [], hostname: 'db.example.com' }, 'remote'],
  ])('%s', (_name, overrides, expected) => {
    expect(chosenName(select(web(), [backend('remote', overrides)]))).toBe(expected);
  });
});

describe('selectEndpoint: target port', () => {
  it.each<[string, PortMapping[], PortMapping[], number | undefined]>([
    ['the service target when the endpoint maps nothing', [port(80, 8080)], [], 8080],
    ['the endpoint mapping over the service target', [port(80, 8080)], [port(80, 9090)], 9090],
    ['the endpoint mapping of a named port', [port(80, 0)], [port(80, 3000)], 3000],
    ['the service target when the endpoint maps to 0', [port(80, 8080)], [port(80, 0)], 8080],
    ['nothing for a named port the endpoint does not map', [port(80, 0)], [port(443, 8443)], undefined],
    ['nothing for a named port the endpoint left unresolved', [port(80, 0)], [port(80, 0)], undefined],
  ])('is %s', (_name, servicePorts, endpointPorts, expected) => {
    const svc = web(undefined, servicePorts);
    const candidate = backend('a', {}, endpointPorts);
    expect(targetPortFor(svc, candidate.endpoint, 80)).toBe(expected);
    const result = select(svc, [candidate]);
    expect(result.ok ? result.targetPort : undefined).toBe(expected);
  });

  it('selects only among endpoints whose named port resolves', () => {
    const svc = web(undefined, [port(80, 0)]);
    const candidates = [backend('unresolved', {}, [port(80, 0)]), backend('resolved', {}, [port(80, 3000)])];
    for (const draw of [0, 0.5, 0.99]) expect(chosenName(select(svc, candidates, sequence(draw)))).toBe('resolved');
  });
});

const sameZone = backend('same-zone');
const sameRegion = backend('same-region', { locality: { region: 'us-east', zone: 'us-east-1b', subzone: '' } });
const sameRegion2 = backend('same-region-2', { locality: { region: 'us-east', zone: 'us-east-1c', subzone: '' } });
const farAway = backend('far-away', { locality: { region: 'eu-west', zone: 'eu-west-1a', subzone: '' } });
// Same zone *name* in another region: FAILOVER ranks leading matches only, so this ranks like far-away.
const lookalike = backend('lookalike', { locality: { region: 'eu-west', zone: 'us-east-1a', subzone: 'rack-1' } });

describe('selectEndpoint: routing preference', () => {
  it('keeps only same-node endpoints for internalTrafficPolicy Local (STRICT NODE)', () => {
    const local = web(mapKubernetesTrafficPolicy({ internalTrafficPolicy: 'Local' }));
    const here = backend('here');
    const there = backend('there', { node: 'node-b' });
    for (const draw of [0, 0.5, 0.99]) expect(chosenName(select(local, [there, here], sequence(draw)))).toBe('here');

    const none = select(local, [there]);
    expect(none).toMatchObject({ ok: false, reason: 'no healthy upstream', excluded: { routingPreference: 1 } });
  });

  it.each<[string, EndpointCandidate[], string[]]>([
    ['the same zone while it has an endpoint', [farAway, sameRegion, sameZone, lookalike], ['same-zone']],
    ['the same region next, every endpoint of it', [farAway, sameRegion, lookalike, sameRegion2], ['same-region', 'same-region-2']],
    ['anything once the region is empty', [farAway, lookalike], ['far-away', 'lookalike']],
  ])('FAILOVER [REGION, ZONE] prefers %s', (_name, candidates, expected) => {
    const svc = web(failover('REGION', 'ZONE'));
    const picks = [0, 0.49, 0.5, 0.99].map((draw) => chosenName(select(svc, candidates, sequence(draw))));
    expect([...new Set(picks)].sort()).toEqual(expected);
  });

  it('ignores routing preference when the mode is unspecified', () => {
    const svc = web({ routingPreference: ['NODE'], mode: 'UNSPECIFIED_MODE', healthPolicy: 'ONLY_HEALTHY' });
    expect(chosenName(select(svc, [backend('here'), backend('there', { node: 'node-b' })], sequence(0.99)))).toBe('there');
  });

  const remote = (name: string, region: string, zone: string): EndpointCandidate =>
    backend(name, { network: 'net-2', networkGateway: gateway(), locality: { region, zone, subzone: '' } });
  const localFar = backend('local-far', { locality: { region: 'eu-west', zone: 'eu-west-1a', subzone: '' } });
  const remoteClose = remote('remote-close', 'us-east', 'us-east-1a');
  const remoteRegion = remote('remote-region', 'us-east', 'us-east-1b');
  const remoteFar = remote('remote-far', 'eu-west', 'eu-west-1a');

  it.each<[string, EndpointCandidate[], string]>([
    ['the worst same-network endpoint over the best remote one', [remoteClose, localFar, remoteRegion], 'local-far'],
    ['the closest remote endpoints once the network has none', [remoteFar, remoteRegion, remoteClose], 'remote-close'],
    ['the remote same-region ones after those', [remoteFar, remoteRegion], 'remote-region'],
  ])('FAILOVER [NETWORK, REGION, ZONE] (PreferClose) picks %s', (_name, candidates, expected) => {
    const svc = web(mapKubernetesTrafficPolicy({ trafficDistribution: 'PreferClose' }));
    for (const draw of [0, 0.99]) expect(chosenName(select(svc, candidates, sequence(draw)))).toBe(expected);
  });

  it.each<[LoadBalancingScope[], string, number]>([
    [['REGION', 'ZONE'], 'same-zone', 2],
    [['REGION', 'ZONE'], 'same-region', 1],
    [['REGION', 'ZONE'], 'lookalike', 0],
    [['ZONE', 'REGION'], 'lookalike', 1],
    [['NODE', 'CLUSTER'], 'other-cluster', 1],
    [['NETWORK', 'REGION', 'ZONE'], 'same-zone', 5],
    [['NETWORK', 'REGION', 'ZONE'], 'local-far', 3],
    [['NETWORK', 'REGION', 'ZONE'], 'remote-close', 2],
    [['NETWORK', 'REGION', 'ZONE'], 'remote-far', 0],
    [['REGION', 'NETWORK'], 'remote-close', 1],
  ])('routingRank %j ranks %s at %d', (preference, name, rank) => {
    const otherCluster = backend('other-cluster', { clusterId: 'west' });
    const candidates = [sameZone, sameRegion, lookalike, localFar, remoteClose, remoteFar, otherCluster];
    const target = candidates.find((c) => c.workload.name === name);
    expect(target && routingRank(preference, client, target.workload)).toBe(rank);
  });
});

describe('selectEndpoint: weighted by capacity', () => {
  const light = backend('light', { capacity: 1 });
  const heavy = backend('heavy', { capacity: 3 });
  const idle = backend('idle', { capacity: 0 });

  it.each([
    [0, 'light'],
    [0.2499, 'light'],
    [0.25, 'heavy'],
    [0.9999, 'heavy'],
  ])('maps the draw %d onto cumulative capacity: %s', (draw, expected) => {
    expect(chosenName(select(web(), [light, idle, heavy], sequence(draw)))).toBe(expected);
  });

  it('picks endpoints in proportion to capacity and never one of capacity 0', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 1000; i += 1) {
      const name = chosenName(select(web(), [idle, light, heavy], sequence(i / 1000)));
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    expect(Object.fromEntries(counts)).toEqual({ light: 250, heavy: 750 });
  });

  it('draws exactly once per selection', () => {
    const random = jest.fn(() => 0.5);
    select(web(), [light, heavy], random);
    expect(random).toHaveBeenCalledTimes(1);
  });

  it('takes the last weighted option when random() returns 1', () => {
    expect(pickWeighted(['a', 'b', 'c'], (o) => (o === 'c' ? 0 : 1), () => 1)).toBe('b');
    expect(pickWeighted(['a'], () => 0, () => 0.5)).toBeUndefined();
  });
});

function gateway(): NonNullable<Workload['networkGateway']> {
  return { destination: { kind: 'address', network: 'net-2', address: '172.16.0.1' }, hboneMtlsPort: 15008 };
}
