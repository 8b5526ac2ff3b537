import { EMPTY_MATCH, type Authorization } from '@weft/mesh-model';

import { conn, pa, parsedPeerAuthentication, plaintext } from '../test/policy-fixtures';
import { compileL4, evaluateL4, type L4Connection } from './l4-evaluator';
import type { PeerAuthentication } from './peer-authentication';
import {
  STATIC_STRICT_POLICY_NAME,
  convertPortLevelPeerAuthentication,
  effectiveMtlsMode,
  peerAuthenticationPolicyKeys,
  staticStrictAuthorization,
  type EffectiveMtlsMode,
} from './peer-authentication-conversion';

const httpbin = { namespace: 'default', labels: { app: 'httpbin', version: 'v1' } };
const selector = { matchLabels: { app: 'httpbin' } };
const STATIC = `istio-system/${STATIC_STRICT_POLICY_NAME}`;

const mesh = (mode: string, created = '2025-01-01T00:00:00Z', name = 'mesh') => pa(name, { mtls: { mode } }, { namespace: 'istio-system', creationTimestamp: created });
const ns = (mode: string, created = '2025-01-01T00:00:00Z', name = 'ns') => pa(name, { mtls: { mode } }, { creationTimestamp: created });
const wl = (spec: Record<string, unknown>, created = '2025-01-01T00:00:00Z', name = 'httpbin') => pa(name, { selector, ...spec }, { creationTimestamp: created });
const parsed = (manifests: unknown[]): PeerAuthentication[] => manifests.map(parsedPeerAuthentication);

/** What ztunnel evaluates for httpbin: the policies istiod lists in its `authorization_policies`. */
function workloadPolicies(manifests: unknown[]): Authorization[] {
  const all = parsed(manifests);
  const keys = peerAuthenticationPolicyKeys(httpbin, all);
  const available: Authorization[] = [staticStrictAuthorization()];
  for (const p of all) {
    const converted = convertPortLevelPeerAuthentication(p, all);
    if (converted !== undefined) available.push(converted);
  }
  return available.filter((a) => keys.includes(`${a.namespace}/${a.name}`));
}

describe('§6.6 effective mode: mesh → namespace → workload, oldest wins', () => {
  it.each<[string, unknown[], EffectiveMtlsMode]>([
    ['§6.6 no PeerAuthentication ⇒ PERMISSIVE (the default)', [], 'PERMISSIVE'],
    ['§6.6 mesh STRICT applies to every namespace', [mesh('STRICT')], 'STRICT'],
    ['§6.6 namespace PERMISSIVE overrides mesh STRICT', [mesh('STRICT'), ns('PERMISSIVE')], 'PERMISSIVE'],
    ['§6.6 namespace UNSET inherits mesh STRICT', [mesh('STRICT'), ns('UNSET')], 'STRICT'],
    ['§6.6 workload PERMISSIVE overrides namespace STRICT', [ns('STRICT'), wl({ mtls: { mode: 'PERMISSIVE' } })], 'PERMISSIVE'],
    ['§6.6 workload without mtls inherits the namespace', [ns('STRICT'), wl({ portLevelMtls: { '9090': { mode: 'STRICT' } } })], 'STRICT'],
    ['§6.6 conflicting namespace policies: the oldest (STRICT) wins', [ns('PERMISSIVE', '2025-03-01T00:00:00Z', 'newer'), ns('STRICT', '2025-02-01T00:00:00Z', 'older')], 'STRICT'],
    ['§6.6 conflicting namespace policies: the oldest (PERMISSIVE) wins', [ns('STRICT', '2025-03-01T00:00:00Z', 'newer'), ns('PERMISSIVE', '2025-02-01T00:00:00Z', 'older')], 'PERMISSIVE'],
    ['§6.6 conflicting workload policies: the oldest wins', [wl({ mtls: { mode: 'STRICT' } }, '2025-05-01T00:00:00Z', 'b'), wl({ mtls: { mode: 'DISABLE' } }, '2025-04-01T00:00:00Z', 'a')], 'DISABLE'],
    ['§6.6 conflicting mesh policies: the oldest wins', [mesh('PERMISSIVE', '2025-06-01T00:00:00Z', 'm2'), mesh('STRICT', '2024-06-01T00:00:00Z', 'm1')], 'STRICT'],
    ['§6.6 root-namespace selector policies are ignored', [pa('root-sel', { selector, mtls: { mode: 'STRICT' } }, { namespace: 'istio-system' })], 'PERMISSIVE'],
    ['§6.6 policies of other namespaces do not apply', [pa('other', { mtls: { mode: 'STRICT' } }, { namespace: 'prod' })], 'PERMISSIVE'],
    ['§6.6 a workload policy that does not select the workload does not apply', [pa('api', { selector: { matchLabels: { app: 'api' } }, mtls: { mode: 'STRICT' } })], 'PERMISSIVE'],
  ])('%s', (_rule, manifests, mode) => {
    expect(effectiveMtlsMode(httpbin, parsed(manifests))).toBe(mode);
  });
});

