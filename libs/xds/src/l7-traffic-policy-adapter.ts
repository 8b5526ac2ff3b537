// weft.l7.v1 TrafficPolicy and Subset (traffic_policy.proto) ⇄ the domain DestinationRule policy. A LoadBalancer or
// ConsistentHash with no case set is refused rather than defaulted: the translator always sets one, so an empty one
// means a producer bug the NACK should surface.

import type {
  ConnectionPool,
  ConsistentHashKey,
  LoadBalancer,
  LoadBalancerSimple,
  OutlierDetection,
  PortTrafficPolicy,
  Subset,
  TrafficPolicy,
} from '@weft/mesh-model';
import {
  LoadBalancer_Simple as WireSimple,
  type ConnectionPool as WirePool,
  type ConsistentHash as WireHash,
  type LoadBalancer as WireLoadBalancer,
  type OutlierDetection as WireOutlier,
  type PortTrafficPolicy as WirePortPolicy,
  type Subset as WireSubset,
  type TrafficPolicy as WireTrafficPolicy,
} from './generated/weft/l7/v1/traffic_policy';
import { compact, decodeOptionalDuration, encodeOptionalDuration, inRange, nonEmpty } from './l7-codec';
import { decodePortNumber, enumCodec, invalid } from './xds-result';

const simple = enumCodec<LoadBalancerSimple, WireSimple>('weft.l7.v1.LoadBalancer.Simple', {
  LEAST_REQUEST: WireSimple.SIMPLE_LEAST_REQUEST,
  ROUND_ROBIN: WireSimple.SIMPLE_ROUND_ROBIN,
  RANDOM: WireSimple.SIMPLE_RANDOM,
  PASSTHROUGH: WireSimple.SIMPLE_PASSTHROUGH,
});

export function decodeTrafficPolicy(wire: WireTrafficPolicy, path: string): TrafficPolicy {
  const seen = new Set<number>();
  const portLevel = wire.portLevel.map((p, i) => {
    const decoded = decodePortPolicy(p, `${path}.port_level[${i}]`);
    if (seen.has(decoded.port)) invalid(`${path}.port_level[${i}].port`, `port ${decoded.port} has two port-level policies`);
    seen.add(decoded.port);
    return decoded;
  });
  return compact<TrafficPolicy>({
    loadBalancer: decodeLoadBalancer(wire.loadBalancer, `${path}.load_balancer`),
    connectionPool: decodePool(wire.connectionPool, `${path}.connection_pool`),
    outlierDetection: decodeOutlier(wire.outlierDetection, `${path}.outlier_detection`),
    portLevel,
  });
}

export function encodeTrafficPolicy(policy: TrafficPolicy, path: string): WireTrafficPolicy {
  return {
    loadBalancer: encodeLoadBalancer(policy.loadBalancer, `${path}.load_balancer`),
    connectionPool: encodePool(policy.connectionPool, `${path}.connection_pool`),
    outlierDetection: encodeOutlier(policy.outlierDetection, `${path}.outlier_detection`),
    portLevel: policy.portLevel.map((p, i) => encodePortPolicy(p, `${path}.port_level[${i}]`)),
  };
}

function decodePortPolicy(wire: WirePortPolicy, path: string): PortTrafficPolicy {
  if (wire.port === 0) invalid(`${path}.port`, 'a port-level policy needs a port');
  return compact<PortTrafficPolicy>({
    port: decodePortNumber(wire.port, `${path}.port`),
    loadBalancer: decodeLoadBalancer(wire.loadBalancer, `${path}.load_balancer`),
    connectionPool: decodePool(wire.connectionPool, `${path}.connection_pool`),
    outlierDetection: decodeOutlier(wire.outlierDetection, `${path}.outlier_detection`),
  });
}

function encodePortPolicy(p: PortTrafficPolicy, path: string): WirePortPolicy {
  return {
    port: p.port,
    loadBalancer: encodeLoadBalancer(p.loadBalancer, `${path}.load_balancer`),
    connectionPool: encodePool(p.connectionPool, `${path}.connection_pool`),
    outlierDetection: encodeOutlier(p.outlierDetection, `${path}.outlier_detection`),
  };
}

