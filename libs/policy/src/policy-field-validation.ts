// Value checks Istio's validation webhook applies inside AuthorizationPolicy rules (istio pkg/config/security:
// ValidateAttribute, ValidateIPs, ValidatePorts, CheckServiceAccount, CheckValidPathTemplate).

import { parseCidr } from './ip-address';
import { parsePortValue } from './match-core';

/** `when` keys ztunnel can enforce (istiod `l4WhenAttributes`). */
export const L4_WHEN_KEYS: readonly string[] = [
  'source.ip',
  'source.namespace',
  'source.principal',
  'destination.ip',
  'destination.port',
];

/** `{*}`: exactly one path segment; `{**}`: zero or more segments, last only. */
export const MATCH_ONE_TEMPLATE = '{*}';
export const MATCH_ANY_TEMPLATE = '{**}';

/** RFC 3986 pchar without `*`, the literal Envoy's URI template matcher accepts. */
const VALID_LITERAL = /^[a-zA-Z0-9\-._~%!$&'()+,;:@=]+$/;

export function containsPathTemplate(path: string): boolean {
  return path.includes(MATCH_ONE_TEMPLATE) || path.includes(MATCH_ANY_TEMPLATE);
}

/** istio `CheckValidPathTemplate` for one path: the problem, or undefined when the path is acceptable. */
export function pathTemplateProblem(path: string): string | undefined {
  const isTemplate = containsPathTemplate(path);
  let sawMatchAny = false;
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  for (const glob of trimmed.split('/')) {
    if ((glob === MATCH_ONE_TEMPLATE || glob === MATCH_ANY_TEMPLATE) && sawMatchAny) {
      return `invalid or unsupported path ${trimmed}: {**} is not the last operator`;
    }
    if (glob === MATCH_ONE_TEMPLATE) continue;
    if (glob === MATCH_ANY_TEMPLATE) {
      sawMatchAny = true;
      continue;
    }
    if (/[{}]/.test(glob)) {
      return `invalid or unsupported path ${trimmed}: contains '{' or '}' beyond a supported path template`;
    }
    if (isTemplate && !VALID_LITERAL.test(glob)) {
      return `invalid or unsupported path ${trimmed}: segment "${glob}" is not a valid literal (no '*' next to a template)`;
    }
  }
  return undefined;
}

/** istio `ValidateIPs` for one value. */
export function ipBlockProblem(value: string): string | undefined {
  if (parseCidr(value) !== undefined) return undefined;
  return value.includes('/') ? `bad CIDR range (${value})` : `bad IP address (${value})`;
}

/** istio `ValidatePorts` for one value. */
export function portProblem(value: string): string | undefined {
  return parsePortValue(value) === undefined ? `bad port (${value}): must be an integer 0-65535` : undefined;
}

/** istio `CheckServiceAccount` for one value. */
export function serviceAccountProblem(value: string): string | undefined {
  if (value.includes('*')) return `wildcard not allowed in service account "${value}"`;
  if (value.length > 320) return `service account "${value}" exceeds 320 characters`;
  const parts = value.split('/');
  if (parts.length > 2 || parts.some((p) => p === '')) {
    return `expected format 'serviceAccount' or 'namespace/serviceAccount', found "${value}"`;
  }
  return undefined;
}

function validMapKey(key: string): boolean {
  const open = key.indexOf('[');
  return key.endsWith(']') && open > 0 && open < key.length - 2;
}

/** A problem with a `when` value, with the error code it maps to. */
export interface WhenValueProblem {
  readonly code: 'ERR_POLICY_IP_BLOCK' | 'ERR_POLICY_PORT' | 'ERR_POLICY_SERVICE_ACCOUNT_FORMAT';
  readonly message: string;
}

/** istio `ValidateAttribute`, key half: the problem with a `when` key, or undefined when Istio accepts it. */
export function whenKeyProblem(key: string): string | undefined {
  const prefixed = ['request.headers', 'request.experimental.inline.headers', 'request.auth.claims', 'experimental.envoy.filters.'];
  if (prefixed.some((prefix) => key.startsWith(prefix))) {
    return validMapKey(key) ? undefined : `bad key (${key}): should have format a[b]`;
  }
  switch (key) {
    case 'source.ip':
    case 'remote.ip':
    case 'destination.ip':
    case 'destination.port':
    case 'source.serviceAccount':
    case 'source.namespace':
    case 'source.principal':
    case 'request.auth.principal':
    case 'request.auth.audiences':
    case 'request.auth.presenter':
    case 'connection.sni':
      return undefined;
    case 'destination.namespace':
      return `attribute ${key} is replaced by the metadata.namespace`;
    case 'destination.name':
    case 'destination.user':
      return `deprecated attribute ${key}: only supported in v1alpha1`;
    default:
      if (key.startsWith('destination.labels')) return `attribute ${key} is replaced by the workload selector`;
      return `unknown attribute: ${key}`;
  }
}

/** istio `ValidateAttribute`, value half: IP keys take IPs/CIDRs, `destination.port` ports, service accounts. */
export function whenValueProblem(key: string, value: string): WhenValueProblem | undefined {
  switch (key) {
    case 'source.ip':
    case 'remote.ip':
    case 'destination.ip': {
      const message = ipBlockProblem(value);
      return message === undefined ? undefined : { code: 'ERR_POLICY_IP_BLOCK', message };
    }
    case 'destination.port': {
      const message = portProblem(value);
      return message === undefined ? undefined : { code: 'ERR_POLICY_PORT', message };
    }
    case 'source.serviceAccount': {
      const message = serviceAccountProblem(value);
      return message === undefined ? undefined : { code: 'ERR_POLICY_SERVICE_ACCOUNT_FORMAT', message };
    }
    default:
      return undefined;
  }
}
