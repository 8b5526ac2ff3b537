// DestinationRule → the waypoint's TrafficPolicy and Subsets (reference §7.3, §7.4): load balancer, connection pool,
// outlier detection, port-level overrides and subsets. Settings a Weft waypoint does not apply (tls, keepalive,
// locality, warmup, h2 upgrade …) are reported and left out.

import type { ConnectionPool, ConsistentHashKey, LoadBalancer, LoadBalancerSimple, OutlierDetection, PortTrafficPolicy, Subset, TrafficPolicy } from '@weft/mesh-model';

import type { KubeObject } from './kube-object';
import { compact, durationMs, type L7Messages } from './translate-l7-common';
import { asArray, asNumber, asRecord, asString, asStringMap, compareStrings, selectorMatches, type PlainRecord } from './translate-types';

const SIMPLE: Readonly<Record<string, LoadBalancerSimple>> = {
  UNSPECIFIED: 'LEAST_REQUEST',
  LEAST_REQUEST: 'LEAST_REQUEST',
  // Deprecated alias istiod maps to LEAST_REQUEST.
  LEAST_CONN: 'LEAST_REQUEST',
  ROUND_ROBIN: 'ROUND_ROBIN',
  RANDOM: 'RANDOM',
  PASSTHROUGH: 'PASSTHROUGH',
};

export interface DestinationRuleTranslation {
  readonly trafficPolicy?: TrafficPolicy;
  readonly subsets: readonly Subset[];
}

