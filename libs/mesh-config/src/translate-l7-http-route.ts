// Gateway API HTTPRoutes attached to a Service → the waypoint's RouteRules, after istiod's conversion.go (reference
// §7.3): one rule per match, ordered by Gateway API precedence across every route of the Service (exact path, longest
// prefix, method, most headers, most query params, then oldest route and rule order).

import type { CorsPolicy, HeaderOperations, L7StringMatch, Mirror, Redirect, Rewrite, RouteAction, RouteMatch, RouteRule, WeightedDestination } from '@weft/mesh-model';

import type { KubeObject } from './kube-object';
import { byAge, compact, durationMs, readStringMatch } from './translate-l7-common';
import { convertHttpRouteRetry, ISTIO_DEFAULT_RETRY_POLICY } from './translate-l7-retries';
import { destinationFor, type RouteTarget } from './translate-l7-virtual-service';
import { asArray, asNumber, asRecord, asString, type PlainRecord } from './translate-types';

/** One HTTPRoute attached to the Service, with the port its parentRef names (0 = every port). */
export interface AttachedRoute {
  readonly route: KubeObject;
  readonly port: number;
}

interface Ranked {
  readonly rule: RouteRule;
  readonly rank: readonly number[];
}

export function httpRouteRules(attached: readonly AttachedRoute[], target: RouteTarget): RouteRule[] {
  const ranked: Ranked[] = [];
  const ordered = [...attached].sort((a, b) => byAge(a.route, b.route));
  ordered.forEach(({ route, port }, routeIndex) => {
    if (asArray(asRecord(route.spec)?.['hostnames']).length > 0) {
      target.messages.warn(route, 'WARN_L7_HTTPROUTE_FIELD_IGNORED', 'hostnames are ignored for a Service parentRef (GAMMA)', 'spec.hostnames');
    }
    asArray(asRecord(route.spec)?.['rules']).forEach((raw, ruleIndex) => {
      const rule = asRecord(raw);
      if (rule === undefined) return;
      ranked.push(...convertRule(route, rule, `spec.rules[${ruleIndex}]`, port, target).map(({ rule: r, rank }) => ({ rule: r, rank: [...rank, routeIndex, ruleIndex] })));
    });
  });
  return ranked.sort((a, b) => compareRank(a.rank, b.rank)).map((r) => r.rule);
}

