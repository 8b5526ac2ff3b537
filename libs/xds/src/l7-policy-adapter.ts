// weft.l7.v1 L7Authorization and RequestAuthentication resources ⇄ their domain forms. Resource name
// `<namespace>/<name>` for both. Rule values stay strings as written; their syntax is the waypoint policy library's
// to check, so decoding only refuses what makes the resource itself meaningless (no name, CUSTOM without a provider,
// an issuer-less JWT rule, inline JWKS that is not JSON).

import {
  l7PolicyKey,
  type JwtRule,
  type L7Authorization,
  type L7AuthorizationAction,
  type L7AuthorizationRule,
  type RequestAuthentication,
} from '@weft/mesh-model';
import {
  L7Authorization as WireL7Authorization,
  L7Authorization_Action as WireAction,
  type AuthorizationRule as WireRule,
} from './generated/weft/l7/v1/authorization';
import { RequestAuthentication as WireRequestAuthentication, type JwtRule as WireJwtRule } from './generated/weft/l7/v1/request_authentication';
import { compact, decodeOptionalDuration, decodeTargetRef, encodeOptionalDuration, encodeTargetRef, nonEmpty } from './l7-codec';
import { L7_AUTHORIZATION_TYPE_URL, REQUEST_AUTHENTICATION_TYPE_URL } from './type-urls';
import {
  decodeResource,
  enumCodec,
  FieldRejection,
  invalid,
  type EncodedResource,
  type Result,
  type XdsResourceInput,
} from './xds-result';

const action = enumCodec<L7AuthorizationAction, WireAction>('weft.l7.v1.L7Authorization.Action', {
  ALLOW: WireAction.ACTION_ALLOW,
  DENY: WireAction.ACTION_DENY,
  AUDIT: WireAction.ACTION_AUDIT,
  CUSTOM: WireAction.ACTION_CUSTOM,
});

