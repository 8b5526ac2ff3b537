import { EMPTY_MATCH, type AuthorizationMatch } from '@weft/mesh-model';

import { ap, parsedPolicy } from '../test/policy-fixtures';
import type { AuthorizationPolicy } from './authorization-policy';
import {
  HTTP_ALLOW_RULE_TEXT,
  HTTP_DENY_NO_EFFECT_TEXT,
  hasEffectiveRules,
  implicitWaypointAuthorization,
  toZtunnelAuthorization,
} from './ztunnel-conversion';

const selector = { matchLabels: { app: 'httpbin' } };
const convert = (manifest: unknown, options = {}) => toZtunnelAuthorization(parsedPolicy(manifest), options);
const match = (fields: Partial<AuthorizationMatch>): AuthorizationMatch => ({ ...EMPTY_MATCH, ...fields });

/** The single Match a one-rule, one-clause policy converts to. */
function onlyMatch(spec: Record<string, unknown>, namespace = 'default'): AuthorizationMatch | undefined {
  return convert(ap('p', spec, { namespace })).authorization?.rules[0]?.clauses[0]?.matches[0];
}

describe('toZtunnelAuthorization: attachment and scope (§6.1, §6.2)', () => {
  it.each([
    ['§6.1 no selector in an app namespace is NAMESPACE scope', 'default', {}, {}, 'NAMESPACE'],
    ['§6.1 no selector in the root namespace is mesh-wide GLOBAL', 'istio-system', {}, {}, 'GLOBAL'],
    ['§6.1 a selector is WORKLOAD_SELECTOR', 'default', { selector }, {}, 'WORKLOAD_SELECTOR'],
    ['§6.1 a selector in the root namespace is still WORKLOAD_SELECTOR', 'istio-system', { selector }, {}, 'WORKLOAD_SELECTOR'],
    ['§6.1 the root namespace is configurable', 'mesh-root', {}, { rootNamespace: 'mesh-root' }, 'GLOBAL'],
    ['§6.1 istio-system is not special under another root', 'istio-system', {}, { rootNamespace: 'mesh-root' }, 'NAMESPACE'],
  ])('%s', (_rule, namespace, spec, options, scope) => {
    expect(convert(ap('p', { ...spec, rules: [{}] }, { namespace }), options).authorization?.scope).toBe(scope);
  });

  it.each([
    ['§6.2 targetRefs policies are waypoint-only: nothing for ztunnel', { targetRefs: [{ kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'waypoint' }] }],
    ['§6.2 legacy targetRef policies are waypoint-only too', { targetRef: { kind: 'Service', name: 'httpbin' } }],
  ])('%s', (_rule, spec) => {
    expect(convert(ap('p', { ...spec, rules: [{}] }))).toEqual({ messages: [] });
  });

  it.each([
    ['§6.2 CUSTOM is not supported by ztunnel', 'CUSTOM', { provider: { name: 'ext' } }],
    ['§6.2 AUDIT is not supported by ztunnel', 'AUDIT', {}],
  ])('%s', (_rule, action, extra) => {
    const result = convert(ap('p', { selector, action, ...extra, rules: [{}] }));
    expect(result.authorization).toBeUndefined();
    expect(result.messages.map((m) => m.message)).toEqual([`ztunnel does not support the ${action} action`]);
  });

  it('§6.1 dry-run without AMBIENT_ENABLE_DRY_RUN_AUTHORIZATION_POLICY is not sent, with istiod\'s message', () => {
    const result = convert(ap('p', { rules: [{}] }, { annotations: { 'istio.io/dry-run': 'true' } }));
    expect(result.authorization).toBeUndefined();
    expect(result.messages[0]?.message).toBe(
      'found policy "default/p" using dry-run annotation, but support for ambient dry-run authorizationPolicies isn\'t enabled',
    );
  });

  it('§6.1 dry-run with the flag is sent marked dry_run', () => {
    const result = convert(ap('p', { rules: [{}] }, { annotations: { 'istio.io/dry-run': 'true' } }), { enableDryRun: true });
    expect(result.authorization?.dryRun).toBe(true);
  });
});

