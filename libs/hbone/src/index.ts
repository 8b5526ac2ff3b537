// Public entry of @weft/hbone: the HBONE client pool and server (reference §2) over node:http2 and node:tls, the
// per-identity TLS credentials they share, and the byte pump between a tunnel and a TCP socket.
export {
  HboneError,
  NOOP_HBONE_LOGGER,
  isHboneError,
  type HboneErrorCode,
  type HboneErrorDetails,
  type HboneLogFields,
  type HboneLogger,
} from './hbone-error';
export { formatAuthority, parseAuthority, type Authority } from './authority';
export {
  HBONE_ALPN,
  HBONE_TLS_CIPHERSUITES,
  createCredentialCache,
  type CredentialCache,
  type WorkloadCertificate,
  type WorkloadCredential,
} from './credential-cache';
export {
  HBONE_CLIENT_MAX_HEADER_LIST_BYTES,
  HBONE_CLIENT_MAX_STREAMS,
  HBONE_CONNECTION_WINDOW_BYTES,
  HBONE_KEEPALIVE_INTERVAL_MS,
  HBONE_KEEPALIVE_TIMEOUT_MS,
  HBONE_MAX_FRAME_SIZE_BYTES,
  HBONE_SERVER_MAX_HEADER_LIST_BYTES,
  HBONE_SERVER_MAX_STREAMS,
  HBONE_STREAM_WINDOW_BYTES,
  type KeepaliveOptions,
} from './http2-settings';
export {
  HEADER_BAGGAGE,
  HEADER_FORWARDED,
  HEADER_TRACEPARENT,
  formatForwarded,
  newTraceparent,
  readTunnelHeaders,
  type TunnelHeaders,
} from './tunnel-headers';
export type { SocketAddress } from './socket-address';
export { pipeTunnel, type TunnelResult } from './tunnel-pipe';
export {
  HTTP_STATUS_BAD_GATEWAY,
  HTTP_STATUS_BAD_REQUEST,
  HTTP_STATUS_OK,
  HTTP_STATUS_SERVICE_UNAVAILABLE,
  HTTP_STATUS_UNAUTHORIZED,
  type InboundTunnel,
  type TunnelHandler,
} from './inbound-tunnel';
export {
  DEFAULT_CREDENTIAL_TIMEOUT_MS,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_SERVER_CLOSE_DEADLINE_MS,
  createHboneServer,
  type ConnectionInfo,
  type HboneServer,
  type HboneServerOptions,
  type HboneServerStats,
  type ListenTarget,
} from './hbone-server';
export { DEFAULT_CONNECT_TIMEOUT_MS, defaultSocketFactory, type SocketFactory, type SocketRequest } from './hbone-dial';
export {
  DEFAULT_POOL_CLOSE_DEADLINE_MS,
  DEFAULT_POOL_IDLE_TIMEOUT_MS,
  createHbonePool,
  poolKey,
  type HboneConnectRequest,
  type HbonePool,
  type HbonePoolOptions,
  type OutboundTunnel,
  type PoolConnectionInfo,
} from './hbone-pool';
