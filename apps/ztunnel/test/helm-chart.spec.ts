// ztunnel as the Helm chart runs it: the DaemonSet's environment is a valid in-pod config that names only settings
// ztunnel has, its credential and the mesh root are mounted where the config reads them, and the probe and metrics
// ports are the ones it serves.

import { containerEnv, findObject, podSpec, renderChart, volumeForFile, type PodContainer, type PodSpec } from '@weft/testing';

import { parseZtunnelConfig, type ZtunnelConfig } from '../src/config';

jest.setTimeout(30_000);

const fields = { 'metadata.name': 'ztunnel-abcde', 'metadata.namespace': 'istio-system', 'spec.nodeName': 'node-a', 'status.podIP': '10.244.1.3' };

describe('the Helm chart’s ztunnel', () => {
  let pod: PodSpec;
  let container: PodContainer;
  let env: Record<string, string>;
  let config: ZtunnelConfig;
  beforeAll(async () => {
    pod = podSpec(findObject(await renderChart(), 'DaemonSet', 'ztunnel'));
    const first = pod.containers[0];
    if (first === undefined) throw new Error('ztunnel has no container');
    container = first;
    env = containerEnv(container, fields);
    const parsed = parseZtunnelConfig(env);
    if (!parsed.ok) throw new Error(parsed.errors.join('; '));
    config = parsed.config;
  });

  it('sets only settings ztunnel has: in-pod mode on its node', () => {
    expect(Object.keys(env).filter((name) => !(name in config))).toEqual([]);
    expect([config.WEFT_ZTUNNEL_MODE, config.NODE_NAME, config.INSTANCE_IP]).toEqual(['inpod', 'node-a', '10.244.1.3']);
  });

  it('mounts its istio-ca token and the published mesh root where the config reads them', () => {
    expect(volumeForFile(pod, container, config.WEFT_TOKEN_FILE)?.projected?.sources).toEqual([
      { serviceAccountToken: { path: config.WEFT_TOKEN_FILE.split('/').pop(), audience: 'istio-ca', expirationSeconds: 43_200 } },
    ]);
    expect(volumeForFile(pod, container, config.XDS_ROOT_CA)?.configMap?.name).toBe('istio-ca-root-cert');
    expect(config.XDS_ROOT_CA.endsWith('/root-cert.pem')).toBe(true);
    expect(volumeForFile(pod, container, config.INPOD_UDS)?.hostPath?.path).toBe('/var/run/ztunnel');
  });

  it('serves readiness and metrics on the ports the pod declares, has the capabilities in-pod mode needs, and drains within its grace period', () => {
    const ports = Object.fromEntries((container.ports ?? []).map((p) => [p.name, p.containerPort]));
    expect(ports).toEqual({ 'ztunnel-stats': config.STATS_PORT, health: config.READINESS_PORT });
    expect(container.readinessProbe?.httpGet).toEqual({ path: '/healthz/ready', port: config.READINESS_PORT });
    expect(container.securityContext?.['capabilities']).toEqual({ drop: ['ALL'], add: ['NET_ADMIN', 'SYS_ADMIN', 'NET_RAW'] });
    // Istio: grace period 30 s → drain 25 s.
    expect(config.WEFT_DRAIN_DEADLINE_MS).toBe(25_000);
  });
});
