// Public surface of the proto ⇄ domain adapters: per-resource decoding for the xDS client (results, never
// exceptions) and encoding to resource bytes for the control plane. Functions returning generated wire types stay
// internal (STYLE.md #3).

export {
  addressResourceName,
  decodeAddressResource,
  encodeAddressResource,
  type AddressResource,
} from './address-adapter';
export {
  authorizationResourceName,
  decodeAuthorizationResource,
  encodeAuthorizationResource,
} from './authorization-adapter';
export {
  decodeL7AuthorizationResource,
  decodeRequestAuthenticationResource,
  decodeWaypointServiceResource,
  encodeL7AuthorizationResource,
  encodeRequestAuthenticationResource,
  encodeWaypointServiceResource,
  l7AuthorizationResourceName,
  requestAuthenticationResourceName,
  waypointServiceResourceName,
} from './l7-adapter';
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
