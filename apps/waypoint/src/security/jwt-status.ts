// The verification outcomes of Envoy's jwt_authn filter and the texts it answers with. Envoy sends
// `getStatusString(status)` of google/jwt_verify_lib (src/status.cc) as the local-reply body; the status code is 403
// for JwtAudienceNotAllowed and 401 for every other failure (envoy source/extensions/filters/http/jwt_authn/filter.cc).

export const JWT_STATUS_TEXT = {
  JwtBadFormat: 'Jwt is not in the form of Header.Payload.Signature',
  JwtHeaderParseError: 'Jwt header is an invalid Base64url input or an invalid JSON',
  JwtHeaderBadAlg: 'Jwt header [alg] field is not a string',
  JwtHeaderNotImplementedAlg: 'Jwt header [alg] field value is invalid',
  JwtHeaderBadKid: 'Jwt header [kid] field is not a string',
  JwtPayloadParseError: 'Jwt payload is an invalid Base64 or an invalid JSON',
  JwtSignatureParseError: 'Jwt signature is an invalid Base64',
  JwtNotYetValid: 'Jwt not yet valid',
  JwtExpired: 'Jwt is expired',
  JwtUnknownIssuer: 'Jwt issuer is not configured',
  JwtAudienceNotAllowed: 'Audiences in Jwt are not allowed',
  JwtVerificationFail: 'Jwt verification fails',
  JwksParseError: 'Jwks is an invalid JSON',
  JwksNoKeys: 'Jwks does not have [keys] field',
  JwksBadKeys: '[keys] in Jwks is not an array',
  JwksNoValidKeys: "Jwks doesn't have any valid public key",
  JwksKidAlgMismatch: "Jwks doesn't have key to match kid or alg from Jwt",
  JwksFetchFail: 'Jwks remote fetch is failed',
} as const;

export type JwtFailure = keyof typeof JWT_STATUS_TEXT;

/** Envoy's status code for a failed verification. */
export function httpStatusOf(failure: JwtFailure): 401 | 403 {
  return failure === 'JwtAudienceNotAllowed' ? 403 : 401;
}
