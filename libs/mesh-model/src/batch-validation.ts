// Validation of a batch before anything is applied (STYLE.md §4: validate first, then apply synchronously). The
// xds adapters already reject malformed wire resources; this guards the store's own invariants, so that no index
// is ever built from a resource without a key or with an address it cannot parse.

import type { KindBatch, MeshBatch, MeshKind, MeshRejection } from './mesh-change';
import { hostPrefixLength, parseIp } from './ip-address';
import { type Authorization, type Service, type Workload, authorizationKey, serviceKey } from './types';

export interface ValidKindBatch<T> {
  readonly upsert: readonly T[];
  readonly remove: readonly string[];
}

export interface ValidatedBatch {
  readonly workloads: ValidKindBatch<Workload>;
  readonly services: ValidKindBatch<Service>;
  readonly authorizations: ValidKindBatch<Authorization>;
  readonly rejected: readonly MeshRejection[];
}

/** Splits a batch into what may be applied and what is refused, keeping batch order within each list. */
export function validateBatch(batch: MeshBatch): ValidatedBatch {
  const rejected: MeshRejection[] = [];
  return {
    workloads: validateKind('workload', batch.workloads, (w) => w.uid, checkWorkload, rejected),
    services: validateKind(
      'service',
      batch.services,
      (s) => serviceKey(s.namespace, s.hostname),
      checkService,
      rejected,
    ),
    authorizations: validateKind(
      'authorization',
      batch.authorizations,
      (a) => authorizationKey(a.namespace, a.name),
      checkAuthorization,
      rejected,
    ),
    rejected,
  };
}

type Problem = Pick<MeshRejection, 'code' | 'reason'>;

function validateKind<T>(
  kind: MeshKind,
  input: KindBatch<T> | undefined,
  keyOf: (value: T) => string,
  check: (value: T) => Problem | undefined,
  rejected: MeshRejection[],
): ValidKindBatch<T> {
  const upsert: T[] = [];
  const remove: string[] = [];
  (input?.remove ?? []).forEach((key, i) => {
    if (key === '') {
      rejected.push({ kind, key: `remove[${i}]`, code: 'ERR_MESH_KEY_MISSING', reason: 'empty key in removals' });
    } else {
      remove.push(key);
    }
  });
  (input?.upsert ?? []).forEach((value, i) => {
    const problem = check(value);
    if (problem === undefined) {
      upsert.push(value);
    } else {
      const key = problem.code === 'ERR_MESH_KEY_MISSING' ? `upsert[${i}]` : keyOf(value);
      rejected.push({ kind, key, ...problem });
    }
  });
  return { upsert, remove };
}

function checkWorkload(w: Workload): Problem | undefined {
  if (w.uid === '') return { code: 'ERR_MESH_KEY_MISSING', reason: 'workload has no uid' };
  const bad = w.addresses.find((a) => parseIp(a) === undefined);
  if (bad !== undefined) return { code: 'ERR_MESH_ADDRESS_INVALID', reason: `workload address "${bad}" is not an IP` };
  // The wire's capacity is a UInt32Value; anything else cannot be a load-balancing weight.
  if (!Number.isInteger(w.capacity) || w.capacity < 0 || w.capacity > 0xffffffff) {
    return { code: 'ERR_MESH_CAPACITY_INVALID', reason: `capacity ${w.capacity} is not a uint32` };
  }
  return undefined;
}

function checkService(s: Service): Problem | undefined {
  if (s.namespace === '' || s.hostname === '') {
    return { code: 'ERR_MESH_KEY_MISSING', reason: 'service needs both namespace and hostname' };
  }
  for (const vip of s.vips) {
    const ip = parseIp(vip.address);
    if (ip === undefined) return { code: 'ERR_MESH_ADDRESS_INVALID', reason: `VIP "${vip.address}" is not an IP` };
    if (vip.length !== undefined && (vip.length < 0 || vip.length > hostPrefixLength(ip.family))) {
      return { code: 'ERR_MESH_ADDRESS_INVALID', reason: `VIP ${vip.address}/${vip.length} has an invalid length` };
    }
  }
  return undefined;
}

function checkAuthorization(a: Authorization): Problem | undefined {
  // The namespace may be empty only in hand-built state; istiod always sets it, even for GLOBAL (root) policies.
  if (a.name === '') return { code: 'ERR_MESH_KEY_MISSING', reason: 'authorization has no name' };
  return undefined;
}
