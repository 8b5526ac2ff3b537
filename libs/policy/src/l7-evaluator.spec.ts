import { ap, decideL7, parsedPolicy, req } from '../test/policy-fixtures';
import { REASON_NONE_ALLOWED, REASON_NO_ALLOW_POLICIES } from './authorization-decision';
import type { AuthorizationPolicy } from './authorization-policy';
import { compileL7, evaluateL7 } from './l7-evaluator';
import type { L7Request } from './l7-request-match';

/** Waypoint policies attach with targetRefs (§6.2). */
const targetRefs = [{ kind: 'Service', name: 'httpbin' }];
const allow = (rule: Record<string, unknown>, name = 'allow') => ap(name, { targetRefs, rules: [rule] });
const deny = (rule: Record<string, unknown>, name = 'deny') => ap(name, { targetRefs, action: 'DENY', rules: [rule] });
const from = (source: Record<string, unknown>) => ({ from: [{ source }] });
const to = (operation: Record<string, unknown>) => ({ to: [{ operation }] });
const when = (key: string, values: string[], notValues?: string[]) => ({ when: [{ key, values, ...(notValues ? { notValues } : {}) }] });
const whenNot = (key: string, notValues: string[]) => ({ when: [{ key, notValues }] });
const custom = (rule: Record<string, unknown>) => ap('ext-authz', { targetRefs, action: 'CUSTOM', provider: { name: 'opa' }, rules: [rule] });

const jwt = {
  requestPrincipal: 'https://issuer.example.com/user-1',
  claims: {
    iss: 'https://issuer.example.com', sub: 'user-1', aud: ['httpbin', 'web'], azp: 'web-client',
    groups: ['dev', 'admin'], realm_access: { roles: ['reader'] }, tier: 'gold',
  },
};
const plaintextRequest = (overrides: Partial<L7Request> = {}): L7Request => {
  const { sourcePrincipal: _none, ...rest } = req(overrides);
  return rest;
};

type Row = [rule: string, manifests: unknown[], request: L7Request, allow: boolean];

describe('§6.1 evaluation order at the waypoint', () => {
  it.each<Row>([
    ['§6.1 no policies ⇒ allow', [], req(), true],
    ['§6.1 a matching DENY beats a matching ALLOW', [allow({}), deny(to({ methods: ['GET'] }))], req(), false],
    ['§6.1 no ALLOW policies ⇒ allow', [deny(to({ methods: ['DELETE'] }))], req(), true],
    ['§6.1 an ALLOW that matches ⇒ allow', [allow(to({ methods: ['GET'] }))], req(), true],
    ['§6.1 ALLOW policies exist but none matches ⇒ deny', [allow(to({ methods: ['POST'] }))], req(), false],
    ['§6.1 ALLOW with spec {} allows nothing', [ap('nothing', { targetRefs })], req(), false],
    ['§6.1 ALLOW with rules: [{}] allows everything', [allow({})], plaintextRequest(), true],
    ['§6.1 AUDIT never affects the decision', [ap('audit', { targetRefs, action: 'AUDIT', rules: [{}] })], req(), true],
    ['§6.1 AUDIT does not stop an ALLOW-none-matched deny', [ap('audit', { targetRefs, action: 'AUDIT', rules: [{}] }), allow(to({ methods: ['POST'] }))], req(), false],
  ])('%s', (_rule, manifests, request, expected) => {
    expect(decideL7(manifests, request).allow).toBe(expected);
  });

  it('§6.1 reasons name the deciding policy', () => {
    expect(decideL7([allow({}), deny(to({ paths: ['/get'] }), 'no-get')], req())).toMatchObject({ allow: false, policy: 'default/no-get', reason: 'explicitly denied by: default/no-get' });
    expect(decideL7([allow(to({ methods: ['POST'] }))], req()).reason).toBe(REASON_NONE_ALLOWED);
    expect(decideL7([], req()).reason).toBe(REASON_NO_ALLOW_POLICIES);
  });

  it('§6.1 a matching AUDIT policy is reported', () => {
    const decision = decideL7([ap('audit-admin', { targetRefs, action: 'AUDIT', rules: [to({ paths: ['/get'] })] })], req());
    expect(decision).toMatchObject({ allow: true, audited: ['default/audit-admin'] });
  });

  it('§6.1 step 1: a matching CUSTOM denied by its provider denies, even when an ALLOW matches', () => {
    const decision = decideL7([custom(to({ paths: ['/get'] })), allow({})], req({ customResults: new Map([['default/ext-authz', false]]) }));
    expect(decision).toMatchObject({ allow: false, policy: 'default/ext-authz', custom: [{ policy: 'default/ext-authz', provider: 'opa', allowed: false }] });
  });

  it('§6.1 step 1: a CUSTOM the provider allows falls through to DENY/ALLOW', () => {
    const results = new Map([['default/ext-authz', true]]);
    expect(decideL7([custom({}), allow(to({ methods: ['GET'] }))], req({ customResults: results })).allow).toBe(true);
    expect(decideL7([custom({}), deny({})], req({ customResults: results })).allow).toBe(false);
  });

  it('§6.1 step 1: a matching CUSTOM without a provider answer fails closed with an error outcome', () => {
    const decision = decideL7([custom({}), allow({})], req());
    expect(decision.allow).toBe(false);
    expect(decision.error?.code).toBe('ERR_AUTHZ_CUSTOM_RESULT_MISSING');
    expect(decision.custom).toEqual([{ policy: 'default/ext-authz', provider: 'opa' }]);
  });

  it('§6.1 a CUSTOM policy that does not match is not consulted', () => {
    const decision = decideL7([custom(to({ paths: ['/admin'] }))], req());
    expect(decision).toMatchObject({ allow: true, custom: [] });
  });

  it('§6.1 dry-run: a matching DENY is reported, never enforced', () => {
    const decision = decideL7([ap('dry', { targetRefs, action: 'DENY', rules: [{}] }, { annotations: { 'istio.io/dry-run': 'true' } })], req());
    expect(decision.allow).toBe(true);
    expect(decision.dryRun).toEqual([{ policy: 'default/dry', action: 'DENY', matched: true, wouldAllow: false }]);
  });

  it('§6.1 dry-run: an ALLOW does not turn on deny-by-default', () => {
    const decision = decideL7([ap('dry', { targetRefs, rules: [to({ methods: ['POST'] })] }, { annotations: { 'istio.io/dry-run': 'true' } })], req());
    expect(decision).toMatchObject({ allow: true, dryRun: [{ policy: 'default/dry', matched: false, wouldAllow: false }] });
  });
});

