// weft.l7.v1 RouteRule (route.proto) ⇄ the domain RouteRule. Decoding refuses what the waypoint could not execute
// as written — a regex that does not compile, a forward whose weights sum to 0, a status code HTTP lacks — so the
// NACK names it and the previous version of the service stays in force.

import type {
  CorsPolicy,
  Destination,
  FaultInjection,
  Mirror,
  PathRewrite,
  RetryPolicy,
  Rewrite,
  RouteAction,
  RouteMatch,
  RouteRule,
  WeightedDestination,
} from '@weft/mesh-model';
import type {
  CorsPolicy as WireCors,
  Destination as WireDestination,
  FaultInjection as WireFault,
  Mirror as WireMirror,
  RetryPolicy as WireRetry,
  Rewrite as WireRewrite,
  RouteMatch as WireMatch,
  RouteRule as WireRouteRule,
  WeightedDestination as WireWeighted,
} from './generated/weft/l7/v1/route';
import {
  checkRegex,
  compact,
  decodeDuration,
  decodeHeaderOperations,
  decodeL7StringMatch,
  decodeOptionalDuration,
  decodePercentage,
  decodeStringMatchMap,
  encodeDuration,
  encodeHeaderOperations,
  encodeL7StringMatch,
  encodeOptionalDuration,
  encodeStringMatchMap,
  inRange,
  nonEmpty,
} from './l7-codec';
import { decodePortNumber, invalid } from './xds-result';

/** gRPC status codes are 0 (OK) to 16 (UNAUTHENTICATED). */
const MAX_GRPC_STATUS = 16;

export function decodeRouteRule(wire: WireRouteRule, path: string): RouteRule {
  return compact<RouteRule>({
    name: wire.name,
    matches: wire.matches.map((m, i) => decodeMatch(m, `${path}.matches[${i}]`)),
    action: decodeAction(wire.action, `${path}.action`),
    rewrite: wire.rewrite === undefined ? undefined : decodeRewrite(wire.rewrite, `${path}.rewrite`),
    timeoutMs: decodeOptionalDuration(wire.timeout, `${path}.timeout`),
    retries: wire.retries === undefined ? undefined : decodeRetries(wire.retries, `${path}.retries`),
    fault: wire.fault === undefined ? undefined : decodeFault(wire.fault, `${path}.fault`),
    requestHeaders: decodeHeaderOperations(wire.requestHeaders, `${path}.request_headers`),
    responseHeaders: decodeHeaderOperations(wire.responseHeaders, `${path}.response_headers`),
    mirrors: wire.mirrors.map((m, i) => decodeMirror(m, `${path}.mirrors[${i}]`)),
    cors: wire.cors === undefined ? undefined : decodeCors(wire.cors, `${path}.cors`),
  });
}

export function encodeRouteRule(rule: RouteRule, path: string): WireRouteRule {
  return {
    name: rule.name,
    matches: rule.matches.map(encodeMatch),
    action: encodeAction(rule.action),
    rewrite: rule.rewrite === undefined ? undefined : encodeRewrite(rule.rewrite),
    timeout: encodeOptionalDuration(rule.timeoutMs, `${path}.timeout`),
    retries: rule.retries === undefined ? undefined : encodeRetries(rule.retries, `${path}.retries`),
    fault: rule.fault === undefined ? undefined : encodeFault(rule.fault, `${path}.fault`),
    requestHeaders: encodeHeaderOperations(rule.requestHeaders),
    responseHeaders: encodeHeaderOperations(rule.responseHeaders),
    mirrors: rule.mirrors.map((m) => ({ destination: encodeDestination(m.destination), percentage: m.percentage })),
    cors: rule.cors === undefined ? undefined : encodeCors(rule.cors, `${path}.cors`),
  };
}

function decodeMatch(wire: WireMatch, path: string): RouteMatch {
  return compact<RouteMatch>({
    name: wire.name,
    uri: wire.uri === undefined ? undefined : decodeL7StringMatch(wire.uri, `${path}.uri`),
    method: wire.method === undefined ? undefined : decodeL7StringMatch(wire.method, `${path}.method`),
    authority: wire.authority === undefined ? undefined : decodeL7StringMatch(wire.authority, `${path}.authority`),
    headers: decodeStringMatchMap(wire.headers, `${path}.headers`),
    withoutHeaders: decodeStringMatchMap(wire.withoutHeaders, `${path}.without_headers`),
    queryParams: decodeStringMatchMap(wire.queryParams, `${path}.query_params`),
    ignoreUriCase: wire.ignoreUriCase,
    port: decodePortNumber(wire.port, `${path}.port`),
  });
}

