// VirtualService `http[]` → the waypoint's RouteRules (reference §7.4), rule by rule in order. What a waypoint cannot
// do as written is reported; a rule that would route differently than written without it (an unsupported match,
// delegate, a regex that does not compile) is left out whole rather than broadened.

import type {
  CorsPolicy,
  Destination,
  FaultInjection,
  L7StringMatch,
  Mirror,
  PathRewrite,
  Redirect,
  Rewrite,
  RouteAction,
  RouteMatch,
  RouteRule,
  WeightedDestination,
} from '@weft/mesh-model';

import type { KubeObject } from './kube-object';
import {
  asFiniteNumber,
  compact,
  durationMs,
  readHeaderOperations,
  readStringMatch,
  resolveHost,
  type L7Context,
  type L7Messages,
} from './translate-l7-common';
import { convertVirtualServiceRetries } from './translate-l7-retries';
import { asArray, asNumber, asRecord, asString, type PlainRecord } from './translate-types';

/** gRPC status names Istio accepts in `fault.abort.grpcStatus`, by code. */
const GRPC_STATUS = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE',
  'DATA_LOSS', 'UNAUTHENTICATED',
];

/** Where the translated routes go, and which subsets each destination host has (undefined: no DestinationRule). */
export interface RouteTarget {
  readonly context: L7Context;
  readonly messages: L7Messages;
  readonly subsetsOf: (host: string) => readonly string[] | undefined;
}

/** A destination host resolved the way Istio does, with the namespace of the Service it names ("" if unknown). */
export function destinationFor(host: string, namespace: string, port: number, subset: string, context: L7Context): Destination {
  const fqdn = resolveHost(host, namespace, context.settings.domainSuffix);
  return { host: fqdn, serviceNamespace: context.servicesByHost.get(fqdn)?.namespace ?? '', port, subset };
}

export function virtualServiceRoutes(vs: KubeObject, target: RouteTarget): RouteRule[] {
  const rules: RouteRule[] = [];
  asArray(asRecord(vs.spec)?.['http']).forEach((raw, i) => {
    const http = asRecord(raw);
    if (http === undefined) return;
    const rule = convertHttpRoute(vs, http, `spec.http[${i}]`, target);
    if (rule !== undefined) rules.push(rule);
  });
  for (const key of ['tcp', 'tls'] as const) {
    if (asArray(asRecord(vs.spec)?.[key]).length > 0) {
      target.messages.warn(vs, 'WARN_L7_VS_NON_HTTP_ROUTES', `${key} routes are not applied by a Weft waypoint, which routes HTTP only; matching traffic goes to the service unchanged`, `spec.${key}`);
    }
  }
  return rules;
}

function convertHttpRoute(vs: KubeObject, http: PlainRecord, field: string, target: RouteTarget): RouteRule | undefined {
  const { messages } = target;
  if (http['delegate'] !== undefined) {
    messages.warn(vs, 'WARN_L7_VS_DELEGATE', 'delegate VirtualServices are not supported by waypoints; this rule is left out', `${field}.delegate`);
    return undefined;
  }
  const rawMatches = asArray(http['match']);
  const matches: RouteMatch[] = [];
  for (const [j, raw] of rawMatches.entries()) {
    const match = convertMatch(vs, asRecord(raw) ?? {}, `${field}.match[${j}]`, messages);
    if (match === 'skip') continue;
    if (match === 'invalid') return undefined;
    matches.push(match);
  }
  // Every match was for someone else (a gateway, a source): the rule matches nothing at the waypoint.
  if (rawMatches.length > 0 && matches.length === 0) return undefined;
  const namespace = vs.metadata.namespace ?? '';
  const rewrite = convertRewrite(vs, asRecord(http['rewrite']), `${field}.rewrite`, messages);
  if (rewrite === 'invalid') return undefined;
  const fault = convertFault(vs, asRecord(http['fault']), `${field}.fault`, messages);
  let timeoutMs = durationMs(http['timeout']);
  let retries = convertVirtualServiceRetries(http['retries']);
  if (fault !== undefined) {
    // istio/api HTTPFaultInjection: "the route's timeouts and retries are not enabled" when a fault is configured.
    if (timeoutMs !== undefined || http['retries'] !== undefined) {
      messages.warn(vs, 'WARN_L7_VS_FAULT_DISABLES', 'a route with fault injection has its timeout and retries disabled, as in Istio', `${field}.fault`);
    }
    timeoutMs = undefined;
    retries = undefined;
  }
  return compact<RouteRule>({
    name: asString(http['name']) ?? '',
    matches,
    action: convertAction(vs, http, field, target, namespace),
    rewrite,
    timeoutMs,
    retries,
    fault,
    requestHeaders: readHeaderOperations(asRecord(http['headers'])?.['request']),
    responseHeaders: readHeaderOperations(asRecord(http['headers'])?.['response']),
    mirrors: convertMirrors(http, namespace, target.context),
    cors: convertCors(vs, asRecord(http['corsPolicy']), `${field}.corsPolicy`, messages),
  });
}