describe('§6.1 Source fields at the waypoint', () => {
  const withJwt = req(jwt);
  it.each<Row>([
    ['§6.1 principals are written without spiffe://', [allow(from({ principals: ['cluster.local/ns/default/sa/sleep'] }))], req(), true],
    ['§6.1 principals written with spiffe:// never match', [allow(from({ principals: ['spiffe://cluster.local/ns/default/sa/sleep'] }))], req(), false],
    ['§6.1 principals fail without a peer identity', [allow(from({ principals: ['*'] }))], plaintextRequest(), false],
    ['§6.1 notPrincipals in a DENY deny a request without a peer identity', [deny(from({ notPrincipals: ['*'] }))], plaintextRequest(), false],
    ['§6.8 requestPrincipals "*" requires a JWT: with one ⇒ allow', [allow(from({ requestPrincipals: ['*'] }))], withJwt, true],
    ['§6.8 requestPrincipals "*" requires a JWT: without one ⇒ deny', [allow(from({ requestPrincipals: ['*'] }))], req(), false],
    ['§6.8 requestPrincipals exact iss/sub with a URL issuer', [allow(from({ requestPrincipals: ['https://issuer.example.com/user-1'] }))], withJwt, true],
    ['§6.8 requestPrincipals prefix: issuer exact, any subject', [allow(from({ requestPrincipals: ['https://issuer.example.com/*'] }))], withJwt, true],
    ['§6.8 requestPrincipals suffix: any issuer, subject exact', [allow(from({ requestPrincipals: ['*/user-1'] }))], withJwt, true],
    ['§6.8 requestPrincipals suffix rejects another subject', [allow(from({ requestPrincipals: ['*/user-2'] }))], withJwt, false],
    ['§6.8 DENY notRequestPrincipals "*" denies requests without a JWT', [deny(from({ notRequestPrincipals: ['*'] }))], req(), false],
    ['§6.8 DENY notRequestPrincipals "*" lets JWT requests through', [deny(from({ notRequestPrincipals: ['*'] }))], withJwt, true],
    ['§6.1 namespaces come from the peer identity', [allow(from({ namespaces: ['default'] }))], req(), true],
    ['§6.1 notNamespaces', [allow(from({ notNamespaces: ['default'] }))], req(), false],
    ['§6.1 serviceAccounts bare name in the policy namespace', [allow(from({ serviceAccounts: ['sleep'] }))], req(), true],
    ['§6.1 serviceAccounts ns/sa of another namespace', [allow(from({ serviceAccounts: ['prod/sleep'] }))], req(), false],
    ['§6.1 ipBlocks match the connection source IP', [allow(from({ ipBlocks: ['10.0.0.0/24'] }))], req({ remoteIp: '203.0.113.7' }), true],
    ['§6.1 remoteIpBlocks match the original client IP, not the peer', [allow(from({ remoteIpBlocks: ['203.0.113.0/24'] }))], req({ remoteIp: '203.0.113.7' }), true],
    ['§6.1 remoteIpBlocks do not look at the connection source', [allow(from({ remoteIpBlocks: ['10.0.0.0/24'] }))], req({ remoteIp: '203.0.113.7' }), false],
    ['§6.1 notRemoteIpBlocks in a DENY', [deny(from({ notRemoteIpBlocks: ['203.0.113.0/24'] }))], req({ remoteIp: '198.51.100.1' }), false],
    ['§6.1 notIpBlocks with IPv6', [allow(from({ notIpBlocks: ['fd00::/8'] }))], req({ sourceIp: 'fd00::5' }), false],
  ])('%s', (_rule, manifests, request, expected) => {
    expect(decideL7(manifests, request).allow).toBe(expected);
  });
});

