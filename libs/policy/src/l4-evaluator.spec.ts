import { EMPTY_MATCH, type Authorization } from '@weft/mesh-model';

import { ap, conn, decideL4, identity, plaintext, ztunnelAuthorizations } from '../test/policy-fixtures';
import { REASON_NONE_ALLOWED, REASON_NO_ALLOW_POLICIES } from './authorization-decision';
import { compileL4, evaluateL4, type L4Connection } from './l4-evaluator';
import { staticStrictAuthorization } from './peer-authentication-conversion';

const selector = { matchLabels: { app: 'httpbin' } };
const allowFrom = (source: Record<string, unknown>, name = 'allow') => ap(name, { selector, rules: [{ from: [{ source }] }] });
const denyFrom = (source: Record<string, unknown>, name = 'deny') => ap(name, { selector, action: 'DENY', rules: [{ from: [{ source }] }] });
const allowTo = (operation: Record<string, unknown>) => ap('allow', { selector, rules: [{ to: [{ operation }] }] });
const allowWhen = (condition: Record<string, unknown>) => ap('allow', { selector, rules: [{ when: [condition] }] });
const other = conn({ srcIdentity: identity('prod', 'api'), srcIp: '10.9.0.1' });

type Row = [rule: string, manifests: unknown[], connection: L4Connection, allow: boolean];

describe('§6.5 evaluation order (assert_rbac)', () => {
  it.each<Row>([
    ['§6.5 no policies ⇒ allow', [], conn(), true],
    ['§6.5 a matching DENY beats a matching ALLOW', [allowFrom({ namespaces: ['default'] }), denyFrom({ principals: ['cluster.local/ns/default/sa/sleep'] })], conn(), false],
    ['§6.5 a DENY that does not match and no ALLOW ⇒ allow', [denyFrom({ namespaces: ['prod'] })], conn(), true],
    ['§6.5 an ALLOW that matches ⇒ allow', [allowFrom({ namespaces: ['default'] })], conn(), true],
    ['§6.5 ALLOW policies exist but none matches ⇒ deny', [allowFrom({ namespaces: ['prod'] })], conn(), false],
    ['§6.5 any one of several ALLOWs is enough', [allowFrom({ namespaces: ['prod'] }, 'a1'), allowFrom({ namespaces: ['default'] }, 'a2')], conn(), true],
    ['§6.2 AUDIT never reaches ztunnel, so it never decides', [ap('audit', { selector, action: 'AUDIT', rules: [{}] })], conn(), true],
    ['§6.2 CUSTOM with a selector is not enforced by ztunnel', [ap('ext', { selector, action: 'CUSTOM', provider: { name: 'opa' }, rules: [{}] })], conn(), true],
  ])('%s', (_rule, manifests, connection, allow) => {
    expect(decideL4(manifests, connection).allow).toBe(allow);
  });

  it('§6.5 a DENY match is reported as "explicitly denied by: ns/name"', () => {
    const decision = decideL4([allowFrom({ namespaces: ['default'] }), denyFrom({ namespaces: ['default'] }, 'deny-default')], conn());
    expect(decision).toMatchObject({ allow: false, policy: 'default/deny-default', reason: 'explicitly denied by: default/deny-default' });
  });

  it('§6.5 no ALLOW match is reported as "allow policies exist, but none allowed"', () => {
    expect(decideL4([allowFrom({ namespaces: ['prod'] })], conn())).toMatchObject({ allow: false, reason: REASON_NONE_ALLOWED });
    expect(decideL4([], conn()).reason).toBe(REASON_NO_ALLOW_POLICIES);
  });

  const dryRun = { annotations: { 'istio.io/dry-run': 'true' } };
  it('§6.5 step 2: a matching dry-run DENY is reported, never enforced', () => {
    const decision = decideL4([ap('dry-deny', { selector, action: 'DENY', rules: [{}] }, dryRun)], conn(), [], { enableDryRun: true });
    expect(decision.allow).toBe(true);
    expect(decision.dryRun).toEqual([{ policy: 'default/dry-deny', action: 'DENY', matched: true, wouldAllow: false }]);
  });

  it('§6.5 step 2: a dry-run ALLOW does not make the workload deny-by-default', () => {
    const decision = decideL4([ap('dry-allow', { selector, rules: [{ from: [{ source: { namespaces: ['prod'] } }] }] }, dryRun)], conn(), [], { enableDryRun: true });
    expect(decision).toMatchObject({ allow: true, reason: REASON_NO_ALLOW_POLICIES });
    expect(decision.dryRun).toEqual([{ policy: 'default/dry-allow', action: 'ALLOW', matched: false, wouldAllow: false }]);
  });
});