function convertMatch(vs: KubeObject, m: PlainRecord, field: string, messages: L7Messages): RouteMatch | 'skip' | 'invalid' {
  const gateways = asArray(m['gateways']).map(asString);
  if (gateways.length > 0 && !gateways.includes('mesh')) return 'skip';
  for (const key of ['sourceLabels', 'sourceNamespace', 'scheme'] as const) {
    if (m[key] !== undefined) {
      messages.warn(vs, 'WARN_L7_VS_MATCH_UNSUPPORTED', `match on ${key} is not supported by waypoints; this match is left out`, `${field}.${key}`);
      return 'skip';
    }
  }
  if (m['statPrefix'] !== undefined) messages.warn(vs, 'WARN_L7_VS_FIELD_IGNORED', 'statPrefix has no effect in a Weft waypoint', `${field}.statPrefix`);
  let invalid = false;
  const one = (key: string): L7StringMatch | undefined => {
    if (m[key] === undefined) return undefined;
    const read = readStringMatch(m[key]);
    if (read.ok) return read.match;
    messages.warn(vs, 'WARN_L7_REGEX_INVALID', `${read.problem}; the rule is left out`, `${field}.${key}`);
    invalid = true;
    return undefined;
  };
  const map = (key: string, lowerCase: boolean): Record<string, L7StringMatch> => {
    const out: Record<string, L7StringMatch> = {};
    for (const [name, value] of Object.entries(asRecord(m[key]) ?? {})) {
      const read = readStringMatch(value);
      if (read.ok) out[lowerCase ? name.toLowerCase() : name] = read.match;
      else {
        messages.warn(vs, 'WARN_L7_REGEX_INVALID', `${read.problem}; the rule is left out`, `${field}.${key}.${name}`);
        invalid = true;
      }
    }
    return out;
  };
  const match = compact<RouteMatch>({
    name: asString(m['name']) ?? '',
    uri: one('uri'),
    method: one('method'),
    authority: one('authority'),
    headers: map('headers', true),
    withoutHeaders: map('withoutHeaders', true),
    queryParams: map('queryParams', false),
    ignoreUriCase: m['ignoreUriCase'] === true,
    port: asNumber(m['port']) ?? 0,
  });
  return invalid ? 'invalid' : match;
}

