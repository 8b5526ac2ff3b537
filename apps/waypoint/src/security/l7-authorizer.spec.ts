import type { L7Authorization, L7AuthorizationRule, L7Operation, L7Source } from '@weft/mesh-model';
import { L7Authorizer, type AuthzInput } from './l7-authorizer';

const NO_SOURCE: L7Source = {
  principals: [], notPrincipals: [], requestPrincipals: [], notRequestPrincipals: [], namespaces: [], notNamespaces: [],
  serviceAccounts: [], notServiceAccounts: [], ipBlocks: [], notIpBlocks: [], remoteIpBlocks: [], notRemoteIpBlocks: [],
  trustDomains: [], notTrustDomains: [],
};
const NO_OPERATION: L7Operation = { hosts: [], notHosts: [], ports: [], notPorts: [], methods: [], notMethods: [], paths: [], notPaths: [] };

const source = (fields: Partial<L7Source>): L7Source => ({ ...NO_SOURCE, ...fields });
const operation = (fields: Partial<L7Operation>): L7Operation => ({ ...NO_OPERATION, ...fields });
const rule = (fields: Partial<L7AuthorizationRule>): L7AuthorizationRule => ({ from: [], to: [], when: [], ...fields });

function policy(name: string, action: L7Authorization['action'], rules: L7AuthorizationRule[], extra: Partial<L7Authorization> = {}): L7Authorization {
  return {
    name,
    namespace: 'app',
    targets: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'waypoint', namespace: '' }],
    action,
    provider: '',
    dryRun: false,
    rules,
    ...extra,
  };
}

const CLIENT = 'spiffe://cluster.local/ns/app/sa/productpage';
const OTHER = 'spiffe://cluster.local/ns/other/sa/intruder';

function input(overrides: Partial<AuthzInput> = {}): AuthzInput {
  return {
    method: 'GET',
    path: '/reviews/1',
    host: 'reviews.app.svc.cluster.local',
    headers: {},
    sourceIp: '10.0.0.5',
    sourcePrincipal: CLIENT,
    destinationIp: '10.0.1.7',
    destinationPort: 9080,
    ...overrides,
  };
}

const DENIED = { allow: false, status: 403, body: 'RBAC: access denied' } as const;

describe('L7Authorizer', () => {
  it('allows everything when no policy applies', () => {
    expect(new L7Authorizer([]).decide(input({ method: 'DELETE' }))).toEqual({ allow: true });
  });

  describe('ALLOW GET, deny POST /admin', () => {
    const authz = new L7Authorizer([
      policy('allow-reads', 'ALLOW', [rule({ from: [source({ principals: ['cluster.local/ns/app/sa/productpage'] })], to: [operation({ methods: ['GET'] })] })]),
      policy('no-admin-writes', 'DENY', [rule({ to: [operation({ methods: ['POST'], paths: ['/admin', '/admin/*'] })] })]),
    ]);

    it('allows GET from the allowed principal', () => {
      expect(authz.decide(input())).toEqual({ allow: true });
    });

    it('denies POST /admin by the DENY path rule', () => {
      expect(authz.decide(input({ method: 'POST', path: '/admin' }))).toEqual({ ...DENIED, policy: 'app/no-admin-writes', reason: 'explicitly denied by: app/no-admin-writes' });
    });

    it('denies POST elsewhere because no ALLOW matches', () => {
      expect(authz.decide(input({ method: 'POST', path: '/reviews' }))).toEqual({ ...DENIED, reason: 'allow policies exist, but none allowed' });
    });

    it('denies GET from another principal', () => {
      expect(authz.decide(input({ sourcePrincipal: OTHER }))).toMatchObject({ ...DENIED, reason: 'allow policies exist, but none allowed' });
    });
  });

  it('DENY beats a matching ALLOW', () => {
    const authz = new L7Authorizer([
      policy('allow-all', 'ALLOW', [rule({})]),
      policy('deny-other-ns', 'DENY', [rule({ from: [source({ namespaces: ['other'] })] })]),
    ]);
    expect(authz.decide(input())).toEqual({ allow: true });
    expect(authz.decide(input({ sourcePrincipal: OTHER }))).toMatchObject({ ...DENIED, policy: 'app/deny-other-ns' });
  });

  describe('requestPrincipals: ["*"] (require a JWT)', () => {
    const authz = new L7Authorizer([policy('require-jwt', 'ALLOW', [rule({ from: [source({ requestPrincipals: ['*'] })] })])]);

    it('denies an anonymous request with 403', () => {
      expect(authz.decide(input())).toEqual({ ...DENIED, reason: 'allow policies exist, but none allowed' });
    });

    it('allows an authenticated request', () => {
      expect(authz.decide(input({ request: { principal: 'https://issuer.example.com/alice', claims: { sub: 'alice' } } }))).toEqual({ allow: true });
    });
  });

  it('denies by request principal and matches claims in when', () => {
    const authz = new L7Authorizer([
      policy('deny-mallory', 'DENY', [rule({ from: [source({ requestPrincipals: ['https://issuer.example.com/mallory'] })] })]),
      policy('admins-only', 'ALLOW', [rule({ when: [{ key: 'request.auth.claims[groups]', values: ['admins'], notValues: [] }] })]),
    ]);
    const as = (sub: string, groups: string[]) => input({ request: { principal: `https://issuer.example.com/${sub}`, claims: { sub, groups } } });
    expect(authz.decide(as('alice', ['admins']))).toEqual({ allow: true });
    expect(authz.decide(as('bob', ['users']))).toMatchObject({ allow: false, reason: 'allow policies exist, but none allowed' });
    expect(authz.decide(as('mallory', ['admins']))).toMatchObject({ allow: false, policy: 'app/deny-mallory' });
  });

  it('fails closed for a matching CUSTOM policy without a provider answer', () => {
    const authz = new L7Authorizer([policy('ext', 'CUSTOM', [rule({ to: [operation({ paths: ['/private/*'] })] })], { provider: 'opa' })]);
    expect(authz.decide(input({ path: '/private/x' }))).toMatchObject({ ...DENIED, policy: 'app/ext' });
    expect(authz.decide(input({ path: '/public' }))).toEqual({ allow: true });
    expect(authz.decide(input({ path: '/private/x', customResults: new Map([['app/ext', true]]) }))).toEqual({ allow: true });
  });

  it('AUDIT never decides and dry-run policies are not enforced', () => {
    const authz = new L7Authorizer([
      policy('audit-all', 'AUDIT', [rule({})]),
      policy('dry-deny', 'DENY', [rule({})], { dryRun: true }),
    ]);
    expect(authz.decide(input())).toEqual({ allow: true });
  });

  it('an ALLOW without rules allows nothing', () => {
    expect(new L7Authorizer([policy('allow-nothing', 'ALLOW', [])]).decide(input())).toMatchObject({ allow: false });
  });

  it('reports skipped rules and CUSTOM policies without a provider as warnings', () => {
    const authz = new L7Authorizer([
      policy('bad-when', 'ALLOW', [rule({ when: [{ key: 'request.unknown', values: ['x'], notValues: [] }] })]),
      policy('no-provider', 'CUSTOM', [rule({})]),
    ]);
    expect(authz.warnings).toEqual([
      expect.stringContaining('app/bad-when: skipped rule 0'),
      'app/no-provider: CUSTOM policy without a provider; matching requests are denied',
    ]);
  });
});