function decodeLoadBalancer(wire: WireLoadBalancer | undefined, path: string): LoadBalancer | undefined {
  if (wire === undefined) return undefined;
  const policy = wire.policy;
  switch (policy?.$case) {
    case 'simple':
      return { kind: 'simple', simple: simple.decode(policy.value, `${path}.simple`) };
    case 'consistentHash':
      return {
        kind: 'consistentHash',
        hashKey: decodeHashKey(policy.value, `${path}.consistent_hash`),
        minimumRingSize: policy.value.minimumRingSize,
      };
    default:
      return invalid(`${path}.policy`, 'neither simple nor consistent_hash is set');
  }
}

function decodeHashKey(wire: WireHash, path: string): ConsistentHashKey {
  const key = wire.hashKey;
  switch (key?.$case) {
    case 'httpHeaderName':
      return { kind: 'httpHeaderName', name: nonEmpty(key.value, `${path}.http_header_name`, 'header name') };
    case 'httpQueryParameterName':
      return { kind: 'httpQueryParameterName', name: nonEmpty(key.value, `${path}.http_query_parameter_name`, 'parameter name') };
    case 'useSourceIp':
      return key.value ? { kind: 'useSourceIp' } : invalid(`${path}.use_source_ip`, 'use_source_ip is set to false, which selects no hash key');
    case 'httpCookie':
      return compact<ConsistentHashKey>({
        kind: 'httpCookie',
        name: nonEmpty(key.value.name, `${path}.http_cookie.name`, 'cookie name'),
        path: key.value.path,
        ttlMs: decodeOptionalDuration(key.value.ttl, `${path}.http_cookie.ttl`),
      });
    default:
      return invalid(`${path}.hash_key`, 'no hash key is set');
  }
}

function encodeLoadBalancer(lb: LoadBalancer | undefined, path: string): WireLoadBalancer | undefined {
  if (lb === undefined) return undefined;
  if (lb.kind === 'simple') return { policy: { $case: 'simple', value: simple.encode(lb.simple) } };
  const k = lb.hashKey;
  let hashKey: WireHash['hashKey'];
  if (k.kind === 'httpHeaderName') hashKey = { $case: 'httpHeaderName', value: k.name };
  else if (k.kind === 'httpQueryParameterName') hashKey = { $case: 'httpQueryParameterName', value: k.name };
  else if (k.kind === 'useSourceIp') hashKey = { $case: 'useSourceIp', value: true };
  else hashKey = { $case: 'httpCookie', value: { name: k.name, path: k.path, ttl: encodeOptionalDuration(k.ttlMs, `${path}.http_cookie.ttl`) } };
  return { policy: { $case: 'consistentHash', value: { hashKey, minimumRingSize: lb.minimumRingSize } } };
}

function decodePool(wire: WirePool | undefined, path: string): ConnectionPool | undefined {
  if (wire === undefined) return undefined;
  const { tcp, http } = wire;
  return compact<ConnectionPool>({
    tcp: tcp === undefined
      ? undefined
      : compact({
          maxConnections: tcp.maxConnections,
          connectTimeoutMs: decodeOptionalDuration(tcp.connectTimeout, `${path}.tcp.connect_timeout`),
          idleTimeoutMs: decodeOptionalDuration(tcp.idleTimeout, `${path}.tcp.idle_timeout`),
          maxConnectionDurationMs: decodeOptionalDuration(tcp.maxConnectionDuration, `${path}.tcp.max_connection_duration`),
        }),
    http: http === undefined
      ? undefined
      : compact({
          http1MaxPendingRequests: http.http1MaxPendingRequests,
          http2MaxRequests: http.http2MaxRequests,
          maxRequestsPerConnection: http.maxRequestsPerConnection,
          maxRetries: http.maxRetries,
          idleTimeoutMs: decodeOptionalDuration(http.idleTimeout, `${path}.http.idle_timeout`),
          maxConcurrentStreams: http.maxConcurrentStreams,
        }),
  });
}