describe('§6.1 empty spec vs rules: [{}]', () => {
  it.each<Row>([
    ['§6.1 ALLOW with spec {} allows nothing', [ap('allow-nothing', { selector })], conn(), false],
    ['§6.1 ALLOW with rules: [{}] allows everything', [ap('allow-all', { selector, rules: [{}] })], plaintext(), true],
    ['§6.1 DENY with rules: [{}] denies everything', [ap('deny-all', { selector, action: 'DENY', rules: [{}] })], conn(), false],
    ['§6.5 DENY with rules: [] matches nothing', [ap('deny-none', { selector, action: 'DENY', rules: [] })], conn(), true],
    ['§6.1 allow-nothing plus an ALLOW that matches ⇒ allow', [ap('allow-nothing', { selector }), allowFrom({ namespaces: ['default'] })], conn(), true],
  ])('%s', (_rule, manifests, connection, allow) => {
    expect(decideL4(manifests, connection).allow).toBe(allow);
  });
});

describe('§6.3 Source fields at L4 and their not-variants', () => {
  it.each<Row>([
    ['§6.5 principals exact match', [allowFrom({ principals: ['cluster.local/ns/default/sa/sleep'] })], conn(), true],
    ['§6.5 principals exact: another service account is denied', [allowFrom({ principals: ['cluster.local/ns/default/sa/sleep'] })], other, false],
    ['§6.5 principals with spiffe:// never match (ztunnel#1901)', [allowFrom({ principals: ['spiffe://cluster.local/ns/default/sa/sleep'] })], conn(), false],
    ['§6.5 principals prefix form', [allowFrom({ principals: ['cluster.local/ns/default/*'] })], conn(), true],
    ['§6.5 principals suffix form', [allowFrom({ principals: ['*/sa/sleep'] })], conn(), true],
    ['§6.5 principals suffix form rejects another SA', [allowFrom({ principals: ['*/sa/sleep'] })], other, false],
    ['§6.5 principals "*" matches any mTLS peer', [allowFrom({ principals: ['*'] })], other, true],
    ['§2.5 principals "*" fails on plaintext 15006 (no identity)', [allowFrom({ principals: ['*'] })], plaintext(), false],
    ['§2.5 principals exact fails without identity', [allowFrom({ principals: ['cluster.local/ns/default/sa/sleep'] })], plaintext(), false],
    ['§6.5 principals compare the whole trust domain', [allowFrom({ principals: ['cluster.local/ns/default/sa/sleep'] })], conn({ srcIdentity: identity('default', 'sleep', 'other.td') }), false],
    ['§6.3 notPrincipals in a DENY: other peers are denied', [denyFrom({ notPrincipals: ['cluster.local/ns/default/sa/sleep'] })], other, false],
    ['§6.3 notPrincipals in a DENY: the named peer passes', [denyFrom({ notPrincipals: ['cluster.local/ns/default/sa/sleep'] })], conn(), true],
    ['§2.5 notPrincipals in a DENY: plaintext has no principal, so it is denied', [denyFrom({ notPrincipals: ['cluster.local/ns/default/sa/sleep'] })], plaintext(), false],
    ['§2.5 notPrincipals in an ALLOW: plaintext passes the negative check', [allowFrom({ notPrincipals: ['cluster.local/ns/prod/sa/api'] })], plaintext(), true],
    ['§6.5 namespaces match the SPIFFE namespace', [allowFrom({ namespaces: ['default'] })], conn(), true],
    ['§6.5 namespaces reject another namespace', [allowFrom({ namespaces: ['default'] })], other, false],
    ['§2.5 namespaces fail without identity', [allowFrom({ namespaces: ['default'] })], plaintext(), false],
    ['§6.5 namespaces prefix form', [allowFrom({ namespaces: ['def*'] })], conn(), true],
    ['§6.3 notNamespaces in a DENY', [denyFrom({ notNamespaces: ['default'] })], other, false],
    ['§6.3 notNamespaces in a DENY lets the named namespace through', [denyFrom({ notNamespaces: ['default'] })], conn(), true],
    ['§6.5 serviceAccounts "ns/sa"', [allowFrom({ serviceAccounts: ['default/sleep'] })], conn(), true],
    ['§6.5 serviceAccounts bare "sa" is the policy namespace', [allowFrom({ serviceAccounts: ['sleep'] })], conn(), true],
    ['§6.5 serviceAccounts bare "sa" does not match the same name elsewhere', [allowFrom({ serviceAccounts: ['api'] })], other, false],
    ['§6.5 serviceAccounts ignore the trust domain', [allowFrom({ serviceAccounts: ['default/sleep'] })], conn({ srcIdentity: identity('default', 'sleep', 'remote.td') }), true],
    ['§2.5 serviceAccounts fail without identity', [allowFrom({ serviceAccounts: ['default/sleep'] })], plaintext(), false],
    ['§6.3 notServiceAccounts in a DENY', [denyFrom({ notServiceAccounts: ['default/sleep'] })], other, false],
    ['§6.5 ipBlocks v4 CIDR contains the source', [allowFrom({ ipBlocks: ['10.0.0.0/24'] })], conn({ srcIp: '10.0.0.255' }), true],
    ['§6.5 ipBlocks v4 CIDR edge: next address is outside', [allowFrom({ ipBlocks: ['10.0.0.0/24'] })], conn({ srcIp: '10.0.1.0' }), false],
    ['§6.5 ipBlocks bare IP is a /32', [allowFrom({ ipBlocks: ['10.0.0.5'] })], conn(), true],
    ['§6.5 ipBlocks bare IP excludes its neighbour', [allowFrom({ ipBlocks: ['10.0.0.5'] })], conn({ srcIp: '10.0.0.6' }), false],
    ['§6.5 ipBlocks v6 CIDR contains the source', [allowFrom({ ipBlocks: ['fd00:10::/64'] })], conn({ srcIp: 'fd00:10::5' }), true],
    ['§6.5 ipBlocks v6 CIDR edge: next /64 is outside', [allowFrom({ ipBlocks: ['fd00:10::/64'] })], conn({ srcIp: 'fd00:10:0:1::5' }), false],
    ['§6.5 ipBlocks v4 range never contains a v6 source', [allowFrom({ ipBlocks: ['0.0.0.0/0'] })], conn({ srcIp: 'fd00::5' }), false],
    ['§6.5 ipBlocks match an IPv4-mapped source as IPv4', [allowFrom({ ipBlocks: ['10.0.0.0/24'] })], conn({ srcIp: '::ffff:10.0.0.5' }), true],
    ['§6.3 notIpBlocks in a DENY denies everyone else', [denyFrom({ notIpBlocks: ['10.0.0.0/24'] })], conn({ srcIp: '192.168.1.1' }), false],
    ['§6.3 notIpBlocks in a DENY lets the block through', [denyFrom({ notIpBlocks: ['10.0.0.0/24'] })], conn(), true],
    ['§6.1 fields of one source are AND\'ed', [allowFrom({ namespaces: ['default'], ipBlocks: ['192.168.0.0/16'] })], conn(), false],
  ])('%s', (_rule, manifests, connection, allow) => {
    expect(decideL4(manifests, connection).allow).toBe(allow);
  });
});

