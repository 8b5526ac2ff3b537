// AuthorizationPolicy and RequestAuthentication with targetRefs → L7Authorization and RequestAuthentication: which
// attachments a waypoint enforces, every field kept, and what is reported.
import { authorizationPolicy } from '../test/translation/kube-builders';
import { codes, httpService, istioObject, translateL7 } from '../test/translation/l7-harness';

const WAYPOINT_REF = { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'waypoint' };
const allSource = {
  principals: ['a'], notPrincipals: ['b'], requestPrincipals: ['c'], notRequestPrincipals: ['d'], namespaces: ['e'], notNamespaces: ['f'],
  ipBlocks: ['10.0.0.0/8'], notIpBlocks: ['10.1.0.0/16'], remoteIpBlocks: ['1.2.3.4'], notRemoteIpBlocks: ['5.6.7.8'], trustDomains: ['td'], notTrustDomains: ['evil'],
};

describe('L7Authorization', () => {
  it('keeps every rule field, with action and dry run', () => {
    const policy = authorizationPolicy('ext', {
      targetRefs: [WAYPOINT_REF, { kind: 'Service', group: '', name: 'httpbin' }],
      action: 'DENY',
      rules: [
        {
          from: [{ source: allSource }, { source: { serviceAccounts: ['default/sleep'], notServiceAccounts: ['x'] } }],
          to: [{ operation: { hosts: ['h'], notHosts: ['nh'], ports: ['80'], notPorts: ['81'], methods: ['GET'], notMethods: ['PUT'], paths: ['/a/{*}'], notPaths: ['/b'] } }],
          when: [{ key: 'request.auth.claims[groups]', values: ['admin'], notValues: ['guest'] }],
        },
        {},
      ],
    }, { annotations: { 'istio.io/dry-run': 'true' } });
    const result = translateL7([httpService('httpbin'), policy]);
    expect(result.l7Authorizations).toEqual([
      {
        name: 'ext',
        namespace: 'default',
        targets: [
          { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'waypoint', namespace: '' },
          { group: '', kind: 'Service', name: 'httpbin', namespace: '' },
        ],
        action: 'DENY',
        provider: '',
        dryRun: true,
        rules: [
          {
            from: [
              { ...allSource, serviceAccounts: [], notServiceAccounts: [] },
              {
                principals: [], notPrincipals: [], requestPrincipals: [], notRequestPrincipals: [], namespaces: [], notNamespaces: [], serviceAccounts: ['default/sleep'],
                notServiceAccounts: ['x'], ipBlocks: [], notIpBlocks: [], remoteIpBlocks: [], notRemoteIpBlocks: [], trustDomains: [], notTrustDomains: [],
              },
            ],
            to: [{ hosts: ['h'], notHosts: ['nh'], ports: ['80'], notPorts: ['81'], methods: ['GET'], notMethods: ['PUT'], paths: ['/a/{*}'], notPaths: ['/b'] }],
            when: [{ key: 'request.auth.claims[groups]', values: ['admin'], notValues: ['guest'] }],
          },
          { from: [], to: [], when: [] },
        ],
      },
    ]);
  });

  it.each([
    ['ALLOW with no rules (allow-nothing)', { targetRefs: [WAYPOINT_REF] }, 'ALLOW', ''],
    ['DENY', { targetRefs: [WAYPOINT_REF], action: 'DENY', rules: [{}] }, 'DENY', ''],
    ['AUDIT', { targetRefs: [WAYPOINT_REF], action: 'AUDIT', rules: [{}] }, 'AUDIT', ''],
    ['the deprecated single targetRef', { targetRef: WAYPOINT_REF, action: 'DENY', rules: [{}] }, 'DENY', ''],
    [
      'CUSTOM with its provider (Istio allows only request fields with CUSTOM)',
      { targetRefs: [WAYPOINT_REF], action: 'CUSTOM', provider: { name: 'ext-authz' }, rules: [{ to: [{ operation: { paths: ['/admin/*'] } }] }] },
      'CUSTOM',
      'ext-authz',
    ],
  ])('%s', (_, spec, action, provider) => {
    expect(translateL7([authorizationPolicy('p', spec)]).l7Authorizations).toMatchObject([{ action, provider }]);
  });

  it.each([
    ['a selector policy (ztunnel’s)', { selector: { matchLabels: { app: 'a' } }, rules: [{}] }],
    ['a namespace-wide policy (ztunnel’s)', { rules: [{}] }],
    ['a policy for an ingress Gateway', { targetRefs: [{ ...WAYPOINT_REF, name: 'ingress' }] }],
    ['an invalid policy (translateMesh reports it)', { targetRefs: [WAYPOINT_REF], action: 'MAYBE' }],
  ])('gives no L7Authorization, and no message of its own, for %s', (_, spec) => {
    const ingress = istioObject('Gateway', 'ingress', { gatewayClassName: 'istio', listeners: [] });
    const result = translateL7([ingress, authorizationPolicy('p', spec)]);
    expect(result.l7Authorizations).toEqual([]);
    expect(result.messages).toEqual([]);
  });

  it('drops GatewayClass refs outside the root namespace and reports a missing waypoint Gateway', () => {
    const result = translateL7([
      authorizationPolicy('class', { targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'GatewayClass', name: 'istio-waypoint' }] }),
      authorizationPolicy('root', { targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'GatewayClass', name: 'istio-waypoint' }] }, { namespace: 'istio-system' }),
      authorizationPolicy('missing', { targetRefs: [{ ...WAYPOINT_REF, name: 'gone' }] }),
    ]);
    expect(result.l7Authorizations.map((a) => `${a.namespace}/${a.name}`)).toEqual(['default/missing', 'istio-system/root']);
    expect(codes(result)).toEqual([
      'AuthorizationPolicy default/class spec.targetRefs[0] WARN_L7_TARGET_REF_UNSUPPORTED',
      'AuthorizationPolicy default/missing spec.targetRefs[0] WARN_L7_TARGET_NOT_FOUND',
    ]);
  });
});