function compareRank(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Lower sorts first: exact (0), then prefix by length descending, then regex (implementation-specific, last). */
function precedence(path: PlainRecord | undefined, m: PlainRecord): number[] {
  const type = asString(path?.['type']) ?? 'PathPrefix';
  const value = asString(path?.['value']) ?? '/';
  const pathRank = type === 'Exact' ? [0, 0] : type === 'PathPrefix' ? [1, -value.length] : [2, 0];
  return [...pathRank, m['method'] === undefined ? 1 : 0, -asArray(m['headers']).length, -asArray(m['queryParams']).length];
}

function convertRule(route: KubeObject, rule: PlainRecord, field: string, port: number, target: RouteTarget): Ranked[] {
  const { messages } = target;
  for (const key of ['sessionPersistence'] as const) {
    if (rule[key] !== undefined) messages.warn(route, 'WARN_L7_HTTPROUTE_FIELD_IGNORED', `${key} is not supported by Weft waypoints`, `${field}.${key}`);
  }
  const filters = convertFilters(route, asArray(rule['filters']), `${field}.filters`, target);
  if (filters === 'invalid') return [];
  const timeouts = asRecord(rule['timeouts']);
  const requestMs = durationMs(timeouts?.['request']);
  const backendMs = durationMs(timeouts?.['backendRequest']);
  const explicitRetry = convertHttpRouteRetry(rule['retry'], backendMs);
  // §7.3: backendRequest is the per-try timeout when retries are set, else the route timeout.
  const timeoutMs = requestMs ?? (explicitRetry === undefined ? backendMs : undefined);
  const name = asString(rule['name']) ?? '';
  const base = compact<Omit<RouteRule, 'matches' | 'name'>>({
    action: filters.redirect !== undefined ? { kind: 'redirect', ...filters.redirect } : convertBackends(route, rule, field, target),
    rewrite: filters.rewrite,
    timeoutMs: timeoutMs === 0 ? undefined : timeoutMs,
    retries: rule['retry'] === undefined ? ISTIO_DEFAULT_RETRY_POLICY : explicitRetry,
    requestHeaders: filters.requestHeaders,
    responseHeaders: filters.responseHeaders,
    mirrors: filters.mirrors,
    cors: filters.cors,
  });
  const rawMatches = asArray(rule['matches']).map(asRecord).filter((m): m is PlainRecord => m !== undefined);
  // No matches: Gateway API's default match, path prefix "/".
  const matches = rawMatches.length > 0 ? rawMatches : [{}];
  const out: Ranked[] = [];
  matches.forEach((m, j) => {
    const converted = convertMatch(route, m, `${field}.matches[${j}]`, port, target);
    if (converted === undefined) return;
    out.push({ rule: { name, matches: converted, ...base }, rank: [...precedence(asRecord(m['path']), m), j] });
  });
  return out;
}

/**
 * One Gateway API match as RouteMatches. PathPrefix is segment-wise (`/foo` matches `/foo` and `/foo/x`, not
 * `/foobar`), so `/foo` becomes two ORed matches: exact `/foo` and prefix `/foo/`.
 */
function convertMatch(route: KubeObject, m: PlainRecord, field: string, port: number, target: RouteTarget): RouteMatch[] | undefined {
  const values = (key: string, lowerCase: boolean): Record<string, L7StringMatch> | undefined => {
    const out: Record<string, L7StringMatch> = {};
    for (const [k, raw] of asArray(m[key]).entries()) {
      const entry = asRecord(raw);
      const name = asString(entry?.['name']);
      const value = asString(entry?.['value']) ?? '';
      if (name === undefined) continue;
      const key2 = lowerCase ? name.toLowerCase() : name;
      if (out[key2] !== undefined) continue; // Gateway API: the first entry for a name wins.
      const read = readStringMatch(asString(entry?.['type']) === 'RegularExpression' ? { regex: value } : { exact: value });
      if (!read.ok) {
        target.messages.warn(route, 'WARN_L7_REGEX_INVALID', `${read.problem}; the rule is left out`, `${field}.${key}[${k}].value`);
        return undefined;
      }
      out[key2] = read.match;
    }
    return out;
  };
  const headers = values('headers', true);
  const queryParams = values('queryParams', false);
  if (headers === undefined || queryParams === undefined) return undefined;
  const method = asString(m['method']);
  const common = { name: '', headers, withoutHeaders: {}, queryParams, ignoreUriCase: false, port, ...(method === undefined ? {} : { method: { kind: 'exact', value: method } as const }) };
  const path = asRecord(m['path']);
  const type = asString(path?.['type']) ?? 'PathPrefix';
  const value = asString(path?.['value']) ?? '/';
  if (type === 'Exact') return [{ ...common, uri: { kind: 'exact', value } }];
  if (type === 'RegularExpression') {
    const read = readStringMatch({ regex: value });
    if (!read.ok) {
      target.messages.warn(route, 'WARN_L7_REGEX_INVALID', `${read.problem}; the rule is left out`, `${field}.path.value`);
      return undefined;
    }
    return [{ ...common, uri: read.match }];
  }
  const prefix = value.length > 1 ? value.replace(/\/+$/, '') : '/';
  if (prefix === '/' || prefix === '') return [{ ...common, uri: { kind: 'prefix', value: '/' } }];
  return [
    { ...common, uri: { kind: 'exact', value: prefix } },
    { ...common, uri: { kind: 'prefix', value: `${prefix}/` } },
  ];
}

interface Filters {
  readonly requestHeaders?: HeaderOperations;
  readonly responseHeaders?: HeaderOperations;
  readonly redirect?: Redirect;
  readonly rewrite?: Rewrite;
  readonly mirrors: Mirror[];
  readonly cors?: CorsPolicy;
}

/** `HTTPHeaderFilter{set: [{name, value}], add, remove}`. */
function headerFilter(value: unknown): HeaderOperations {
  const f = asRecord(value);
  const pairs = (key: string): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const raw of asArray(f?.[key])) {
      const name = asString(asRecord(raw)?.['name']);
      const v = asString(asRecord(raw)?.['value']);
      if (name !== undefined && name !== '' && v !== undefined) out[name.toLowerCase()] = v;
    }
    return out;
  };
  return { set: pairs('set'), add: pairs('add'), remove: asArray(f?.['remove']).map(asString).filter((v): v is string => v !== undefined) };
}

