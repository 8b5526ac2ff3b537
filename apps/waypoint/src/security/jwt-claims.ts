// JWT claims as Istio exposes them: nested lookup by dotted name (Envoy StructUtils), the header text of a claim
// (Envoy `addJWTClaimToHeader`), and space-delimited claims split into lists for `request.auth.claims` matching.

/** Istio always splits these (istio/api#3547 keeps them as the default). */
export const DEFAULT_SPACE_DELIMITED_CLAIMS: readonly string[] = ['scope', 'permission'];

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The claim at `name`, where `a.b` walks into nested objects. */
export function claimAt(payload: Readonly<Record<string, unknown>>, name: string): unknown {
  let current: unknown = payload;
  for (const part of name.split('.')) {
    if (!isRecord(current)) return undefined;
    current = current[part];
  }
  return current;
}

/**
 * Strings as they are; integral numbers without a fraction, others with six decimals (C++ `std::to_string`); booleans
 * as `true`/`false`; anything else (objects, lists, empty strings) adds no header.
 */
export function claimHeaderValue(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number' && Number.isFinite(value)) {
    return value >= 0 && Number.isInteger(value) ? String(value) : value.toFixed(6);
  }
  return undefined;
}

function splitAt(node: Readonly<Record<string, unknown>>, path: readonly string[]): Readonly<Record<string, unknown>> {
  const [head, ...rest] = path;
  if (head === undefined || !(head in node)) return node;
  const value = node[head];
  if (rest.length === 0) {
    return typeof value === 'string' && value.includes(' ') ? { ...node, [head]: value.split(' ').filter((s) => s !== '') } : node;
  }
  return isRecord(value) ? { ...node, [head]: splitAt(value, rest) } : node;
}

/** A copy of the payload with each space-delimited string claim turned into the list of its words. */
export function splitSpaceDelimitedClaims(payload: Readonly<Record<string, unknown>>, extra: readonly string[]): Readonly<Record<string, unknown>> {
  let claims = payload;
  for (const name of new Set([...DEFAULT_SPACE_DELIMITED_CLAIMS, ...extra])) claims = splitAt(claims, name.split('.'));
  return claims;
}
