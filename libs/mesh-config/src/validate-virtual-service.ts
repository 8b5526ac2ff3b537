// VirtualService checks (istio/api networking/v1alpha3 virtual_service.proto, istio `ValidateVirtualService`): what
// a waypoint needs to route as written, with the field path of every problem.

import { FieldReader, type PlainObject } from './validate-reader';

/** Envoy's `retry_on` tokens (x-envoy-retry-on and x-envoy-retry-grpc-on); integers are status codes. */
export const RETRY_ON_TOKENS: readonly string[] = [
  '5xx',
  'gateway-error',
  'reset',
  'reset-before-request',
  'connect-failure',
  'envoy-ratelimited',
  'retriable-4xx',
  'refused-stream',
  'retriable-status-codes',
  'retriable-headers',
  'http3-post-connect-failure',
  'cancelled',
  'deadline-exceeded',
  'internal',
  'resource-exhausted',
  'unavailable',
];

const STRING_MATCH_KINDS = ['exact', 'prefix', 'regex'] as const;

/** `StringMatch{exact|prefix|regex}`: exactly one, a string. */
export function checkStringMatch(r: FieldReader, value: unknown, field: string): void {
  const obj = r.record(value, field);
  if (obj === undefined) return;
  const set = STRING_MATCH_KINDS.filter((k) => obj[k] !== undefined && obj[k] !== null);
  for (const k of set) r.string(obj[k], `${field}.${k}`);
  if (set.length !== 1) {
    r.error('ERR_VS_STRING_MATCH', field, `${field} must set exactly one of exact, prefix or regex`);
  }
}

function checkMatch(r: FieldReader, match: PlainObject, field: string): void {
  for (const key of ['uri', 'scheme', 'method', 'authority'] as const) checkStringMatch(r, match[key], `${field}.${key}`);
  for (const key of ['headers', 'queryParams', 'withoutHeaders'] as const) {
    const map = r.record(match[key], `${field}.${key}`);
    for (const [name, m] of Object.entries(map ?? {})) checkStringMatch(r, m, `${field}.${key}.${name}`);
  }
  r.boolean(match['ignoreUriCase'], `${field}.ignoreUriCase`);
  r.stringMap(match['sourceLabels'], `${field}.sourceLabels`);
  r.string(match['name'], `${field}.name`);
  r.string(match['sourceNamespace'], `${field}.sourceNamespace`);
  r.stringList(match['gateways'], `${field}.gateways`);
  r.integer(match['port'], `${field}.port`, 'ERR_VS_PORT', 1, 65535);
}

/** `Destination{host, subset, port}`; host is required. */
export function checkDestination(r: FieldReader, value: unknown, field: string): void {
  const dest = r.record(value, field);
  if (dest === undefined) {
    r.error('ERR_VS_DESTINATION_MISSING', field, `${field} is required`);
    return;
  }
  const host = r.string(dest['host'], `${field}.host`);
  if (host === undefined || host === '') r.error('ERR_VS_DESTINATION_HOST', `${field}.host`, 'destination host is required');
  r.string(dest['subset'], `${field}.subset`);
  const port = r.record(dest['port'], `${field}.port`);
  if (port !== undefined) r.integer(port['number'], `${field}.port.number`, 'ERR_VS_PORT', 1, 65535);
}

/** `route` of an http/tcp/tls rule: destinations and weights (0–100, summing to 100 when there are several). */
function checkRouteDestinations(r: FieldReader, value: unknown, field: string): void {
  const routes = r.eachRecord(value, field);
  let sum = 0;
  let weightsValid = true;
  for (const [route, path] of routes) {
    checkDestination(r, route['destination'], `${path}.destination`);
    const weight = route['weight'] === undefined || route['weight'] === null
      ? 0
      : r.integer(route['weight'], `${path}.weight`, 'ERR_VS_WEIGHT', 0, 100);
    if (weight === undefined) weightsValid = false;
    else sum += weight;
  }
  if (routes.length > 1 && weightsValid && sum !== 100) {
    r.error('ERR_VS_WEIGHT_SUM', field, `total destination weight ${sum} != 100`);
  }
}

function checkRetries(r: FieldReader, value: unknown, field: string): void {
  const retries = r.record(value, field);
  if (retries === undefined) return;
  r.integer(retries['attempts'], `${field}.attempts`, 'ERR_VS_RETRY_ATTEMPTS', 0);
  r.duration(retries['perTryTimeout'], `${field}.perTryTimeout`, 'ERR_VS_DURATION');
  r.boolean(retries['retryRemoteLocalities'], `${field}.retryRemoteLocalities`);
  r.boolean(retries['retryIgnorePreviousHosts'], `${field}.retryIgnorePreviousHosts`);
  r.duration(retries['backoff'], `${field}.backoff`, 'ERR_VS_DURATION');
  const retryOn = r.string(retries['retryOn'], `${field}.retryOn`);
  if (retryOn === undefined) return;
  for (const raw of retryOn.split(',')) {
    const token = raw.trim();
    if (token === '' || RETRY_ON_TOKENS.includes(token)) continue;
    if (/^[0-9]+$/.test(token)) {
      const status = Number(token);
      if (status >= 100 && status <= 599) continue;
    }
    r.error('ERR_VS_RETRY_ON_UNKNOWN', `${field}.retryOn`, `unknown retryOn token "${token}": must be an HTTP status code or one of ${RETRY_ON_TOKENS.join(', ')}`);
  }
}