describe('toZtunnelAuthorization: rules and clauses (§6.5, handleRule)', () => {
  it('§6.1 spec {} is an ALLOW with zero rules (allow-nothing)', () => {
    expect(convert(ap('p', {})).authorization).toEqual({
      name: 'p', namespace: 'default', scope: 'NAMESPACE', action: 'ALLOW', rules: [], dryRun: false,
    });
  });

  it('§6.1 rules: [{}] is one rule with no clauses (matches everything)', () => {
    expect(convert(ap('p', { rules: [{}] })).authorization?.rules).toEqual([{ clauses: [] }]);
  });

  it('§6.5 one clause for all `to`, one for all `from` (OR\'ed sources), one per `when`, in that order', () => {
    const rules = convert(ap('p', {
      rules: [{
        from: [{ source: { namespaces: ['a'] } }, { source: { namespaces: ['b'] } }],
        to: [{ operation: { ports: ['80'] } }],
        when: [{ key: 'source.ip', values: ['10.0.0.0/8'] }, { key: 'destination.port', notValues: ['9090'] }],
      }],
    })).authorization?.rules;
    expect(rules).toEqual([{
      clauses: [
        { matches: [match({ destinationPorts: [80] })] },
        { matches: [match({ namespaces: [{ kind: 'exact', value: 'a' }] }), match({ namespaces: [{ kind: 'exact', value: 'b' }] })] },
        { matches: [match({ sourceIps: [{ address: '10.0.0.0', prefixLength: 8 }] })] },
        { matches: [match({ notDestinationPorts: [9090] })] },
      ],
    }]);
  });

  it.each<[string, Record<string, unknown>, Partial<AuthorizationMatch>]>([
    ['§6.3 principals map to principals, as written (no spiffe://)', { principals: ['cluster.local/ns/default/sa/sleep'] }, { principals: [{ kind: 'exact', value: 'cluster.local/ns/default/sa/sleep' }] }],
    ['§6.5 a spiffe:// principal is passed through unchanged (and will never match)', { principals: ['spiffe://cluster.local/ns/a/sa/b'] }, { principals: [{ kind: 'exact', value: 'spiffe://cluster.local/ns/a/sa/b' }] }],
    ['§6.5 principal string forms: presence, suffix, prefix', { principals: ['*', '*/sa/sleep', 'cluster.local/*'] }, { principals: [{ kind: 'presence' }, { kind: 'suffix', value: '/sa/sleep' }, { kind: 'prefix', value: 'cluster.local/' }] }],
    ['§6.3 notPrincipals map to notPrincipals', { notPrincipals: ['*'] }, { notPrincipals: [{ kind: 'presence' }] }],
    ['§6.3 namespaces and notNamespaces', { namespaces: ['test-*'], notNamespaces: ['test-canary'] }, { namespaces: [{ kind: 'prefix', value: 'test-' }], notNamespaces: [{ kind: 'exact', value: 'test-canary' }] }],
    ['§6.3 serviceAccounts "ns/sa" and bare "sa" (policy namespace)', { serviceAccounts: ['prod/api', 'sleep'] }, { serviceAccounts: [{ namespace: 'prod', serviceAccount: 'api' }, { namespace: 'default', serviceAccount: 'sleep' }] }],
    ['§6.3 notServiceAccounts', { notServiceAccounts: ['sleep'] }, { notServiceAccounts: [{ namespace: 'default', serviceAccount: 'sleep' }] }],
    ['§6.3 ipBlocks become source CIDRs; a bare IP is a host prefix', { ipBlocks: ['10.0.0.0/16', '10.1.2.3', 'fd00::1'] }, { sourceIps: [{ address: '10.0.0.0', prefixLength: 16 }, { address: '10.1.2.3', prefixLength: 32 }, { address: 'fd00::1', prefixLength: 128 }] }],
    ['§6.3 notIpBlocks become notSourceIps', { notIpBlocks: ['192.168.0.0/16'] }, { notSourceIps: [{ address: '192.168.0.0', prefixLength: 16 }] }],
  ])('%s', (_rule, source, expected) => {
    expect(onlyMatch({ rules: [{ from: [{ source }] }] })).toEqual(match(expected));
  });

  it.each<[string, string, Record<string, unknown>, Partial<AuthorizationMatch>]>([
    ['§6.3 when source.ip values', 'source.ip', { values: ['10.0.0.1'] }, { sourceIps: [{ address: '10.0.0.1', prefixLength: 32 }] }],
    ['§6.3 when source.ip notValues', 'source.ip', { notValues: ['10.0.0.0/8'] }, { notSourceIps: [{ address: '10.0.0.0', prefixLength: 8 }] }],
    ['§6.3 when source.namespace', 'source.namespace', { values: ['a'], notValues: ['b'] }, { namespaces: [{ kind: 'exact', value: 'a' }], notNamespaces: [{ kind: 'exact', value: 'b' }] }],
    ['§6.3 when source.principal', 'source.principal', { values: ['*'] }, { principals: [{ kind: 'presence' }] }],
    ['§6.3 when destination.ip', 'destination.ip', { values: ['10.0.1.0/24'], notValues: ['10.0.1.9'] }, { destinationIps: [{ address: '10.0.1.0', prefixLength: 24 }], notDestinationIps: [{ address: '10.0.1.9', prefixLength: 32 }] }],
    ['§6.3 when destination.port', 'destination.port', { values: ['8080'], notValues: ['9090'] }, { destinationPorts: [8080], notDestinationPorts: [9090] }],
  ])('%s', (_rule, key, values, expected) => {
    expect(onlyMatch({ rules: [{ when: [{ key, ...values }] }] })).toEqual(match(expected));
  });

  it('§6.5 step 7: ports that are not integers ≤ 65535 are dropped (unvalidated input)', () => {
    const policy: AuthorizationPolicy = {
      metadata: { name: 'p', namespace: 'default' },
      spec: { rules: [{ to: [{ operation: { ports: ['80', 'http', '65536', '-1', '443'] } }] }] },
    };
    expect(toZtunnelAuthorization(policy).authorization?.rules[0]?.clauses[0]?.matches[0]?.destinationPorts).toEqual([80, 443]);
  });

  it('§6.5 step 7: ipBlocks that do not parse are dropped (unvalidated input)', () => {
    const policy: AuthorizationPolicy = {
      metadata: { name: 'p', namespace: 'default' },
      spec: { rules: [{ from: [{ source: { ipBlocks: ['bogus', '10.0.0.0/8'] } }] }] },
    };
    expect(toZtunnelAuthorization(policy).authorization?.rules[0]?.clauses[0]?.matches[0]?.sourceIps).toEqual([{ address: '10.0.0.0', prefixLength: 8 }]);
  });
});

