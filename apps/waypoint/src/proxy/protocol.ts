// Which HTTP codec each side of a request uses, and gRPC's view of a local answer (reference §7.2). Pure.
//
// Downstream, a waypoint's HTTP listener detects the codec as Envoy's `codec_type: AUTO` does: a connection that
// opens with the HTTP/2 client preface is HTTP/2 (h2c with prior knowledge), anything else HTTP/1.1. Upstream, the
// port's declared protocol decides as istiod's cluster options do: HTTP2 and GRPC ports speak HTTP/2, HTTP ports
// HTTP/1.1, and an undeclared port uses the downstream protocol.

import type { WaypointPortProtocol } from '@weft/mesh-model';

export type HttpCodec = 'http1' | 'http2';

/** The HTTP/2 client connection preface (RFC 9113 §3.4). */
export const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/**
 * What the first bytes of a connection say about its codec: `http2` once they are the whole preface, `http1` as soon
 * as they differ from it, `undecided` while they are a proper prefix of it.
 */
export function sniffCodec(head: Buffer): HttpCodec | 'undecided' {
  const n = Math.min(head.length, HTTP2_PREFACE.length);
  if (head.subarray(0, n).compare(HTTP2_PREFACE, 0, n) !== 0) return 'http1';
  return n === HTTP2_PREFACE.length ? 'http2' : 'undecided';
}

/** The codec towards the endpoints of a port. */
export function upstreamCodec(protocol: WaypointPortProtocol, downstream: HttpCodec): HttpCodec {
  switch (protocol) {
    case 'HTTP2':
    case 'GRPC':
      return 'http2';
    case 'HTTP':
      return 'http1';
    default:
      return downstream;
  }
}

/** A gRPC request: `content-type: application/grpc` or `application/grpc+<subtype>` / `;params`. */
export function isGrpcRequest(contentType: string | string[] | undefined): boolean {
  const value = (Array.isArray(contentType) ? contentType[0] : contentType)?.toLowerCase() ?? '';
  return value === 'application/grpc' || value.startsWith('application/grpc+') || value.startsWith('application/grpc;');
}

/** Envoy's HTTP-status-to-gRPC-status mapping for local replies (Grpc::Utility::httpToGrpcStatus). */
export function grpcStatusOfHttp(status: number): number {
  switch (status) {
    case 400:
      return 13; // INTERNAL
    case 401:
      return 16; // UNAUTHENTICATED
    case 403:
      return 7; // PERMISSION_DENIED
    case 404:
      return 12; // UNIMPLEMENTED
    case 429:
    case 502:
    case 503:
    case 504:
      return 14; // UNAVAILABLE
    default:
      return 2; // UNKNOWN
  }
}

/** gRPC's percent-encoding of `grpc-message`: bytes outside printable ASCII, and `%`, as `%XX`. */
export function encodeGrpcMessage(message: string): string {
  let out = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * A local answer (authz denial, fault, no upstream, timeout …) as a gRPC client can read it: Envoy answers a gRPC
 * request with HTTP 200, `content-type: application/grpc`, and the status and message as a trailers-only response.
 * An answer that already carries `grpc-status` (a gRPC fault abort) is kept.
 */
export function grpcLocalReply(
  status: number,
  headers: Readonly<Record<string, string | string[]>>,
  message: string,
): { status: number; headers: Record<string, string | string[]> } {
  if (headers['grpc-status'] !== undefined) return { status, headers: { ...headers, 'content-type': 'application/grpc' } };
  return {
    status: 200,
    headers: { 'content-type': 'application/grpc', 'grpc-status': String(grpcStatusOfHttp(status)), 'grpc-message': encodeGrpcMessage(message) },
  };
}