function checkName(root: string, namespace: string, name: string, resourceName: string): void {
  nonEmpty(name, `${root}.name`, 'name');
  const key = l7PolicyKey(namespace, name);
  if (key !== resourceName) {
    throw new FieldRejection(
      `${root}.name`,
      `resource name ${JSON.stringify(resourceName)} is not <namespace>/<name> ${JSON.stringify(key)}`,
      'ERR_XDS_RESOURCE_NAME_MISMATCH',
    );
  }
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// ---- L7Authorization ----

export function decodeL7AuthorizationResource(input: XdsResourceInput): Result<L7Authorization> {
  return decodeResource(
    L7_AUTHORIZATION_TYPE_URL,
    input,
    'l7_authorization',
    (bytes) => WireL7Authorization.decode(bytes),
    (wire) => decodeL7Authorization(wire, input.name),
  );
}

function decodeL7Authorization(wire: WireL7Authorization, resourceName: string): L7Authorization {
  checkName('l7_authorization', wire.namespace, wire.name, resourceName);
  const decodedAction = action.decode(wire.action, 'l7_authorization.action');
  if (decodedAction === 'CUSTOM' && wire.provider === '') invalid('l7_authorization.provider', 'a CUSTOM policy needs a provider');
  if (decodedAction !== 'CUSTOM' && wire.provider !== '') {
    invalid('l7_authorization.provider', `only a CUSTOM policy names a provider, this one is ${decodedAction}`);
  }
  return {
    name: wire.name,
    namespace: wire.namespace,
    targets: wire.targets.map((t, i) => decodeTargetRef(t, `l7_authorization.targets[${i}]`)),
    action: decodedAction,
    provider: wire.provider,
    dryRun: wire.dryRun,
    rules: wire.rules.map((r, i) => decodeRule(r, `l7_authorization.rules[${i}]`)),
  };
}

function decodeRule(wire: WireRule, path: string): L7AuthorizationRule {
  return {
    from: wire.from.map((s) => ({
      principals: [...s.principals],
      notPrincipals: [...s.notPrincipals],
      requestPrincipals: [...s.requestPrincipals],
      notRequestPrincipals: [...s.notRequestPrincipals],
      namespaces: [...s.namespaces],
      notNamespaces: [...s.notNamespaces],
      serviceAccounts: [...s.serviceAccounts],
      notServiceAccounts: [...s.notServiceAccounts],
      ipBlocks: [...s.ipBlocks],
      notIpBlocks: [...s.notIpBlocks],
      remoteIpBlocks: [...s.remoteIpBlocks],
      notRemoteIpBlocks: [...s.notRemoteIpBlocks],
      trustDomains: [...s.trustDomains],
      notTrustDomains: [...s.notTrustDomains],
    })),
    to: wire.to.map((o) => ({
      hosts: [...o.hosts],
      notHosts: [...o.notHosts],
      ports: [...o.ports],
      notPorts: [...o.notPorts],
      methods: [...o.methods],
      notMethods: [...o.notMethods],
      paths: [...o.paths],
      notPaths: [...o.notPaths],
    })),
    when: wire.when.map((c, i) => ({
      key: nonEmpty(c.key, `${path}.when[${i}].key`, 'condition key'),
      values: [...c.values],
      notValues: [...c.notValues],
    })),
  };
}

function encodeL7Authorization(a: L7Authorization): WireL7Authorization {
  return {
    name: a.name,
    namespace: a.namespace,
    targets: a.targets.map(encodeTargetRef),
    action: action.encode(a.action),
    provider: a.provider,
    dryRun: a.dryRun,
    // The domain lists are readonly; the generated message type wants mutable arrays of the same strings.
    rules: a.rules.map((r) => ({
      from: r.from.map((s) => ({ ...s }) as WireRule['from'][number]),
      to: r.to.map((o) => ({ ...o }) as WireRule['to'][number]),
      when: r.when.map((c) => ({ key: c.key, values: [...c.values], notValues: [...c.notValues] })),
    })),
  };
}

export function l7AuthorizationResourceName(policy: L7Authorization): string {
  return l7PolicyKey(policy.namespace, policy.name);
}

export function encodeL7AuthorizationResource(policy: L7Authorization): EncodedResource {
  return {
    name: l7AuthorizationResourceName(policy),
    typeUrl: L7_AUTHORIZATION_TYPE_URL,
    value: toBuffer(WireL7Authorization.encode(encodeL7Authorization(policy)).finish()),
  };
}

// ---- RequestAuthentication ----

export function decodeRequestAuthenticationResource(input: XdsResourceInput): Result<RequestAuthentication> {
  return decodeResource(
    REQUEST_AUTHENTICATION_TYPE_URL,
    input,
    'request_authentication',
    (bytes) => WireRequestAuthentication.decode(bytes),
    (wire) => decodeRequestAuthentication(wire, input.name),
  );
}

function decodeRequestAuthentication(wire: WireRequestAuthentication, resourceName: string): RequestAuthentication {
  checkName('request_authentication', wire.namespace, wire.name, resourceName);
  return {
    name: wire.name,
    namespace: wire.namespace,
    targets: wire.targets.map((t, i) => decodeTargetRef(t, `request_authentication.targets[${i}]`)),
    jwtRules: wire.jwtRules.map((r, i) => decodeJwtRule(r, `request_authentication.jwt_rules[${i}]`)),
  };
}

function decodeJwtRule(wire: WireJwtRule, path: string): JwtRule {
  if (wire.jwks !== '') {
    try {
      JSON.parse(wire.jwks);
    } catch (err) {
      invalid(`${path}.jwks`, `inline JWKS is not JSON: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return compact<JwtRule>({
    issuer: nonEmpty(wire.issuer, `${path}.issuer`, 'issuer'),
    audiences: [...wire.audiences],
    jwksUri: wire.jwksUri,
    jwks: wire.jwks,
    fromHeaders: wire.fromHeaders.map((h, i) => ({ name: nonEmpty(h.name, `${path}.from_headers[${i}].name`, 'header name'), prefix: h.prefix })),
    fromParams: wire.fromParams.map((p, i) => nonEmpty(p, `${path}.from_params[${i}]`, 'parameter name')),
    fromCookies: wire.fromCookies.map((c, i) => nonEmpty(c, `${path}.from_cookies[${i}]`, 'cookie name')),
    outputPayloadToHeader: wire.outputPayloadToHeader,
    forwardOriginalToken: wire.forwardOriginalToken,
    outputClaimToHeaders: wire.outputClaimToHeaders.map((c, i) => ({
      header: nonEmpty(c.header, `${path}.output_claim_to_headers[${i}].header`, 'header'),
      claim: nonEmpty(c.claim, `${path}.output_claim_to_headers[${i}].claim`, 'claim'),
    })),
    timeoutMs: decodeOptionalDuration(wire.timeout, `${path}.timeout`),
    spaceDelimitedClaims: [...wire.spaceDelimitedClaims],
  });
}

function encodeJwtRule(r: JwtRule, path: string): WireJwtRule {
  return {
    issuer: r.issuer,
    audiences: [...r.audiences],
    jwksUri: r.jwksUri,
    jwks: r.jwks,
    fromHeaders: r.fromHeaders.map((h) => ({ name: h.name, prefix: h.prefix })),
    fromParams: [...r.fromParams],
    fromCookies: [...r.fromCookies],
    outputPayloadToHeader: r.outputPayloadToHeader,
    forwardOriginalToken: r.forwardOriginalToken,
    outputClaimToHeaders: r.outputClaimToHeaders.map((c) => ({ header: c.header, claim: c.claim })),
    timeout: encodeOptionalDuration(r.timeoutMs, `${path}.timeout`),
    spaceDelimitedClaims: [...r.spaceDelimitedClaims],
  };
}

export function requestAuthenticationResourceName(policy: RequestAuthentication): string {
  return l7PolicyKey(policy.namespace, policy.name);
}

export function encodeRequestAuthenticationResource(policy: RequestAuthentication): EncodedResource {
  const wire: WireRequestAuthentication = {
    name: policy.name,
    namespace: policy.namespace,
    targets: policy.targets.map(encodeTargetRef),
    jwtRules: policy.jwtRules.map((r, i) => encodeJwtRule(r, `request_authentication.jwt_rules[${i}]`)),
  };
  return {
    name: requestAuthenticationResourceName(policy),
    typeUrl: REQUEST_AUTHENTICATION_TYPE_URL,
    value: toBuffer(WireRequestAuthentication.encode(wire).finish()),
  };
}