describe('toZtunnelAuthorization: L7 fields at ztunnel (§6.4)', () => {
  it('§6.4 ALLOW + methods: that rule is dropped, other rules stay', () => {
    const result = convert(ap('p', { selector, rules: [{ to: [{ operation: { methods: ['GET'] } }] }, { from: [{ source: { namespaces: ['a'] } }] }] }));
    expect(result.authorization?.rules).toHaveLength(1);
    expect(result.messages[0]?.message).toContain(HTTP_ALLOW_RULE_TEXT);
    expect(result.messages[0]?.field).toBe('spec.rules[0]');
  });

  it.each([
    ['§6.4 ALLOW with only L7 rules ends with zero rules, still ALLOW', { to: [{ operation: { paths: ['/admin'] } }] }],
    ['§6.4 ALLOW with requestPrincipals drops the rule', { from: [{ source: { requestPrincipals: ['*'] } }] }],
    ['§6.3 remoteIpBlocks count as L7 (XFF/PROXY)', { from: [{ source: { remoteIpBlocks: ['1.2.3.4'] } }] }],
    ['§6.3 an L7 when key drops an ALLOW rule', { when: [{ key: 'request.headers[x-user]', values: ['admin'] }] }],
    ['§6.3 hosts drop an ALLOW rule', { to: [{ operation: { hosts: ['example.com'] } }] }],
    ['§6.3 trustDomains drop an ALLOW rule (reported like HTTP attributes by current istiod)', { from: [{ source: { namespaces: ['a'], trustDomains: ['cluster.local'] } }] }],
  ])('%s', (_rule, rule) => {
    const result = convert(ap('p', { selector, rules: [rule] }));
    expect(result.authorization).toMatchObject({ action: 'ALLOW', rules: [] });
    expect(result.messages[0]?.code).toBe('WARN_ZTUNNEL_HTTP_ATTRIBUTES');
  });

  it('§6.4 DENY with only L7 fields keeps the rule as an empty Match (matches nothing)', () => {
    const result = convert(ap('p', { selector, action: 'DENY', rules: [{ to: [{ operation: { methods: ['DELETE'] } }] }] }));
    expect(result.authorization?.rules).toEqual([{ clauses: [{ matches: [EMPTY_MATCH] }] }]);
    expect(hasEffectiveRules(result.authorization?.rules ?? [])).toBe(false);
    expect(result.messages[0]?.message).toContain(HTTP_DENY_NO_EFFECT_TEXT);
  });

  it('§6.4 DENY strips L7 fields from a Match and keeps its L4 parts (ports + methods ⇒ ports)', () => {
    const result = convert(ap('p', { selector, action: 'DENY', rules: [{ to: [{ operation: { ports: ['8080'], methods: ['POST'] } }] }] }));
    expect(result.authorization?.rules).toEqual([{ clauses: [{ matches: [match({ destinationPorts: [8080] })] }] }]);
    expect(hasEffectiveRules(result.authorization?.rules ?? [])).toBe(true);
  });

  it('§6.4 DENY with L4 `from` and L7-only `to` is a no-op: the `to` clause holds only an empty Match', () => {
    const result = convert(ap('p', { selector, action: 'DENY', rules: [{ from: [{ source: { namespaces: ['dev'] } }], to: [{ operation: { methods: ['POST'] } }] }] }));
    expect(result.authorization?.rules[0]?.clauses[0]).toEqual({ matches: [EMPTY_MATCH] });
    expect(result.messages[0]?.message).toContain('this DENY policy has no enforceable rules at ztunnel');
  });

  it('§6.4 the status lists every HTTP attribute found, sorted', () => {
    const result = convert(ap('p', { rules: [
      { to: [{ operation: { paths: ['/x'], methods: ['GET'] } }] },
      { from: [{ source: { requestPrincipals: ['*'] } }], when: [{ key: 'request.auth.claims[iss]', values: ['x'] }] },
    ] }));
    expect(result.messages[0]?.message).toMatch(/^ztunnel does not support HTTP attributes \(found: methods, paths, request\.auth\.claims\[iss\], requestPrincipals\)\./);
    expect(result.messages[0]?.field).toBe('spec.rules');
  });
});

describe('implicit waypoint policy (§6.7)', () => {
  it('§6.7 istio_allow_waypoint_<ns>_<name> allows the waypoint service accounts by principal', () => {
    expect(implicitWaypointAuthorization({ namespace: 'default', name: 'waypoint', serviceAccounts: ['waypoint'] })).toEqual({
      name: 'istio_allow_waypoint_default_waypoint',
      namespace: 'default',
      scope: 'WORKLOAD_SELECTOR',
      action: 'ALLOW',
      rules: [{ clauses: [{ matches: [match({ principals: [{ kind: 'exact', value: 'cluster.local/ns/default/sa/waypoint' }] })] }] }],
      dryRun: false,
    });
    expect(implicitWaypointAuthorization({ namespace: 'default', name: 'waypoint', serviceAccounts: [] })).toBeUndefined();
  });
});