/** guide-manifests/02-authz-sleep-to-httpbin.yaml, as a YAML loader returns it. */
const GUIDE_02 = {
  apiVersion: 'security.istio.io/v1beta1',
  kind: 'AuthorizationPolicy',
  metadata: { name: 'httpbin-access', namespace: 'default' },
  spec: {
    selector: { matchLabels: { app: 'httpbin' } },
    action: 'ALLOW',
    rules: [{ from: [{ source: { principals: ['cluster.local/ns/default/sa/sleep'] } }], to: [{ operation: { ports: ['8000'] } }] }],
  },
};

describe('§6.3 Operation ports and L4 when keys (target-port semantics)', () => {
  it.each<Row>([
    ['§6.5 step 6 guide 02: ports ["8000"] (the Service port) never matches target port 80 — sleep is denied', [GUIDE_02], conn({ dstPort: 80 }), false],
    ['§6.5 step 6 guide 02 corrected to the target port 80 allows sleep', [{ ...GUIDE_02, spec: { ...GUIDE_02.spec, rules: [{ ...GUIDE_02.spec.rules[0], to: [{ operation: { ports: ['80'] } }] }] } }], conn({ dstPort: 80 }), true],
    ['§6.5 step 6 guide 02 corrected still denies other principals', [{ ...GUIDE_02, spec: { ...GUIDE_02.spec, rules: [{ ...GUIDE_02.spec.rules[0], to: [{ operation: { ports: ['80'] } }] }] } }], other, false],
    ['§6.3 notPorts excludes the port', [allowTo({ notPorts: ['80'] })], conn(), false],
    ['§6.3 notPorts lets other ports through', [allowTo({ notPorts: ['9090'] })], conn(), true],
    ['§6.1 to entries are OR\'ed', [ap('allow', { selector, rules: [{ to: [{ operation: { ports: ['8080'] } }, { operation: { ports: ['80'] } }] }] })], conn(), true],
    ['§6.3 when source.ip', [allowWhen({ key: 'source.ip', values: ['10.0.0.0/24'] })], conn(), true],
    ['§6.3 when source.ip notValues', [allowWhen({ key: 'source.ip', notValues: ['10.0.0.0/24'] })], conn(), false],
    ['§6.3 when source.namespace', [allowWhen({ key: 'source.namespace', values: ['default'] })], conn(), true],
    ['§6.3 when source.namespace notValues', [allowWhen({ key: 'source.namespace', notValues: ['default'] })], conn(), false],
    ['§6.3 when source.principal', [allowWhen({ key: 'source.principal', values: ['cluster.local/ns/default/sa/sleep'] })], conn(), true],
    ['§6.3 when source.principal fails without identity', [allowWhen({ key: 'source.principal', values: ['*'] })], plaintext(), false],
    ['§6.3 when destination.ip', [allowWhen({ key: 'destination.ip', values: ['10.0.1.0/24'] })], conn(), true],
    ['§6.3 when destination.ip notValues', [allowWhen({ key: 'destination.ip', notValues: ['10.0.1.7'] })], conn(), false],
    ['§6.3 when destination.port', [allowWhen({ key: 'destination.port', values: ['80'] })], conn(), true],
    ['§6.3 when destination.port notValues', [allowWhen({ key: 'destination.port', notValues: ['80'] })], conn(), false],
    ['§6.1 every when condition must hold', [ap('allow', { selector, rules: [{ when: [{ key: 'source.namespace', values: ['default'] }, { key: 'destination.port', values: ['443'] }] }] })], conn(), false],
  ])('%s', (_rule, manifests, connection, allow) => {
    expect(decideL4(manifests, connection).allow).toBe(allow);
  });
});

