// The one builder of ztunnel access-log lines (reference §8.3; ztunnel ConnectionResult and log_early_deny), so
// "connection opened", "connection complete" and "connection failed" all carry the same fields in the same form.

import type { Reporter, TrafficLabels } from './traffic-labels';
import { UNKNOWN } from './traffic-labels';

export type AccessLogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface AccessLogRecord {
  readonly level: AccessLogLevel;
  readonly message: 'connection opened' | 'connection complete' | 'connection failed';
  /** Dotted field names exactly as ztunnel writes them; absent values are left out. */
  readonly fields: Readonly<Record<string, string | number>>;
}

export interface ConnectionLogInput {
  /** The connection's metric labels; namespaces, service, identities and clusters are read from them. */
  readonly labels: TrafficLabels;
  /** `ip:port` of the client. */
  readonly srcAddr: string;
  /** The L4 destination, e.g. `podIP:15008`. */
  readonly dstAddr: string;
  /** The `:authority` when HBONE was used. */
  readonly hboneAddr?: string;
  /** Pod names; ztunnel falls back to the canonical service when the pod is unknown. */
  readonly srcWorkloadName?: string;
  readonly dstWorkloadName?: string;
}

export interface ConnectionCompleteInput extends ConnectionLogInput {
  /** ztunnel's `increment_send` total (downstream → upstream). */
  readonly sent: number;
  /** ztunnel's `increment_recv` total (upstream → downstream). */
  readonly received: number;
  readonly durationMs: number;
  /** Set when the connection ended in error (level ERROR). */
  readonly error?: string;
}

const known = (value: string | undefined): string | undefined => (value === undefined || value === UNKNOWN ? undefined : value);

function connectionFields(input: ConnectionLogInput): Record<string, string | number> {
  const l = input.labels;
  const mtls = l.connection_security_policy === 'mutual_tls';
  const entries: [string, string | undefined][] = [
    ['src.addr', input.srcAddr],
    ['src.workload', known(input.srcWorkloadName) ?? known(l.source_canonical_service)],
    ['src.namespace', known(l.source_workload_namespace)],
    // Identities are printed only when mTLS proved them.
    ['src.identity', mtls ? known(l.source_principal) : undefined],
    ['src.cluster', known(l.source_cluster)],
    ['dst.addr', input.dstAddr],
    ['dst.hbone_addr', input.hboneAddr],
    ['dst.service', known(l.destination_service)],
    ['dst.workload', known(input.dstWorkloadName) ?? known(l.destination_canonical_service)],
    ['dst.namespace', known(l.destination_workload_namespace)],
    ['dst.identity', mtls ? known(l.destination_principal) : undefined],
    ['dst.cluster', known(l.destination_cluster)],
    ['direction', directionOf(l.reporter === 'destination' ? 'destination' : 'source')],
  ];
  return Object.fromEntries(entries.filter((e): e is [string, string] => e[1] !== undefined));
}

export function directionOf(reporter: Reporter): 'outbound' | 'inbound' {
  return reporter === 'source' ? 'outbound' : 'inbound';
}

/**
 * `bytes_sent`/`bytes_recv` as the log prints them: Istio flips the source reporter's byte metrics
 * (istio/istio#32399) and ztunnel un-flips them for the log.
 */
export function accessLogBytes(reporter: Reporter, sent: number, received: number): { bytes_sent: number; bytes_recv: number } {
  return reporter === 'source' ? { bytes_sent: received, bytes_recv: sent } : { bytes_sent: sent, bytes_recv: received };
}

/** "connection opened" (DEBUG), when a connection starts. */
export function connectionOpenedRecord(input: ConnectionLogInput): AccessLogRecord {
  return { level: 'debug', message: 'connection opened', fields: connectionFields(input) };
}

/** "connection complete": INFO on success, ERROR with `error` on failure. */
export function connectionCompleteRecord(input: ConnectionCompleteInput): AccessLogRecord {
  const reporter: Reporter = input.labels.reporter === 'destination' ? 'destination' : 'source';
  const fields = {
    ...connectionFields(input),
    ...accessLogBytes(reporter, input.sent, input.received),
    duration: `${Math.max(0, Math.floor(input.durationMs))}ms`,
    ...(input.error === undefined ? {} : { error: input.error }),
  };
  return { level: input.error === undefined ? 'info' : 'error', message: 'connection complete', fields };
}

/** "connection failed" (WARN): an early failure, before the ends are known. */
export function connectionFailedRecord(input: { srcAddr: string; dstAddr: string; reporter: Reporter; error: string }): AccessLogRecord {
  return {
    level: 'warn',
    message: 'connection failed',
    fields: { 'src.addr': input.srcAddr, 'dst.addr': input.dstAddr, direction: directionOf(input.reporter), error: input.error },
  };
}

/** One `LOG_FORMAT=json` line: level, time, scope `access`, message, then the fields. */
export function formatAccessLogLine(record: AccessLogRecord, now: Date): string {
  return JSON.stringify({ level: record.level, time: now.toISOString(), scope: 'access', message: record.message, ...record.fields });
}
