// Table tests for Envoy's fully jittered exponential back-off.

import type { RetryPolicy } from '@weft/mesh-model';
import { retryBackoffMs } from './retry-backoff';

function policy(backoffBaseIntervalMs?: number): RetryPolicy {
  return {
    attempts: 10,
    retryOn: ['5xx'],
    retriableStatusCodes: [],
    retryRemoteLocalities: false,
    ignorePreviousHosts: true,
    hostSelectionRetryMaxAttempts: 5,
    isDefault: false,
    ...(backoffBaseIntervalMs === undefined ? {} : { backoffBaseIntervalMs }),
  };
}

const HIGHEST = 0.999999;

describe('retryBackoffMs', () => {
  const cases: [string, number | undefined, number, number, number][] = [
    ['default base 25: first retry draws from [0,25)', undefined, 0, HIGHEST, 24],
    ['second retry from [0,50)', undefined, 1, HIGHEST, 49],
    ['third retry from [0,100)', undefined, 2, HIGHEST, 99],
    ['fourth retry from [0,200)', undefined, 3, HIGHEST, 199],
    ['fifth retry capped at 10 × base: [0,250)', undefined, 4, HIGHEST, 249],
    ['stays at the cap', undefined, 20, HIGHEST, 249],
    ['a zero draw is no wait', undefined, 3, 0, 0],
    ['fully jittered: half the interval', undefined, 2, 0.5, 50],
    ['configured base 100: first retry', 100, 0, HIGHEST, 99],
    ['configured base 100: capped at 1000', 100, 10, HIGHEST, 999],
    ['configured base 100: middle draw', 100, 1, 0.25, 50],
    ['random() returning 1 stays below the interval', 10, 0, 1, 9],
    ['a base below 1 ms means no back-off', 0, 3, HIGHEST, 0],
  ];
  it.each(cases)('%s', (_name, base, retriesSoFar, draw, expected) => {
    expect(retryBackoffMs(policy(base), retriesSoFar, () => draw)).toBe(expected);
  });
});
