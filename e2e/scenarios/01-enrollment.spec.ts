// Scenario 1: label `default` for ambient mode, apply the guide's sleep + httpbin (2 replicas): sleep reaches httpbin
// by every name a cluster's DNS gives it, each pod runs exactly its app's program (no sidecar), and every ztunnel
// lists the pods with protocol HBONE.

import { AMBIENT, curl, manifest, namespaceYaml, useCluster } from '../src/scenario';

jest.setTimeout(120_000);

describe('scenario 1: ambient enrollment of the guide apps', () => {
  const cluster = useCluster();

  beforeAll(async () => {
    await cluster().apply(namespaceYaml('default', AMBIENT), manifest('01-sleep-httpbin.yaml'));
  });

  it.each(['httpbin', 'httpbin.default', 'httpbin.default.svc.cluster.local'])('sleep → http://%s:8000/get succeeds', async (host) => {
    const r = await curl(cluster(), 'default', 'deployment/sleep', `http://${host}:8000/get`);
    expect({ code: r.code, status: r.status, stderr: r.stderr }).toEqual({ code: 0, status: 200, stderr: '' });
    const body = JSON.parse(r.body) as { url: string; origin: string };
    expect(body.url).toBe(`http://${host}:8000/get`);
    const [sleepPod] = await cluster().pods('default', { app: 'sleep' });
    expect(body.origin).toBe(sleepPod?.ip);
  });

  it('runs httpbin as 2 replicas spread over both nodes, each pod with exactly its app process', async () => {
    const pods = await cluster().pods('default');
    const httpbin = pods.filter((p) => p.labels['app'] === 'httpbin');
    expect(httpbin).toHaveLength(2);
    expect(new Set(httpbin.map((p) => p.node)).size).toBe(2);
    for (const pod of pods) {
      expect(pod.ready).toBe(true);
      expect(pod.containerPids).toHaveLength(1);
      expect({ pod: pod.name, pids: pod.pids }).toEqual({ pod: pod.name, pids: pod.containerPids });
    }
  });

  it('lists every pod with protocol HBONE in every ztunnel (ztunnel-config workload)', async () => {
    const pods = await cluster().pods('default');
    for (const node of cluster().nodes) {
      const dump = await cluster().ztunnelConfig(node);
      for (const pod of pods) {
        const w = dump.workloads.find((x) => x.name === pod.name && x.namespace === 'default');
        expect({ node, pod: pod.name, protocol: w?.protocol, ips: w?.workloadIps, node_: w?.node }).toEqual({ node, pod: pod.name, protocol: 'HBONE', ips: [pod.ip], node_: pod.node });
      }
    }
  });
});
