import { pa } from '../test/policy-fixtures';
import { parsePeerAuthentication } from './peer-authentication';

const selector = { matchLabels: { app: 'httpbin' } };

describe('parsePeerAuthentication (§6.6, Istio ValidatePeerAuthentication)', () => {
  it('§6.6 a mesh-wide STRICT policy parses', () => {
    const result = parsePeerAuthentication(pa('default', { mtls: { mode: 'STRICT' } }, { namespace: 'istio-system' }));
    expect(result.ok && result.value.spec).toEqual({ mtls: { mode: 'STRICT' } });
  });

  it('§6.6 port-level modes are keyed by numeric target port', () => {
    const result = parsePeerAuthentication(pa('httpbin', { selector, mtls: { mode: 'STRICT' }, portLevelMtls: { '8080': { mode: 'PERMISSIVE' } } }));
    expect(result.ok && result.value.spec.portLevelMtls).toEqual({ 8080: { mode: 'PERMISSIVE' } });
  });

  it.each([
    ['§6.6 mode must be UNSET, DISABLE, PERMISSIVE or STRICT', { mtls: { mode: 'ON' } }, 'ERR_POLICY_MTLS_MODE', 'spec.mtls.mode'],
    ['§6.6 mesh/namespace policies cannot have port-level mTLS', { portLevelMtls: { '8080': { mode: 'STRICT' } } }, 'ERR_POLICY_PORT_LEVEL_MTLS', 'spec.portLevelMtls'],
    ['§6.6 port-level mTLS, if set, needs an entry', { selector, portLevelMtls: {} }, 'ERR_POLICY_PORT_LEVEL_MTLS', 'spec.portLevelMtls'],
    ['§6.6 port-level keys are ports 1..65535', { selector, portLevelMtls: { '70000': { mode: 'STRICT' } } }, 'ERR_POLICY_PORT', 'spec.portLevelMtls.70000'],
    ['§6.6 port-level keys are numbers, not names', { selector, portLevelMtls: { http: { mode: 'STRICT' } } }, 'ERR_POLICY_PORT', 'spec.portLevelMtls.http'],
    ['§6.6 wrong type: mtls is an object', { mtls: 'STRICT' }, 'ERR_POLICY_WRONG_TYPE', 'spec.mtls'],
  ])('%s', (_rule, spec, code, field) => {
    const result = parsePeerAuthentication(pa('httpbin', spec));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors).toContainEqual(expect.objectContaining({ code, field, object: 'PeerAuthentication default/httpbin' }));
  });

  it.each([
    ['§6.6 root-namespace selector policies are ignored in ambient', 'istio-system', { selector, mtls: { mode: 'STRICT' } }, 'WARN_PEER_AUTHENTICATION_ROOT_SELECTOR'],
    ['§6.6 DISABLE cannot turn HBONE mTLS off', 'default', { mtls: { mode: 'DISABLE' } }, 'WARN_PEER_AUTHENTICATION_DISABLE'],
  ])('%s', (_rule, namespace, spec, code) => {
    const result = parsePeerAuthentication(pa('p', spec, { namespace }));
    expect(result.ok && result.warnings.map((w) => w.code)).toEqual([code]);
  });
});
