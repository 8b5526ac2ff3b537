// ZDS (reference §5.4): the messages the cni-node agent and ztunnel exchange over SOCK_SEQPACKET, one protobuf per
// datagram, as plain values. Generated types stay here; both sides use these encoders and decoders.

import {
  Version,
  WorkloadRequest as WireWorkloadRequest,
  WorkloadResponse as WireWorkloadResponse,
  ZdsHello as WireZdsHello,
} from './generated/istio/workload/zds/zds';

/** ztunnel reads into a 1024-byte buffer and treats truncation as an error, so no message may be larger. */
export const ZDS_MAX_MESSAGE_BYTES = 1024;
export const ZDS_VERSION_V1 = 1;

export interface ZdsWorkloadInfo {
  readonly name: string;
  readonly namespace: string;
  readonly serviceAccount: string;
}

/** `WorkloadRequest`; an `add` travels with exactly one netns fd in SCM_RIGHTS. */
export type ZdsRequest =
  | { readonly kind: 'add'; readonly uid: string; readonly workload: ZdsWorkloadInfo }
  | { readonly kind: 'keep'; readonly uid: string }
  | { readonly kind: 'del'; readonly uid: string }
  | { readonly kind: 'snapshot-sent' };

export type ZdsDecoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

function decodeWith<T>(what: string, bytes: Uint8Array, decode: (bytes: Uint8Array) => T): ZdsDecoded<T> {
  try {
    return { ok: true, value: decode(bytes) };
  } catch (cause) {
    return { ok: false, message: `${what} is not valid protobuf: ${cause instanceof Error ? cause.message : String(cause)}` };
  }
}

function checkSize(what: string, bytes: Uint8Array): Uint8Array {
  if (bytes.length > ZDS_MAX_MESSAGE_BYTES) {
    throw new RangeError(`${what} is ${bytes.length} bytes; ZDS messages must fit in ${ZDS_MAX_MESSAGE_BYTES}`);
  }
  return bytes;
}

export function encodeZdsHello(version = ZDS_VERSION_V1): Uint8Array {
  return WireZdsHello.encode({ version: version as Version }).finish();
}

/** The version number ztunnel announced (1 for V1). */
export function decodeZdsHello(bytes: Uint8Array): ZdsDecoded<number> {
  const decoded = decodeWith('ZdsHello', bytes, (b) => WireZdsHello.decode(b));
  return decoded.ok ? { ok: true, value: decoded.value.version } : decoded;
}

export function encodeZdsRequest(request: ZdsRequest): Uint8Array {
  let wire: WireWorkloadRequest;
  switch (request.kind) {
    case 'add':
      wire = { payload: { $case: 'add', value: { uid: request.uid, workloadInfo: { ...request.workload } } } };
      break;
    case 'keep':
      wire = { payload: { $case: 'keep', value: { uid: request.uid } } };
      break;
    case 'del':
      wire = { payload: { $case: 'del', value: { uid: request.uid } } };
      break;
    case 'snapshot-sent':
      wire = { payload: { $case: 'snapshotSent', value: {} } };
      break;
  }
  return checkSize(`WorkloadRequest ${request.kind}`, WireWorkloadRequest.encode(wire).finish());
}

export function decodeZdsRequest(bytes: Uint8Array): ZdsDecoded<ZdsRequest> {
  const decoded = decodeWith('WorkloadRequest', bytes, (b) => WireWorkloadRequest.decode(b));
  if (!decoded.ok) return decoded;
  const payload = decoded.value.payload;
  switch (payload?.$case) {
    case 'add': {
      const info = payload.value.workloadInfo;
      const workload = { name: info?.name ?? '', namespace: info?.namespace ?? '', serviceAccount: info?.serviceAccount ?? '' };
      return { ok: true, value: { kind: 'add', uid: payload.value.uid, workload } };
    }
    case 'keep':
      return { ok: true, value: { kind: 'keep', uid: payload.value.uid } };
    case 'del':
      return { ok: true, value: { kind: 'del', uid: payload.value.uid } };
    case 'snapshotSent':
      return { ok: true, value: { kind: 'snapshot-sent' } };
    default:
      return { ok: false, message: 'WorkloadRequest has no payload' };
  }
}

/** `WorkloadResponse{ack{error}}`; "" means success. */
export function encodeZdsAck(error = ''): Uint8Array {
  return checkSize('Ack', WireWorkloadResponse.encode({ payload: { $case: 'ack', value: { error } } }).finish());
}

/** The ack's error text ("" for success). */
export function decodeZdsAck(bytes: Uint8Array): ZdsDecoded<string> {
  const decoded = decodeWith('WorkloadResponse', bytes, (b) => WireWorkloadResponse.decode(b));
  if (!decoded.ok) return decoded;
  const payload = decoded.value.payload;
  return payload?.$case === 'ack' ? { ok: true, value: payload.value.error } : { ok: false, message: 'WorkloadResponse has no ack' };
}
