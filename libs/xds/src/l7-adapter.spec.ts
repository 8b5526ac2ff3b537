// weft.l7.v1 adapters: every message and oneof branch survives model → encode → decode unchanged, and each kind of
// content the waypoint could not execute is rejected with the resource and the field named.
import type { L7Authorization, RequestAuthentication, WaypointService } from '@weft/mesh-model';
import {
  emptyAllow,
  forwardRule,
  fullAuthorization,
  fullRequestAuthentication,
  fullService,
  minimalService,
  otherRules,
} from '../test/l7-fixtures';
import { L7Authorization as WireL7Authorization } from './generated/weft/l7/v1/authorization';
import { RequestAuthentication as WireRequestAuthentication } from './generated/weft/l7/v1/request_authentication';
import { WaypointService as WireWaypointService } from './generated/weft/l7/v1/waypoint_service';
import {
  decodeL7AuthorizationResource,
  decodeRequestAuthenticationResource,
  decodeWaypointServiceResource,
  encodeL7AuthorizationResource,
  encodeRequestAuthenticationResource,
  encodeWaypointServiceResource,
  waypointServiceResourceName,
} from './l7-adapter';
import { L7_AUTHORIZATION_TYPE_URL, REQUEST_AUTHENTICATION_TYPE_URL, WAYPOINT_SERVICE_TYPE_URL } from './type-urls';
import { rejectionText, XdsEncodeError, type XdsRejection } from './xds-result';

const roundTripService = (s: WaypointService) => {
  const encoded = encodeWaypointServiceResource(s);
  return decodeWaypointServiceResource({ name: encoded.name, version: 'v1', value: encoded.value });
};

describe('WaypointService round trip', () => {
  it.each<[string, WaypointService]>([
    ['every field, protocol, route action, rewrite, fault, load balancer and hash key', fullService],
    ['nothing but the name', minimalService],
    ['only the forward rule', { ...minimalService, httpRoutes: [forwardRule] }],
    ...otherRules.map((rule): [string, WaypointService] => [`rule ${rule.name}`, { ...minimalService, httpRoutes: [rule] }]),
  ])('%s decodes to exactly what was encoded', (_, service) => {
    const encoded = encodeWaypointServiceResource(service);
    expect(encoded).toMatchObject({ name: waypointServiceResourceName(service), typeUrl: WAYPOINT_SERVICE_TYPE_URL });
    expect(roundTripService(service)).toStrictEqual({ ok: true, value: service });
  });

  it('names a service <namespace>/<hostname>', () => {
    expect(waypointServiceResourceName(fullService)).toBe('default/reviews.default.svc.cluster.local');
  });

  it.each([0, 1, 999, 1000, 1000.25, 86_400_000])('keeps a duration of %sms exact', (ms) => {
    const result = roundTripService({ ...minimalService, httpRoutes: [{ name: '', matches: [], mirrors: [], timeoutMs: ms }] });
    expect(result.ok && result.value.httpRoutes[0]?.timeoutMs).toBe(ms);
  });

  it('refuses to encode a negative duration (a caller bug, not wire input)', () => {
    expect(() => encodeWaypointServiceResource({ ...minimalService, httpRoutes: [{ name: '', matches: [], mirrors: [], timeoutMs: -1 }] })).toThrow(
      XdsEncodeError,
    );
  });
});

describe('L7Authorization and RequestAuthentication round trip', () => {
  it.each<[string, L7Authorization]>([
    ['every source, operation and condition field, CUSTOM with provider, dry run', fullAuthorization],
    ['ALLOW without rules', emptyAllow],
    ['DENY', { ...emptyAllow, action: 'DENY' }],
    ['AUDIT', { ...emptyAllow, action: 'AUDIT', rules: [{ from: [], to: [], when: [] }] }],
  ])('%s', (_, policy) => {
    const encoded = encodeL7AuthorizationResource(policy);
    expect(encoded).toMatchObject({ name: `${policy.namespace}/${policy.name}`, typeUrl: L7_AUTHORIZATION_TYPE_URL });
    expect(decodeL7AuthorizationResource({ name: encoded.name, version: '1', value: encoded.value })).toStrictEqual({ ok: true, value: policy });
  });

  it.each<[string, RequestAuthentication]>([
    ['every JwtRule field, and a rule with none but the issuer', fullRequestAuthentication],
    ['no rules', { name: 'none', namespace: 'default', targets: [], jwtRules: [] }],
  ])('%s', (_, policy) => {
    const encoded = encodeRequestAuthenticationResource(policy);
    expect(encoded).toMatchObject({ name: `${policy.namespace}/${policy.name}`, typeUrl: REQUEST_AUTHENTICATION_TYPE_URL });
    expect(decodeRequestAuthenticationResource({ name: encoded.name, version: '1', value: encoded.value })).toStrictEqual({ ok: true, value: policy });
  });
});