function convertFilters(route: KubeObject, list: readonly unknown[], field: string, target: RouteTarget): Filters | 'invalid' {
  const namespace = route.metadata.namespace ?? '';
  let out: Filters = { mirrors: [] };
  for (const [i, raw] of list.entries()) {
    const filter = asRecord(raw) ?? {};
    const path = `${field}[${i}]`;
    switch (asString(filter['type'])) {
      case 'RequestHeaderModifier':
        out = { ...out, requestHeaders: headerFilter(filter['requestHeaderModifier']) };
        break;
      case 'ResponseHeaderModifier':
        out = { ...out, responseHeaders: headerFilter(filter['responseHeaderModifier']) };
        break;
      case 'RequestRedirect': {
        const r = asRecord(filter['requestRedirect']) ?? {};
        const p = asRecord(r['path']);
        if (asString(p?.['type']) === 'ReplacePrefixMatch') {
          target.messages.warn(route, 'WARN_L7_HTTPROUTE_FIELD_IGNORED', 'a redirect with ReplacePrefixMatch cannot be expressed by a Weft waypoint; the rule is left out', `${path}.requestRedirect.path`);
          return 'invalid';
        }
        // Gateway API HTTPRequestRedirectFilter.statusCode defaults to 302.
        out = { ...out, redirect: { uri: asString(p?.['replaceFullPath']) ?? '', authority: asString(r['hostname']) ?? '', scheme: asString(r['scheme']) ?? '', port: asNumber(r['port']) ?? 0, responseCode: asNumber(r['statusCode']) ?? 302 } };
        break;
      }
      case 'URLRewrite': {
        const r = asRecord(filter['urlRewrite']) ?? {};
        const p = asRecord(r['path']);
        const full = asString(p?.['replaceFullPath']);
        const prefix = asString(p?.['replacePrefixMatch']);
        const rewritePath = full !== undefined ? { kind: 'fullPath' as const, value: full } : prefix !== undefined ? { kind: 'prefix' as const, value: prefix } : undefined;
        out = { ...out, rewrite: compact<Rewrite>({ path: rewritePath, authority: asString(r['hostname']) ?? '' }) };
        break;
      }
      case 'RequestMirror': {
        const m = asRecord(filter['requestMirror']) ?? {};
        const ref = asRecord(m['backendRef']) ?? {};
        const fraction = asRecord(m['fraction']);
        const numerator = asNumber(fraction?.['numerator']);
        const percentage = asNumber(m['percent']) ?? (numerator === undefined ? 100 : (100 * numerator) / (asNumber(fraction?.['denominator']) ?? 100));
        const destination = destinationFor(asString(ref['name']) ?? '', asString(ref['namespace']) ?? namespace, asNumber(ref['port']) ?? 0, '', target.context);
        out = { ...out, mirrors: [...out.mirrors, { destination, percentage }] };
        break;
      }
      case 'CORS':
        out = { ...out, cors: convertCors(asRecord(filter['cors']) ?? {}) };
        break;
      default:
        target.messages.warn(route, 'WARN_L7_HTTPROUTE_FILTER_UNSUPPORTED', `filter type ${JSON.stringify(filter['type'])} is not supported by waypoints (istiod: unsupported filter type); the rule is left out`, `${path}.type`);
        return 'invalid';
    }
  }
  return out;
}

