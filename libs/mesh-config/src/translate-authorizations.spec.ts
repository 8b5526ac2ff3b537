import { authorizationPolicy, peerAuthentication } from '../test/translation/kube-builders';
import type { KubeObject } from './kube-object';
import { translateAuthorizations } from './translate-authorizations';
import { buildInventory } from './translate-inventory';
import { translateSettings } from './translate-types';

const translate = (objects: KubeObject[]) => translateAuthorizations(buildInventory(objects), translateSettings());
const names = (objects: KubeObject[]) => translate(objects).authorizations.map((a) => `${a.namespace}/${a.name} ${a.scope} ${a.action}`);

describe('translateAuthorizations (§6.2, §6.6)', () => {
  it('converts selector, namespace and root policies with their scopes', () => {
    expect(
      names([
        authorizationPolicy('sel', { selector: { matchLabels: { app: 'a' } }, action: 'DENY', rules: [{}] }),
        authorizationPolicy('ns', {}),
        authorizationPolicy('mesh', { rules: [{}] }, { namespace: 'istio-system' }),
      ]),
    ).toEqual(['default/ns NAMESPACE ALLOW', 'default/sel WORKLOAD_SELECTOR DENY', 'istio-system/mesh GLOBAL ALLOW']);
  });

  it('gives ztunnel nothing for targetRef policies (waypoint-enforced)', () => {
    const waypointPolicy = authorizationPolicy('wp', { targetRefs: [{ kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'waypoint' }], rules: [{}] });
    expect(translate([waypointPolicy])).toMatchObject({ authorizations: [], selectorPolicies: [], messages: [] });
  });

  it('excludes and reports invalid policies instead of throwing', () => {
    const invalid = authorizationPolicy('bad', { action: 'DENY' });
    const result = translate([invalid]);
    expect(result.authorizations).toEqual([]);
    expect(result.messages).toEqual([
      expect.objectContaining({ level: 'error', object: 'AuthorizationPolicy default/bad', code: 'ERR_POLICY_WITHOUT_RULES', field: 'spec.rules' }),
    ]);
  });

  it('reports the HTTP-attribute warning once and keeps a zero-rule ALLOW', () => {
    const jwt = authorizationPolicy('require-jwt', {
      selector: { matchLabels: { app: 'api' } },
      rules: [{ from: [{ source: { requestPrincipals: ['*'] } }] }],
    });
    const result = translate([jwt]);
    expect(result.authorizations).toEqual([
      { name: 'require-jwt', namespace: 'default', scope: 'WORKLOAD_SELECTOR', action: 'ALLOW', rules: [], dryRun: false },
    ]);
    expect(result.messages.map((m) => m.code)).toEqual(['WARN_ZTUNNEL_HTTP_ATTRIBUTES']);
    expect(result.selectorPolicies).toEqual([{ key: 'default/require-jwt', namespace: 'default', matchLabels: { app: 'api' } }]);
  });

  it('reports dry-run policies as not sent', () => {
    const dry = authorizationPolicy('dry', { rules: [{}] }, { annotations: { 'istio.io/dry-run': 'true' } });
    const result = translate([dry]);
    expect(result.authorizations).toEqual([]);
    expect(result.messages.map((m) => m.code)).toEqual(['WARN_ZTUNNEL_DRY_RUN_DISABLED']);
  });

  it('adds the static STRICT policy only when a PeerAuthentication exists', () => {
    expect(names([])).toEqual([]);
    expect(names([peerAuthentication('default', { mtls: { mode: 'PERMISSIVE' } })])).toEqual([
      'istio-system/istio_converted_static_strict WORKLOAD_SELECTOR DENY',
    ]);
  });

  it('adds the converted port-level policy of a workload PeerAuthentication', () => {
    const pa = peerAuthentication('web', { selector: { matchLabels: { app: 'web' } }, mtls: { mode: 'STRICT' }, portLevelMtls: { 8080: { mode: 'PERMISSIVE' } } });
    expect(names([pa])).toEqual([
      'default/converted_peer_authentication_web WORKLOAD_SELECTOR DENY',
      'istio-system/istio_converted_static_strict WORKLOAD_SELECTOR DENY',
    ]);
  });
});
