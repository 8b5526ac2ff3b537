// The waypoint's view: a Service bound to a waypoint gets a WaypointService with its VirtualService routes and
// DestinationRule subsets, a targetRef'd AuthorizationPolicy becomes an L7Authorization, and a change to the split
// reaches a waypoint subscriber as one upsert. Subsets list the WDS uids of the pods whose labels match them, so a
// pod appearing or changing labels re-pushes the WaypointService.

import * as grpc from '@grpc/grpc-js';
import type { L7Authorization, WaypointService } from '@weft/mesh-model';
import {
  L7_AUTHORIZATION_TYPE_URL,
  WAYPOINT_SERVICE_TYPE_URL,
  createDeltaAdsClient,
  decodeL7AuthorizationResource,
  decodeWaypointServiceResource,
  type DeltaAdsClient,
} from '@weft/xds';

import { Harness, authorizationPolicy, namespace, pod, service } from './harness';

jest.setTimeout(30_000);

const REVIEWS = 'reviews.default.svc.cluster.local';
const uid = (name: string): string => `Kubernetes//Pod/default/${name}`;
const reviewsPod = (name: string, ip: string, version: string): object =>
  pod('default', name, { ip, labels: { app: 'reviews', version }, redirected: true });

const gateway = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'Gateway',
  metadata: { name: 'waypoint', namespace: 'default', labels: { 'istio.io/waypoint-for': 'service' } },
  spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] },
  status: { addresses: [{ type: 'IPAddress', value: '10.96.0.99' }] },
};

const virtualService = (v1: number, v2: number): object => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name: 'reviews', namespace: 'default' },
  spec: {
    hosts: ['reviews'],
    http: [
      {
        route: [
          { destination: { host: 'reviews', subset: 'v1' }, weight: v1 },
          { destination: { host: 'reviews', subset: 'v2' }, weight: v2 },
        ],
        retries: { attempts: 3, retryOn: '5xx' },
      },
    ],
  },
});

const destinationRule = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'DestinationRule',
  metadata: { name: 'reviews', namespace: 'default' },
  spec: {
    host: 'reviews',
    subsets: [
      { name: 'v1', labels: { version: 'v1' } },
      { name: 'v2', labels: { version: 'v2' } },
    ],
  },
};

describe('waypoint L7 resources over Delta ADS', () => {
  let harness: Harness;
  let client: DeltaAdsClient;
  const services = new Map<string, WaypointService>();
  const policies = new Map<string, L7Authorization>();
  const upserts: string[] = [];

  beforeAll(async () => {
    harness = await Harness.start({
      'mesh.yaml': [
        namespace('default', { 'istio.io/dataplane-mode': 'ambient', 'istio.io/use-waypoint': 'waypoint' }),
        gateway,
        service('default', 'reviews', '10.96.0.30', { app: 'reviews' }, [{ name: 'http', port: 9080 }]),
        destinationRule,
        authorizationPolicy('default', 'reviews-get-only', {
          targetRefs: [{ kind: 'Service', group: '', name: 'reviews' }],
          action: 'ALLOW',
          rules: [{ to: [{ operation: { methods: ['GET'] } }] }],
        }),
      ],
      'routes.yaml': [virtualService(90, 10)],
      'pods.yaml': [reviewsPod('reviews-v1-0', '10.244.0.10', 'v1')],
    });
    client = createDeltaAdsClient<[WaypointService, L7Authorization]>({
      address: `127.0.0.1:${harness.controlplane.ports.xdsPlaintext}`,
      credentials: grpc.credentials.createInsecure(),
      node: { id: 'waypoint~10.96.0.99~waypoint-0.default~default.svc.cluster.local' },
      backoff: { initialMs: 50, maxMs: 500 },
      types: [
        {
          typeUrl: WAYPOINT_SERVICE_TYPE_URL,
          decode: decodeWaypointServiceResource,
          onUpdate: (batch) => {
            for (const name of batch.removals) services.delete(name);
            for (const s of batch.upserts) {
              services.set(`${s.namespace}/${s.hostname}`, s);
              upserts.push(`${s.namespace}/${s.hostname}`);
            }
          },
        },
        {
          typeUrl: L7_AUTHORIZATION_TYPE_URL,
          decode: decodeL7AuthorizationResource,
          onUpdate: (batch) => {
            for (const p of batch.upserts) policies.set(`${p.namespace}/${p.name}`, p);
          },
        },
      ],
    });
    await client.ready();
  });

  afterAll(async () => {
    client?.destroy();
    await harness?.close();
  });

  it('serves the bound service with its routes, retries and subsets, and the targetRef policy', () => {
    const reviews = services.get(`default/${REVIEWS}`);
    expect(reviews?.routeSource).toBe('VirtualService default/reviews');
    expect(reviews?.trafficPolicySource).toBe('DestinationRule default/reviews');
    expect(reviews?.subsets.map((s) => [s.name, s.workloadUids])).toEqual([
      ['v1', [uid('reviews-v1-0')]],
      ['v2', []],
    ]);
    const route = reviews?.httpRoutes[0];
    expect(route?.action).toEqual({
      kind: 'forward',
      destinations: [
        expect.objectContaining({ destination: expect.objectContaining({ host: REVIEWS, subset: 'v1' }), weight: 90 }),
        expect.objectContaining({ destination: expect.objectContaining({ host: REVIEWS, subset: 'v2' }), weight: 10 }),
      ],
    });
    expect(route?.retries).toMatchObject({ attempts: 3, retryOn: ['5xx'] });
    expect([...policies.keys()]).toEqual(['default/reviews-get-only']);
  });

  /** Writes a file, then returns the WaypointService upserts it caused (after a quiet period for stragglers). */
  async function upsertsAfter(file: string, objects: readonly object[]): Promise<string[]> {
    const before = upserts.length;
    await harness.write(file, objects);
    const deadline = Date.now() + 10_000;
    while (upserts.length === before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 400));
    return upserts.slice(before);
  }

  const subsetUids = (): Record<string, readonly string[]> =>
    Object.fromEntries((services.get(`default/${REVIEWS}`)?.subsets ?? []).map((s) => [s.name, s.workloadUids]));

  it('a new split reaches the waypoint as one upsert of that service', async () => {
    expect(await upsertsAfter('routes.yaml', [virtualService(50, 50)])).toEqual([`default/${REVIEWS}`]);
    const action = services.get(`default/${REVIEWS}`)?.httpRoutes[0]?.action;
    expect(action?.kind === 'forward' ? action.destinations.map((d) => d.weight) : []).toEqual([50, 50]);
  });

  it('a pod labelled version=v2 appearing re-pushes the service with its uid in the v2 subset', async () => {
    const pods = [reviewsPod('reviews-v1-0', '10.244.0.10', 'v1'), reviewsPod('reviews-v2-0', '10.244.0.11', 'v2')];
    expect(await upsertsAfter('pods.yaml', pods)).toEqual([`default/${REVIEWS}`]);
    expect(subsetUids()).toEqual({ v1: [uid('reviews-v1-0')], v2: [uid('reviews-v2-0')] });
  });

  it('a pod label change moves the pod between subsets in one upsert', async () => {
    const pods = [reviewsPod('reviews-v1-0', '10.244.0.10', 'v1'), reviewsPod('reviews-v2-0', '10.244.0.11', 'v1')];
    expect(await upsertsAfter('pods.yaml', pods)).toEqual([`default/${REVIEWS}`]);
    expect(subsetUids()).toEqual({ v1: [uid('reviews-v1-0'), uid('reviews-v2-0')], v2: [] });
  });
});