function convertAction(vs: KubeObject, http: PlainRecord, field: string, target: RouteTarget, namespace: string): RouteAction | undefined {
  const redirect = asRecord(http['redirect']);
  if (redirect !== undefined) return { kind: 'redirect', ...convertRedirect(vs, redirect, `${field}.redirect`, target.messages) };
  const direct = asRecord(http['directResponse']);
  if (direct !== undefined) {
    const body = asRecord(direct['body']);
    const text = asString(body?.['string']);
    const bytes = asString(body?.['bytes']);
    return {
      kind: 'directResponse',
      status: asNumber(direct['status']) ?? 200,
      body: text !== undefined ? new TextEncoder().encode(text) : new Uint8Array(Buffer.from(bytes ?? '', 'base64')),
    };
  }
  const routes = asArray(http['route']).map(asRecord).filter((r): r is PlainRecord => r !== undefined);
  if (routes.length === 0) return undefined;
  const destinations = routes.map((route, k): WeightedDestination => {
    const d = asRecord(route['destination']) ?? {};
    const destination = destinationFor(asString(d['host']) ?? '', namespace, asNumber(asRecord(d['port'])?.['number']) ?? 0, asString(d['subset']) ?? '', target.context);
    checkSubset(vs, destination, `${field}.route[${k}].destination.subset`, target);
    const headers = asRecord(route['headers']);
    return compact<WeightedDestination>({
      destination,
      // A lone destination takes all traffic; Istio treats its unset weight as 100.
      weight: asNumber(route['weight']) ?? (routes.length === 1 ? 100 : 0),
      requestHeaders: readHeaderOperations(headers?.['request']),
      responseHeaders: readHeaderOperations(headers?.['response']),
    });
  });
  return { kind: 'forward', destinations };
}

export function checkSubset(object: KubeObject, destination: Destination, field: string, target: RouteTarget): void {
  if (destination.subset === '') return;
  const subsets = target.subsetsOf(destination.host);
  if (subsets?.includes(destination.subset) === true) return;
  const text = `subset ${JSON.stringify(destination.subset)} of ${destination.host} is not defined by any DestinationRule; requests routed to it fail with 503, as in Istio`;
  target.messages.warn(object, 'WARN_L7_SUBSET_NOT_FOUND', text, field);
}

function convertRedirect(vs: KubeObject, r: PlainRecord, field: string, messages: L7Messages): Redirect {
  if (r['derivePort'] !== undefined) {
    messages.warn(vs, 'WARN_L7_VS_FIELD_IGNORED', 'derivePort is not supported by Weft waypoints; the request port is kept', `${field}.derivePort`);
  }
  return {
    uri: asString(r['uri']) ?? '',
    authority: asString(r['authority']) ?? '',
    scheme: asString(r['scheme']) ?? '',
    port: asNumber(r['port']) ?? 0,
    // istio/api HTTPRedirect.redirect_code defaults to 301.
    responseCode: asNumber(r['redirectCode']) ?? 301,
  };
}

function convertRewrite(vs: KubeObject, r: PlainRecord | undefined, field: string, messages: L7Messages): Rewrite | undefined | 'invalid' {
  if (r === undefined) return undefined;
  const uri = asString(r['uri']);
  const regex = asRecord(r['uriRegexRewrite']);
  let path: PathRewrite | undefined;
  if (regex !== undefined) {
    const pattern = asString(regex['match']) ?? '';
    const read = readStringMatch({ regex: pattern });
    if (!read.ok) {
      messages.warn(vs, 'WARN_L7_REGEX_INVALID', `${read.problem}; the rule is left out`, `${field}.uriRegexRewrite.match`);
      return 'invalid';
    }
    path = { kind: 'regex', pattern, substitution: asString(regex['rewrite']) ?? '' };
  } else if (uri !== undefined) {
    // HTTPRewrite.uri replaces the matched prefix (the whole path for exact and regex matches).
    path = { kind: 'prefix', value: uri };
  }
  return compact<Rewrite>({ path, authority: asString(r['authority']) ?? '' });
}

function percentageOf(record: PlainRecord | undefined, deprecatedPercent: unknown): number | undefined {
  return asFiniteNumber(asRecord(record?.['percentage'])?.['value']) ?? asFiniteNumber(deprecatedPercent);
}

