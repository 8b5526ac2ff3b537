// The per-resource outcome of decoding one xDS resource, and the helpers the adapters use to produce it. A bad
// resource is a value, not an exception: the client NACKs it and still applies the rest of the response, as ztunnel
// does (reference §4.1; ztunnel's `TryFrom<XdsWorkload>` returns `WorkloadError` per resource).

import { ipAddressFromBytes, ipAddressToBytes } from './ip-address';
import { TYPE_URL_PREFIX } from './type-urls';

export type XdsRejectionCode =
  /** The bytes are not a protobuf encoding of the resource's message. */
  | 'ERR_XDS_RESOURCE_UNDECODABLE'
  /** A field holds a value the mesh cannot use (bad IP bytes, unknown enum value, port out of range …). */
  | 'ERR_XDS_RESOURCE_INVALID'
  /** The resource's name is not the key its content implies (uid, `<ns>/<hostname>`, `<ns>/<name>`). */
  | 'ERR_XDS_RESOURCE_NAME_MISMATCH';

/** Why one resource of a response was not applied. `field` is a proto path such as `workload.addresses[1]`. */
export interface XdsRejection {
  readonly code: XdsRejectionCode;
  readonly typeUrl: string;
  readonly resourceName: string;
  readonly field: string;
  readonly message: string;
}

export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly rejection: XdsRejection };

/** One resource as a Delta ADS response carries it: `Resource.name`, `Resource.version`, `Resource.resource.value`. */
export interface XdsResourceInput {
  readonly name: string;
  readonly version: string;
  readonly value: Uint8Array;
}

/** One encoded resource, ready to be wrapped in a `Resource` by the server. */
export interface EncodedResource {
  readonly name: string;
  readonly typeUrl: string;
  readonly value: Buffer;
}

/**
 * One line for a NACK's `error_detail.message`, naming the type, the resource and the field, e.g.
 * `istio.workload.Address "Kubernetes//Pod/ns/a": workload.addresses[1]: must be 4 or 16 bytes, got 5
 * (ERR_XDS_RESOURCE_INVALID)`. Control characters from the wire are flattened so the text stays on one line.
 */
export function rejectionText(r: XdsRejection): string {
  const type = r.typeUrl.startsWith(TYPE_URL_PREFIX) ? r.typeUrl.slice(TYPE_URL_PREFIX.length) : r.typeUrl;
  return oneLine(`${type} ${JSON.stringify(r.resourceName)}: ${r.field}: ${r.message} (${r.code})`);
}

function oneLine(text: string): string {
  return text.replace(/\p{Cc}+/gu, ' ');
}

/**
 * Thrown inside an adapter to abandon the resource being converted, and caught by `decodeResource` before it can
 * leave the public decode functions. It plays the part of `?` in ztunnel's `TryFrom` chains.
 */
export class FieldRejection extends Error {
  constructor(
    readonly field: string,
    message: string,
    readonly code: XdsRejectionCode = 'ERR_XDS_RESOURCE_INVALID',
  ) {
    super(message);
    this.name = 'FieldRejection';
  }
}

/** Abandons the current resource: `field` holds a value the mesh cannot use. */
export function invalid(field: string, message: string): never {
  throw new FieldRejection(field, message);
}

/**
 * Thrown by the encode functions when a domain value breaks its own documented invariant (an address that is not
 * IP text). That is a bug in the caller, not bad input from the wire, so it has no rejection to become.
 */
export class XdsEncodeError extends Error {
  readonly code = 'ERR_XDS_ENCODE_INVALID';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'XdsEncodeError';
  }
}

/**
 * Runs the protobuf decoder and then the conversion to domain types, turning every failure of either into a
 * rejection for this resource. `root` names the field reported when the bytes themselves are bad.
 */
export function decodeResource<W, T>(
  typeUrl: string,
  input: XdsResourceInput,
  root: string,
  decodeWire: (bytes: Uint8Array) => W,
  convert: (wire: W) => T,
): Result<T> {
  const reject = (code: XdsRejectionCode, field: string, message: string): Result<T> => ({
    ok: false,
    rejection: { code, typeUrl, resourceName: input.name, field, message },
  });
  let wire: W;
  try {
    wire = decodeWire(input.value);
  } catch (err) {
    return reject('ERR_XDS_RESOURCE_UNDECODABLE', root, `not a valid protobuf encoding: ${errorMessage(err)}`);
  }
  try {
    return { ok: true, value: convert(wire) };
  } catch (err) {
    if (err instanceof FieldRejection) return reject(err.code, err.field, err.message);
    return reject('ERR_XDS_RESOURCE_INVALID', root, errorMessage(err));
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Checks a uint32 that the mesh uses as a TCP port; ztunnel casts these to u16, which would silently wrap. */
export function decodePortNumber(value: number, field: string): number {
  return value <= 0xffff ? value : invalid(field, `port ${value} is out of range (0-65535)`);
}

/** Canonical text for address bytes of a resource; anything but 4 or 16 bytes rejects it (ztunnel `byte_to_ip`). */
export function decodeIp(bytes: Uint8Array, field: string): string {
  return ipAddressFromBytes(bytes) ?? invalid(field, `address must be 4 or 16 bytes, got ${bytes.length}`);
}

/** Wire bytes for a domain address; text that is not an IP breaks the domain type's contract. */
export function encodeIp(text: string, field: string): Buffer {
  const bytes = ipAddressToBytes(text);
  if (bytes === undefined) throw new XdsEncodeError(field, `${JSON.stringify(text)} is not an IP address`);
  return bytes;
}

/** Numeric wire enum ⇄ the string union of the domain type. */
export interface EnumCodec<D extends string, W extends number> {
  /** Unknown values are rejected, as ztunnel's `Enum::try_from(i32)` does. */
  decode(value: number, field: string): D;
  encode(value: D): W;
}

/** Builds a codec from the domain name → wire number table; the table's type makes it cover every domain name. */
export function enumCodec<D extends string, W extends number>(
  protoName: string,
  table: Readonly<Record<D, W>>,
): EnumCodec<D, W> {
  const byNumber = new Map<number, D>();
  for (const name of Object.keys(table) as D[]) byNumber.set(table[name], name);
  return {
    decode: (value, field) => byNumber.get(value) ?? invalid(field, `unknown ${protoName} value ${value}`),
    encode: (value) => table[value],
  };
}
