// Conversions shared by the weft.l7.v1 adapters: durations ⇄ milliseconds, the StringMatch oneof, header edits,
// policy target refs and the range checks every L7 message uses. Decoders throw FieldRejection (via `invalid`),
// which `decodeResource` turns into a rejection naming the field.

import { re2PatternProblem, type HeaderOperations, type L7StringMatch, type PolicyTargetRef } from '@weft/mesh-model';
import type { Duration as WireDuration } from './generated/google/protobuf/duration';
import type {
  HeaderOperations as WireHeaderOperations,
  PolicyTargetRef as WirePolicyTargetRef,
  StringMatch as WireStringMatch,
} from './generated/weft/l7/v1/common';
import { invalid, XdsEncodeError } from './xds-result';

const NANOS_PER_MS = 1_000_000;
const NANOS_PER_SECOND = 1_000_000_000;

/** google.protobuf.Duration → milliseconds (fractions kept down to the nanosecond). Negative ones are refused. */
export function decodeDuration(wire: WireDuration, field: string): number {
  if (wire.seconds < 0 || wire.nanos < 0) invalid(field, `duration ${wire.seconds}s ${wire.nanos}ns is negative`);
  if (wire.nanos >= NANOS_PER_SECOND) invalid(`${field}.nanos`, `nanos ${wire.nanos} is not below 1e9`);
  return wire.seconds * 1000 + wire.nanos / NANOS_PER_MS;
}

export function decodeOptionalDuration(wire: WireDuration | undefined, field: string): number | undefined {
  return wire === undefined ? undefined : decodeDuration(wire, field);
}

export function encodeDuration(ms: number, field: string): WireDuration {
  if (!Number.isFinite(ms) || ms < 0) throw new XdsEncodeError(field, `duration ${ms}ms is not a non-negative number`);
  const total = Math.round(ms * NANOS_PER_MS);
  const seconds = Math.floor(total / NANOS_PER_SECOND);
  return { seconds, nanos: total - seconds * NANOS_PER_SECOND };
}

export function encodeOptionalDuration(ms: number | undefined, field: string): WireDuration | undefined {
  return ms === undefined ? undefined : encodeDuration(ms, field);
}

/** Checks a uint32 holding a value with a fixed range (ports, status codes, percentages). */
export function inRange(value: number, field: string, min: number, max: number, what: string): number {
  return value >= min && value <= max ? value : invalid(field, `${what} ${value} is out of range (${min}-${max})`);
}

export function decodePercentage(value: number, field: string): number {
  return Number.isFinite(value) && value >= 0 && value <= 100 ? value : invalid(field, `percentage ${value} is not within 0-100`);
}

export function nonEmpty(value: string, field: string, what: string): string {
  return value !== '' ? value : invalid(field, `${what} must not be empty`);
}

/** A regex the waypoint cannot compile would fail every request it is meant to match; refuse it instead. */
export function checkRegex(pattern: string, field: string): string {
  const problem = re2PatternProblem(pattern);
  return problem === undefined ? pattern : invalid(field, `regex ${JSON.stringify(pattern)} does not compile: ${problem}`);
}

/** The `match_type` oneof; none set is Istio's "any value" (header presence). */
export function decodeL7StringMatch(wire: WireStringMatch, field: string): L7StringMatch {
  const m = wire.matchType;
  switch (m?.$case) {
    case undefined:
      return { kind: 'any' };
    case 'exact':
    case 'prefix':
      return { kind: m.$case, value: m.value };
    case 'regex':
      return { kind: 'regex', value: checkRegex(m.value, `${field}.regex`) };
  }
}

export function encodeL7StringMatch(m: L7StringMatch): WireStringMatch {
  return m.kind === 'any' ? {} : { matchType: { $case: m.kind, value: m.value } };
}

export function decodeStringMatchMap(
  wire: Readonly<Record<string, WireStringMatch>>,
  field: string,
): Readonly<Record<string, L7StringMatch>> {
  const out: Record<string, L7StringMatch> = {};
  for (const [key, value] of Object.entries(wire)) {
    nonEmpty(key, field, 'a map key');
    out[key] = decodeL7StringMatch(value, `${field}[${JSON.stringify(key)}]`);
  }
  return out;
}

export function encodeStringMatchMap(map: Readonly<Record<string, L7StringMatch>>): Record<string, WireStringMatch> {
  const out: Record<string, WireStringMatch> = {};
  for (const [key, value] of Object.entries(map)) out[key] = encodeL7StringMatch(value);
  return out;
}

export function decodeHeaderOperations(wire: WireHeaderOperations | undefined, field: string): HeaderOperations | undefined {
  if (wire === undefined) return undefined;
  for (const key of [...Object.keys(wire.set), ...Object.keys(wire.add)]) nonEmpty(key, field, 'a header name');
  wire.remove.forEach((name, i) => nonEmpty(name, `${field}.remove[${i}]`, 'a header name'));
  return { set: { ...wire.set }, add: { ...wire.add }, remove: [...wire.remove] };
}

export function encodeHeaderOperations(ops: HeaderOperations | undefined): WireHeaderOperations | undefined {
  return ops === undefined ? undefined : { set: { ...ops.set }, add: { ...ops.add }, remove: [...ops.remove] };
}

export function decodeTargetRef(wire: WirePolicyTargetRef, field: string): PolicyTargetRef {
  nonEmpty(wire.kind, `${field}.kind`, 'kind');
  nonEmpty(wire.name, `${field}.name`, 'name');
  return { group: wire.group, kind: wire.kind, name: wire.name, namespace: wire.namespace };
}

export function encodeTargetRef(ref: PolicyTargetRef): WirePolicyTargetRef {
  return { group: ref.group, kind: ref.kind, name: ref.name, namespace: ref.namespace };
}

/**
 * The object without its undefined-valued keys, so an absent optional field of a decoded domain value is absent
 * rather than present-and-undefined (the two differ for structural equality and for JSON diagnostics).
 */
export function compact<T extends object>(value: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) if (v !== undefined) out[key] = v;
  return out as T;
}
