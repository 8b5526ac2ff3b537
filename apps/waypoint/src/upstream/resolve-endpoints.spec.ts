import { createMeshStore, type PortMapping, type Service, type Workload } from '@weft/mesh-model';
import { service, workload } from '@weft/testing';

import { type Endpoint, resolveEndpoints } from './resolve-endpoints';

const HOST = 'web.default.svc.cluster.local';
const KEY = `default/${HOST}`;

function port(servicePort: number, targetPort: number): PortMapping {
  return { servicePort, targetPort, appProtocol: 'HTTP11' };
}

const pod = (name: string, overrides: Partial<Workload> = {}): Workload => workload({ name, services: { [KEY]: [port(80, 8080)] }, ...overrides });

const web: Service = service({ name: 'web', vips: [{ network: '', address: '10.96.0.10' }], ports: [port(80, 8080), port(90, 0)] });

const uid = (name: string): string => `Kubernetes//Pod/default/${name}`;

function stateWith(workloads: readonly Workload[], services: readonly Service[] = [web]) {
  const store = createMeshStore();
  store.apply({ workloads: { upsert: workloads }, services: { upsert: services } });
  return store;
}

describe('resolveEndpoints', () => {
  it.each<[string, readonly Workload[], number, ReadonlySet<string> | undefined, readonly Endpoint[]]>([
    [
      'healthy workloads, first IP, the service target port, sorted by uid',
      [pod('b', { addresses: ['10.0.0.2', 'fd00::2'] }), pod('a', { addresses: ['10.0.0.1'] })],
      80,
      undefined,
      [
        { uid: uid('a'), ip: '10.0.0.1', port: 8080 },
        { uid: uid('b'), ip: '10.0.0.2', port: 8080 },
      ],
    ],
    [
      'an UNHEALTHY workload is dropped',
      [pod('a', { addresses: ['10.0.0.1'], status: 'UNHEALTHY' }), pod('b', { addresses: ['10.0.0.2'] })],
      80,
      undefined,
      [{ uid: uid('b'), ip: '10.0.0.2', port: 8080 }],
    ],
    [
      'a workload without an IP is dropped',
      [pod('a', { hostname: 'vm.example.com' }), pod('b', { addresses: ['10.0.0.2'] })],
      80,
      undefined,
      [{ uid: uid('b'), ip: '10.0.0.2', port: 8080 }],
    ],
    [
      "the endpoint's own mapping wins over the service's target port",
      [pod('a', { addresses: ['10.0.0.1'], services: { [KEY]: [port(80, 9090)] } })],
      80,
      undefined,
      [{ uid: uid('a'), ip: '10.0.0.1', port: 9090 }],
    ],
    [
      'a named target port resolved per pod; a pod that leaves it unresolved is dropped',
      [
        pod('a', { addresses: ['10.0.0.1'], services: { [KEY]: [port(90, 7070)] } }),
        pod('b', { addresses: ['10.0.0.2'], services: { [KEY]: [port(90, 0)] } }),
      ],
      90,
      undefined,
      [{ uid: uid('a'), ip: '10.0.0.1', port: 7070 }],
    ],
    [
      'restricted to the subset uids',
      [pod('a', { addresses: ['10.0.0.1'] }), pod('b', { addresses: ['10.0.0.2'] })],
      80,
      new Set([uid('b')]),
      [{ uid: uid('b'), ip: '10.0.0.2', port: 8080 }],
    ],
    [
      'an empty subset selects nothing',
      [pod('a', { addresses: ['10.0.0.1'] })],
      80,
      new Set<string>(),
      [],
    ],
    [
      'a port neither the endpoint nor the service maps gives nothing',
      [pod('a', { addresses: ['10.0.0.1'] })],
      81,
      undefined,
      [],
    ],
    [
      'workloads of another service are not endpoints',
      [pod('a', { addresses: ['10.0.0.1'], services: { 'default/api.default.svc.cluster.local': [port(80, 8080)] } })],
      80,
      undefined,
      [],
    ],
  ])('%s', (_name, workloads, servicePort, subset, expected) => {
    const state = stateWith(workloads);
    expect(resolveEndpoints(state, { namespace: 'default', hostname: HOST }, servicePort, subset)).toEqual(expected);
  });

  it("uses only the endpoints' own mappings while the Service itself is not yet known", () => {
    const state = stateWith(
      [
        pod('a', { addresses: ['10.0.0.1'], services: { [KEY]: [port(80, 8081)] } }),
        pod('b', { addresses: ['10.0.0.2'], services: { [KEY]: [port(80, 0)] } }),
      ],
      [],
    );
    expect(resolveEndpoints(state, { namespace: 'default', hostname: HOST }, 80)).toEqual([
      { uid: uid('a'), ip: '10.0.0.1', port: 8081 },
    ]);
  });
});