function checkPercentage(r: FieldReader, value: unknown, field: string): void {
  const pct = r.record(value, field);
  if (pct !== undefined) r.number(pct['value'], `${field}.value`, 'ERR_VS_FAULT_PERCENTAGE', 0, 100);
}

function checkFault(r: FieldReader, value: unknown, field: string): void {
  const fault = r.record(value, field);
  if (fault === undefined) return;
  const delay = r.record(fault['delay'], `${field}.delay`);
  if (delay !== undefined) {
    checkPercentage(r, delay['percentage'], `${field}.delay.percentage`);
    r.integer(delay['percent'], `${field}.delay.percent`, 'ERR_VS_FAULT_PERCENTAGE', 0, 100);
    const fixed = r.duration(delay['fixedDelay'], `${field}.delay.fixedDelay`, 'ERR_VS_DURATION');
    const exponential = r.duration(delay['exponentialDelay'], `${field}.delay.exponentialDelay`, 'ERR_VS_DURATION');
    if (fixed === undefined && exponential === undefined && delay['fixedDelay'] === undefined && delay['exponentialDelay'] === undefined) {
      r.error('ERR_VS_FAULT_DELAY', `${field}.delay.fixedDelay`, 'a fault delay needs fixedDelay');
    }
  }
  const abort = r.record(fault['abort'], `${field}.abort`);
  if (abort !== undefined) {
    checkPercentage(r, abort['percentage'], `${field}.abort.percentage`);
    const grpc = r.string(abort['grpcStatus'], `${field}.abort.grpcStatus`);
    const h2 = r.string(abort['http2Error'], `${field}.abort.http2Error`);
    if (abort['httpStatus'] !== undefined && abort['httpStatus'] !== null) {
      r.integer(abort['httpStatus'], `${field}.abort.httpStatus`, 'ERR_VS_FAULT_ABORT_STATUS', 200, 599);
    } else if (grpc === undefined && h2 === undefined) {
      r.error('ERR_VS_FAULT_ABORT_STATUS', `${field}.abort.httpStatus`, 'a fault abort needs httpStatus (200..599) or grpcStatus');
    }
  }
}

function checkHttpRoute(r: FieldReader, http: PlainObject, field: string): void {
  for (const [match, path] of r.eachRecord(http['match'], `${field}.match`)) checkMatch(r, match, path);
  const hasRoute = Array.isArray(http['route']) && http['route'].length > 0;
  checkRouteDestinations(r, http['route'], `${field}.route`);
  const redirect = r.record(http['redirect'], `${field}.redirect`);
  const direct = r.record(http['directResponse'], `${field}.directResponse`);
  const delegate = r.record(http['delegate'], `${field}.delegate`);
  if (redirect !== undefined && hasRoute) {
    r.error('ERR_VS_REDIRECT_WITH_ROUTE', `${field}.redirect`, 'HTTP route cannot contain both route and redirect');
  }
  if (direct !== undefined && (hasRoute || redirect !== undefined)) {
    r.error('ERR_VS_DIRECT_RESPONSE_WITH_ROUTE', `${field}.directResponse`, 'HTTP route cannot contain both directResponse and route or redirect');
  }
  if (!hasRoute && redirect === undefined && direct === undefined && delegate === undefined) {
    r.error('ERR_VS_ROUTE_MISSING', field, 'HTTP route, redirect, directResponse or delegate is required');
  }
  if (redirect !== undefined) {
    r.string(redirect['uri'], `${field}.redirect.uri`);
    r.string(redirect['authority'], `${field}.redirect.authority`);
    r.integer(redirect['redirectCode'], `${field}.redirect.redirectCode`, 'ERR_VS_REDIRECT_CODE', 300, 399);
  }
  if (direct !== undefined) {
    if (direct['status'] === undefined || direct['status'] === null) {
      r.error('ERR_VS_DIRECT_RESPONSE_STATUS', `${field}.directResponse.status`, 'directResponse status is required');
    } else {
      r.integer(direct['status'], `${field}.directResponse.status`, 'ERR_VS_DIRECT_RESPONSE_STATUS', 200, 599);
    }
  }
  r.duration(http['timeout'], `${field}.timeout`, 'ERR_VS_DURATION');
  checkRetries(r, http['retries'], `${field}.retries`);
  checkFault(r, http['fault'], `${field}.fault`);
  r.record(http['headers'], `${field}.headers`);
  r.string(http['name'], `${field}.name`);
}

/** Checks `spec` of a `networking.istio.io` VirtualService. */
export function validateVirtualServiceSpec(r: FieldReader, spec: PlainObject): void {
  const hosts = r.stringList(spec['hosts'], 'spec.hosts');
  if (hosts === undefined || hosts.length === 0) r.error('ERR_VS_HOSTS_MISSING', 'spec.hosts', 'VirtualService must have at least one host');
  hosts?.forEach((host, i) => {
    if (host === '') r.error('ERR_VS_HOSTS_MISSING', `spec.hosts[${i}]`, 'host must not be empty');
  });
  r.stringList(spec['gateways'], 'spec.gateways');
  r.stringList(spec['exportTo'], 'spec.exportTo');
  for (const [http, path] of r.eachRecord(spec['http'], 'spec.http')) checkHttpRoute(r, http, path);
  for (const key of ['tcp', 'tls'] as const) {
    for (const [rule, path] of r.eachRecord(spec[key], `spec.${key}`)) {
      if (!Array.isArray(rule['route']) || rule['route'].length === 0) {
        r.error('ERR_VS_ROUTE_MISSING', `${path}.route`, `${key} route is required`);
      }
      checkRouteDestinations(r, rule['route'], `${path}.route`);
    }
  }
}