/** guide-manifests/05-policies-l4-l7.yaml (test-app namespace). */
const GUIDE_05_REQUIRE_JWT = ap('require-jwt', {
  selector: { matchLabels: { app: 'api' } },
  action: 'ALLOW',
  rules: [{ from: [{ source: { requestPrincipals: ['*'] } }], to: [{ operation: { methods: ['GET', 'POST'] } }] }],
}, { namespace: 'test-app' });
const GUIDE_05_ALLOW_INTERNAL = ap('allow-internal', { action: 'ALLOW', rules: [{ from: [{ source: { namespaces: ['test-app'] } }] }] }, { namespace: 'test-app' });
const frontend = conn({ srcIdentity: identity('test-app', 'frontend') });

describe('§6.4 L7 fields in ztunnel-enforced policies', () => {
  it.each<Row>([
    ['§6.4 ALLOW with methods drops the rule → deny-all', [ap('allow-get', { selector, rules: [{ from: [{ source: { namespaces: ['default'] } }], to: [{ operation: { methods: ['GET'] } }] }] })], conn(), false],
    ['§6.4 ALLOW with paths drops only that rule; an L4 rule still allows', [ap('mixed', { selector, rules: [{ to: [{ operation: { paths: ['/admin'] } }] }, { from: [{ source: { namespaces: ['default'] } }] }] })], conn(), true],
    ['§6.4 guide 05 require-jwt makes app: api deny-all (requestPrincipals + methods dropped)', [GUIDE_05_REQUIRE_JWT], frontend, false],
    ['§6.4 guide 05 as a whole: api still admits test-app through the namespace-wide allow-internal', [GUIDE_05_REQUIRE_JWT, GUIDE_05_ALLOW_INTERNAL], frontend, true],
    ['§6.4 guide 05 as a whole: api denies other namespaces', [GUIDE_05_REQUIRE_JWT, GUIDE_05_ALLOW_INTERNAL], other, false],
    ['§6.4 DENY stripped and broadened: namespaces + requestPrincipals denies the whole namespace', [denyFrom({ namespaces: ['default'], notRequestPrincipals: ['*'] })], conn(), false],
    ['§6.4 DENY stripped and broadened: ports + methods denies every request to the port', [ap('deny-post', { selector, action: 'DENY', rules: [{ to: [{ operation: { ports: ['80'], methods: ['POST'] } }] }] })], conn(), false],
    ['§6.4 pure-L7 DENY has no effect at ztunnel', [ap('deny-delete', { selector, action: 'DENY', rules: [{ to: [{ operation: { methods: ['DELETE'] } }] }] })], conn(), true],
    ['§6.4 DENY with L4 from and L7-only to has no effect (empty Match in the to clause)', [ap('deny-dev-post', { selector, action: 'DENY', rules: [{ from: [{ source: { namespaces: ['default'] } }], to: [{ operation: { methods: ['POST'] } }] }] })], conn(), true],
    ['§6.4 DENY with an L7 when key has no effect', [ap('deny-hdr', { selector, action: 'DENY', rules: [{ from: [{ source: { namespaces: ['default'] } }], when: [{ key: 'request.headers[x-debug]', values: ['1'] }] }] })], conn(), true],
    ['§6.4 a pure-L7 DENY next to rules: [{}] still denies through the catch-all rule', [ap('deny', { selector, action: 'DENY', rules: [{}, { to: [{ operation: { methods: ['DELETE'] } }] }] })], conn(), false],
  ])('%s', (_rule, manifests, connection, allow) => {
    expect(decideL4(manifests, connection).allow).toBe(allow);
  });
});