function convertFault(vs: KubeObject, f: PlainRecord | undefined, field: string, messages: L7Messages): FaultInjection | undefined {
  if (f === undefined) return undefined;
  let delay: FaultInjection['delay'];
  const d = asRecord(f['delay']);
  if (d !== undefined) {
    const fixedDelayMs = durationMs(d['fixedDelay']);
    if (fixedDelayMs === undefined) {
      messages.warn(vs, 'WARN_L7_VS_FIELD_IGNORED', 'only fixedDelay is supported (Istio does not implement exponentialDelay); no delay is injected', `${field}.delay`);
    } else {
      delay = { fixedDelayMs, percentage: percentageOf(d, d['percent']) ?? 0 };
    }
  }
  let abort: FaultInjection['abort'];
  const a = asRecord(f['abort']);
  if (a !== undefined) {
    const percentage = percentageOf(a, undefined) ?? 0;
    const http = asNumber(a['httpStatus']);
    const grpcName = asString(a['grpcStatus']);
    const grpc = grpcName === undefined ? -1 : /^\d+$/.test(grpcName) ? Number(grpcName) : GRPC_STATUS.indexOf(grpcName);
    if (http !== undefined) abort = { error: { kind: 'http', status: http }, percentage };
    else if (grpc >= 0 && grpc < GRPC_STATUS.length) abort = { error: { kind: 'grpc', status: grpc }, percentage };
    else messages.warn(vs, 'WARN_L7_VS_FIELD_IGNORED', 'only httpStatus and grpcStatus (a known gRPC status) aborts are supported; no abort is injected', `${field}.abort`);
  }
  for (const [part, value] of [['delay', delay], ['abort', abort]] as const) {
    if (value !== undefined && value.percentage === 0) {
      messages.warn(vs, 'WARN_L7_VS_FAULT_NO_PERCENTAGE', `the ${part} has no percentage, so Istio injects it into no request`, `${field}.${part}.percentage`);
    }
  }
  return delay === undefined && abort === undefined ? undefined : compact<FaultInjection>({ delay, abort });
}

function convertMirrors(http: PlainRecord, namespace: string, context: L7Context): Mirror[] {
  const mirror = (d: unknown, percentage: number | undefined): Mirror | undefined => {
    const dest = asRecord(d);
    const host = asString(dest?.['host']);
    if (dest === undefined || host === undefined) return undefined;
    const port = asNumber(asRecord(dest['port'])?.['number']) ?? 0;
    // Istio mirrors 100% when no percentage is given.
    return { destination: destinationFor(host, namespace, port, asString(dest['subset']) ?? '', context), percentage: percentage ?? 100 };
  };
  const out: Mirror[] = [];
  const single = mirror(http['mirror'], percentageOf({ percentage: http['mirrorPercentage'] }, http['mirrorPercent']));
  if (single !== undefined) out.push(single);
  for (const entry of asArray(http['mirrors'])) {
    const m = asRecord(entry);
    const converted = mirror(m?.['destination'], asFiniteNumber(asRecord(m?.['percentage'])?.['value']));
    if (converted !== undefined) out.push(converted);
  }
  return out;
}

function convertCors(vs: KubeObject, c: PlainRecord | undefined, field: string, messages: L7Messages): CorsPolicy | undefined {
  if (c === undefined) return undefined;
  const strings = (key: string): string[] => asArray(c[key]).map(asString).filter((v): v is string => v !== undefined);
  const allowOrigins: L7StringMatch[] = strings('allowOrigin').map((value) => ({ kind: 'exact', value }));
  for (const [i, raw] of asArray(c['allowOrigins']).entries()) {
    const read = readStringMatch(raw);
    if (read.ok) allowOrigins.push(read.match);
    else messages.warn(vs, 'WARN_L7_REGEX_INVALID', `${read.problem}; this origin is left out`, `${field}.allowOrigins[${i}]`);
  }
  if (c['unmatchedPreflights'] !== undefined) {
    messages.warn(vs, 'WARN_L7_VS_FIELD_IGNORED', 'unmatchedPreflights is not supported by Weft waypoints', `${field}.unmatchedPreflights`);
  }
  const credentials = c['allowCredentials'];
  return compact<CorsPolicy>({
    allowOrigins,
    allowMethods: strings('allowMethods'),
    allowHeaders: strings('allowHeaders'),
    exposeHeaders: strings('exposeHeaders'),
    maxAgeMs: durationMs(c['maxAge']),
    allowCredentials: typeof credentials === 'boolean' ? credentials : undefined,
  });
}