function encodeMatch(m: RouteMatch): WireMatch {
  return {
    name: m.name,
    uri: m.uri === undefined ? undefined : encodeL7StringMatch(m.uri),
    method: m.method === undefined ? undefined : encodeL7StringMatch(m.method),
    authority: m.authority === undefined ? undefined : encodeL7StringMatch(m.authority),
    headers: encodeStringMatchMap(m.headers),
    withoutHeaders: encodeStringMatchMap(m.withoutHeaders),
    queryParams: encodeStringMatchMap(m.queryParams),
    ignoreUriCase: m.ignoreUriCase,
    port: m.port,
  };
}

function decodeAction(wire: WireRouteRule['action'], path: string): RouteAction | undefined {
  switch (wire?.$case) {
    case undefined:
      return undefined;
    case 'forward': {
      const field = `${path}.forward.destinations`;
      const destinations = wire.value.destinations.map((d, i) => decodeWeighted(d, `${field}[${i}]`));
      if (destinations.length === 0) invalid(field, 'a forward needs at least one destination (leave the action unset for a 500)');
      if (destinations.length > 1 && destinations.every((d) => d.weight === 0)) {
        invalid(field, 'the weights of several destinations sum to 0 (leave the action unset for a 500)');
      }
      return { kind: 'forward', destinations };
    }
    case 'redirect': {
      const r = wire.value;
      const field = `${path}.redirect`;
      return {
        kind: 'redirect',
        uri: r.uri,
        authority: r.authority,
        scheme: r.scheme,
        port: decodePortNumber(r.port, `${field}.port`),
        responseCode: inRange(r.responseCode, `${field}.response_code`, 300, 399, 'redirect status'),
      };
    }
    case 'directResponse':
      return {
        kind: 'directResponse',
        status: inRange(wire.value.status, `${path}.direct_response.status`, 200, 599, 'HTTP status'),
        body: new Uint8Array(wire.value.body),
      };
  }
}

function encodeAction(action: RouteAction | undefined): WireRouteRule['action'] {
  switch (action?.kind) {
    case undefined:
      return undefined;
    case 'forward':
      return { $case: 'forward', value: { destinations: action.destinations.map(encodeWeighted) } };
    case 'redirect': {
      const { uri, authority, scheme, port, responseCode } = action;
      return { $case: 'redirect', value: { uri, authority, scheme, port, responseCode } };
    }
    case 'directResponse':
      return { $case: 'directResponse', value: { status: action.status, body: Buffer.from(action.body) } };
  }
}

function decodeDestination(wire: WireDestination | undefined, path: string): Destination {
  if (wire === undefined) return invalid(path, 'destination is required');
  return {
    host: nonEmpty(wire.host, `${path}.host`, 'host'),
    serviceNamespace: wire.serviceNamespace,
    port: decodePortNumber(wire.port, `${path}.port`),
    subset: wire.subset,
  };
}

function encodeDestination(d: Destination): WireDestination {
  return { host: d.host, serviceNamespace: d.serviceNamespace, port: d.port, subset: d.subset };
}

function decodeWeighted(wire: WireWeighted, path: string): WeightedDestination {
  return compact<WeightedDestination>({
    destination: decodeDestination(wire.destination, `${path}.destination`),
    weight: wire.weight,
    requestHeaders: decodeHeaderOperations(wire.requestHeaders, `${path}.request_headers`),
    responseHeaders: decodeHeaderOperations(wire.responseHeaders, `${path}.response_headers`),
  });
}

function encodeWeighted(d: WeightedDestination): WireWeighted {
  return {
    destination: encodeDestination(d.destination),
    weight: d.weight,
    requestHeaders: encodeHeaderOperations(d.requestHeaders),
    responseHeaders: encodeHeaderOperations(d.responseHeaders),
  };
}

function decodeRewrite(wire: WireRewrite, path: string): Rewrite {
  const p = wire.path;
  let rewrite: PathRewrite | undefined;
  switch (p?.$case) {
    case undefined:
      break;
    case 'prefixReplacement':
      rewrite = { kind: 'prefix', value: p.value };
      break;
    case 'fullPath':
      rewrite = { kind: 'fullPath', value: p.value };
      break;
    case 'regex':
      rewrite = { kind: 'regex', pattern: checkRegex(p.value.pattern, `${path}.regex.pattern`), substitution: p.value.substitution };
      break;
  }
  return compact<Rewrite>({ path: rewrite, authority: wire.authority });
}

function encodeRewrite(r: Rewrite): WireRewrite {
  const p = r.path;
  let path: WireRewrite['path'];
  if (p?.kind === 'prefix') path = { $case: 'prefixReplacement', value: p.value };
  else if (p?.kind === 'fullPath') path = { $case: 'fullPath', value: p.value };
  else if (p?.kind === 'regex') path = { $case: 'regex', value: { pattern: p.pattern, substitution: p.substitution } };
  return { path, authority: r.authority };
}

