import type {
  ConnectionPool,
  LoadBalancer,
  OutlierDetection,
  Subset,
  TrafficPolicy,
  WaypointService,
} from '@weft/mesh-model';
import { type EffectivePolicy, effectivePolicy } from './effective-policy';

const rr: LoadBalancer = { kind: 'simple', simple: 'ROUND_ROBIN' };
const random: LoadBalancer = { kind: 'simple', simple: 'RANDOM' };
const leastRequest: LoadBalancer = { kind: 'simple', simple: 'LEAST_REQUEST' };
const pool10: ConnectionPool = { tcp: { maxConnections: 10 } };
const pool20: ConnectionPool = { tcp: { maxConnections: 20 } };
const od5: OutlierDetection = {
  consecutive5xxErrors: 5,
  maxEjectionPercent: 0,
  minHealthPercent: 0,
  splitExternalLocalOriginErrors: false,
};
const od1: OutlierDetection = { ...od5, consecutive5xxErrors: 1 };

function policy(parts: Partial<TrafficPolicy>): TrafficPolicy {
  return { portLevel: [], ...parts };
}

function subset(name: string, trafficPolicy?: TrafficPolicy): Subset {
  return { name, labels: { version: name }, workloadUids: [], ...(trafficPolicy ? { trafficPolicy } : {}) };
}

function service(trafficPolicy: TrafficPolicy | undefined, subsets: readonly Subset[] = []): WaypointService {
  return {
    hostname: 'web.default.svc.cluster.local',
    namespace: 'default',
    name: 'web',
    ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'HTTP' }],
    httpRoutes: [],
    routeSource: '',
    ...(trafficPolicy ? { trafficPolicy } : {}),
    subsets,
    trafficPolicySource: trafficPolicy ? 'DestinationRule default/web' : '',
  };
}

describe('effectivePolicy', () => {
  it.each<[string, WaypointService, string, number, EffectivePolicy]>([
    ['no DestinationRule: Istio defaults everywhere', service(undefined), '', 80, {}],
    [
      "the service's policy",
      service(policy({ loadBalancer: rr, connectionPool: pool10, outlierDetection: od5 })),
      '',
      80,
      { loadBalancer: rr, connectionPool: pool10, outlierDetection: od5 },
    ],
    [
      'a port-level entry replaces the whole policy; what it omits is not inherited',
      service(policy({ loadBalancer: rr, connectionPool: pool10, portLevel: [{ port: 80, outlierDetection: od5 }] })),
      '',
      80,
      { outlierDetection: od5 },
    ],
    [
      'a port-level entry for another port changes nothing',
      service(policy({ loadBalancer: rr, portLevel: [{ port: 9090, loadBalancer: random }] })),
      '',
      80,
      { loadBalancer: rr },
    ],
    [
      "the subset's parts override the service's, the rest is inherited",
      service(policy({ loadBalancer: rr, connectionPool: pool10, outlierDetection: od5 }), [
        subset('v1', policy({ loadBalancer: random })),
      ]),
      'v1',
      80,
      { loadBalancer: random, connectionPool: pool10, outlierDetection: od5 },
    ],
    [
      "the subset inherits from the service's port-level entry for the port",
      service(policy({ loadBalancer: rr, portLevel: [{ port: 80, connectionPool: pool20 }] }), [
        subset('v1', policy({ outlierDetection: od1 })),
      ]),
      'v1',
      80,
      { connectionPool: pool20, outlierDetection: od1 },
    ],
    [
      "a subset's port-level entry replaces every part, even ones it omits",
      service(policy({ loadBalancer: rr, connectionPool: pool10, outlierDetection: od5 }), [
        subset('v1', policy({ loadBalancer: random, portLevel: [{ port: 80, connectionPool: pool20 }] })),
      ]),
      'v1',
      80,
      { connectionPool: pool20 },
    ],
    [
      "a subset's port-level entry for another port: the subset's top level merges as usual",
      service(policy({ connectionPool: pool10 }), [
        subset('v1', policy({ loadBalancer: leastRequest, portLevel: [{ port: 9090, loadBalancer: rr }] })),
      ]),
      'v1',
      80,
      { loadBalancer: leastRequest, connectionPool: pool10 },
    ],
    [
      'a subset without a policy takes the service policy',
      service(policy({ loadBalancer: rr }), [subset('v1')]),
      'v1',
      80,
      { loadBalancer: rr },
    ],
    [
      'a subset policy alone when the service has none',
      service(undefined, [subset('v1', policy({ outlierDetection: od1, portLevel: [] }))]),
      'v1',
      80,
      { outlierDetection: od1 },
    ],
    [
      'an unknown subset name falls back to the service policy',
      service(policy({ loadBalancer: rr }), [subset('v1', policy({ loadBalancer: random }))]),
      'v2',
      80,
      { loadBalancer: rr },
    ],
    [
      'no subset named: subset policies do not apply',
      service(policy({ loadBalancer: rr }), [subset('v1', policy({ loadBalancer: random }))]),
      '',
      80,
      { loadBalancer: rr },
    ],
  ])('%s', (_name, svc, subsetName, port, expected) => {
    expect(effectivePolicy(svc, subsetName, port)).toEqual(expected);
  });
});