function encodePool(pool: ConnectionPool | undefined, path: string): WirePool | undefined {
  if (pool === undefined) return undefined;
  const { tcp, http } = pool;
  return {
    tcp: tcp === undefined
      ? undefined
      : {
          maxConnections: tcp.maxConnections,
          connectTimeout: encodeOptionalDuration(tcp.connectTimeoutMs, `${path}.tcp.connect_timeout`),
          idleTimeout: encodeOptionalDuration(tcp.idleTimeoutMs, `${path}.tcp.idle_timeout`),
          maxConnectionDuration: encodeOptionalDuration(tcp.maxConnectionDurationMs, `${path}.tcp.max_connection_duration`),
        },
    http: http === undefined
      ? undefined
      : {
          http1MaxPendingRequests: http.http1MaxPendingRequests,
          http2MaxRequests: http.http2MaxRequests,
          maxRequestsPerConnection: http.maxRequestsPerConnection,
          maxRetries: http.maxRetries,
          idleTimeout: encodeOptionalDuration(http.idleTimeoutMs, `${path}.http.idle_timeout`),
          maxConcurrentStreams: http.maxConcurrentStreams,
        },
  };
}

function decodeOutlier(wire: WireOutlier | undefined, path: string): OutlierDetection | undefined {
  if (wire === undefined) return undefined;
  return compact<OutlierDetection>({
    consecutive5xxErrors: wire.consecutive5xxErrors,
    consecutiveGatewayErrors: wire.consecutiveGatewayErrors,
    intervalMs: decodeOptionalDuration(wire.interval, `${path}.interval`),
    baseEjectionTimeMs: decodeOptionalDuration(wire.baseEjectionTime, `${path}.base_ejection_time`),
    maxEjectionPercent: inRange(wire.maxEjectionPercent, `${path}.max_ejection_percent`, 0, 100, 'percentage'),
    minHealthPercent: inRange(wire.minHealthPercent, `${path}.min_health_percent`, 0, 100, 'percentage'),
    splitExternalLocalOriginErrors: wire.splitExternalLocalOriginErrors,
    consecutiveLocalOriginFailures: wire.consecutiveLocalOriginFailures,
  });
}

function encodeOutlier(o: OutlierDetection | undefined, path: string): WireOutlier | undefined {
  if (o === undefined) return undefined;
  return {
    consecutive5xxErrors: o.consecutive5xxErrors,
    consecutiveGatewayErrors: o.consecutiveGatewayErrors,
    interval: encodeOptionalDuration(o.intervalMs, `${path}.interval`),
    baseEjectionTime: encodeOptionalDuration(o.baseEjectionTimeMs, `${path}.base_ejection_time`),
    maxEjectionPercent: o.maxEjectionPercent,
    minHealthPercent: o.minHealthPercent,
    splitExternalLocalOriginErrors: o.splitExternalLocalOriginErrors,
    consecutiveLocalOriginFailures: o.consecutiveLocalOriginFailures,
  };
}

export function decodeSubsets(wire: readonly WireSubset[], path: string): Subset[] {
  const names = new Set<string>();
  return wire.map((s, i) => {
    const field = `${path}[${i}]`;
    const name = nonEmpty(s.name, `${field}.name`, 'subset name');
    if (names.has(name)) invalid(`${field}.name`, `duplicate subset name ${JSON.stringify(name)}`);
    names.add(name);
    const uids = new Set<string>();
    s.workloadUids.forEach((uid, j) => {
      nonEmpty(uid, `${field}.workload_uids[${j}]`, 'workload uid');
      if (uids.has(uid)) invalid(`${field}.workload_uids[${j}]`, `duplicate workload uid ${JSON.stringify(uid)}`);
      uids.add(uid);
    });
    return compact<Subset>({
      name,
      labels: { ...s.labels },
      trafficPolicy: s.trafficPolicy === undefined ? undefined : decodeTrafficPolicy(s.trafficPolicy, `${field}.traffic_policy`),
      workloadUids: [...s.workloadUids],
    });
  });
}

export function encodeSubset(s: Subset, path: string): WireSubset {
  return {
    name: s.name,
    labels: { ...s.labels },
    trafficPolicy: s.trafficPolicy === undefined ? undefined : encodeTrafficPolicy(s.trafficPolicy, `${path}.traffic_policy`),
    workloadUids: [...s.workloadUids],
  };
}
