// RequestAuthentication checks (istio/api security/v1beta1 request_authentication.proto, istio
// `ValidateRequestAuthentication`); in ambient the waypoint validates JWTs, so it must be attached with targetRefs.

import { FieldReader, type PlainObject } from './validate-reader';

function checkJwtRule(r: FieldReader, rule: PlainObject, field: string): void {
  const issuer = r.string(rule['issuer'], `${field}.issuer`);
  if (issuer === undefined || issuer === '') r.error('ERR_RA_ISSUER_MISSING', `${field}.issuer`, 'issuer must be set');
  r.stringList(rule['audiences'], `${field}.audiences`);
  const jwksUri = r.string(rule['jwksUri'], `${field}.jwksUri`);
  const jwks = r.string(rule['jwks'], `${field}.jwks`);
  if (jwksUri !== undefined && jwksUri !== '' && !/^https?:\/\/[^/\s]+/.test(jwksUri)) {
    r.error('ERR_RA_JWKS_URI', `${field}.jwksUri`, `jwksUri "${jwksUri}" must be an http or https URL`);
  }
  if (jwks !== undefined && jwks !== '' && jwksUri !== undefined && jwksUri !== '') {
    r.warn('WARN_RA_JWKS_AND_URI', `${field}.jwks`, 'only one of jwks or jwksUri should be set; jwks is used and jwksUri ignored');
  }
  for (const [header, path] of r.eachRecord(rule['fromHeaders'], `${field}.fromHeaders`)) {
    const name = r.string(header['name'], `${path}.name`);
    if (name === undefined || name === '') r.error('ERR_RA_FROM_HEADER', `${path}.name`, 'header name must be set');
    r.string(header['prefix'], `${path}.prefix`);
  }
  (r.stringList(rule['fromParams'], `${field}.fromParams`) ?? []).forEach((param, i) => {
    if (param === '') r.error('ERR_RA_FROM_PARAM', `${field}.fromParams[${i}]`, 'parameter name must not be empty');
  });
  r.stringList(rule['fromCookies'], `${field}.fromCookies`);
  r.string(rule['outputPayloadToHeader'], `${field}.outputPayloadToHeader`);
  r.boolean(rule['forwardOriginalToken'], `${field}.forwardOriginalToken`);
  r.duration(rule['timeout'], `${field}.timeout`, 'ERR_RA_DURATION');
  for (const [claim, path] of r.eachRecord(rule['outputClaimToHeaders'], `${field}.outputClaimToHeaders`)) {
    for (const key of ['header', 'claim'] as const) {
      const v = r.string(claim[key], `${path}.${key}`);
      if (v === undefined || v === '') r.error('ERR_RA_CLAIM_TO_HEADER', `${path}.${key}`, `${key} must be set`);
    }
  }
}

/** Checks `spec` of a `security.istio.io` RequestAuthentication. */
export function validateRequestAuthenticationSpec(r: FieldReader, spec: PlainObject): void {
  const selector = r.record(spec['selector'], 'spec.selector');
  if (selector !== undefined) r.stringMap(selector['matchLabels'], 'spec.selector.matchLabels');
  const targetRefs = r.eachRecord(spec['targetRefs'], 'spec.targetRefs');
  for (const [ref, path] of targetRefs) {
    for (const key of ['kind', 'name'] as const) {
      const v = r.string(ref[key], `${path}.${key}`);
      if (v === undefined || v === '') r.error('ERR_RA_TARGET_REF', `${path}.${key}`, `targetRef ${key} must be set`);
    }
  }
  const targetRef = r.record(spec['targetRef'], 'spec.targetRef');
  if (selector !== undefined && (targetRefs.length > 0 || targetRef !== undefined)) {
    r.error('ERR_RA_SELECTOR_AND_TARGET_REF', 'spec.selector', 'only one of targetRefs or workloadSelector can be set');
  } else if (selector !== undefined) {
    r.warn('WARN_RA_SELECTOR', 'spec.selector', 'in ambient mode JWTs are validated by the waypoint, which ignores selector policies; attach it with targetRefs to the waypoint Gateway or the Service');
  }
  for (const [rule, path] of r.eachRecord(spec['jwtRules'], 'spec.jwtRules')) checkJwtRule(r, rule, path);
}
