// `istio.security.Authorization` resources (reference §4.3) ⇄ the domain Authorization that ztunnel-style L4
// enforcement evaluates (§6.5). Resource name `<namespace>/<name>`.
//
// Stricter than ztunnel on purpose: ztunnel silently drops an address it cannot parse and a StringMatch with no
// match type, which narrows a Match — for a DENY policy that means allowing traffic the author meant to deny. Here
// either one rejects the resource, so the NACK surfaces it and the previous version of the policy stays in force.

import {
  authorizationKey,
  type Authorization,
  type AuthorizationAction,
  type AuthorizationMatch,
  type AuthorizationScope,
  type CidrMatch,
  type ServiceAccountMatch,
  type StringMatch,
} from '@weft/mesh-model';
import {
  Action as WireAction,
  Authorization as WireAuthorization,
  Scope as WireScope,
  type Address as WireCidr,
  type Match as WireMatch,
  type ServiceAccountMatch as WireServiceAccountMatch,
  type StringMatch as WireStringMatch,
} from './generated/istio/security/authorization';
import { addressBits } from './ip-address';
import { AUTHORIZATION_TYPE_URL } from './type-urls';
import {
  decodeIp,
  decodePortNumber,
  decodeResource,
  encodeIp,
  enumCodec,
  FieldRejection,
  invalid,
  type EncodedResource,
  type Result,
  type XdsResourceInput,
} from './xds-result';

const scope = enumCodec<AuthorizationScope, WireScope>('istio.security.Scope', {
  GLOBAL: WireScope.GLOBAL,
  NAMESPACE: WireScope.NAMESPACE,
  WORKLOAD_SELECTOR: WireScope.WORKLOAD_SELECTOR,
});
const action = enumCodec<AuthorizationAction, WireAction>('istio.security.Action', {
  ALLOW: WireAction.ALLOW,
  DENY: WireAction.DENY,
});

/** Decodes one Authorization resource; every problem becomes a rejection naming the resource and the field. */
export function decodeAuthorizationResource(input: XdsResourceInput): Result<Authorization> {
  return decodeResource(
    AUTHORIZATION_TYPE_URL,
    input,
    'authorization',
    (bytes) => WireAuthorization.decode(bytes),
    (wire) => decodeAuthorization(wire, input.name),
  );
}

function decodeAuthorization(wire: WireAuthorization, resourceName: string): Authorization {
  if (wire.name === '') invalid('authorization.name', 'must not be empty: it is part of the policy key');
  const key = authorizationKey(wire.namespace, wire.name);
  if (key !== resourceName) {
    throw new FieldRejection(
      'authorization.name',
      `resource name ${JSON.stringify(resourceName)} is not <namespace>/<name> ${JSON.stringify(key)}`,
      'ERR_XDS_RESOURCE_NAME_MISMATCH',
    );
  }
  return {
    name: wire.name,
    namespace: wire.namespace,
    scope: scope.decode(wire.scope, 'authorization.scope'),
    action: action.decode(wire.action, 'authorization.action'),
    rules: wire.rules.map((rule, r) => ({
      clauses: rule.clauses.map((clause, c) => ({
        matches: clause.matches.map((m, i) => decodeMatch(m, `authorization.rules[${r}].clauses[${c}].matches[${i}]`)),
      })),
    })),
    dryRun: wire.dryRun,
  };
}

function decodeMatch(wire: WireMatch, path: string): AuthorizationMatch {
  const strings = (list: WireStringMatch[], field: string): StringMatch[] =>
    list.map((m, i) => decodeStringMatch(m, `${path}.${field}[${i}]`));
  const cidrs = (list: WireCidr[], field: string): CidrMatch[] =>
    list.map((a, i) => decodeCidr(a, `${path}.${field}[${i}]`));
  const ports = (list: number[], field: string): number[] =>
    list.map((p, i) => decodePortNumber(p, `${path}.${field}[${i}]`));
  return {
    namespaces: strings(wire.namespaces, 'namespaces'),
    notNamespaces: strings(wire.notNamespaces, 'not_namespaces'),
    principals: strings(wire.principals, 'principals'),
    notPrincipals: strings(wire.notPrincipals, 'not_principals'),
    sourceIps: cidrs(wire.sourceIps, 'source_ips'),
    notSourceIps: cidrs(wire.notSourceIps, 'not_source_ips'),
    destinationIps: cidrs(wire.destinationIps, 'destination_ips'),
    notDestinationIps: cidrs(wire.notDestinationIps, 'not_destination_ips'),
    destinationPorts: ports(wire.destinationPorts, 'destination_ports'),
    notDestinationPorts: ports(wire.notDestinationPorts, 'not_destination_ports'),
    serviceAccounts: wire.serviceAccounts.map(decodeServiceAccount),
    notServiceAccounts: wire.notServiceAccounts.map(decodeServiceAccount),
  };
}

