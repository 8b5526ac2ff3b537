// The waypoint resource names are the keys the control plane publishes and the waypoint looks resources up by.
import { l7PolicyKey, serviceKey, waypointServiceKey, type RouteAction, type WaypointService } from './index';

describe('waypoint resource names', () => {
  it('names a WaypointService <namespace>/<hostname>, the same key as its WDS Service', () => {
    expect(waypointServiceKey('default', 'reviews.default.svc.cluster.local')).toBe('default/reviews.default.svc.cluster.local');
    expect(waypointServiceKey('a', 'h')).toBe(serviceKey('a', 'h'));
  });

  it('names L7Authorization and RequestAuthentication <namespace>/<name>', () => {
    expect(l7PolicyKey('test-app', 'require-jwt')).toBe('test-app/require-jwt');
  });
});

describe('L7 domain types', () => {
  it('are plain data: a service with every part is a JSON-compatible value', () => {
    const action: RouteAction = { kind: 'forward', destinations: [{ destination: { host: 'h', serviceNamespace: 'ns', port: 0, subset: '' }, weight: 100 }] };
    const service: WaypointService = {
      hostname: 'h',
      namespace: 'ns',
      name: 'h',
      ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'HTTP' }],
      httpRoutes: [{ name: '', matches: [], action, mirrors: [] }],
      routeSource: '',
      subsets: [],
      trafficPolicySource: '',
    };
    expect(JSON.parse(JSON.stringify(service))).toEqual(service);
  });
});
