// Whether a failed upstream attempt is retried: Envoy's `retry_on` semantics (RetryStateImpl::wouldRetryFromHeaders
// and wouldRetryFromReset) for every token reference §7.4 lists, then the policy's attempt limit.

import type { RetryPolicy } from '@weft/mesh-model';

/** How one upstream attempt ended. */
export type AttemptOutcome =
  | { readonly kind: 'response'; readonly status: number; readonly grpcStatus?: number }
  | { readonly kind: 'connect-failure' }
  | { readonly kind: 'reset' }
  | { readonly kind: 'refused-stream' }
  | { readonly kind: 'per-try-timeout' };

type FailureKind = Exclude<AttemptOutcome, { readonly kind: 'response' }>['kind'];

/** gRPC status codes of the `x-envoy-retry-grpc-on` tokens (Istio puts them in `retryOn` with the HTTP ones). */
const GRPC_TOKENS: Readonly<Record<string, number>> = {
  cancelled: 1,
  'deadline-exceeded': 4,
  'resource-exhausted': 8,
  internal: 13,
  unavailable: 14,
};

/** Failures each reset-type token retries; a per-try timeout is a local reset in Envoy's router. */
const RESET_TOKENS: Readonly<Record<string, readonly FailureKind[]>> = {
  // Envoy counts any upstream reset as a 5xx (it becomes one), for `gateway-error` as much as for `5xx`.
  '5xx': ['connect-failure', 'reset', 'refused-stream', 'per-try-timeout'],
  'gateway-error': ['connect-failure', 'reset', 'refused-stream', 'per-try-timeout'],
  reset: ['connect-failure', 'reset', 'refused-stream', 'per-try-timeout'],
  // Only a failed connect is known to have sent nothing; a reset or refused stream came after the headers went out.
  'reset-before-request': ['connect-failure'],
  'connect-failure': ['connect-failure'],
  'refused-stream': ['refused-stream'],
};

/**
 * Whether to retry after `outcome`, `retriesSoFar` retries having been made already. No policy, or `attempts`
 * used up: no. Tokens that need what an outcome does not carry never match: `envoy-ratelimited` (the
 * x-envoy-ratelimited response header), `retriable-headers` (no retriable headers in the policy) and
 * `http3-post-connect-failure` (the waypoint does not speak HTTP/3 upstream). Unknown tokens are ignored.
 */
export function shouldRetry(policy: RetryPolicy | undefined, outcome: AttemptOutcome, retriesSoFar: number): boolean {
  if (policy === undefined || retriesSoFar >= policy.attempts) return false;
  const tokens = policy.retryOn.map((t) => t.trim());
  if (outcome.kind !== 'response') return tokens.some((t) => RESET_TOKENS[t]?.includes(outcome.kind) === true);
  const { status, grpcStatus } = outcome;
  return tokens.some((token) => {
    switch (token) {
      case '5xx':
        return status >= 500 && status <= 599;
      case 'gateway-error':
        return status === 502 || status === 503 || status === 504;
      case 'retriable-4xx':
        return status === 409;
      case 'retriable-status-codes':
        return policy.retriableStatusCodes.includes(status);
      default:
        // gRPC tokens read grpc-status from the response headers (a trailers-only response), whatever the HTTP status.
        return grpcStatus !== undefined && GRPC_TOKENS[token] === grpcStatus;
    }
  });
}