/** One endpoint of the service: its WDS Workload uid and the labels subsets select it by. */
export interface SubsetEndpoint {
  readonly uid: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** The uids of the endpoints whose labels contain all of the subset's (all of them for empty labels), sorted. */
export function subsetWorkloadUids(labels: Readonly<Record<string, string>>, endpoints: readonly SubsetEndpoint[]): string[] {
  const uids = new Set(endpoints.filter((e) => selectorMatches(labels, e.labels)).map((e) => e.uid));
  return [...uids].sort(compareStrings);
}

/** `endpoints` are the service's: each subset lists the uids of those its labels select. */
export function translateDestinationRule(dr: KubeObject, messages: L7Messages, endpoints: readonly SubsetEndpoint[]): DestinationRuleTranslation {
  const spec = asRecord(dr.spec) ?? {};
  const trafficPolicy = convertPolicy(dr, asRecord(spec['trafficPolicy']), 'spec.trafficPolicy', messages, true);
  const subsets: Subset[] = [];
  const names = new Set<string>();
  asArray(spec['subsets']).forEach((raw, i) => {
    const s = asRecord(raw);
    const name = asString(s?.['name']) ?? '';
    if (s === undefined || name === '' || names.has(name)) return;
    names.add(name);
    const policy = convertPolicy(dr, asRecord(s['trafficPolicy']), `spec.subsets[${i}].trafficPolicy`, messages, true);
    const labels = asStringMap(s['labels']);
    subsets.push(compact<Subset>({ name, labels, trafficPolicy: policy, workloadUids: subsetWorkloadUids(labels, endpoints) }));
  });
  return compact<DestinationRuleTranslation>({ trafficPolicy, subsets });
}

const IGNORED_POLICY_FIELDS: readonly [string, string][] = [
  ['tls', 'upstream traffic from a waypoint is always HBONE mTLS'],
  ['tunnel', 'waypoints do not tunnel upstream traffic this way'],
  ['proxyProtocol', 'waypoints do not send PROXY protocol upstream'],
  ['retryBudget', 'retry budgets are not implemented'],
];

function convertPolicy(dr: KubeObject, p: PlainRecord | undefined, field: string, messages: L7Messages, portLevel: boolean): TrafficPolicy | undefined {
  if (p === undefined) return undefined;
  for (const [key, why] of IGNORED_POLICY_FIELDS) {
    if (p[key] !== undefined) messages.warn(dr, 'WARN_L7_DR_FIELD_IGNORED', `${key} is not applied by a Weft waypoint: ${why}`, `${field}.${key}`);
  }
  const portSettings: PortTrafficPolicy[] = [];
  if (portLevel) {
    asArray(p['portLevelSettings']).forEach((raw, i) => {
      const s = asRecord(raw);
      const port = asNumber(asRecord(s?.['port'])?.['number']);
      if (s === undefined || port === undefined || portSettings.some((x) => x.port === port)) return;
      const path = `${field}.portLevelSettings[${i}]`;
      for (const [key, why] of IGNORED_POLICY_FIELDS) {
        if (s[key] !== undefined) messages.warn(dr, 'WARN_L7_DR_FIELD_IGNORED', `${key} is not applied by a Weft waypoint: ${why}`, `${path}.${key}`);
      }
      portSettings.push(
        compact<PortTrafficPolicy>({
          port,
          loadBalancer: convertLoadBalancer(dr, asRecord(s['loadBalancer']), `${path}.loadBalancer`, messages),
          connectionPool: convertPool(dr, asRecord(s['connectionPool']), `${path}.connectionPool`, messages),
          outlierDetection: convertOutlier(asRecord(s['outlierDetection'])),
        }),
      );
    });
  }
  return compact<TrafficPolicy>({
    loadBalancer: convertLoadBalancer(dr, asRecord(p['loadBalancer']), `${field}.loadBalancer`, messages),
    connectionPool: convertPool(dr, asRecord(p['connectionPool']), `${field}.connectionPool`, messages),
    outlierDetection: convertOutlier(asRecord(p['outlierDetection'])),
    portLevel: portSettings,
  });
}

function convertLoadBalancer(dr: KubeObject, lb: PlainRecord | undefined, field: string, messages: L7Messages): LoadBalancer | undefined {
  if (lb === undefined) return undefined;
  for (const key of ['localityLbSetting', 'warmupDurationSecs', 'warmup'] as const) {
    if (lb[key] !== undefined) messages.warn(dr, 'WARN_L7_DR_FIELD_IGNORED', `${key} is not applied by a Weft waypoint`, `${field}.${key}`);
  }
  const hash = asRecord(lb['consistentHash']);
  if (hash !== undefined) {
    const key = convertHashKey(hash);
    if (key === undefined) {
      messages.warn(dr, 'WARN_L7_DR_FIELD_IGNORED', 'consistentHash names no hash key (httpHeaderName, httpCookie, useSourceIp, httpQueryParameterName); the default load balancer is used', `${field}.consistentHash`);
      return undefined;
    }
    if (hash['maglev'] !== undefined) {
      messages.warn(dr, 'WARN_L7_DR_FIELD_IGNORED', 'maglev is not implemented; a ring hash is used with the same key', `${field}.consistentHash.maglev`);
    }
    const ring = asNumber(asRecord(hash['ringHash'])?.['minimumRingSize']) ?? asNumber(hash['minimumRingSize']) ?? 0;
    return { kind: 'consistentHash', hashKey: key, minimumRingSize: ring };
  }
  const simple = asString(lb['simple']);
  return simple === undefined ? undefined : { kind: 'simple', simple: SIMPLE[simple] ?? 'LEAST_REQUEST' };
}

function convertHashKey(hash: PlainRecord): ConsistentHashKey | undefined {
  const header = asString(hash['httpHeaderName']);
  if (header !== undefined && header !== '') return { kind: 'httpHeaderName', name: header };
  const cookie = asRecord(hash['httpCookie']);
  const cookieName = asString(cookie?.['name']);
  if (cookie !== undefined && cookieName !== undefined && cookieName !== '') {
    return compact<ConsistentHashKey>({ kind: 'httpCookie', name: cookieName, path: asString(cookie['path']) ?? '', ttlMs: durationMs(cookie['ttl']) });
  }
  if (hash['useSourceIp'] === true) return { kind: 'useSourceIp' };
  const query = asString(hash['httpQueryParameterName']);
  if (query !== undefined && query !== '') return { kind: 'httpQueryParameterName', name: query };
  return undefined;
}

function convertPool(dr: KubeObject, pool: PlainRecord | undefined, field: string, messages: L7Messages): ConnectionPool | undefined {
  if (pool === undefined) return undefined;
  const tcp = asRecord(pool['tcp']);
  const http = asRecord(pool['http']);
  if (tcp?.['tcpKeepalive'] !== undefined) {
    messages.warn(dr, 'WARN_L7_DR_FIELD_IGNORED', 'tcpKeepalive is not applied by a Weft waypoint', `${field}.tcp.tcpKeepalive`);
  }
  for (const key of ['h2UpgradePolicy', 'useClientProtocol', 'http2KeepAlive'] as const) {
    if (http?.[key] !== undefined) messages.warn(dr, 'WARN_L7_DR_FIELD_IGNORED', `${key} is not applied by a Weft waypoint`, `${field}.http.${key}`);
  }
  return compact<ConnectionPool>({
    tcp: tcp === undefined
      ? undefined
      : compact({
          maxConnections: asNumber(tcp['maxConnections']) ?? 0,
          connectTimeoutMs: durationMs(tcp['connectTimeout']),
          idleTimeoutMs: durationMs(tcp['idleTimeout']),
          maxConnectionDurationMs: durationMs(tcp['maxConnectionDuration']),
        }),
    http: http === undefined
      ? undefined
      : compact({
          http1MaxPendingRequests: asNumber(http['http1MaxPendingRequests']) ?? 0,
          http2MaxRequests: asNumber(http['http2MaxRequests']) ?? 0,
          maxRequestsPerConnection: asNumber(http['maxRequestsPerConnection']) ?? 0,
          maxRetries: asNumber(http['maxRetries']) ?? 0,
          idleTimeoutMs: durationMs(http['idleTimeout']),
          maxConcurrentStreams: asNumber(http['maxConcurrentStreams']) ?? 0,
        }),
  });
}

function convertOutlier(od: PlainRecord | undefined): OutlierDetection | undefined {
  if (od === undefined) return undefined;
  return compact<OutlierDetection>({
    // The deprecated consecutiveErrors counted 5xx responses too; the new field wins when both are set.
    consecutive5xxErrors: asNumber(od['consecutive5xxErrors']) ?? asNumber(od['consecutiveErrors']),
    consecutiveGatewayErrors: asNumber(od['consecutiveGatewayErrors']),
    intervalMs: durationMs(od['interval']),
    baseEjectionTimeMs: durationMs(od['baseEjectionTime']),
    maxEjectionPercent: asNumber(od['maxEjectionPercent']) ?? 0,
    minHealthPercent: asNumber(od['minHealthPercent']) ?? 0,
    splitExternalLocalOriginErrors: od['splitExternalLocalOriginErrors'] === true,
    consecutiveLocalOriginFailures: asNumber(od['consecutiveLocalOriginFailures']),
  });
}