describe('§6.1 Operation fields at the waypoint', () => {
  it.each<Row>([
    ['§6.1 hosts are case-insensitive', [allow(to({ hosts: ['HTTPBIN.default.svc.cluster.local'] }))], req(), true],
    ['§6.1 hosts suffix form, case-insensitive', [allow(to({ hosts: ['*.Example.COM'] }))], req({ host: 'api.example.com' }), true],
    ['§6.1 hosts prefix form', [allow(to({ hosts: ['httpbin*'] }))], req({ host: 'httpbin:8000' }), true],
    ['§6.1 hosts exact does not ignore the port', [allow(to({ hosts: ['httpbin'] }))], req({ host: 'httpbin:8000' }), false],
    ['§6.1 notHosts', [allow(to({ notHosts: ['*.internal'] }))], req({ host: 'db.internal' }), false],
    ['§6.1 ports compare the request port', [allow(to({ ports: ['8000'] }))], req(), true],
    ['§6.1 notPorts', [allow(to({ notPorts: ['8000'] }))], req(), false],
    ['§6.1 methods are case-sensitive', [allow(to({ methods: ['get'] }))], req(), false],
    ['§6.1 notMethods', [deny(to({ notMethods: ['GET', 'HEAD'] }))], req({ method: 'POST' }), false],
    ['§6.1 paths exact', [allow(to({ paths: ['/get'] }))], req(), true],
    ['§6.1 paths ignore the query string', [allow(to({ paths: ['/get'] }))], req({ path: '/get?x=1' }), true],
    ['§6.1 path normalization: /a/../admin matches a DENY on /admin', [deny(to({ paths: ['/admin'] }))], req({ path: '/a/../admin' }), false],
    ['§6.1 path normalization: %61dmin matches a DENY on /admin', [deny(to({ paths: ['/admin'] }))], req({ path: '/%61dmin' }), false],
    ['§6.1 paths prefix form', [allow(to({ paths: ['/api/*'] }))], req({ path: '/api/v1/users' }), true],
    ['§6.1 paths template {*}', [allow(to({ paths: ['/users/{*}/profile'] }))], req({ path: '/users/7/profile' }), true],
    ['§6.1 paths template {**}', [allow(to({ paths: ['/static/{**}'] }))], req({ path: '/static/a/b.css' }), true],
    ['§6.1 notPaths', [allow(to({ notPaths: ['/admin/*'] }))], req({ path: '/admin/users' }), false],
    ['§6.1 gRPC paths are /pkg.Service/Method', [allow(to({ paths: ['/grpc.health.v1.Health/Check'] }))], req({ method: 'POST', path: '/grpc.health.v1.Health/Check' }), true],
    ['§6.1 operation fields are AND\'ed', [allow(to({ methods: ['GET'], paths: ['/post'] }))], req(), false],
    ['§6.1 rule = any from AND any to', [allow({ from: [{ source: { namespaces: ['prod'] } }, { source: { namespaces: ['default'] } }], to: [{ operation: { methods: ['GET'] } }] })], req(), true],
  ])('%s', (_rule, manifests, request, expected) => {
    expect(decideL7(manifests, request).allow).toBe(expected);
  });
});

