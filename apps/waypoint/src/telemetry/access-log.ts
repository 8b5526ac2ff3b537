// The one builder of waypoint access-log lines: a JSON object per request with the fields (and names) of Istio's
// default JSON access-log format for Envoy (meshConfig `accessLogEncoding: JSON`), plus the two mTLS principals.
// Envoy writes a missing value as null, numbers as numbers, and durations in whole milliseconds.

export interface AccessLogInput {
  /** When the first byte of the request arrived (`%START_TIME%`). */
  readonly startTime: Date;
  readonly method: string;
  /** `x-envoy-original-path` if a rewrite happened, else `:path` (`%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%`). */
  readonly path: string;
  /** `HTTP/1.1` or `HTTP/2` (`%PROTOCOL%`). */
  readonly protocol: string;
  /** 0 when no response was sent. */
  readonly responseCode: number;
  /** Envoy flags, '-' for none. */
  readonly responseFlags: string;
  /** Why this response code, e.g. `via_upstream`, `route_not_found`, `rbac_access_denied_matched_policy[ns[a]-policy[b]-rule[0]]`. */
  readonly responseCodeDetails?: string;
  /** Body bytes received from the client (`%BYTES_RECEIVED%`). */
  readonly requestBytes: number;
  /** Body bytes sent to the client (`%BYTES_SENT%`). */
  readonly responseBytes: number;
  readonly durationMs: number;
  /** Time the upstream took, from its first request byte to its last response byte. */
  readonly upstreamServiceTimeMs?: number;
  /** `ip:port` of the endpoint that answered last. */
  readonly upstreamHost?: string;
  /** Envoy's cluster name, e.g. `inbound-vip|8000|http|httpbin.default.svc.cluster.local`. */
  readonly upstreamCluster?: string;
  readonly upstreamTransportFailureReason?: string;
  readonly routeName?: string;
  readonly authority?: string;
  readonly userAgent?: string;
  readonly requestId?: string;
  readonly forwardedFor?: string;
  /** `ip:port` of the HBONE peer, and of the waypoint's end of it. */
  readonly downstreamRemoteAddress?: string;
  readonly downstreamLocalAddress?: string;
  /** `%DOWNSTREAM_PEER_URI_SAN%`: the HBONE peer's SPIFFE ID. */
  readonly sourcePrincipal?: string;
  /** `%UPSTREAM_PEER_URI_SAN%`: the answering endpoint's SPIFFE ID. */
  readonly destinationPrincipal?: string;
}

const orNull = <T>(value: T | undefined): T | null => (value === undefined || value === '' ? null : value);
const wholeMs = (ms: number): number => Math.max(0, Math.floor(ms));

/** The line's fields in Envoy's order, unserialised; the values a test or an admin endpoint can look at. */
export function accessLogFields(input: AccessLogInput): Record<string, string | number | null> {
  return {
    start_time: input.startTime.toISOString(),
    route_name: orNull(input.routeName),
    method: input.method,
    path: input.path,
    protocol: input.protocol,
    response_code: input.responseCode,
    response_flags: input.responseFlags === '' ? '-' : input.responseFlags,
    response_code_details: orNull(input.responseCodeDetails),
    upstream_transport_failure_reason: orNull(input.upstreamTransportFailureReason),
    bytes_received: input.requestBytes,
    bytes_sent: input.responseBytes,
    duration: wholeMs(input.durationMs),
    upstream_service_time: input.upstreamServiceTimeMs === undefined ? null : wholeMs(input.upstreamServiceTimeMs),
    x_forwarded_for: orNull(input.forwardedFor),
    user_agent: orNull(input.userAgent),
    request_id: orNull(input.requestId),
    authority: orNull(input.authority),
    upstream_host: orNull(input.upstreamHost),
    upstream_cluster: orNull(input.upstreamCluster),
    downstream_local_address: orNull(input.downstreamLocalAddress),
    downstream_remote_address: orNull(input.downstreamRemoteAddress),
    source_principal: orNull(input.sourcePrincipal),
    destination_principal: orNull(input.destinationPrincipal),
  };
}

const jsonString = (value: string): string => JSON.stringify(value);
const jsonOrNull = (value: string | undefined): string => (value === undefined || value === '' ? 'null' : JSON.stringify(value));
// JSON has no NaN or Infinity: JSON.stringify writes them as null.
const jsonNumber = (value: number): string => (Number.isFinite(value) ? String(value) : 'null');

/**
 * One JSON access-log line (no trailing newline) for a finished request: exactly `JSON.stringify(accessLogFields(input))`,
 * written without the intermediate object since it runs once per request.
 */
export function accessLogLine(input: AccessLogInput): string {
  return (
    `{"start_time":${jsonString(input.startTime.toISOString())}` +
    `,"route_name":${jsonOrNull(input.routeName)}` +
    `,"method":${jsonString(input.method)}` +
    `,"path":${jsonString(input.path)}` +
    `,"protocol":${jsonString(input.protocol)}` +
    `,"response_code":${jsonNumber(input.responseCode)}` +
    `,"response_flags":${jsonString(input.responseFlags === '' ? '-' : input.responseFlags)}` +
    `,"response_code_details":${jsonOrNull(input.responseCodeDetails)}` +
    `,"upstream_transport_failure_reason":${jsonOrNull(input.upstreamTransportFailureReason)}` +
    `,"bytes_received":${jsonNumber(input.requestBytes)}` +
    `,"bytes_sent":${jsonNumber(input.responseBytes)}` +
    `,"duration":${jsonNumber(wholeMs(input.durationMs))}` +
    `,"upstream_service_time":${input.upstreamServiceTimeMs === undefined ? 'null' : jsonNumber(wholeMs(input.upstreamServiceTimeMs))}` +
    `,"x_forwarded_for":${jsonOrNull(input.forwardedFor)}` +
    `,"user_agent":${jsonOrNull(input.userAgent)}` +
    `,"request_id":${jsonOrNull(input.requestId)}` +
    `,"authority":${jsonOrNull(input.authority)}` +
    `,"upstream_host":${jsonOrNull(input.upstreamHost)}` +
    `,"upstream_cluster":${jsonOrNull(input.upstreamCluster)}` +
    `,"downstream_local_address":${jsonOrNull(input.downstreamLocalAddress)}` +
    `,"downstream_remote_address":${jsonOrNull(input.downstreamRemoteAddress)}` +
    `,"source_principal":${jsonOrNull(input.sourcePrincipal)}` +
    `,"destination_principal":${jsonOrNull(input.destinationPrincipal)}}`
  );
}
