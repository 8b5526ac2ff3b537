// Public surface of the proto ⇄ domain adapters: per-resource decoding for the xDS client (results, never
// exceptions) and encoding for the control plane. Helpers used only between adapter files stay unexported here.

export {
  addressResourceName,
  decodeAddressResource,
  encodeAddress,
  encodeAddressResource,
  encodeService,
  encodeWorkload,
  toAny,
  type AddressResource,
} from './address-adapter';
export {
  authorizationResourceName,
  decodeAuthorizationResource,
  encodeAuthorization,
  encodeAuthorizationResource,
} from './authorization-adapter';
export { canonicalIpAddress, ipAddressFromBytes, ipAddressToBytes } from './ip-address';
export {
  rejectionText,
  XdsEncodeError,
  type EncodedResource,
  type Result,
  type XdsRejection,
  type XdsRejectionCode,
  type XdsResourceInput,
} from './xds-result';