describe('§6.1 when conditions at the waypoint', () => {
  const withJwt = (overrides: Partial<L7Request> = {}) => req({ ...jwt, ...overrides });
  it.each<Row>([
    ['§6.1 request.headers exact value', [allow(when('request.headers[x-user]', ['alice']))], req({ headers: { 'x-user': 'alice' } }), true],
    ['§6.1 request.headers names are case-insensitive', [allow(when('request.headers[X-User]', ['alice']))], req({ headers: { 'x-user': 'alice' } }), true],
    ['§6.1 request.headers values are case-sensitive', [allow(when('request.headers[x-user]', ['Alice']))], req({ headers: { 'x-user': 'alice' } }), false],
    ['§6.1 request.headers "*" is presence, even for an empty value', [allow(when('request.headers[x-token]', ['*']))], req({ headers: { 'x-token': '' } }), true],
    ['§6.1 request.headers on a missing header does not match', [allow(when('request.headers[x-user]', ['*']))], req(), false],
    ['§6.1 repeated headers are matched joined with ","', [allow(when('request.headers[x-role]', ['a,b']))], req({ headers: { 'x-role': ['a', 'b'] } }), true],
    ['§6.1 request.headers notValues', [allow(whenNot('request.headers[x-env]', ['prod']))], req({ headers: { 'x-env': 'prod' } }), false],
    ['§6.1 request.headers notValues on a missing header passes', [allow(whenNot('request.headers[x-env]', ['prod']))], req(), true],
    ['§6.1 request.auth.claims on a list claim matches any element', [allow(when('request.auth.claims[groups]', ['admin']))], withJwt(), true],
    ['§6.1 request.auth.claims nested [a][b]', [allow(when('request.auth.claims[realm_access][roles]', ['reader']))], withJwt(), true],
    ['§6.1 request.auth.claims prefix form on a string claim', [allow(when('request.auth.claims[tier]', ['go*']))], withJwt(), true],
    ['§6.1 request.auth.claims without a JWT does not match', [allow(when('request.auth.claims[groups]', ['admin']))], req(), false],
    ['§6.1 request.auth.claims notValues', [deny(whenNot('request.auth.claims[groups]', ['admin']))], withJwt(), true],
    ['§6.1 request.auth.principal', [allow(when('request.auth.principal', ['https://issuer.example.com/user-1']))], withJwt(), true],
    ['§6.1 request.auth.audiences', [allow(when('request.auth.audiences', ['httpbin']))], withJwt(), true],
    ['§6.1 request.auth.presenter', [allow(when('request.auth.presenter', ['web-*']))], withJwt(), true],
    ['§6.1 source.ip', [allow(when('source.ip', ['10.0.0.5']))], req(), true],
    ['§6.1 remote.ip', [allow(when('remote.ip', ['203.0.113.0/24']))], req({ remoteIp: '203.0.113.9' }), true],
    ['§6.1 destination.ip', [allow(whenNot('destination.ip', ['10.96.0.0/12']))], req(), false],
    ['§6.1 destination.port', [allow(when('destination.port', ['8000']))], req(), true],
    ['§6.1 source.namespace', [allow(when('source.namespace', ['default']))], req(), true],
    ['§6.1 source.principal', [allow(when('source.principal', ['cluster.local/ns/default/sa/*']))], req(), true],
    ['§6.1 connection.sni', [allow(when('connection.sni', ['*.example.com']))], req({ sni: 'api.example.com' }), true],
    ['§6.1 connection.sni absent does not match', [allow(when('connection.sni', ['*']))], req(), false],
    ['§6.1 every when condition must hold', [allow({ when: [{ key: 'source.namespace', values: ['default'] }, { key: 'request.headers[x-user]', values: ['bob'] }] })], req({ headers: { 'x-user': 'alice' } }), false],
  ])('%s', (_rule, manifests, request, expected) => {
    expect(decideL7(manifests, request).allow).toBe(expected);
  });
});

describe('L7 compile and trace', () => {
  it('§6.1 a rule istiod cannot generate is skipped (experimental Envoy metadata keys)', () => {
    const compiled = compileL7([parsedPolicy(allow(when('experimental.envoy.filters.network.mysql_proxy[db.table]', ['[update]'])))]);
    expect(compiled.warnings).toEqual(['default/allow: skipped rule 0: unsupported when key experimental.envoy.filters.network.mysql_proxy[db.table]']);
    expect(evaluateL7(compiled, req()).allow).toBe(false);
  });

  it('§6.1 the trace explains the rule decision', () => {
    const policy: AuthorizationPolicy = parsedPolicy(allow({ from: [{ source: { namespaces: ['prod'] } }], to: [{ operation: { methods: ['GET'] } }] }));
    const decision = evaluateL7(compileL7([policy]), req({ path: '/a/../get?x=1' }));
    expect(decision.trace).toEqual([
      'request GET httpbin.default.svc.cluster.local/a/../get?x=1 (normalized path /get) from 10.0.0.5, peer cluster.local/ns/default/sa/sleep, no request principal',
      'default/allow (ALLOW) rule 0: no match [from[0] failed on namespaces]',
      'decision: deny, 1 ALLOW policy applies and none matched',
    ]);
  });
});
