import { parseZtunnelConfig } from './config';

describe('parseZtunnelConfig', () => {
  it('defaults to in-pod mode with Istio ztunnel ports', () => {
    const parsed = parseZtunnelConfig({ NODE_NAME: 'node-a' });
    expect(parsed).toEqual({ ok: true, config: expect.objectContaining({ WEFT_ZTUNNEL_MODE: 'inpod', ADMIN_PORT: 15000, STATS_PORT: 15020, READINESS_PORT: 15021 }) });
  });

  it('reads loopback pods with an optional outbound target', () => {
    const parsed = parseZtunnelConfig({
      NODE_NAME: 'n',
      WEFT_ZTUNNEL_MODE: 'loopback',
      WEFT_LOOPBACK_PODS: 'u1=default/sleep/sleep@127.0.0.2>10.96.0.20:8000; u2=default/httpbin/httpbin@127.0.0.3',
    });
    expect(parsed.ok && parsed.config.WEFT_LOOPBACK_PODS).toEqual([
      { uid: 'u1', namespace: 'default', name: 'sleep', serviceAccount: 'sleep', address: '127.0.0.2', outbound: { address: '10.96.0.20', port: 8000 } },
      { uid: 'u2', namespace: 'default', name: 'httpbin', serviceAccount: 'httpbin', address: '127.0.0.3' },
    ]);
  });

  it('names every bad variable', () => {
    const parsed = parseZtunnelConfig({ WEFT_ZTUNNEL_MODE: 'loopback', WEFT_LOOPBACK_PODS: 'nonsense', ADMIN_PORT: '-1' });
    expect(parsed.ok).toBe(false);
    const text = parsed.ok ? '' : parsed.errors.join('\n');
    for (const name of ['NODE_NAME', 'WEFT_LOOPBACK_PODS', 'ADMIN_PORT']) expect(text).toContain(name);
  });
});