function decodeRetries(wire: WireRetry, path: string): RetryPolicy {
  return compact<RetryPolicy>({
    attempts: wire.attempts,
    perTryTimeoutMs: decodeOptionalDuration(wire.perTryTimeout, `${path}.per_try_timeout`),
    retryOn: wire.retryOn.map((token, i) => nonEmpty(token, `${path}.retry_on[${i}]`, 'a retry_on token')),
    retriableStatusCodes: wire.retriableStatusCodes.map((c, i) => inRange(c, `${path}.retriable_status_codes[${i}]`, 100, 599, 'HTTP status')),
    backoffBaseIntervalMs: decodeOptionalDuration(wire.backoffBaseInterval, `${path}.backoff_base_interval`),
    retryRemoteLocalities: wire.retryRemoteLocalities,
    ignorePreviousHosts: wire.ignorePreviousHosts,
    hostSelectionRetryMaxAttempts: wire.hostSelectionRetryMaxAttempts,
    isDefault: wire.isDefault,
  });
}

function encodeRetries(r: RetryPolicy, path: string): WireRetry {
  return {
    attempts: r.attempts,
    perTryTimeout: encodeOptionalDuration(r.perTryTimeoutMs, `${path}.per_try_timeout`),
    retryOn: [...r.retryOn],
    retriableStatusCodes: [...r.retriableStatusCodes],
    backoffBaseInterval: encodeOptionalDuration(r.backoffBaseIntervalMs, `${path}.backoff_base_interval`),
    retryRemoteLocalities: r.retryRemoteLocalities,
    ignorePreviousHosts: r.ignorePreviousHosts,
    hostSelectionRetryMaxAttempts: r.hostSelectionRetryMaxAttempts,
    isDefault: r.isDefault,
  };
}

function decodeFault(wire: WireFault, path: string): FaultInjection {
  const { delay, abort } = wire;
  let decodedAbort: FaultInjection['abort'];
  if (abort !== undefined) {
    const error = abort.error;
    const percentage = decodePercentage(abort.percentage, `${path}.abort.percentage`);
    if (error?.$case === 'httpStatus') {
      decodedAbort = { error: { kind: 'http', status: inRange(error.value, `${path}.abort.http_status`, 200, 599, 'HTTP status') }, percentage };
    } else if (error?.$case === 'grpcStatus') {
      decodedAbort = { error: { kind: 'grpc', status: inRange(error.value, `${path}.abort.grpc_status`, 0, MAX_GRPC_STATUS, 'gRPC status') }, percentage };
    } else {
      invalid(`${path}.abort.error`, 'neither http_status nor grpc_status is set');
    }
  }
  let decodedDelay: FaultInjection['delay'];
  if (delay !== undefined) {
    if (delay.fixedDelay === undefined) invalid(`${path}.delay.fixed_delay`, 'a delay needs fixed_delay');
    decodedDelay = {
      fixedDelayMs: decodeDuration(delay.fixedDelay, `${path}.delay.fixed_delay`),
      percentage: decodePercentage(delay.percentage, `${path}.delay.percentage`),
    };
  }
  return compact<FaultInjection>({ delay: decodedDelay, abort: decodedAbort });
}

function encodeFault(f: FaultInjection, path: string): WireFault {
  const delay = f.delay === undefined
    ? undefined
    : { fixedDelay: encodeDuration(f.delay.fixedDelayMs, `${path}.delay.fixed_delay`), percentage: f.delay.percentage };
  const error = f.abort?.error;
  const abort = f.abort === undefined || error === undefined
    ? undefined
    : {
        error: error.kind === 'http' ? { $case: 'httpStatus' as const, value: error.status } : { $case: 'grpcStatus' as const, value: error.status },
        percentage: f.abort.percentage,
      };
  return { delay, abort };
}

function decodeMirror(wire: WireMirror, path: string): Mirror {
  return {
    destination: decodeDestination(wire.destination, `${path}.destination`),
    percentage: decodePercentage(wire.percentage, `${path}.percentage`),
  };
}

function decodeCors(wire: WireCors, path: string): CorsPolicy {
  return compact<CorsPolicy>({
    allowOrigins: wire.allowOrigins.map((o, i) => decodeL7StringMatch(o, `${path}.allow_origins[${i}]`)),
    allowMethods: [...wire.allowMethods],
    allowHeaders: [...wire.allowHeaders],
    exposeHeaders: [...wire.exposeHeaders],
    maxAgeMs: decodeOptionalDuration(wire.maxAge, `${path}.max_age`),
    allowCredentials: wire.allowCredentials,
  });
}

function encodeCors(c: CorsPolicy, path: string): WireCors {
  return {
    allowOrigins: c.allowOrigins.map(encodeL7StringMatch),
    allowMethods: [...c.allowMethods],
    allowHeaders: [...c.allowHeaders],
    exposeHeaders: [...c.exposeHeaders],
    maxAge: encodeOptionalDuration(c.maxAgeMs, `${path}.max_age`),
    allowCredentials: c.allowCredentials,
  };
}
