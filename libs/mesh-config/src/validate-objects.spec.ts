import type { KubeObject } from './kube-object';
import { kubeObject, summary } from '../test/validation/objects';
import { validateObjects } from './validate-objects';

describe('validateObjects', () => {
  it('never throws on malformed input and names what it can', () => {
    const junk = [null, 'text', { kind: 'VirtualService' }, { apiVersion: 'v1', kind: 'Service', metadata: { name: 3 } }] as unknown as KubeObject[];
    const { valid, messages } = validateObjects(junk);
    expect(valid).toEqual([]);
    expect(messages.map((m) => `${m.code} ${m.object} ${m.field}`)).toEqual([
      'ERR_OBJECT_SHAPE object #0 ',
      'ERR_OBJECT_SHAPE object #1 ',
      'ERR_OBJECT_SHAPE VirtualService default/<unnamed> apiVersion',
      'ERR_OBJECT_SHAPE Service default/<unnamed> metadata.name',
    ]);
  });

  it('excludes objects with errors and keeps those with warnings', () => {
    const good = kubeObject('VirtualService', 'good', { hosts: ['a'], http: [{ route: [{ destination: { host: 'a' } }] }] });
    const bad = kubeObject('VirtualService', 'bad', { hosts: ['b'], http: [{ route: [{ destination: { host: 'b' } }], retries: { retryOn: 'nope' } }] });
    const warned = kubeObject('HTTPRoute', 'lonely', { rules: [] });
    const service = kubeObject('Service', 'a', { ports: [{ port: 80 }] });
    const { valid, messages } = validateObjects([good, bad, warned, service]);
    expect(valid).toEqual([good, warned, service]);
    expect(summary(messages)).toEqual(['error ERR_VS_RETRY_ON_UNKNOWN spec.http[0].retries.retryOn', 'warning WARN_HTTPROUTE_NO_PARENT spec.parentRefs']);
  });

  it('requires a spec for kinds it validates', () => {
    const { messages } = validateObjects([kubeObject('DestinationRule', 'r', undefined)]);
    expect(summary(messages)).toEqual(['error ERR_FIELD_MISSING spec']);
  });

  it('delegates AuthorizationPolicy to @weft/policy: errors reject, with object and field', () => {
    const policy = kubeObject('AuthorizationPolicy', 'p', { action: 'PERMIT', rules: [{}] });
    const { valid, messages } = validateObjects([policy]);
    expect(valid).toEqual([]);
    expect(messages).toEqual([expect.objectContaining({ level: 'error', code: 'ERR_POLICY_UNKNOWN_ACTION', object: 'AuthorizationPolicy default/p', field: 'spec.action' })]);
  });

  it('delegates PeerAuthentication to @weft/policy: warnings keep the object', () => {
    const pa = kubeObject('PeerAuthentication', 'default', { mtls: { mode: 'DISABLE' } });
    const { valid, messages } = validateObjects([pa, kubeObject('PeerAuthentication', 'x', { mtls: { mode: 'OFF' } })]);
    expect(valid).toEqual([pa]);
    expect(summary(messages)).toEqual(['warning WARN_PEER_AUTHENTICATION_DISABLE spec.mtls.mode', 'error ERR_POLICY_MTLS_MODE spec.mtls.mode']);
  });

  it('uses defaultNamespace for objects without one', () => {
    const vs = { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'x' }, spec: {} };
    const { messages } = validateObjects([vs], { defaultNamespace: 'shop' });
    expect(messages[0]?.object).toBe('VirtualService shop/x');
  });
});
