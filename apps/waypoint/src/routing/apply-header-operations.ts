// Istio `Headers.HeaderOperations` applied to a header map the way Envoy's HeaderParser::evaluateHeaders applies the
// route config istiod writes for them: remove first, then every overwrite (`set` → OVERWRITE_IF_EXISTS_OR_ADD),
// then every append (`add` → APPEND_IF_EXISTS_OR_ADD).

import type { HeaderOperations } from '@weft/mesh-model';

/**
 * Mutates `headers` (lower-case names). Order, as Envoy: remove, then set (overwrite), then add (append) — so a name
 * that is both removed and set ends up set, and `add` appends to a value `set` just wrote. Names are lower-cased.
 * Empty values are dropped, as Envoy drops them without `keep_empty_value` (which istiod does not set).
 * Pseudo-headers and `host` are left alone: Envoy refuses to modify them (`isModifiableHeader`); the authority is
 * changed through a rewrite instead.
 */
export function applyHeaderOperations(headers: Record<string, string | string[]>, ops: HeaderOperations | undefined): void {
  if (ops === undefined) return;
  for (const raw of ops.remove) {
    const name = raw.toLowerCase();
    if (isModifiable(name)) delete headers[name];
  }
  for (const [raw, value] of Object.entries(ops.set)) {
    const name = raw.toLowerCase();
    if (isModifiable(name) && value !== '') headers[name] = value;
  }
  for (const [raw, value] of Object.entries(ops.add)) {
    const name = raw.toLowerCase();
    if (!isModifiable(name) || value === '') continue;
    const existing = headers[name];
    headers[name] = existing === undefined ? value : typeof existing === 'string' ? [existing, value] : [...existing, value];
  }
}

function isModifiable(name: string): boolean {
  return name !== '' && !name.startsWith(':') && name !== 'host';
}
