import { parseCniNodeConfig } from './config';

describe('parseCniNodeConfig', () => {
  it('fills istio-cni defaults', () => {
    const parsed = parseCniNodeConfig({ NODE_NAME: 'node-a' });
    expect(parsed).toEqual({
      ok: true,
      config: expect.objectContaining({
        NODE_NAME: 'node-a',
        EXCLUDE_NAMESPACES: ['kube-system'],
        AMBIENT_DNS_CAPTURE: false,
        WEFT_ZDS_SOCKET: '/var/run/ztunnel/ztunnel.sock',
        WEFT_IPTABLES_BACKEND: 'auto',
        WEFT_CNI_PLUGIN_RUNTIME: 'bundled',
      }),
    });
  });

  it('reports every bad variable at once, by name', () => {
    const parsed = parseCniNodeConfig({ AMBIENT_DNS_CAPTURE: 'yes', WEFT_HEALTH_PORT: '70000', WEFT_CNI_PLUGIN_RUNTIME: 'static' });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.errors.join('\n')).toMatch(/NODE_NAME/);
      expect(parsed.errors.join('\n')).toMatch(/AMBIENT_DNS_CAPTURE/);
      expect(parsed.errors.join('\n')).toMatch(/WEFT_HEALTH_PORT/);
      expect(parsed.errors.join('\n')).toMatch(/WEFT_CNI_PLUGIN_RUNTIME/);
    }
  });
});