// ---- rejections ----

const NAME = 'default/reviews.default.svc.cluster.local';
const base = { hostname: 'reviews.default.svc.cluster.local', namespace: 'default', name: 'reviews' };
const dest = { host: 'reviews.default.svc.cluster.local' };

/** A loosely typed partial wire message: the tables build invalid content the generated types would not admit. */
type WirePartial = Record<string, unknown>;
type ServicePartial = Parameters<typeof WireWaypointService.fromPartial>[0];

function rejectService(partial: WirePartial, name = NAME): XdsRejection | undefined {
  const value = Buffer.from(WireWaypointService.encode(WireWaypointService.fromPartial({ ...base, ...partial } as ServicePartial)).finish());
  const result = decodeWaypointServiceResource({ name, version: 'v1', value });
  return result.ok ? undefined : result.rejection;
}

const route = (r: object) => ({ httpRoutes: [r] });
const policy = (p: object) => ({ trafficPolicy: p });

describe('WaypointService rejections', () => {
  it.each<[string, WirePartial, string]>([
    ['weights of several destinations sum to 0', route({ action: { $case: 'forward', value: { destinations: [{ destination: dest }, { destination: dest }] } } }), 'waypoint_service.http_routes[0].action.forward.destinations'],
    ['a forward without destinations', route({ action: { $case: 'forward', value: { destinations: [] } } }), 'waypoint_service.http_routes[0].action.forward.destinations'],
    ['a destination without host', route({ action: { $case: 'forward', value: { destinations: [{ destination: { host: '' }, weight: 1 }] } } }), 'waypoint_service.http_routes[0].action.forward.destinations[0].destination.host'],
    ['a weighted destination without destination', route({ action: { $case: 'forward', value: { destinations: [{ weight: 1 }] } } }), 'waypoint_service.http_routes[0].action.forward.destinations[0].destination'],
    ['a uri regex that does not compile', route({ matches: [{ uri: { matchType: { $case: 'regex', value: '/api/(v1' } } }] }), 'waypoint_service.http_routes[0].matches[0].uri.regex'],
    ['a header regex with look-ahead (not RE2)', route({ matches: [{ headers: { 'x-a': { matchType: { $case: 'regex', value: 'a(?=b)' } } } }] }), 'waypoint_service.http_routes[0].matches[0].headers["x-a"].regex'],
    ['a rewrite regex that does not compile', route({ rewrite: { path: { $case: 'regex', value: { pattern: '[', substitution: '' } } } }), 'waypoint_service.http_routes[0].rewrite.regex.pattern'],
    ['an unknown port protocol', { ports: [{ port: 80, protocol: 9 }] }, 'waypoint_service.ports[0].protocol'],
    ['a port above 65535', { ports: [{ port: 70000 }] }, 'waypoint_service.ports[0].port'],
    ['port 0', { ports: [{ port: 0 }] }, 'waypoint_service.ports[0].port'],
    ['a port listed twice', { ports: [{ port: 80 }, { port: 80 }] }, 'waypoint_service.ports[1].port'],
    ['a match port above 65535', route({ matches: [{ port: 65536 }] }), 'waypoint_service.http_routes[0].matches[0].port'],
    ['a redirect code that is not 3xx', route({ action: { $case: 'redirect', value: { responseCode: 200 } } }), 'waypoint_service.http_routes[0].action.redirect.response_code'],
    ['a direct response status below 200', route({ action: { $case: 'directResponse', value: { status: 99 } } }), 'waypoint_service.http_routes[0].action.direct_response.status'],
    ['an abort without status', route({ fault: { abort: { percentage: 10 } } }), 'waypoint_service.http_routes[0].fault.abort.error'],
    ['an abort with gRPC status 17', route({ fault: { abort: { error: { $case: 'grpcStatus', value: 17 } } } }), 'waypoint_service.http_routes[0].fault.abort.grpc_status'],
    ['a delay without fixed_delay', route({ fault: { delay: { percentage: 10 } } }), 'waypoint_service.http_routes[0].fault.delay.fixed_delay'],
    ['a delay percentage above 100', route({ fault: { delay: { fixedDelay: { seconds: 1 }, percentage: 150 } } }), 'waypoint_service.http_routes[0].fault.delay.percentage'],
    ['a mirror percentage below 0', route({ mirrors: [{ destination: dest, percentage: -1 }] }), 'waypoint_service.http_routes[0].mirrors[0].percentage'],
    ['a negative timeout', route({ timeout: { seconds: -1, nanos: 0 } }), 'waypoint_service.http_routes[0].timeout'],
    ['nanos of a second or more', route({ timeout: { seconds: 0, nanos: 1_000_000_000 } }), 'waypoint_service.http_routes[0].timeout.nanos'],
    ['a retriable status code of 600', route({ retries: { retriableStatusCodes: [600] } }), 'waypoint_service.http_routes[0].retries.retriable_status_codes[0]'],
    ['an empty header name to remove', route({ requestHeaders: { remove: [''] } }), 'waypoint_service.http_routes[0].request_headers.remove[0]'],
    ['a load balancer with no policy', policy({ loadBalancer: {} }), 'waypoint_service.traffic_policy.load_balancer.policy'],
    ['an unknown simple load balancer', policy({ loadBalancer: { policy: { $case: 'simple', value: 7 } } }), 'waypoint_service.traffic_policy.load_balancer.simple'],
    ['a consistent hash without key', policy({ loadBalancer: { policy: { $case: 'consistentHash', value: {} } } }), 'waypoint_service.traffic_policy.load_balancer.consistent_hash.hash_key'],
    ['use_source_ip false', policy({ loadBalancer: { policy: { $case: 'consistentHash', value: { hashKey: { $case: 'useSourceIp', value: false } } } } }), 'waypoint_service.traffic_policy.load_balancer.consistent_hash.use_source_ip'],
    ['max_ejection_percent above 100', policy({ outlierDetection: { maxEjectionPercent: 101 } }), 'waypoint_service.traffic_policy.outlier_detection.max_ejection_percent'],
    ['a port-level policy without port', policy({ portLevel: [{}] }), 'waypoint_service.traffic_policy.port_level[0].port'],
    ['two port-level policies for one port', policy({ portLevel: [{ port: 80 }, { port: 80 }] }), 'waypoint_service.traffic_policy.port_level[1].port'],
    ['a subset without name', { subsets: [{ name: '' }] }, 'waypoint_service.subsets[0].name'],
    ['a duplicate subset', { subsets: [{ name: 'v1' }, { name: 'v1' }] }, 'waypoint_service.subsets[1].name'],
    ['a bad subset policy', { subsets: [{ name: 'v1', trafficPolicy: { loadBalancer: {} } }] }, 'waypoint_service.subsets[0].traffic_policy.load_balancer.policy'],
    ['an empty subset workload uid', { subsets: [{ name: 'v1', workloadUids: ['Kubernetes//Pod/default/a', ''] }] }, 'waypoint_service.subsets[0].workload_uids[1]'],
    ['a subset workload uid listed twice', { subsets: [{ name: 'v1', workloadUids: ['Kubernetes//Pod/default/a', 'Kubernetes//Pod/default/a'] }] }, 'waypoint_service.subsets[0].workload_uids[1]'],
    ['an empty hostname', { hostname: '' }, 'waypoint_service.hostname'],
  ])('%s', (_, partial, field) => {
    const rejection = rejectService(partial);
    expect(rejection).toMatchObject({ code: 'ERR_XDS_RESOURCE_INVALID', typeUrl: WAYPOINT_SERVICE_TYPE_URL, resourceName: NAME, field });
    expect(rejectionText(rejection as XdsRejection)).toContain(field);
  });

  it('a resource name that is not <namespace>/<hostname>', () => {
    expect(rejectService({}, 'default/reviews')).toMatchObject({ code: 'ERR_XDS_RESOURCE_NAME_MISMATCH', field: 'waypoint_service.hostname' });
  });

  it('bytes that are not a WaypointService', () => {
    const result = decodeWaypointServiceResource({ name: NAME, version: 'v1', value: Buffer.from([0x0a, 0xff]) });
    expect(result).toMatchObject({ ok: false, rejection: { code: 'ERR_XDS_RESOURCE_UNDECODABLE', field: 'waypoint_service' } });
  });
});

