// Table tests for Envoy's retry_on semantics per token and outcome, then the attempt limit.

import type { RetryPolicy } from '@weft/mesh-model';
import { shouldRetry, type AttemptOutcome } from './should-retry';

function policy(retryOn: string[], fields: Partial<RetryPolicy> = {}): RetryPolicy {
  return {
    attempts: 2,
    retryOn,
    retriableStatusCodes: [],
    retryRemoteLocalities: false,
    ignorePreviousHosts: true,
    hostSelectionRetryMaxAttempts: 5,
    isDefault: false,
    ...fields,
  };
}

const response = (status: number, grpcStatus?: number): AttemptOutcome =>
  grpcStatus === undefined ? { kind: 'response', status } : { kind: 'response', status, grpcStatus };
const connectFailure: AttemptOutcome = { kind: 'connect-failure' };
const reset: AttemptOutcome = { kind: 'reset' };
const refused: AttemptOutcome = { kind: 'refused-stream' };
const perTryTimeout: AttemptOutcome = { kind: 'per-try-timeout' };

describe('shouldRetry: retry_on tokens', () => {
  const cases: [string, AttemptOutcome, boolean][] = [
    ['5xx', response(500), true],
    ['5xx', response(503), true],
    ['5xx', response(599), true],
    ['5xx', response(404), false],
    ['5xx', response(200), false],
    ['5xx', connectFailure, true],
    ['5xx', reset, true],
    ['5xx', refused, true],
    ['5xx', perTryTimeout, true],
    ['gateway-error', response(502), true],
    ['gateway-error', response(503), true],
    ['gateway-error', response(504), true],
    ['gateway-error', response(500), false],
    ['gateway-error', response(501), false],
    ['gateway-error', reset, true],
    ['gateway-error', connectFailure, true],
    ['gateway-error', perTryTimeout, true],
    ['reset', reset, true],
    ['reset', connectFailure, true],
    ['reset', refused, true],
    ['reset', perTryTimeout, true],
    ['reset', response(503), false],
    ['reset-before-request', connectFailure, true],
    ['reset-before-request', reset, false],
    ['reset-before-request', perTryTimeout, false],
    ['connect-failure', connectFailure, true],
    ['connect-failure', reset, false],
    ['connect-failure', perTryTimeout, false],
    ['connect-failure', response(503), false],
    ['refused-stream', refused, true],
    ['refused-stream', reset, false],
    ['refused-stream', response(503), false],
    ['retriable-4xx', response(409), true],
    ['retriable-4xx', response(429), false],
    ['retriable-4xx', response(500), false],
    ['envoy-ratelimited', response(429), false],
    ['retriable-headers', response(503), false],
    ['http3-post-connect-failure', reset, false],
    ['cancelled', response(200, 1), true],
    ['deadline-exceeded', response(200, 4), true],
    ['resource-exhausted', response(200, 8), true],
    ['internal', response(200, 13), true],
    ['unavailable', response(200, 14), true],
    ['unavailable', response(200, 13), false],
    ['unavailable', response(503), false],
    ['unavailable', reset, false],
    ['cancelled', response(200, 0), false],
    ['no-such-token', response(503), false],
    [' 5xx ', response(503), true],
  ];
  it.each(cases)('%s after %j: %s', (token, outcome, expected) => {
    expect(shouldRetry(policy([token]), outcome, 0)).toBe(expected);
  });
});

describe('shouldRetry: retriable-status-codes', () => {
  const cases: [string, string[], number[], AttemptOutcome, boolean][] = [
    ['a listed code', ['retriable-status-codes'], [503, 429], response(429), true],
    ['an unlisted code', ['retriable-status-codes'], [503], response(500), false],
    ['codes without the token do nothing', ['connect-failure'], [503], response(503), false],
    ['a reset is not the literal status 503 (reference §7.4)', ['retriable-status-codes'], [503], reset, false],
    [
      'Istio’s default policy retries 503 only through the listed code',
      ['connect-failure', 'refused-stream', 'unavailable', 'cancelled', 'retriable-status-codes'],
      [503],
      response(503),
      true,
    ],
    ['Istio’s default policy retries a refused stream', ['connect-failure', 'refused-stream', 'unavailable', 'cancelled', 'retriable-status-codes'], [503], refused, true],
    ['Istio’s default policy does not retry a reset', ['connect-failure', 'refused-stream', 'unavailable', 'cancelled', 'retriable-status-codes'], [503], reset, false],
  ];
  it.each(cases)('%s', (_name, retryOn, codes, outcome, expected) => {
    expect(shouldRetry(policy(retryOn, { retriableStatusCodes: codes }), outcome, 0)).toBe(expected);
  });
});

describe('shouldRetry: attempts', () => {
  const cases: [string, RetryPolicy | undefined, number, boolean][] = [
    ['no policy never retries', undefined, 0, false],
    ['attempts 0 disables retries', policy(['5xx'], { attempts: 0 }), 0, false],
    ['first retry of 2', policy(['5xx']), 0, true],
    ['second retry of 2', policy(['5xx']), 1, true],
    ['no third retry of 2', policy(['5xx']), 2, false],
    ['past the limit', policy(['5xx']), 5, false],
  ];
  it.each(cases)('%s', (_name, p, retriesSoFar, expected) => {
    expect(shouldRetry(p, response(503), retriesSoFar)).toBe(expected);
  });
});