describe('RequestAuthentication', () => {
  const ra = (name: string, spec: Record<string, unknown>) => istioObject('RequestAuthentication', name, spec);

  it('keeps every JwtRule field for a targetRef’d one', () => {
    const rule = {
      issuer: 'https://issuer.example',
      audiences: ['api'],
      jwksUri: 'https://issuer.example/jwks',
      jwks: '{"keys":[]}',
      fromHeaders: [{ name: 'x-jwt', prefix: 'Bearer ' }],
      fromParams: ['token'],
      fromCookies: ['session'],
      outputPayloadToHeader: 'x-payload',
      forwardOriginalToken: true,
      outputClaimToHeaders: [{ header: 'x-sub', claim: 'sub' }],
      timeout: '5s',
      spaceDelimitedClaims: ['scope'],
    };
    const result = translateL7([ra('jwt', { targetRefs: [{ kind: 'Service', group: '', name: 'httpbin' }], jwtRules: [rule, { issuer: 'minimal' }] })]);
    expect(result.requestAuthentications).toEqual([
      {
        name: 'jwt',
        namespace: 'default',
        targets: [{ group: '', kind: 'Service', name: 'httpbin', namespace: '' }],
        jwtRules: [
          { ...rule, timeout: undefined, timeoutMs: 5000 },
          {
            issuer: 'minimal', audiences: [], jwksUri: '', jwks: '', fromHeaders: [], fromParams: [], fromCookies: [], outputPayloadToHeader: '',
            forwardOriginalToken: false, outputClaimToHeaders: [], spaceDelimitedClaims: [],
          },
        ].map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined))),
      },
    ]);
  });

  it.each([
    ['a selector', { selector: { matchLabels: { app: 'a' } }, jwtRules: [{ issuer: 'i' }] }, 'spec.selector'],
    ['no attachment at all', { jwtRules: [{ issuer: 'i' }] }, 'spec'],
  ])('reports one with %s as not enforced in ambient', (_, spec, field) => {
    const result = translateL7([ra('jwt', spec)]);
    expect(result.requestAuthentications).toEqual([]);
    expect(codes(result)).toEqual([`RequestAuthentication default/jwt ${field} WARN_L7_REQUEST_AUTHENTICATION_NOT_ATTACHED`]);
  });

  it('leaves out rules a waypoint could not use, naming the field', () => {
    const result = translateL7([ra('jwt', { targetRefs: [WAYPOINT_REF], jwtRules: [{ jwksUri: 'https://x' }, { issuer: 'i', jwks: '{not json' }, { issuer: 'ok' }] })]);
    expect(result.requestAuthentications[0]?.jwtRules.map((r) => r.issuer)).toEqual(['ok']);
    expect(codes(result)).toEqual([
      'RequestAuthentication default/jwt spec.jwtRules[0].issuer WARN_L7_JWT_RULE_INVALID',
      'RequestAuthentication default/jwt spec.jwtRules[1].jwks WARN_L7_JWT_RULE_INVALID',
    ]);
  });

  it('drops refs to kinds a waypoint does not enforce', () => {
    const result = translateL7([ra('jwt', { targetRefs: [{ kind: 'Pod', name: 'p' }], jwtRules: [{ issuer: 'i' }] })]);
    expect(result.requestAuthentications).toEqual([]);
    expect(codes(result)).toEqual(['RequestAuthentication default/jwt spec.targetRefs[0] WARN_L7_TARGET_REF_UNSUPPORTED']);
  });
});
