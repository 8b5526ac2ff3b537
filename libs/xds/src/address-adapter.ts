// WDS resources (type `istio.workload.Address`, reference §4.2) ⇄ domain workloads and services. Decoding is the
// xDS client's half and never throws; encoding is the control plane's half.

import { serviceKey, type Service, type Workload } from '@weft/mesh-model';
import { Any } from './generated/google/protobuf/any';
import { Address as WireAddress } from './generated/istio/workload/workload';
import { decodeService, encodeService } from './address-service';
import { decodeWorkload, encodeWorkload } from './address-workload';
import { ADDRESS_TYPE_URL } from './type-urls';
import { decodeResource, invalid, type EncodedResource, type Result, type XdsResourceInput } from './xds-result';

export { encodeService } from './address-service';
export { encodeWorkload } from './address-workload';

/** What one `istio.workload.Address` resource holds. */
export type AddressResource =
  | { readonly kind: 'workload'; readonly workload: Workload }
  | { readonly kind: 'service'; readonly service: Service };

/**
 * Decodes one WDS resource. Every problem — bytes that are not protobuf, an empty `type` oneof, bad IP bytes, an
 * unknown enum value, a port above 65535, a name that is not the resource's key — becomes a rejection naming the
 * resource and the field, so the client can NACK this resource and apply the others (reference §4.1).
 */
export function decodeAddressResource(input: XdsResourceInput): Result<AddressResource> {
  return decodeResource(
    ADDRESS_TYPE_URL,
    input,
    'address',
    (bytes) => WireAddress.decode(bytes),
    (wire): AddressResource => {
      switch (wire.type?.$case) {
        case 'workload':
          return { kind: 'workload', workload: decodeWorkload(wire.type.value, input.name) };
        case 'service':
          return { kind: 'service', service: decodeService(wire.type.value, input.name) };
        default:
          return invalid('address.type', 'neither workload nor service is set');
      }
    },
  );
}

/** The xDS resource name: a workload's uid, or a service's `<namespace>/<hostname>` (reference §4.1). */
export function addressResourceName(resource: AddressResource): string {
  return resource.kind === 'workload'
    ? resource.workload.uid
    : serviceKey(resource.service.namespace, resource.service.hostname);
}

/**
 * Name, type URL and serialized `Address` for a Delta ADS `Resource`, so a server can publish a workload or service
 * without handling generated types. Throws `XdsEncodeError` on a broken domain invariant (address not IP text).
 */
export function encodeAddressResource(resource: AddressResource): EncodedResource {
  const wire = resource.kind === 'workload' ? encodeWorkload(resource.workload) : encodeService(resource.service);
  return { name: addressResourceName(resource), typeUrl: ADDRESS_TYPE_URL, value: encodeAddress(wire) };
}

/** Serializes a wire `Address`. */
export function encodeAddress(address: WireAddress): Buffer {
  const bytes = WireAddress.encode(address).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The `google.protobuf.Any` placed in `Resource.resource`. */
export function toAny(typeUrl: string, bytes: Uint8Array): Any {
  return { typeUrl, value: Buffer.from(bytes) };
}