describe('§6.6 STRICT as DENY, PERMISSIVE, and §6.1 root-namespace scope', () => {
  const strict = staticStrictAuthorization();
  it.each<[string, Authorization[], L4Connection, boolean]>([
    ['§2.5/§6.6 STRICT: plaintext on 15006 is denied', [strict], plaintext(), false],
    ['§6.6 STRICT: mTLS peers are allowed', [strict], conn(), true],
    ['§6.6 PERMISSIVE (no strict policy attached): plaintext is allowed', [], plaintext(), true],
    ['§6.6 STRICT plus an ALLOW for sleep: plaintext is still denied (DENY first)', [strict, ...ztunnelAuthorizations([allowFrom({ ipBlocks: ['10.0.0.0/8'] })])], plaintext(), false],
  ])('%s', (_rule, authorizations, connection, allow) => {
    expect(evaluateL4(compileL4(authorizations), connection).allow).toBe(allow);
  });

  it('§6.6 the STRICT denial names istiod\'s static policy', () => {
    expect(evaluateL4(compileL4([strict]), plaintext()).reason).toBe('explicitly denied by: istio-system/istio_converted_static_strict');
  });

  it('§6.1 a selector-less DENY in the root namespace is GLOBAL and applies to the workload', () => {
    const [global] = ztunnelAuthorizations([ap('deny-plain', { action: 'DENY', rules: [{ from: [{ source: { notPrincipals: ['*'] } }] }] }, { namespace: 'istio-system' })]);
    expect(global?.scope).toBe('GLOBAL');
    expect(evaluateL4(compileL4([global!]), plaintext())).toMatchObject({ allow: false, policy: 'istio-system/deny-plain' });
  });
});

