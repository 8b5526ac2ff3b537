// Gateway API checks (gateway.networking.k8s.io Gateway and HTTPRoute) for what Istio's waypoint conversion
// (`conversion.go`) accepts: the waypoint listener, and the matches and filters HTTPRoute may use.

import { WAYPOINT_GATEWAY_CLASS } from './kube-object';
import { FieldReader, type PlainObject } from './validate-reader';

/** Filters Istio converts for waypoints; anything else gets the status `unsupported filter type`. */
export const SUPPORTED_HTTPROUTE_FILTERS: readonly string[] = [
  'RequestHeaderModifier',
  'ResponseHeaderModifier',
  'RequestRedirect',
  'URLRewrite',
  'RequestMirror',
  'CORS',
];

const PATH_MATCH_TYPES = ['Exact', 'PathPrefix', 'RegularExpression'] as const;
const VALUE_MATCH_TYPES = ['Exact', 'RegularExpression'] as const;
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'] as const;

/** Checks a Gateway; for class `istio-waypoint`, the listener istioctl generates (mesh, 15008, HBONE). */
export function validateGatewaySpec(r: FieldReader, spec: PlainObject, name: string): void {
  const className = r.string(spec['gatewayClassName'], 'spec.gatewayClassName');
  if (className === undefined || className === '') {
    r.error('ERR_GATEWAY_CLASS_MISSING', 'spec.gatewayClassName', 'gatewayClassName is required');
  }
  const listeners = r.eachRecord(spec['listeners'], 'spec.listeners');
  for (const [listener, path] of listeners) {
    const listenerName = r.string(listener['name'], `${path}.name`);
    if (listenerName === undefined || listenerName === '') r.error('ERR_GATEWAY_LISTENER', `${path}.name`, 'listener name is required');
    r.integer(listener['port'], `${path}.port`, 'ERR_GATEWAY_LISTENER', 1, 65535);
    const protocol = r.string(listener['protocol'], `${path}.protocol`);
    if (protocol === undefined || protocol === '') r.error('ERR_GATEWAY_LISTENER', `${path}.protocol`, 'listener protocol is required');
  }
  if (className !== WAYPOINT_GATEWAY_CLASS) return;
  if (name === 'none') {
    r.error('ERR_WAYPOINT_NAME_RESERVED', 'metadata.name', 'the waypoint name "none" is reserved (istio.io/use-waypoint: none opts out of a waypoint)');
  }
  const hbone = listeners.some(([l]) => l['name'] === 'mesh' && Number(l['port']) === 15008 && l['protocol'] === 'HBONE');
  if (!hbone) {
    r.warn('WARN_WAYPOINT_LISTENER', 'spec.listeners', 'a waypoint needs the listener {name: mesh, port: 15008, protocol: HBONE} (as `istioctl waypoint apply` generates it)');
  }
}

function checkValueMatches(r: FieldReader, value: unknown, field: string): void {
  for (const [match, path] of r.eachRecord(value, field)) {
    r.oneOf(match['type'], `${path}.type`, 'ERR_HTTPROUTE_MATCH', VALUE_MATCH_TYPES);
    const name = r.string(match['name'], `${path}.name`);
    if (name === undefined || name === '') r.error('ERR_HTTPROUTE_MATCH', `${path}.name`, 'match name is required');
    r.string(match['value'], `${path}.value`);
  }
}

function checkMatch(r: FieldReader, match: PlainObject, field: string): void {
  const path = r.record(match['path'], `${field}.path`);
  if (path !== undefined) {
    const type = r.oneOf(path['type'], `${field}.path.type`, 'ERR_HTTPROUTE_MATCH', PATH_MATCH_TYPES);
    const value = r.string(path['value'], `${field}.path.value`);
    if (type !== 'RegularExpression' && value !== undefined && !value.startsWith('/')) {
      r.error('ERR_HTTPROUTE_MATCH', `${field}.path.value`, `path "${value}" must start with /`);
    }
  }
  checkValueMatches(r, match['headers'], `${field}.headers`);
  checkValueMatches(r, match['queryParams'], `${field}.queryParams`);
  r.oneOf(match['method'], `${field}.method`, 'ERR_HTTPROUTE_MATCH', METHODS);
}

function checkFilters(r: FieldReader, value: unknown, field: string): void {
  for (const [filter, path] of r.eachRecord(value, field)) {
    const type = r.string(filter['type'], `${path}.type`);
    if (type === undefined || type === '') {
      r.error('ERR_HTTPROUTE_FILTER', `${path}.type`, 'filter type is required');
    } else if (!SUPPORTED_HTTPROUTE_FILTERS.includes(type)) {
      r.error('ERR_HTTPROUTE_FILTER_UNSUPPORTED', `${path}.type`, `unsupported filter type "${type}": waypoints support ${SUPPORTED_HTTPROUTE_FILTERS.join(', ')}`);
    }
  }
}

function checkBackendRefs(r: FieldReader, value: unknown, field: string): void {
  for (const [ref, path] of r.eachRecord(value, field)) {
    const name = r.string(ref['name'], `${path}.name`);
    if (name === undefined || name === '') r.error('ERR_HTTPROUTE_BACKEND', `${path}.name`, 'backendRef name is required');
    r.integer(ref['port'], `${path}.port`, 'ERR_HTTPROUTE_BACKEND', 1, 65535);
    r.integer(ref['weight'], `${path}.weight`, 'ERR_HTTPROUTE_WEIGHT', 0);
    checkFilters(r, ref['filters'], `${path}.filters`);
  }
}

/** Checks `spec` of an HTTPRoute. */
export function validateHttpRouteSpec(r: FieldReader, spec: PlainObject): void {
  const parents = r.eachRecord(spec['parentRefs'], 'spec.parentRefs');
  if (parents.length === 0) {
    r.warn('WARN_HTTPROUTE_NO_PARENT', 'spec.parentRefs', 'an HTTPRoute without parentRefs attaches to nothing; for a waypoint use parentRefs: [{group: "", kind: Service, name: <service>}]');
  }
  for (const [parent, path] of parents) {
    const name = r.string(parent['name'], `${path}.name`);
    if (name === undefined || name === '') r.error('ERR_HTTPROUTE_PARENT_REF', `${path}.name`, 'parentRef name is required');
    r.string(parent['kind'], `${path}.kind`);
    r.string(parent['group'], `${path}.group`);
    r.string(parent['namespace'], `${path}.namespace`);
    r.integer(parent['port'], `${path}.port`, 'ERR_HTTPROUTE_PARENT_REF', 1, 65535);
  }
  r.stringList(spec['hostnames'], 'spec.hostnames');
  for (const [rule, path] of r.eachRecord(spec['rules'], 'spec.rules')) {
    for (const [match, matchPath] of r.eachRecord(rule['matches'], `${path}.matches`)) checkMatch(r, match, matchPath);
    checkFilters(r, rule['filters'], `${path}.filters`);
    checkBackendRefs(r, rule['backendRefs'], `${path}.backendRefs`);
    const timeouts = r.record(rule['timeouts'], `${path}.timeouts`);
    if (timeouts !== undefined) {
      r.duration(timeouts['request'], `${path}.timeouts.request`, 'ERR_HTTPROUTE_DURATION');
      r.duration(timeouts['backendRequest'], `${path}.timeouts.backendRequest`, 'ERR_HTTPROUTE_DURATION');
    }
  }
}