describe('§6.6 which converted policies a workload references', () => {
  it.each<[string, unknown[], string[]]>([
    ['§6.6 no PeerAuthentication ⇒ nothing', [], []],
    ['§6.6 mesh STRICT ⇒ the static STRICT policy', [mesh('STRICT')], [STATIC]],
    ['§6.6 mesh STRICT, namespace PERMISSIVE ⇒ nothing', [mesh('STRICT'), ns('PERMISSIVE')], []],
    ['§6.6 workload STRICT with a PERMISSIVE port ⇒ only the converted policy', [wl({ mtls: { mode: 'STRICT' }, portLevelMtls: { '8080': { mode: 'PERMISSIVE' } } })], ['default/converted_peer_authentication_httpbin']],
    ['§6.6 workload PERMISSIVE with a STRICT port ⇒ the converted policy', [wl({ mtls: { mode: 'PERMISSIVE' }, portLevelMtls: { '9090': { mode: 'STRICT' } } })], ['default/converted_peer_authentication_httpbin']],
    ['§6.6 inherited STRICT with a PERMISSIVE port ⇒ converted policy replaces the static one', [ns('STRICT'), wl({ portLevelMtls: { '8080': { mode: 'PERMISSIVE' } } })], ['default/converted_peer_authentication_httpbin']],
    ['§6.6 inherited STRICT with a DISABLE port keeps the static policy (istiod looks for PERMISSIVE only)', [ns('STRICT'), wl({ portLevelMtls: { '8080': { mode: 'DISABLE' } } })], [STATIC]],
  ])('%s', (_rule, manifests, keys) => {
    expect(peerAuthenticationPolicyKeys(httpbin, parsed(manifests))).toEqual(keys);
  });
});