describe('L7Authorization rejections', () => {
  const reject = (partial: WirePartial, name = 'default/p') => {
    const message = { name: 'p', namespace: 'default', ...partial } as Parameters<typeof WireL7Authorization.fromPartial>[0];
    const value = Buffer.from(WireL7Authorization.encode(WireL7Authorization.fromPartial(message)).finish());
    const result = decodeL7AuthorizationResource({ name, version: '1', value });
    return result.ok ? undefined : result.rejection;
  };

  it.each<[string, WirePartial, string]>([
    ['an unknown action', { action: 9 }, 'l7_authorization.action'],
    ['CUSTOM without provider', { action: 3 }, 'l7_authorization.provider'],
    ['a provider on an ALLOW', { provider: 'ext' }, 'l7_authorization.provider'],
    ['a target without kind', { targets: [{ name: 'waypoint' }] }, 'l7_authorization.targets[0].kind'],
    ['a target without name', { targets: [{ kind: 'Gateway' }] }, 'l7_authorization.targets[0].name'],
    ['a condition without key', { rules: [{ when: [{ values: ['a'] }] }] }, 'l7_authorization.rules[0].when[0].key'],
  ])('%s', (_, partial, field) => {
    expect(reject(partial)).toMatchObject({ code: 'ERR_XDS_RESOURCE_INVALID', typeUrl: L7_AUTHORIZATION_TYPE_URL, field });
  });

  it('an empty name and a mismatched resource name', () => {
    expect(reject({ name: '' }, 'default/')).toMatchObject({ field: 'l7_authorization.name', code: 'ERR_XDS_RESOURCE_INVALID' });
    expect(reject({}, 'other/p')).toMatchObject({ field: 'l7_authorization.name', code: 'ERR_XDS_RESOURCE_NAME_MISMATCH' });
  });
});

