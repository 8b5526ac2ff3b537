// What one replica does with the leader Lease on each attempt: create it, renew it, take it over or wait — the
// decisions of client-go's `tryAcquireOrRenew` (tools/leaderelection) over a coordination.k8s.io/v1 Lease, pure.

import type { KubeObject } from '@weft/mesh-config';

export const LEASE_API_VERSION = 'coordination.k8s.io/v1';
export const LEASE_KIND = 'Lease';

/** The `spec` fields of a Lease the election reads and writes (other fields, such as `strategy`, are kept as they are). */
export interface LeaseSpec {
  readonly holderIdentity?: string;
  readonly leaseDurationSeconds?: number;
  /** RFC 3339 with microseconds (`MicroTime`). */
  readonly acquireTime?: string;
  readonly renewTime?: string;
  readonly leaseTransitions?: number;
}

export interface LeaseDecisionInput {
  /** The Lease as read from the API server; `undefined` when there is none. */
  readonly current: KubeObject | undefined;
  /** Where the Lease lives (used only to create it). */
  readonly namespace: string;
  readonly name: string;
  /** This replica (the pod name). */
  readonly identity: string;
  /** Milliseconds since the epoch. */
  readonly nowMs: number;
  /** This replica's lease duration, written into `leaseDurationSeconds`. */
  readonly leaseDurationMs: number;
}

/**
 * `create`: there is no Lease; `renew`: this replica holds it; `takeover`: it has no holder (released) or its holder
 * let it expire; `wait`: another replica holds it and it has not expired. Every write carries the Lease to store:
 * `create` through a create (409 means another replica created it first), the others through a replace at the
 * read `metadata.resourceVersion` (409 means another replica wrote first).
 */
export type LeaseDecision =
  | { readonly action: 'create'; readonly lease: KubeObject }
  | { readonly action: 'renew'; readonly lease: KubeObject }
  | { readonly action: 'takeover'; readonly lease: KubeObject; readonly previousHolder: string }
  | { readonly action: 'wait'; readonly holder: string; readonly expiresAtMs: number };

export function decideLease(input: LeaseDecisionInput): LeaseDecision {
  const { current, identity, nowMs } = input;
  const durationSeconds = leaseDurationSeconds(input.leaseDurationMs);
  const now = formatMicroTime(nowMs);
  if (current === undefined) {
    const spec: LeaseSpec = { holderIdentity: identity, leaseDurationSeconds: durationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 };
    const metadata = { name: input.name, namespace: input.namespace };
    return { action: 'create', lease: { apiVersion: LEASE_API_VERSION, kind: LEASE_KIND, metadata, spec } };
  }
  const spec = leaseSpecOf(current);
  const holder = spec.holderIdentity ?? '';
  const transitions = spec.leaseTransitions ?? 0;
  if (holder === identity) {
    // Renewing keeps when this term began and how many transitions there were.
    const acquireTime = spec.acquireTime ?? now;
    return { action: 'renew', lease: withSpec(current, { holderIdentity: identity, leaseDurationSeconds: durationSeconds, acquireTime, renewTime: now, leaseTransitions: transitions }) };
  }
  const expiresAtMs = leaseExpiresAtMs(spec);
  if (holder !== '' && expiresAtMs >= nowMs) return { action: 'wait', holder, expiresAtMs };
  const next: LeaseSpec = { holderIdentity: identity, leaseDurationSeconds: durationSeconds, acquireTime: now, renewTime: now, leaseTransitions: transitions + 1 };
  return { action: 'takeover', lease: withSpec(current, next), previousHolder: holder };
}

/**
 * The Lease that gives up leadership (client-go `release`, as with `ReleaseOnCancel`): no holder and a duration of
 * one second, so the other replicas take it on their next attempt instead of waiting out the lease. `undefined` when
 * the Lease is not this replica's to release.
 */
export function releasedLease(current: KubeObject, identity: string, nowMs: number): KubeObject | undefined {
  const spec = leaseSpecOf(current);
  if (spec.holderIdentity !== identity) return undefined;
  const now = formatMicroTime(nowMs);
  return withSpec(current, { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: spec.leaseTransitions ?? 0 });
}

/**
 * When the Lease expires: `renewTime + leaseDurationSeconds`. A Lease without either has expired (client-go reads a
 * missing duration as zero). This reads the holder's clock from the record, so replicas' clocks must roughly agree.
 */
export function leaseExpiresAtMs(spec: LeaseSpec): number {
  const renewedMs = spec.renewTime === undefined ? undefined : parseMicroTime(spec.renewTime);
  if (renewedMs === undefined || spec.leaseDurationSeconds === undefined) return Number.NEGATIVE_INFINITY;
  return renewedMs + spec.leaseDurationSeconds * 1_000;
}

/** The Lease's `spec`, with fields of the wrong type dropped. */
export function leaseSpecOf(lease: KubeObject): LeaseSpec {
  const raw = typeof lease.spec === 'object' && lease.spec !== null ? (lease.spec as Record<string, unknown>) : {};
  const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
  const count = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
  return {
    holderIdentity: text(raw['holderIdentity']),
    leaseDurationSeconds: count(raw['leaseDurationSeconds']),
    acquireTime: text(raw['acquireTime']),
    renewTime: text(raw['renewTime']),
    leaseTransitions: count(raw['leaseTransitions']),
  };
}

/** Whole seconds, at least one: the API server refuses a `leaseDurationSeconds` below 1. */
export function leaseDurationSeconds(leaseDurationMs: number): number {
  return Math.max(1, Math.ceil(leaseDurationMs / 1_000));
}

/** Kubernetes `MicroTime`: RFC 3339 in UTC with six fractional digits (`2026-12-02T01:02:03.456789Z`). */
export function formatMicroTime(ms: number): string {
  const totalMicros = Math.round(ms * 1_000);
  const whole = Math.floor(totalMicros / 1_000);
  const micros = totalMicros - whole * 1_000;
  return new Date(whole).toISOString().replace(/Z$/, `${String(micros).padStart(3, '0')}Z`);
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/;

/** Milliseconds since the epoch (with the microseconds as a fraction) of an RFC 3339 time; `undefined` if malformed. */
export function parseMicroTime(text: string): number | undefined {
  const match = RFC3339.exec(text);
  if (match === null) return undefined;
  const seconds = Date.parse(`${match[1] ?? ''}${match[3] ?? ''}`);
  if (Number.isNaN(seconds)) return undefined;
  const fraction = Number(`0.${match[2] ?? '0'}`);
  return seconds + fraction * 1_000;
}

function withSpec(current: KubeObject, spec: LeaseSpec): KubeObject {
  const previous = typeof current.spec === 'object' && current.spec !== null ? current.spec : {};
  // The whole object goes back, metadata.resourceVersion included: the replace is conditional on it.
  return { ...current, apiVersion: LEASE_API_VERSION, kind: LEASE_KIND, spec: { ...previous, ...spec } };
}
