// Envoy's short response flags, as the waypoint writes them in access logs for requests it failed or altered.

/**
 * Envoy response flag for a failed request: 'UF' connect failure, 'UH' no healthy upstream, 'URX' retry limit
 * exceeded, 'UT' upstream timeout, 'UO' overflow, 'NR' no route, 'DC' downstream close, 'UC' upstream connection
 * termination, 'UPE' upstream protocol error (a response the waypoint could not read), 'FI' fault abort, 'DI' delay injected, 'RBAC' denied by authorization, 'UAEX' denied by the external
 * authorizer, '-' none.
 */
export type ResponseFlag = 'UF' | 'UH' | 'URX' | 'UT' | 'UO' | 'NR' | 'DC' | 'UC' | 'UPE' | 'FI' | 'DI' | 'RBAC' | 'UAEX' | '-';