/** Gateway API CORS origins may hold `*` wildcards; those become a regex, the rest exact matches. */
function convertCors(c: PlainRecord): CorsPolicy {
  const strings = (key: string): string[] => asArray(c[key]).map(asString).filter((v): v is string => v !== undefined);
  const allowOrigins = strings('allowOrigins').map((origin): L7StringMatch =>
    origin.includes('*') ? { kind: 'regex', value: origin.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') } : { kind: 'exact', value: origin },
  );
  const maxAge = asNumber(c['maxAge']);
  const credentials = c['allowCredentials'];
  return compact<CorsPolicy>({
    allowOrigins,
    allowMethods: strings('allowMethods'),
    allowHeaders: strings('allowHeaders'),
    exposeHeaders: strings('exposeHeaders'),
    maxAgeMs: maxAge === undefined ? undefined : maxAge * 1000,
    allowCredentials: typeof credentials === 'boolean' ? credentials : undefined,
  });
}

/** Weighted backendRefs to Services (weight default 1); all weights 0, or none at all, leaves no action: a 500. */
function convertBackends(route: KubeObject, rule: PlainRecord, field: string, target: RouteTarget): RouteAction | undefined {
  const namespace = route.metadata.namespace ?? '';
  const destinations: WeightedDestination[] = [];
  for (const [k, raw] of asArray(rule['backendRefs']).entries()) {
    const ref = asRecord(raw) ?? {};
    const path = `${field}.backendRefs[${k}]`;
    const group = asString(ref['group']) ?? '';
    const kind = asString(ref['kind']) ?? 'Service';
    const name = asString(ref['name']) ?? '';
    const refNamespace = asString(ref['namespace']) ?? namespace;
    let host: string | undefined;
    if ((group === '' || group === 'core') && kind === 'Service') host = `${name}.${refNamespace}.svc.${target.context.settings.domainSuffix}`;
    else if (group === 'networking.istio.io' && kind === 'Hostname') host = name;
    if (host === undefined || name === '') {
      target.messages.warn(route, 'WARN_L7_HTTPROUTE_BACKEND_UNSUPPORTED', `backendRef kind ${group}/${kind} is not supported (Service, or networking.istio.io Hostname); its share of traffic is dropped`, `${path}.kind`);
      continue;
    }
    if (kind === 'Service' && !target.context.servicesByHost.has(host)) {
      const text = `Service ${refNamespace}/${name} does not exist; Gateway API answers its share of requests with 500, a Weft waypoint fails to connect instead`;
      target.messages.warn(route, 'WARN_L7_HTTPROUTE_BACKEND_NOT_FOUND', text, `${path}.name`);
    }
    if (refNamespace !== namespace) {
      target.messages.warn(route, 'WARN_L7_HTTPROUTE_CROSS_NAMESPACE', `backendRef to namespace ${refNamespace} needs a ReferenceGrant there, which is not checked here`, `${path}.namespace`);
    }
    let requestHeaders: HeaderOperations | undefined;
    let responseHeaders: HeaderOperations | undefined;
    for (const [f, rawFilter] of asArray(ref['filters']).entries()) {
      const filter = asRecord(rawFilter) ?? {};
      const type = asString(filter['type']);
      if (type === 'RequestHeaderModifier') requestHeaders = headerFilter(filter['requestHeaderModifier']);
      else if (type === 'ResponseHeaderModifier') responseHeaders = headerFilter(filter['responseHeaderModifier']);
      else target.messages.warn(route, 'WARN_L7_HTTPROUTE_FILTER_UNSUPPORTED', `backendRef filter ${JSON.stringify(type)} is not supported by Weft waypoints; it is ignored`, `${path}.filters[${f}].type`);
    }
    const destination = destinationFor(host, refNamespace, asNumber(ref['port']) ?? 0, '', target.context);
    destinations.push(compact<WeightedDestination>({ destination, weight: asNumber(ref['weight']) ?? 1, requestHeaders, responseHeaders }));
  }
  if (destinations.every((d) => d.weight === 0)) return undefined;
  return { kind: 'forward', destinations: destinations.filter((d) => d.weight > 0) };
}

export function isServiceParent(parent: PlainRecord): boolean {
  const group = asString(parent['group']);
  return asString(parent['kind']) === 'Service' && (group === '' || group === 'core');
}

/**
 * The Service and ServiceEntry parents of an HTTPRoute, with the parentRef port. A `kind: Service` without `group` is
 * returned as kind `Service(no group)`: the API server defaults that group to gateway.networking.k8s.io.
 */
export function routeParents(route: KubeObject): { namespace: string; name: string; kind: string; port: number; field: string }[] {
  const out: { namespace: string; name: string; kind: string; port: number; field: string }[] = [];
  asArray(asRecord(route.spec)?.['parentRefs']).forEach((raw, i) => {
    const parent = asRecord(raw);
    if (parent === undefined) return;
    const kind = asString(parent['kind']) ?? 'Gateway';
    const group = asString(parent['group']);
    const serviceEntry = kind === 'ServiceEntry' && group === 'networking.istio.io';
    if (!isServiceParent(parent) && !serviceEntry && !(kind === 'Service' && group === undefined)) return;
    out.push({
      namespace: asString(parent['namespace']) ?? route.metadata.namespace ?? '',
      name: asString(parent['name']) ?? '',
      kind: group === undefined && kind === 'Service' ? 'Service(no group)' : kind,
      port: asNumber(parent['port']) ?? 0,
      field: `spec.parentRefs[${i}]`,
    });
  });
  return out;
}