describe('RequestAuthentication rejections', () => {
  const reject = (partial: WirePartial, name = 'default/jwt') => {
    const message = { name: 'jwt', namespace: 'default', ...partial } as Parameters<typeof WireRequestAuthentication.fromPartial>[0];
    const value = Buffer.from(WireRequestAuthentication.encode(WireRequestAuthentication.fromPartial(message)).finish());
    const result = decodeRequestAuthenticationResource({ name, version: '1', value });
    return result.ok ? undefined : result.rejection;
  };

  it.each<[string, WirePartial, string]>([
    ['a rule without issuer', { jwtRules: [{}] }, 'request_authentication.jwt_rules[0].issuer'],
    ['inline JWKS that is not JSON', { jwtRules: [{ issuer: 'i', jwks: '{keys' }] }, 'request_authentication.jwt_rules[0].jwks'],
    ['a token header without name', { jwtRules: [{ issuer: 'i', fromHeaders: [{ prefix: 'Bearer ' }] }] }, 'request_authentication.jwt_rules[0].from_headers[0].name'],
    ['an empty query parameter', { jwtRules: [{ issuer: 'i', fromParams: [''] }] }, 'request_authentication.jwt_rules[0].from_params[0]'],
    ['a claim header without claim', { jwtRules: [{ issuer: 'i', outputClaimToHeaders: [{ header: 'x' }] }] }, 'request_authentication.jwt_rules[0].output_claim_to_headers[0].claim'],
    ['a negative timeout', { jwtRules: [{ issuer: 'i', timeout: { seconds: -5, nanos: 0 } }] }, 'request_authentication.jwt_rules[0].timeout'],
    ['a target without kind', { targets: [{ name: 'x' }] }, 'request_authentication.targets[0].kind'],
  ])('%s', (_, partial, field) => {
    expect(reject(partial)).toMatchObject({ code: 'ERR_XDS_RESOURCE_INVALID', typeUrl: REQUEST_AUTHENTICATION_TYPE_URL, field });
  });

  it('a mismatched resource name', () => {
    expect(reject({}, 'default/other')).toMatchObject({ field: 'request_authentication.name', code: 'ERR_XDS_RESOURCE_NAME_MISMATCH' });
  });
});
