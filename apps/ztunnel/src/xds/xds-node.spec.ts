import { buildXdsNode, proxyMetadataFromEnv } from './xds-node';

describe('buildXdsNode', () => {
  it('writes the id istiod parses and NAME/NAMESPACE/INSTANCE_IPS/NODE_NAME over the proxy metadata', () => {
    const node = buildXdsNode({
      instanceIps: ['10.244.1.7', 'fd00::7'],
      podName: 'ztunnel-x7k2p',
      podNamespace: 'istio-system',
      nodeName: 'worker-1',
      proxyMetadata: { CLUSTER_ID: 'Kubernetes', NAME: 'overridden' },
    });
    expect(node.id).toBe('ztunnel~10.244.1.7~ztunnel-x7k2p.istio-system~istio-system.svc.cluster.local');
    expect(node.metadata).toEqual({
      CLUSTER_ID: 'Kubernetes',
      NAME: 'ztunnel-x7k2p',
      NAMESPACE: 'istio-system',
      INSTANCE_IPS: '10.244.1.7,fd00::7',
      NODE_NAME: 'worker-1',
    });
  });
});

describe('proxyMetadataFromEnv', () => {
  it('strips ISTIO_META_ and parses ISTIO_METAJSON_ values, JSON winning on the same key', () => {
    const result = proxyMetadataFromEnv({
      ISTIO_META_CLUSTER_ID: 'east',
      ISTIO_META_NETWORK: 'net-1',
      ISTIO_METAJSON_LABELS: '{"app":"ztunnel"}',
      ISTIO_META_LABELS: 'ignored',
      ISTIO_META_: 'no key',
      PATH: '/usr/bin',
    });
    expect(result).toEqual({ ok: true, metadata: { CLUSTER_ID: 'east', NETWORK: 'net-1', LABELS: { app: 'ztunnel' } } });
  });

  it('reports every ISTIO_METAJSON_ value that is not JSON', () => {
    const result = proxyMetadataFromEnv({ ISTIO_METAJSON_A: '{', ISTIO_METAJSON_B: 'x', ISTIO_METAJSON_C: '1' });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors.map((e) => e.split(' ')[0])).toEqual(['ISTIO_METAJSON_A', 'ISTIO_METAJSON_B']);
  });
});
