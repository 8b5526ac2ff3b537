// What the controlplane says back about each object (Istio's `status.validationMessages` plus one condition for
// rejected objects), and the minimal set of status writes to go from what was reported to what is true now.

import type { ObjectStatus } from '@weft/config-source';

import type { ConfigProblem, Disposition } from './compute-mesh';

/** Condition set on an object whose latest version was rejected. */
export const RECONCILED_CONDITION = 'Reconciled';

const DISPOSITION_TEXT: Readonly<Record<Disposition, { reason: string; message: string }>> = {
  'last-good': {
    reason: 'ServingLastGoodVersion',
    message: 'this version is invalid and is not applied; the previous valid version keeps serving',
  },
  excluded: {
    reason: 'Rejected',
    message: 'this object is invalid and is not applied; it has no earlier valid version',
  },
};

/** Statuses by object key; objects with nothing to say are absent. Info-level messages stay on the debug view. */
export function objectStatuses(
  problems: readonly ConfigProblem[],
  rejected: ReadonlyMap<string, Disposition>,
): Map<string, ObjectStatus> {
  const messages = new Map<string, { level: 'error' | 'warning'; field: string; message: string }[]>();
  for (const problem of problems) {
    if (problem.key === '' || problem.level === 'info') continue;
    const list = messages.get(problem.key) ?? [];
    list.push({ level: problem.level, field: problem.field, message: `${problem.code}: ${problem.message}` });
    messages.set(problem.key, list);
  }
  const statuses = new Map<string, ObjectStatus>();
  for (const key of [...new Set([...messages.keys(), ...rejected.keys()])].sort()) {
    const disposition = rejected.get(key);
    const validationMessages = messages.get(key) ?? [];
    const conditions =
      disposition === undefined
        ? []
        : [{ type: RECONCILED_CONDITION, status: 'False' as const, ...DISPOSITION_TEXT[disposition] }];
    statuses.set(key, {
      ...(conditions.length > 0 ? { conditions } : {}),
      ...(validationMessages.length > 0 ? { validationMessages } : {}),
    });
  }
  return statuses;
}

/** Writes that turn `reported` into `next`: changed or new statuses, and `undefined` to clear the stale ones. */
export function statusWrites(
  reported: ReadonlyMap<string, ObjectStatus>,
  next: ReadonlyMap<string, ObjectStatus>,
): [string, ObjectStatus | undefined][] {
  const writes: [string, ObjectStatus | undefined][] = [];
  for (const [key, status] of next) {
    const before = reported.get(key);
    if (before === undefined || JSON.stringify(before) !== JSON.stringify(status)) writes.push([key, status]);
  }
  for (const key of reported.keys()) if (!next.has(key)) writes.push([key, undefined]);
  return writes;
}
