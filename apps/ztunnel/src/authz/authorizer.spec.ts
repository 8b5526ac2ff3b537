import { EMPTY_MATCH, type Authorization, type AuthorizationMatch } from '@weft/mesh-model';
import { implicitWaypointAuthorization, staticStrictAuthorization, type L4Connection, type SpiffeIdentity } from '@weft/policy';

import { authorization, meshOf, workload } from '@weft/testing';
import { createAuthorizer, policyChangeMessage, rejectionMessage } from './authorizer';

const sa = (serviceAccount: string, namespace = 'default'): SpiffeIdentity => ({ trustDomain: 'cluster.local', namespace, serviceAccount });
const rule = (...matches: Partial<AuthorizationMatch>[]) => ({ clauses: [{ matches: matches.map((m) => ({ ...EMPTY_MATCH, ...m })) }] });
const principal = (value: string) => ({ kind: 'exact' as const, value });

const STRICT = staticStrictAuthorization();
const ALLOW_WAYPOINT = implicitWaypointAuthorization({ namespace: 'default', name: 'waypoint', serviceAccounts: ['waypoint'] });
if (ALLOW_WAYPOINT === undefined) throw new Error('fixture: the waypoint has a service account');

const policies: Authorization[] = [
  STRICT,
  ALLOW_WAYPOINT,
  authorization({ name: 'allow-client', namespace: 'apps', rules: [rule({ principals: [principal('cluster.local/ns/default/sa/client')] })] }),
  authorization({ name: 'deny-8443', namespace: 'apps', action: 'DENY', rules: [rule({ destinationPorts: [8443] })] }),
  authorization({ name: 'deny-evil', namespace: 'istio-system', scope: 'GLOBAL', action: 'DENY', rules: [rule({ namespaces: [principal('evil')] })] }),
  authorization({ name: 'allow-dev-ip', namespace: 'open', scope: 'WORKLOAD_SELECTOR', rules: [rule({ sourceIps: [{ address: '10.9.0.0', prefixLength: 16 }] })] }),
  authorization({ name: 'dry-deny', namespace: 'open', action: 'DENY', dryRun: true, rules: [rule({ destinationPorts: [8080] })] }),
];

// `apps`: namespace ALLOW + DENY. `strict`: STRICT mTLS only. `bound`: implicit waypoint allow. `open`: a selector policy.
const appsPod = workload({ name: 'api', namespace: 'apps', addresses: ['10.0.1.1'] });
const strictPod = workload({ name: 'db', namespace: 'data', addresses: ['10.0.1.2'], authorizationPolicies: ['istio-system/istio_converted_static_strict'] });
const boundPod = workload({ name: 'reviews', addresses: ['10.0.1.3'], authorizationPolicies: ['default/istio_allow_waypoint_default_waypoint'] });
const openPod = workload({ name: 'web', namespace: 'open', addresses: ['10.0.1.4'], authorizationPolicies: ['open/allow-dev-ip', 'open/not-pushed-yet'] });
const plainPod = workload({ name: 'plain', namespace: 'plain', addresses: ['10.0.1.5'] });
const state = meshOf({ workloads: [appsPod, strictPod, boundPod, openPod, plainPod], authorizations: policies });
const authorizer = createAuthorizer(state);

const conn = (dstIp: string, dstPort: number, srcIdentity?: SpiffeIdentity, srcIp = '10.0.0.1'): L4Connection => ({
  srcIp,
  dstIp,
  dstPort,
  ...(srcIdentity === undefined ? {} : { srcIdentity }),
});

