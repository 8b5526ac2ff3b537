// The inbound listeners' error codes and the one function that maps them to the CONNECT response status
// (reference §2.4; ztunnel `InboundError`). 15006 has no HTTP status: there the code only names the log reason.

export type InboundErrorCode =
  /** Step 2: a request other than CONNECT. */
  | 'ERR_INBOUND_METHOD_NOT_CONNECT'
  /** Step 3: `:authority` is neither `ip:port` nor `host:port`. */
  | 'ERR_INBOUND_AUTHORITY_INVALID'
  /** Step 4: the pod this listener serves is not (yet) known from xDS. */
  | 'ERR_INBOUND_UNKNOWN_LOCAL_WORKLOAD'
  /** Step 5: the authority IP is not this pod's, and the pod is neither an application tunnel nor its waypoint. */
  | 'ERR_INBOUND_IP_MISMATCH'
  /** Step 6: the final port is one of ztunnel's own. */
  | 'ERR_INBOUND_ILLEGAL_PORT'
  /** Step 6: a hostname authority whose service port maps to no target port on this pod. */
  | 'ERR_INBOUND_NO_PORT_MAPPING'
  /** Step 7: L4 AuthorizationPolicy denied the connection (metrics flag DENY). */
  | 'ERR_INBOUND_RBAC_DENIED'
  /** Step 8: connecting to the application failed or timed out (metrics flag CONNECT). */
  | 'ERR_INBOUND_UPSTREAM_CONNECT';

/** HTTP status of the CONNECT response for an inbound error (reference §2.4). */
export function inboundHttpStatus(code: InboundErrorCode): 400 | 401 | 503 {
  switch (code) {
    case 'ERR_INBOUND_METHOD_NOT_CONNECT':
    case 'ERR_INBOUND_AUTHORITY_INVALID':
    case 'ERR_INBOUND_IP_MISMATCH':
      return 400;
    case 'ERR_INBOUND_RBAC_DENIED':
      return 401;
    case 'ERR_INBOUND_UNKNOWN_LOCAL_WORKLOAD':
    case 'ERR_INBOUND_ILLEGAL_PORT':
    case 'ERR_INBOUND_NO_PORT_MAPPING':
    case 'ERR_INBOUND_UPSTREAM_CONNECT':
      return 503;
  }
}

/** The metrics `response_flags` an inbound error is reported with (reference §8.1). */
export function inboundResponseFlag(code: InboundErrorCode): 'DENY' | 'CONNECT' | '-' {
  if (code === 'ERR_INBOUND_RBAC_DENIED') return 'DENY';
  if (code === 'ERR_INBOUND_UPSTREAM_CONNECT') return 'CONNECT';
  return '-';
}
