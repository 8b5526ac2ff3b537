// The cni-node agent as the Helm chart runs it: the DaemonSet's environment is a valid Kubernetes-mode config that
// names only settings the agent has, the CNI directories it writes are the node's, the plugin socket is at the
// same path on the node and in the container, and the plugin carries its own runtime.

import { containerEnv, findObject, podSpec, renderChart, volumeForFile, type PodContainer, type PodSpec } from '@weft/testing';

import { cniNodeResources } from '../src/app';
import { parseCniNodeConfig, type CniNodeConfig } from '../src/config';

jest.setTimeout(30_000);

const fields = { 'metadata.namespace': 'istio-system', 'spec.nodeName': 'node-a' };

async function render(set: Record<string, string> = {}): Promise<{ pod: PodSpec; container: PodContainer; env: Record<string, string>; config: CniNodeConfig }> {
  const pod = podSpec(findObject(await renderChart({ set }), 'DaemonSet', 'istio-cni-node'));
  const container = pod.containers[0];
  if (container === undefined) throw new Error('istio-cni-node has no container');
  const env = containerEnv(container, fields);
  const parsed = parseCniNodeConfig(env);
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  return { pod, container, env, config: parsed.config };
}

describe('the Helm chart’s cni-node agent', () => {
  it('sets only settings the agent has: Kubernetes mode, its node, the bundled plugin runtime', async () => {
    const { env, config, pod } = await render();
    expect(Object.keys(env).filter((name) => !(name in config))).toEqual([]);
    expect([config.WEFT_CONFIG_SOURCE, config.NODE_NAME, config.WEFT_CNI_PLUGIN_RUNTIME, config.WEFT_CNI_INSTALL]).toEqual(['kubernetes', 'node-a', 'bundled', true]);
    expect(pod.hostNetwork).toBe(true);
  });

  it('writes the plugin and its conflist entry into the node’s CNI directories, from the chart values', async () => {
    const { pod, container, config } = await render({ 'cni.binDir': '/home/kubernetes/bin', 'cni.netDir': '/etc/cni/custom.d' });
    expect(volumeForFile(pod, container, `${config.WEFT_CNI_BIN_DIR}/weft-cni`)?.hostPath?.path).toBe('/home/kubernetes/bin');
    expect(volumeForFile(pod, container, `${config.WEFT_CNI_NET_DIR}/10-net.conflist`)?.hostPath?.path).toBe('/etc/cni/custom.d');
  });

  it('puts the plugin socket and the ZDS socket at the same path on the node as in the container', async () => {
    const { pod, container, config } = await render();
    // The conflist names the socket by the agent's path; the plugin, on the node, must find it there.
    expect(volumeForFile(pod, container, `${config.WEFT_CNI_RUN_DIR}/pluginevent.sock`)?.hostPath?.path).toBe(config.WEFT_CNI_RUN_DIR);
    const zdsDir = config.WEFT_ZDS_SOCKET.slice(0, config.WEFT_ZDS_SOCKET.lastIndexOf('/'));
    expect(volumeForFile(pod, container, config.WEFT_ZDS_SOCKET)?.hostPath?.path).toBe(zdsDir);
    expect(container.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: config.WEFT_HEALTH_PORT });
  });

  it('is granted exactly what the agent watches and writes in Kubernetes mode', async () => {
    const role = findObject(await renderChart(), 'ClusterRole', 'weft-cni-istio-system');
    const rules = (role['rules'] as { apiGroups: string[]; resources: string[]; verbs: string[] }[]).flatMap((rule) =>
      rule.apiGroups.flatMap((group) => rule.resources.flatMap((resource) => rule.verbs.map((verb) => `${group}/${resource}:${verb}`))),
    );
    const needed = cniNodeResources('node-a').flatMap((r) => ['get', 'list', 'watch'].map((verb) => `${r.group}/${r.plural}:${verb}`));
    // The ambient.istio.io/redirection annotation on its pods.
    needed.push('/pods:patch');
    expect([...rules].sort()).toEqual([...needed].sort());
  });

  it("reads the node's /proc, read-only, to find the pods started before it", async () => {
    const { pod, container, config } = await render();
    const volume = volumeForFile(pod, container, `${config.WEFT_HOST_PROC}/1`);
    expect(volume?.hostPath?.path).toBe('/proc');
    expect(container.volumeMounts?.find((m) => m.mountPath === config.WEFT_HOST_PROC)?.readOnly).toBe(true);
  });

  it('may read its own DaemonSet, which it names, to tell a restart from a removal', async () => {
    const rendered = await renderChart();
    const { config } = await render();
    const daemonSet = findObject(rendered, 'DaemonSet', config.WEFT_CNI_DAEMONSET);
    expect(daemonSet.metadata.namespace).toBe(config.POD_NAMESPACE);
    expect(findObject(rendered, 'Role', 'weft-cni')['rules']).toEqual([{ apiGroups: ['apps'], resources: ['daemonsets'], resourceNames: [config.WEFT_CNI_DAEMONSET], verbs: ['get'] }]);
    expect(findObject(rendered, 'RoleBinding', 'weft-cni')['subjects']).toEqual([{ kind: 'ServiceAccount', name: 'istio-cni', namespace: 'istio-system' }]);
  });

  it('watches only the pods of its own node', () => {
    expect(cniNodeResources('node-a').map((r) => `${r.kind}${r.fieldSelector === undefined ? '' : `?${r.fieldSelector}`}`)).toEqual(['Namespace', 'Pod?spec.nodeName=node-a']);
  });
});