describe('createAuthorizer (reference §6.5–6.7)', () => {
  it.each<[string, typeof appsPod, L4Connection, string]>([
    ['no policy applies: allow', plainPod, conn('10.0.1.5', 80), 'allow: no allow policies'],
    ['namespace ALLOW matching the principal', appsPod, conn('10.0.1.1', 8080, sa('client')), 'allow: allowed by: apps/allow-client'],
    ['namespace ALLOW, other principal', appsPod, conn('10.0.1.1', 8080, sa('other')), 'deny: allow policies exist, but none allowed'],
    ['namespace ALLOW on 15006 (no identity)', appsPod, conn('10.0.1.1', 8080), 'deny: allow policies exist, but none allowed'],
    ['DENY wins over a matching ALLOW', appsPod, conn('10.0.1.1', 8443, sa('client')), 'deny: explicitly denied by: apps/deny-8443'],
    ['GLOBAL DENY applies in every namespace', appsPod, conn('10.0.1.1', 8080, sa('client', 'evil')), 'deny: explicitly denied by: istio-system/deny-evil'],
    ['STRICT: plaintext (no peer identity) is denied', strictPod, conn('10.0.1.2', 5432), 'deny: explicitly denied by: istio-system/istio_converted_static_strict'],
    ['STRICT: mTLS with any identity passes', strictPod, conn('10.0.1.2', 5432, sa('anyone', 'other')), 'allow: no allow policies'],
    ['PERMISSIVE (no STRICT attached): plaintext passes', plainPod, conn('10.0.1.5', 5432), 'allow: no allow policies'],
    ['implicit waypoint allow: the waypoint SA passes', boundPod, conn('10.0.1.3', 9080, sa('waypoint')), 'allow: allowed by: default/istio_allow_waypoint_default_waypoint'],
    ['implicit waypoint allow: bypassing the waypoint is denied', boundPod, conn('10.0.1.3', 9080, sa('client')), 'deny: allow policies exist, but none allowed'],
    ['selector ALLOW by source CIDR', openPod, conn('10.0.1.4', 8080, undefined, '10.9.3.4'), 'allow: allowed by: open/allow-dev-ip'],
    ['selector ALLOW, source outside the CIDR', openPod, conn('10.0.1.4', 8080, undefined, '10.8.3.4'), 'deny: allow policies exist, but none allowed'],
  ])('%s', (_name, pod, connection, expected) => {
    const d = authorizer.authorize({ workload: pod, connection });
    expect(`${d.allow ? 'allow' : 'deny'}: ${d.reason}`).toBe(expected);
  });

  it('reports dry-run policies without enforcing them, and unknown listed policies', () => {
    const d = authorizer.authorize({ workload: openPod, connection: conn('10.0.1.4', 8080, undefined, '10.9.3.4') });
    expect(d.allow).toBe(true);
    expect(d.dryRun).toEqual([{ policy: 'open/dry-deny', action: 'DENY', matched: true, wouldAllow: false }]);
    expect(d.unknownPolicies).toEqual(['open/not-pushed-yet']);
  });

  it('compiles each policy once per stored version', () => {
    const store = meshOf({ workloads: [appsPod], authorizations: policies });
    const az = createAuthorizer(store);
    const first = az.compiledFor(appsPod);
    expect(az.compiledFor(appsPod)).toBe(first);
    // An unrelated batch moves the version: the set is reassembled from the same compiled policies.
    store.apply({ workloads: { upsert: [plainPod] } });
    const second = az.compiledFor(appsPod);
    expect(second).not.toBe(first);
    expect(second.policies[0]).toBe(first.policies[0]);
    // A changed policy is compiled again.
    store.apply({ authorizations: { upsert: [{ ...policies[2]!, rules: [] }] } });
    expect(az.compiledFor(appsPod).policies.map((p) => p.key)).toEqual(first.policies.map((p) => p.key));
    expect(az.compiledFor(appsPod).policies.find((p) => p.key === 'apps/allow-client')?.rules).toEqual([]);
  });

  it('words rejections as ztunnel does', () => {
    const d = authorizer.authorize({ workload: appsPod, connection: conn('10.0.1.1', 8080) });
    expect(rejectionMessage(d)).toBe('connection closed due to policy rejection: allow policies exist, but none allowed');
    expect(policyChangeMessage(d)).toBe('connection closed due to policy change: allow policies exist, but none allowed');
  });
});
