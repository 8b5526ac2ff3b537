import { WAYPOINT_IMAGE } from '@weft/mesh-config';

import { parseControlplaneConfig } from './config';

describe('parseControlplaneConfig', () => {
  it('applies istiod-like defaults and freezes the result', () => {
    const result = parseControlplaneConfig({});
    if (!result.ok) throw new Error(result.errors.join('; '));
    expect(result.config).toMatchObject({
      WEFT_CONFIG_SOURCE: 'manifests',
      WEFT_XDS_PLAINTEXT_PORT: 15010,
      WEFT_XDS_TLS_PORT: 15012,
      WEFT_MONITORING_PORT: 15014,
      CA_TRUSTED_NODE_ACCOUNTS: ['istio-system/ztunnel'],
      DEFAULT_WORKLOAD_CERT_TTL_SECONDS: 86_400,
      TRUST_DOMAIN: 'cluster.local',
      ROOT_NAMESPACE: 'istio-system',
      WAYPOINT_IMAGE,
    });
    expect(Object.isFrozen(result.config)).toBe(true);
  });

  it('parses lists and numbers from strings', () => {
    const result = parseControlplaneConfig({ CA_TRUSTED_NODE_ACCOUNTS: 'istio-system/ztunnel, weft/ztunnel', WEFT_XDS_TLS_PORT: '0' });
    if (!result.ok) throw new Error(result.errors.join('; '));
    expect(result.config.CA_TRUSTED_NODE_ACCOUNTS).toEqual(['istio-system/ztunnel', 'weft/ztunnel']);
    expect(result.config.WEFT_XDS_TLS_PORT).toBe(0);
  });

  it.each([
    ['the waypoint image defaults to the one deploy/ builds', {}, WAYPOINT_IMAGE],
    ['the waypoint image is set', { WAYPOINT_IMAGE: 'registry.example/weft/waypoint:1.2.3' }, 'registry.example/weft/waypoint:1.2.3'],
    ['an empty waypoint image falls back to the default', { WAYPOINT_IMAGE: '' }, WAYPOINT_IMAGE],
  ])('%s', (_name, env, image) => {
    const result = parseControlplaneConfig(env);
    if (!result.ok) throw new Error(result.errors.join('; '));
    expect(result.config.WAYPOINT_IMAGE).toBe(image);
  });

  it.each([
    ['off by default', {}, ''],
    ['set in Kubernetes mode', { WEFT_CONFIG_SOURCE: 'kubernetes', WEFT_CA_SECRET: 'istio-ca-secret' }, 'istio-ca-secret'],
    ['empty is off, in any mode', { WEFT_CA_SECRET: '' }, ''],
  ])('WEFT_CA_SECRET: %s', (_name, env, secret) => {
    const result = parseControlplaneConfig(env);
    if (!result.ok) throw new Error(result.errors.join('; '));
    expect(result.config.WEFT_CA_SECRET).toBe(secret);
  });

  it.each([
    ['set in manifest mode (the default)', { WEFT_CA_SECRET: 'istio-ca-secret' }],
    ['set in manifest mode (explicit)', { WEFT_CONFIG_SOURCE: 'manifests', WEFT_CA_SECRET: 'istio-ca-secret' }],
    ['not an object name', { WEFT_CONFIG_SOURCE: 'kubernetes', WEFT_CA_SECRET: 'Istio_CA' }],
  ])('WEFT_CA_SECRET is refused when %s', (_name, env) => {
    const result = parseControlplaneConfig(env);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual([expect.stringMatching(/^WEFT_CA_SECRET: /)]);
  });

  it('reports the WEFT_CA_SECRET rule together with other invalid variables, and not for an invalid mode', () => {
    const withPort = parseControlplaneConfig({ WEFT_CA_SECRET: 'istio-ca-secret', WEFT_XDS_TLS_PORT: '70000' });
    expect(withPort.ok ? [] : withPort.errors.map((e) => e.split(':')[0]).sort()).toEqual(['WEFT_CA_SECRET', 'WEFT_XDS_TLS_PORT']);
    const badMode = parseControlplaneConfig({ WEFT_CA_SECRET: 'istio-ca-secret', WEFT_CONFIG_SOURCE: 'etcd' });
    expect(badMode.ok ? [] : badMode.errors.map((e) => e.split(':')[0])).toEqual(['WEFT_CONFIG_SOURCE']);
  });

  it('reports every invalid variable at once, by name', () => {
    const result = parseControlplaneConfig({ WEFT_XDS_TLS_PORT: '70000', WEFT_CONFIG_SOURCE: 'etcd', LOG_LEVEL: 'loud' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => e.split(':')[0]).sort()).toEqual(['LOG_LEVEL', 'WEFT_CONFIG_SOURCE', 'WEFT_XDS_TLS_PORT']);
  });
});
