// The waypoint's L7 routing decisions (reference §7.3–7.4) as pure functions: route selection, destination split,
// header operations, rewrites, redirects, CORS, fault injection and retries. Randomness is passed in; nothing here does I/O.

export { applyHeaderOperations } from './apply-header-operations';
export { decideCors, type CorsDecision } from './decide-cors';
export { decideFault, type FaultDecision } from './decide-fault';
export { pickDestination } from './pick-destination';
export { redirectResponse } from './redirect-response';
export type { RequestView } from './request-view';
export type { ResponseFlag } from './response-flag';
export { retryBackoffMs } from './retry-backoff';
export { rewriteRequest } from './rewrite-request';
export { selectRoute, type SelectedRoute } from './select-route';
export { shouldRetry, type AttemptOutcome } from './should-retry';
