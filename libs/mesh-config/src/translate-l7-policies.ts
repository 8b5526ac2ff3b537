// AuthorizationPolicy and RequestAuthentication attached with targetRefs → the waypoint's L7Authorization and
// RequestAuthentication (reference §6.2, §6.8). Waypoints ignore selector (and namespace-wide) attachments: those
// AuthorizationPolicies are ztunnel's (translateMesh), and such RequestAuthentications are not enforced in ambient.

import type { JwtRule, L7Authorization, L7Source, PolicyTargetRef, RequestAuthentication } from '@weft/mesh-model';
import {
  actionOf,
  isDryRun,
  parseAuthorizationPolicy,
  targetRefsOf,
  type PolicyTargetReference,
  type Rule,
  type Source,
} from '@weft/policy';

import { WAYPOINT_GATEWAY_CLASS, type KubeObject } from './kube-object';
import { compact, durationMs, objectsOf, type L7Context, type L7Messages } from './translate-l7-common';
import { asArray, asRecord, asString, compareStrings, type PlainRecord } from './translate-types';

const GATEWAY_GROUP = 'gateway.networking.k8s.io';

/**
 * The refs a waypoint enforces: its own Gateway, a Service or ServiceEntry in the policy's namespace, or the
 * istio-waypoint GatewayClass from the root namespace. A Gateway that is not a waypoint belongs to an ingress
 * gateway, which Weft does not run; the ref is dropped quietly there, and reported otherwise.
 */
function waypointTargets(
  object: KubeObject,
  refs: readonly { readonly ref: PolicyTargetReference; readonly field: string }[],
  context: L7Context,
  messages: L7Messages,
): PolicyTargetRef[] {
  const namespace = object.metadata.namespace ?? '';
  const targets: PolicyTargetRef[] = [];
  for (const { ref, field } of refs) {
    const group = ref.group ?? '';
    const canonicalGroup = group === 'core' ? '' : group;
    const refNamespace = ref.namespace ?? '';
    if (refNamespace !== '' && refNamespace !== namespace) {
      messages.warn(object, 'WARN_L7_TARGET_REF_NAMESPACE', 'cross-namespace targetRefs are not supported; this ref is ignored', `${field}.namespace`);
      continue;
    }
    if (canonicalGroup === GATEWAY_GROUP && ref.kind === 'Gateway') {
      const gateway = objectsOf(context, 'Gateway').find((g) => g.metadata.namespace === namespace && g.metadata.name === ref.name);
      if (gateway !== undefined && asString(asRecord(gateway.spec)?.['gatewayClassName']) !== WAYPOINT_GATEWAY_CLASS) continue;
      if (gateway === undefined) {
        messages.warn(object, 'WARN_L7_TARGET_NOT_FOUND', `Gateway ${namespace}/${ref.name} does not exist; the policy applies once it does`, field);
      }
    } else if (canonicalGroup === GATEWAY_GROUP && ref.kind === 'GatewayClass') {
      if (ref.name !== WAYPOINT_GATEWAY_CLASS || namespace !== context.settings.rootNamespace) {
        const text = `a GatewayClass targetRef applies only to ${WAYPOINT_GATEWAY_CLASS} from the root namespace ${context.settings.rootNamespace}; this ref is ignored`;
        messages.warn(object, 'WARN_L7_TARGET_REF_UNSUPPORTED', text, field);
        continue;
      }
    } else if (!((canonicalGroup === '' && ref.kind === 'Service') || (canonicalGroup === 'networking.istio.io' && ref.kind === 'ServiceEntry'))) {
      messages.warn(object, 'WARN_L7_TARGET_REF_UNSUPPORTED', `targetRef kind ${group}/${ref.kind} is not one a waypoint enforces; this ref is ignored`, field);
      continue;
    }
    targets.push({ group: canonicalGroup, kind: ref.kind, name: ref.name, namespace: refNamespace });
  }
  return targets;
}

const SOURCE_KEYS = [
  'principals', 'notPrincipals', 'requestPrincipals', 'notRequestPrincipals', 'namespaces', 'notNamespaces', 'serviceAccounts',
  'notServiceAccounts', 'ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks', 'trustDomains', 'notTrustDomains',
] as const satisfies readonly (keyof Source & keyof L7Source)[];

function convertRule(rule: Rule): L7Authorization['rules'][number] {
  return {
    from: (rule.from ?? []).map(({ source }) => Object.fromEntries(SOURCE_KEYS.map((k) => [k, [...(source[k] ?? [])]])) as unknown as L7Source),
    to: (rule.to ?? []).map(({ operation: o }) => ({
      hosts: [...(o.hosts ?? [])],
      notHosts: [...(o.notHosts ?? [])],
      ports: [...(o.ports ?? [])],
      notPorts: [...(o.notPorts ?? [])],
      methods: [...(o.methods ?? [])],
      notMethods: [...(o.notMethods ?? [])],
      paths: [...(o.paths ?? [])],
      notPaths: [...(o.notPaths ?? [])],
    })),
    when: (rule.when ?? []).map((c) => ({ key: c.key, values: [...(c.values ?? [])], notValues: [...(c.notValues ?? [])] })),
  };
}

/**
 * Parsed by @weft/policy (its errors and warnings are reported by translateMesh, which parses every policy); only
 * targetRef'd ones become L7Authorizations, with every field, action, provider and dry-run kept.
 */