/** The `match_type` oneof; `presence` carries google.protobuf.Empty and means "any non-empty value". */
function decodeStringMatch(wire: WireStringMatch, path: string): StringMatch {
  const m = wire.matchType;
  switch (m?.$case) {
    case 'exact':
    case 'prefix':
    case 'suffix':
      return { kind: m.$case, value: m.value };
    case 'presence':
      return { kind: 'presence' };
    default:
      return invalid(`${path}.match_type`, 'none of exact, prefix, suffix or presence is set');
  }
}

/** `Address{address, length}`: a prefix longer than the family allows is refused, as ztunnel's `IpNet::new` does. */
function decodeCidr(wire: WireCidr, path: string): CidrMatch {
  const address = decodeIp(wire.address, `${path}.address`);
  const bits = addressBits(wire.address);
  if (wire.length > bits) invalid(`${path}.length`, `prefix length ${wire.length} exceeds the ${bits}-bit address`);
  return { address, prefixLength: wire.length };
}

function decodeServiceAccount(wire: WireServiceAccountMatch): ServiceAccountMatch {
  return { namespace: wire.namespace, serviceAccount: wire.serviceAccount };
}

/** The wire form of a policy. Throws `XdsEncodeError` when a CIDR address is not IP text. */
export function encodeAuthorization(authorization: Authorization): WireAuthorization {
  const a = authorization;
  return {
    name: a.name,
    namespace: a.namespace,
    scope: scope.encode(a.scope),
    action: action.encode(a.action),
    rules: a.rules.map((rule, r) => ({
      clauses: rule.clauses.map((clause, c) => ({
        matches: clause.matches.map((m, i) => encodeMatch(m, `authorization.rules[${r}].clauses[${c}].matches[${i}]`)),
      })),
    })),
    dryRun: a.dryRun,
    extensions: [],
  };
}

function encodeMatch(m: AuthorizationMatch, path: string): WireMatch {
  const cidrs = (list: readonly CidrMatch[], field: string): WireCidr[] =>
    list.map((c, i) => ({ address: encodeIp(c.address, `${path}.${field}[${i}].address`), length: c.prefixLength }));
  return {
    namespaces: m.namespaces.map(encodeStringMatch),
    notNamespaces: m.notNamespaces.map(encodeStringMatch),
    principals: m.principals.map(encodeStringMatch),
    notPrincipals: m.notPrincipals.map(encodeStringMatch),
    sourceIps: cidrs(m.sourceIps, 'source_ips'),
    notSourceIps: cidrs(m.notSourceIps, 'not_source_ips'),
    destinationIps: cidrs(m.destinationIps, 'destination_ips'),
    notDestinationIps: cidrs(m.notDestinationIps, 'not_destination_ips'),
    destinationPorts: [...m.destinationPorts],
    notDestinationPorts: [...m.notDestinationPorts],
    serviceAccounts: m.serviceAccounts.map(encodeServiceAccount),
    notServiceAccounts: m.notServiceAccounts.map(encodeServiceAccount),
    extensions: [],
  };
}

function encodeStringMatch(m: StringMatch): WireStringMatch {
  return { matchType: m.kind === 'presence' ? { $case: 'presence', value: {} } : { $case: m.kind, value: m.value } };
}

function encodeServiceAccount(sa: ServiceAccountMatch): WireServiceAccountMatch {
  return { namespace: sa.namespace, serviceAccount: sa.serviceAccount };
}

/** The resource name of a policy, `<namespace>/<name>` (reference §4.1). */
export function authorizationResourceName(authorization: Authorization): string {
  return authorizationKey(authorization.namespace, authorization.name);
}

/** Name, type URL and serialized bytes for a Delta ADS `Resource`, without exposing generated types. */
export function encodeAuthorizationResource(authorization: Authorization): EncodedResource {
  const bytes = WireAuthorization.encode(encodeAuthorization(authorization)).finish();
  return {
    name: authorizationResourceName(authorization),
    typeUrl: AUTHORIZATION_TYPE_URL,
    value: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
  };
}