describe('§6.5 matching details and trace', () => {
  it('§6.5 a clause skips empty Matches and still matches on a non-empty one', () => {
    const auth: Authorization = {
      name: 'p', namespace: 'default', scope: 'WORKLOAD_SELECTOR', action: 'ALLOW', dryRun: false,
      rules: [{ clauses: [{ matches: [EMPTY_MATCH, { ...EMPTY_MATCH, destinationPorts: [80] }] }] }],
    };
    const decision = evaluateL4(compileL4([auth]), conn());
    expect(decision.allow).toBe(true);
    expect(decision.trace).toContain('default/p (ALLOW, WORKLOAD_SELECTOR) rule 0 clause 0: match [match 0 empty, skipped; match 1 matched]');
  });

  it('§6.5 a clause with no Matches at all is true', () => {
    const auth: Authorization = {
      name: 'p', namespace: 'default', scope: 'NAMESPACE', action: 'DENY', dryRun: false,
      rules: [{ clauses: [{ matches: [] }] }],
    };
    expect(evaluateL4(compileL4([auth]), conn()).allow).toBe(false);
  });

  it('§6.5 the trace explains each policy, rule and clause decision', () => {
    const decision = decideL4([GUIDE_02], conn());
    expect(decision.trace).toEqual([
      'connection 10.0.0.5 -> 10.0.1.7:80, peer cluster.local/ns/default/sa/sleep',
      'default/httpbin-access (ALLOW, WORKLOAD_SELECTOR) rule 0 clause 0: no match [match 0 failed (destinationPorts: none of 1 value(s) matched)]',
      'default/httpbin-access (ALLOW, WORKLOAD_SELECTOR) rule 0: no match',
      'decision: deny, 1 ALLOW policy applies and none matched',
    ]);
  });

  it('§6.5 malformed CIDRs from xDS are dropped at compile time, as ztunnel does', () => {
    const auth: Authorization = {
      name: 'p', namespace: 'default', scope: 'NAMESPACE', action: 'ALLOW', dryRun: false,
      rules: [{ clauses: [{ matches: [{ ...EMPTY_MATCH, sourceIps: [{ address: '10.0.0.0', prefixLength: 40 }], destinationPorts: [80] }] }] }],
    };
    const compiled = compileL4([auth]);
    expect(compiled.warnings).toEqual(['default/p: dropped malformed CIDR 10.0.0.0/40']);
    expect(evaluateL4(compiled, conn()).allow).toBe(true);
  });
});

describe('explain option', () => {
  it('§6.5 the data path can skip the trace and still gets the same decision', () => {
    const compiled = compileL4([
      {
        name: 'deny-plaintext',
        namespace: 'default',
        scope: 'NAMESPACE',
        action: 'DENY',
        rules: [{ clauses: [{ matches: [{ ...EMPTY_MATCH, notPrincipals: [{ kind: 'presence' }] }] }] }],
        dryRun: false,
      },
    ]);
    const conn = { srcIp: '10.0.0.1', dstIp: '10.0.0.2', dstPort: 80 };
    const quiet = evaluateL4(compiled, conn, { explain: false });
    const explained = evaluateL4(compiled, conn);
    expect(quiet.allow).toBe(false);
    expect(quiet.reason).toBe(explained.reason);
    expect(quiet.trace).toEqual([]);
    expect(explained.trace.length).toBeGreaterThan(1);
  });
});