describe('§6.6 convertPortLevelPeerAuthentication (istiod convertPeerAuthentication)', () => {
  const presence = { ...EMPTY_MATCH, notPrincipals: [{ kind: 'presence' as const }] };
  const convert = (manifests: unknown[]) => {
    const all = parsed(manifests);
    return convertPortLevelPeerAuthentication(all[all.length - 1]!, all);
  };

  it('§6.6 STRICT with a PERMISSIVE port: deny without identity AND not to that port', () => {
    expect(convert([wl({ mtls: { mode: 'STRICT' }, portLevelMtls: { '8080': { mode: 'PERMISSIVE' } } })])).toEqual({
      name: 'converted_peer_authentication_httpbin', namespace: 'default', scope: 'WORKLOAD_SELECTOR', action: 'DENY', dryRun: false,
      rules: [{ clauses: [{ matches: [presence] }, { matches: [{ ...EMPTY_MATCH, notDestinationPorts: [8080] }] }] }],
    });
  });

  it('§6.6 PERMISSIVE with a STRICT port: one group per STRICT port (notPrincipals presence AND destinationPorts)', () => {
    expect(convert([wl({ mtls: { mode: 'PERMISSIVE' }, portLevelMtls: { '9443': { mode: 'STRICT' }, '9090': { mode: 'STRICT' } } })])?.rules).toEqual([
      { clauses: [{ matches: [{ ...presence, destinationPorts: [9090] }] }] },
      { clauses: [{ matches: [{ ...presence, destinationPorts: [9443] }] }] },
    ]);
  });

  it('§6.6 inherited STRICT merges the STRICT default into the workload policy', () => {
    expect(convert([ns('STRICT'), wl({ portLevelMtls: { '8080': { mode: 'PERMISSIVE' } } })])?.rules).toEqual([
      { clauses: [{ matches: [{ ...EMPTY_MATCH, notDestinationPorts: [8080] }] }, { matches: [presence] }] },
    ]);
  });

  it.each([
    ['§6.6 STRICT with only STRICT ports is plain STRICT (static policy covers it)', [wl({ mtls: { mode: 'STRICT' }, portLevelMtls: { '8080': { mode: 'STRICT' } } })]],
    ['§6.6 a namespace-level policy is never converted', [ns('STRICT')]],
    ['§6.6 a root-namespace policy is never converted', [pa('root', { selector, portLevelMtls: { '80': { mode: 'STRICT' } } }, { namespace: 'istio-system' })]],
    ['§6.6 istiod quirk: mesh STRICT + workload PERMISSIVE skips the STRICT port', [mesh('STRICT'), wl({ mtls: { mode: 'PERMISSIVE' }, portLevelMtls: { '9090': { mode: 'STRICT' } } })]],
  ])('%s', (_rule, manifests) => {
    expect(convert(manifests)).toBeUndefined();
  });
});

describe('§6.6 port-level mTLS end to end (ports are target ports)', () => {
  const strictExceptMetrics = [wl({ mtls: { mode: 'STRICT' }, portLevelMtls: { '8080': { mode: 'PERMISSIVE' } } })];
  const permissiveExceptAdmin = [wl({ mtls: { mode: 'PERMISSIVE' }, portLevelMtls: { '9090': { mode: 'STRICT' } } })];
  const inheritedStrict = [ns('STRICT'), wl({ portLevelMtls: { '8080': { mode: 'PERMISSIVE' } } })];

  it.each<[string, unknown[], L4Connection, boolean]>([
    ['§6.6 STRICT workload: plaintext to the PERMISSIVE port 8080 is allowed', strictExceptMetrics, plaintext({ dstPort: 8080 }), true],
    ['§6.6 STRICT workload: plaintext to port 80 is denied', strictExceptMetrics, plaintext({ dstPort: 80 }), false],
    ['§6.6 STRICT workload: mTLS to port 80 is allowed', strictExceptMetrics, conn({ dstPort: 80 }), true],
    ['§6.6 PERMISSIVE workload: plaintext to the STRICT port 9090 is denied', permissiveExceptAdmin, plaintext({ dstPort: 9090 }), false],
    ['§6.6 PERMISSIVE workload: plaintext to port 80 is allowed', permissiveExceptAdmin, plaintext({ dstPort: 80 }), true],
    ['§6.6 PERMISSIVE workload: mTLS to the STRICT port is allowed', permissiveExceptAdmin, conn({ dstPort: 9090 }), true],
    ['§6.6 inherited STRICT + PERMISSIVE port: plaintext to 8080 allowed', inheritedStrict, plaintext({ dstPort: 8080 }), true],
    ['§6.6 inherited STRICT + PERMISSIVE port: plaintext to 80 denied', inheritedStrict, plaintext({ dstPort: 80 }), false],
    ['§6.6 mesh STRICT: plaintext denied', [mesh('STRICT')], plaintext(), false],
    ['§6.6 mesh STRICT, namespace PERMISSIVE: plaintext allowed', [mesh('STRICT'), ns('PERMISSIVE')], plaintext(), true],
    ['§6.6 istiod quirk: mesh STRICT + workload PERMISSIVE with a STRICT port leaves that port open to plaintext', [mesh('STRICT'), ...permissiveExceptAdmin], plaintext({ dstPort: 9090 }), true],
  ])('%s', (_rule, manifests, connection, allow) => {
    expect(evaluateL4(compileL4(workloadPolicies(manifests)), connection).allow).toBe(allow);
  });
});