export function translateL7Authorizations(context: L7Context, messages: L7Messages): L7Authorization[] {
  const out: L7Authorization[] = [];
  for (const object of objectsOf(context, 'AuthorizationPolicy')) {
    const parsed = parseAuthorizationPolicy(object);
    if (!parsed.ok) continue;
    const policy = parsed.value;
    const refs = targetRefsOf(policy.spec);
    if (refs.length === 0) continue;
    const field = policy.spec.targetRefs !== undefined && policy.spec.targetRefs.length > 0 ? 'spec.targetRefs' : 'spec.targetRef';
    const indexed = refs.map((ref, i) => ({ ref, field: field === 'spec.targetRef' ? field : `${field}[${i}]` }));
    const targets = waypointTargets(object, indexed, context, messages);
    if (targets.length === 0) continue;
    const action = actionOf(policy);
    out.push({
      name: policy.metadata.name,
      namespace: policy.metadata.namespace,
      targets,
      action,
      provider: action === 'CUSTOM' ? policy.spec.provider?.name ?? '' : '',
      dryRun: isDryRun(policy),
      rules: (policy.spec.rules ?? []).map(convertRule),
    });
  }
  return out.sort((a, b) => compareStrings(a.namespace, b.namespace) || compareStrings(a.name, b.name));
}

function strings(value: unknown): string[] {
  return asArray(value).map(asString).filter((v): v is string => v !== undefined);
}

function convertJwtRule(object: KubeObject, r: PlainRecord, field: string, messages: L7Messages): JwtRule | undefined {
  const issuer = asString(r['issuer']) ?? '';
  if (issuer === '') {
    messages.warn(object, 'WARN_L7_JWT_RULE_INVALID', 'a JWT rule without issuer cannot validate tokens; it is left out', `${field}.issuer`);
    return undefined;
  }
  const jwks = asString(r['jwks']) ?? '';
  if (jwks !== '') {
    try {
      JSON.parse(jwks);
    } catch {
      messages.warn(object, 'WARN_L7_JWT_RULE_INVALID', 'jwks is not JSON; the rule is left out (tokens of this issuer would all be rejected)', `${field}.jwks`);
      return undefined;
    }
  }
  const records = (key: string): PlainRecord[] => asArray(r[key]).map(asRecord).filter((v): v is PlainRecord => v !== undefined);
  return compact<JwtRule>({
    issuer,
    audiences: strings(r['audiences']),
    jwksUri: asString(r['jwksUri']) ?? '',
    jwks,
    fromHeaders: records('fromHeaders')
      .map((h) => ({ name: asString(h['name']) ?? '', prefix: asString(h['prefix']) ?? '' }))
      .filter((h) => h.name !== ''),
    fromParams: strings(r['fromParams']).filter((p) => p !== ''),
    fromCookies: strings(r['fromCookies']).filter((c) => c !== ''),
    outputPayloadToHeader: asString(r['outputPayloadToHeader']) ?? '',
    forwardOriginalToken: r['forwardOriginalToken'] === true,
    outputClaimToHeaders: records('outputClaimToHeaders')
      .map((c) => ({ header: asString(c['header']) ?? '', claim: asString(c['claim']) ?? '' }))
      .filter((c) => c.header !== '' && c.claim !== ''),
    timeoutMs: durationMs(r['timeout']),
    spaceDelimitedClaims: strings(r['spaceDelimitedClaims']),
  });
}

/** RequestAuthentications with targetRefs; selector and namespace-wide ones are reported as not enforced (§6.8). */
export function translateRequestAuthentications(context: L7Context, messages: L7Messages): RequestAuthentication[] {
  const out: RequestAuthentication[] = [];
  for (const object of objectsOf(context, 'RequestAuthentication')) {
    const spec = asRecord(object.spec) ?? {};
    const listed = asArray(spec['targetRefs']).map(asRecord);
    const single = asRecord(spec['targetRef']);
    const raw = listed.length > 0 ? listed.map((r, i) => ({ r, field: `spec.targetRefs[${i}]` })) : single === undefined ? [] : [{ r: single, field: 'spec.targetRef' }];
    if (raw.length === 0) {
      const field = spec['selector'] !== undefined ? 'spec.selector' : 'spec';
      const text = 'waypoints only apply a RequestAuthentication attached with targetRefs (ztunnel does not validate JWTs), so this one is not enforced in ambient mode; attach it to the waypoint Gateway or the Service';
      messages.warn(object, 'WARN_L7_REQUEST_AUTHENTICATION_NOT_ATTACHED', text, field);
      continue;
    }
    const refs = raw.flatMap(({ r, field }) => {
      const kind = asString(r?.['kind']);
      const name = asString(r?.['name']);
      if (kind === undefined || name === undefined) return [];
      const group = asString(r?.['group']);
      const namespace = asString(r?.['namespace']);
      return [{ ref: { kind, name, ...(group === undefined ? {} : { group }), ...(namespace === undefined ? {} : { namespace }) }, field }];
    });
    const targets = waypointTargets(object, refs, context, messages);
    if (targets.length === 0) continue;
    const jwtRules: JwtRule[] = [];
    asArray(spec['jwtRules']).forEach((rule, i) => {
      const converted = convertJwtRule(object, asRecord(rule) ?? {}, `spec.jwtRules[${i}]`, messages);
      if (converted !== undefined) jwtRules.push(converted);
    });
    out.push({ name: object.metadata.name, namespace: object.metadata.namespace ?? '', targets, jwtRules });
  }
  return out.sort((a, b) => compareStrings(a.namespace, b.namespace) || compareStrings(a.name, b.name));
}
