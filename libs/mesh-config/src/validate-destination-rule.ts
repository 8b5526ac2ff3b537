// DestinationRule checks (istio/api networking/v1alpha3 destination_rule.proto, istio `ValidateDestinationRule`):
// traffic policies a waypoint applies to its per-VIP clusters, and subsets.

import { FieldReader, type PlainObject } from './validate-reader';

export const LOAD_BALANCER_SIMPLE = ['UNSPECIFIED', 'LEAST_REQUEST', 'ROUND_ROBIN', 'RANDOM', 'PASSTHROUGH', 'LEAST_CONN'] as const;
const H2_UPGRADE_POLICIES = ['DEFAULT', 'DO_NOT_UPGRADE', 'UPGRADE'] as const;

const POOL = 'ERR_DR_CONNECTION_POOL';
const DURATION = 'ERR_DR_DURATION';

function checkConnectionPool(r: FieldReader, value: unknown, field: string): void {
  const pool = r.record(value, field);
  if (pool === undefined) return;
  const tcp = r.record(pool['tcp'], `${field}.tcp`);
  if (tcp !== undefined) {
    r.integer(tcp['maxConnections'], `${field}.tcp.maxConnections`, POOL, 0);
    for (const key of ['connectTimeout', 'maxConnectionDuration', 'idleTimeout'] as const) {
      r.duration(tcp[key], `${field}.tcp.${key}`, DURATION);
    }
    const keepalive = r.record(tcp['tcpKeepalive'], `${field}.tcp.tcpKeepalive`);
    if (keepalive !== undefined) {
      r.integer(keepalive['probes'], `${field}.tcp.tcpKeepalive.probes`, POOL, 0);
      r.duration(keepalive['time'], `${field}.tcp.tcpKeepalive.time`, DURATION);
      r.duration(keepalive['interval'], `${field}.tcp.tcpKeepalive.interval`, DURATION);
    }
  }
  const http = r.record(pool['http'], `${field}.http`);
  if (http !== undefined) {
    const ints = ['http1MaxPendingRequests', 'http2MaxRequests', 'maxRequestsPerConnection', 'maxRetries', 'maxConcurrentStreams'] as const;
    for (const key of ints) r.integer(http[key], `${field}.http.${key}`, POOL, 0);
    r.duration(http['idleTimeout'], `${field}.http.idleTimeout`, DURATION);
    r.oneOf(http['h2UpgradePolicy'], `${field}.http.h2UpgradePolicy`, 'ERR_DR_H2_UPGRADE_POLICY', H2_UPGRADE_POLICIES);
    r.boolean(http['useClientProtocol'], `${field}.http.useClientProtocol`);
  }
}

function checkOutlierDetection(r: FieldReader, value: unknown, field: string): void {
  const od = r.record(value, field);
  if (od === undefined) return;
  const counts = ['consecutive5xxErrors', 'consecutiveGatewayErrors', 'consecutiveLocalOriginFailures', 'consecutiveErrors'] as const;
  for (const key of counts) r.integer(od[key], `${field}.${key}`, 'ERR_DR_OUTLIER_DETECTION', 0);
  for (const key of ['interval', 'baseEjectionTime'] as const) r.duration(od[key], `${field}.${key}`, DURATION);
  for (const key of ['maxEjectionPercent', 'minHealthPercent'] as const) {
    r.integer(od[key], `${field}.${key}`, 'ERR_DR_OUTLIER_PERCENT', 0, 100);
  }
  r.boolean(od['splitExternalLocalOriginErrors'], `${field}.splitExternalLocalOriginErrors`);
}

function checkLoadBalancer(r: FieldReader, value: unknown, field: string): void {
  const lb = r.record(value, field);
  if (lb === undefined) return;
  r.oneOf(lb['simple'], `${field}.simple`, 'ERR_DR_LOAD_BALANCER', LOAD_BALANCER_SIMPLE);
  const hash = r.record(lb['consistentHash'], `${field}.consistentHash`);
  if (hash !== undefined && lb['simple'] !== undefined && lb['simple'] !== null) {
    r.error('ERR_DR_LOAD_BALANCER', field, 'loadBalancer must set only one of simple or consistentHash');
  }
}

function checkTrafficPolicy(r: FieldReader, value: unknown, field: string, portLevel = true): void {
  const policy = r.record(value, field);
  if (policy === undefined) return;
  checkConnectionPool(r, policy['connectionPool'], `${field}.connectionPool`);
  checkOutlierDetection(r, policy['outlierDetection'], `${field}.outlierDetection`);
  checkLoadBalancer(r, policy['loadBalancer'], `${field}.loadBalancer`);
  r.record(policy['tls'], `${field}.tls`);
  if (!portLevel) return;
  for (const [setting, path] of r.eachRecord(policy['portLevelSettings'], `${field}.portLevelSettings`)) {
    const port = r.record(setting['port'], `${path}.port`);
    if (port === undefined) r.error('ERR_DR_PORT', `${path}.port`, 'port level settings need a port');
    else r.integer(port['number'], `${path}.port.number`, 'ERR_DR_PORT', 1, 65535);
    checkTrafficPolicy(r, setting, path, false);
  }
}

/** Checks `spec` of a `networking.istio.io` DestinationRule. */
export function validateDestinationRuleSpec(r: FieldReader, spec: PlainObject): void {
  const host = r.string(spec['host'], 'spec.host');
  if (host === undefined || host === '') r.error('ERR_DR_HOST_MISSING', 'spec.host', 'DestinationRule host is required');
  checkTrafficPolicy(r, spec['trafficPolicy'], 'spec.trafficPolicy');
  const names = new Map<string, string>();
  for (const [subset, path] of r.eachRecord(spec['subsets'], 'spec.subsets')) {
    const name = r.string(subset['name'], `${path}.name`);
    if (name === undefined || name === '') {
      r.error('ERR_DR_SUBSET_NAME', `${path}.name`, 'subset name is required');
    } else if (names.has(name)) {
      r.error('ERR_DR_SUBSET_DUPLICATE', `${path}.name`, `duplicate subset name "${name}" (also ${names.get(name) ?? ''})`);
    } else {
      names.set(name, path);
    }
    const labels = r.stringMap(subset['labels'], `${path}.labels`);
    if (labels === undefined || Object.keys(labels).length === 0) {
      r.warn('WARN_DR_SUBSET_WITHOUT_LABELS', `${path}.labels`, 'a subset without labels selects every endpoint of the host');
    }
    checkTrafficPolicy(r, subset['trafficPolicy'], `${path}.trafficPolicy`);
  }
  r.stringList(spec['exportTo'], 'spec.exportTo');
}
