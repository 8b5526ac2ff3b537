import { serviceKey, authorizationKey } from './types';

describe('resource keys', () => {
  it('joins namespace and name with a slash', () => {
    expect(serviceKey('default', 'httpbin.default.svc.cluster.local')).toBe('default/httpbin.default.svc.cluster.local');
    expect(authorizationKey('istio-system', 'istio_converted_static_strict')).toBe('istio-system/istio_converted_static_strict');
  });
});
