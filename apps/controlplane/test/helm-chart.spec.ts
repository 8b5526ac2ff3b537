// The controlplane as the Helm chart runs it: the Deployment's environment is a valid config in Kubernetes mode
// that names only settings this process has, its ports are the ones the config serves, and the Service exposes
// them under istiod's port names.

import { containerEnv, findObject, podSpec, renderChart, type PodContainer, type RenderedObject } from '@weft/testing';

import { parseControlplaneConfig } from '../src/config';

jest.setTimeout(30_000);

const fields = { 'metadata.name': 'istiod-5c7d-x', 'metadata.namespace': 'istio-system' };

describe('the Helm chart’s controlplane', () => {
  let objects: RenderedObject[];
  let container: PodContainer;
  beforeAll(async () => {
    objects = await renderChart();
    const first = podSpec(findObject(objects, 'Deployment', 'istiod')).containers[0];
    if (first === undefined) throw new Error('istiod has no container');
    container = first;
  });

  it('sets only settings the controlplane has, and they parse', () => {
    const env = containerEnv(container, fields);
    const parsed = parseControlplaneConfig(env);
    if (!parsed.ok) throw new Error(parsed.errors.join('; '));
    expect(Object.keys(env).filter((name) => !(name in parsed.config))).toEqual([]);
    expect([parsed.config.WEFT_CONFIG_SOURCE, parsed.config.POD_NAMESPACE, parsed.config.ROOT_NAMESPACE]).toEqual(['kubernetes', 'istio-system', 'istio-system']);
  });

  it('exposes the ports the config serves, under istiod’s names, and probes readiness on monitoring', () => {
    const parsed = parseControlplaneConfig(containerEnv(container, fields));
    if (!parsed.ok) throw new Error(parsed.errors.join('; '));
    const { config } = parsed;
    const ports = Object.fromEntries((container.ports ?? []).map((p) => [p.name, p.containerPort]));
    expect(ports).toEqual({ 'grpc-xds': config.WEFT_XDS_PLAINTEXT_PORT, 'https-dns': config.WEFT_XDS_TLS_PORT, 'http-monitoring': config.WEFT_MONITORING_PORT });
    expect(container.readinessProbe?.httpGet).toEqual({ path: '/ready', port: config.WEFT_MONITORING_PORT });
    const service = findObject(objects, 'Service', 'istiod')['spec'] as { ports: { name: string; port: number; targetPort: string }[] };
    expect(service.ports.map((p) => `${p.name}:${p.port}->${p.targetPort}`)).toEqual(['grpc-xds:15010->grpc-xds', 'https-dns:15012->https-dns', 'http-monitoring:15014->http-monitoring']);
  });

  it('reads a plug-in CA from the optional cacerts Secret in WEFT_CA_DIR', () => {
    const parsed = parseControlplaneConfig(containerEnv(container, fields));
    if (!parsed.ok) throw new Error(parsed.errors.join('; '));
    const pod = podSpec(findObject(objects, 'Deployment', 'istiod'));
    const mount = container.volumeMounts?.find((m) => m.mountPath === parsed.config.WEFT_CA_DIR);
    expect(pod.volumes?.find((v) => v.name === mount?.name)?.secret).toEqual({ secretName: 'cacerts', optional: true });
  });

  it('passes chart values through to the settings', async () => {
    const rendered = await renderChart({ set: { 'meshConfig.trustDomain': 'corp.example', 'global.clusterId': 'east', 'meshConfig.rootNamespace': 'mesh-root', 'controlplane.servingDnsNames[0]': 'xds.corp.example' } });
    const first = podSpec(findObject(rendered, 'Deployment', 'istiod')).containers[0];
    if (first === undefined) throw new Error('istiod has no container');
    const parsed = parseControlplaneConfig(containerEnv(first, fields));
    if (!parsed.ok) throw new Error(parsed.errors.join('; '));
    expect([parsed.config.TRUST_DOMAIN, parsed.config.CLUSTER_ID, parsed.config.ROOT_NAMESPACE, parsed.config.WEFT_SERVING_DNS_NAMES]).toEqual(['corp.example', 'east', 'mesh-root', ['xds.corp.example']]);
  });
});
