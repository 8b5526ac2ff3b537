// Scenario 6: enrollment per pod.
// (a) Opt-in: in the unlabelled `default` namespace, the guide's httpbin-ambient Deployment (pod template label
//     istio.io/dataplane-mode=ambient) is enrolled — every ztunnel lists its pods with protocol HBONE — while the other
//     pods of the namespace (the guide's sleep + httpbin) stay TCP. A client enrolled the same way reaches httpbin-ambient
//     over mTLS: HBONE on the wire (port 15008) and no plaintext payload between the nodes, where a non-mesh client's
//     request to the same pod is visible in plaintext.
// (b) Opt-out: in a namespace labelled for ambient, a pod labelled istio.io/dataplane-mode=none is listed with protocol
//     TCP, is not captured (its traffic crosses the nodes in plaintext, no ztunnel listeners in its netns), and is
//     still reachable from the mesh.

import type { ClusterDriver, PodView, ZtunnelConfigDump } from '../src/driver';
import { AMBIENT, curl, eventually, manifest, namespaceYaml, useCluster } from '../src/scenario';

jest.setTimeout(180_000);

const deployment = (namespace: string, name: string, image: 'curl' | 'httpbin', podLabels: Readonly<Record<string, string>> = {}, replicas = 1): string => {
  const labels = Object.entries({ app: name, ...podLabels })
    .map(([k, v]) => `        ${k}: "${v}"`)
    .join('\n');
  const container =
    image === 'curl'
      ? '      - name: curl\n        image: curlimages/curl:latest\n        command: ["/bin/sleep", "infinity"]'
      : '      - name: httpbin\n        image: kennethreitz/httpbin:latest\n        ports:\n        - containerPort: 80';
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: ${namespace}
spec:
  replicas: ${replicas}
  selector:
    matchLabels:
      app: ${name}
  template:
    metadata:
      labels:
${labels}
    spec:
      containers:
${container}
`;
};

const service = (namespace: string, name: string): string => `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: ${namespace}
spec:
  selector:
    app: ${name}
  ports:
  - port: 8000
    targetPort: 80
`;

const yaml = (...docs: string[]): { yaml: string } => ({ yaml: docs.join('---\n') });

const ZTUNNEL_PORTS = [15001, 15006, 15008];

const marker = (what: string): string => `${what}-${Math.random().toString(36).slice(2, 12)}`;

function protocolOf(dump: ZtunnelConfigDump, pod: PodView): string | undefined {
  return dump.workloads.find((w) => w.namespace === pod.namespace && w.name === pod.name)?.protocol;
}

/** The TCP ports listening in a pod's network namespace. */
async function listeningPorts(driver: ClusterDriver, pod: PodView): Promise<number[]> {
  const r = await driver.exec(pod.namespace, pod.name, ['ss', '-Htln']);
  expect({ pod: pod.name, code: r.code, stderr: r.stderr }).toEqual({ pod: pod.name, code: 0, stderr: '' });
  return r.stdout
    .split('\n')
    .flatMap((line) => {
      const local = line.trim().split(/\s+/)[3];
      const port = local === undefined ? NaN : Number(local.slice(local.lastIndexOf(':') + 1));
      return Number.isFinite(port) ? [port] : [];
    })
    .sort((a, b) => a - b);
}

/** Runs `send` while capturing between the nodes; the capture's text. */
async function captured(driver: ClusterDriver, send: () => Promise<void>): Promise<string> {
  const capture = await driver.capture();
  try {
    await send();
  } catch (error) {
    await capture.stop();
    throw error;
  }
  return capture.stop();
}

/** The pod of `pods` on another node than `from`. */
function onOtherNode(pods: readonly PodView[], from: PodView): PodView {
  const pod = pods.find((p) => p.node !== from.node);
  if (pod === undefined) throw new Error(`no pod on another node than ${from.node}: ${pods.map((p) => `${p.name}@${p.node}`).join(', ')}`);
  return pod;
}

describe('scenario 6: pod-level enrollment', () => {
  const cluster = useCluster();

  describe('(a) opt-in with the pod label in an unlabelled namespace', () => {
    let ambientPods: PodView[] = [];
    let otherPods: PodView[] = [];
    let meshClient: PodView;
    let plainClient: PodView;

    beforeAll(async () => {
      const driver = cluster();
      await driver.apply(
        namespaceYaml('default'),
        manifest('01-sleep-httpbin.yaml'),
        manifest('03-pod-level-enrollment.yaml'),
        yaml(service('default', 'httpbin-ambient'), deployment('default', 'sleep-ambient', 'curl', AMBIENT)),
      );
      const pods = await driver.pods('default');
      ambientPods = pods.filter((p) => p.labels['app'] === 'httpbin-ambient');
      otherPods = pods.filter((p) => p.labels['istio.io/dataplane-mode'] !== 'ambient');
      const [client] = pods.filter((p) => p.labels['app'] === 'sleep-ambient');
      const [sleep] = pods.filter((p) => p.labels['app'] === 'sleep');
      if (client === undefined || sleep === undefined) throw new Error(`clients missing: ${pods.map((p) => p.name).join(', ')}`);
      meshClient = client;
      plainClient = sleep;
      expect(ambientPods).toHaveLength(2);
      expect(new Set(ambientPods.map((p) => p.node)).size).toBe(2);
      expect(otherPods.map((p) => p.labels['app']).sort()).toEqual(['httpbin', 'httpbin', 'sleep']);
      await driver.waitForZtunnels(
        (dump) => [...ambientPods, meshClient].every((p) => protocolOf(dump, p) === 'HBONE') && otherPods.every((p) => protocolOf(dump, p) === 'TCP'),
        'pod-labelled pods HBONE, the rest of `default` TCP',
      );
    });

    it('every ztunnel lists the pod-labelled pods with HBONE and the other pods of the namespace with TCP', async () => {
      for (const node of cluster().nodes) {
        const dump = await cluster().ztunnelConfig(node);
        for (const pod of [...ambientPods, meshClient]) expect({ node, pod: pod.name, protocol: protocolOf(dump, pod) }).toEqual({ node, pod: pod.name, protocol: 'HBONE' });
        for (const pod of otherPods) expect({ node, pod: pod.name, protocol: protocolOf(dump, pod) }).toEqual({ node, pod: pod.name, protocol: 'TCP' });
      }
    });

    it('captures only the pod-labelled pods: ztunnel listeners in their network namespace, none in the other pods', async () => {
      for (const pod of [...ambientPods, meshClient]) expect({ pod: pod.name, ports: await listeningPorts(cluster(), pod) }).toEqual({ pod: pod.name, ports: expect.arrayContaining(ZTUNNEL_PORTS) });
      for (const pod of otherPods) {
        const ports = await listeningPorts(cluster(), pod);
        expect({ pod: pod.name, ztunnel: ports.filter((p) => ZTUNNEL_PORTS.includes(p)) }).toEqual({ pod: pod.name, ztunnel: [] });
      }
    });

    it('the enrolled client reaches httpbin-ambient by its Service name', async () => {
      for (const host of ['httpbin-ambient', 'httpbin-ambient.default', 'httpbin-ambient.default.svc.cluster.local']) {
        const r = await curl(cluster(), 'default', meshClient.name, `http://${host}:8000/get`);
        expect({ host, code: r.code, status: r.status, stderr: r.stderr }).toEqual({ host, code: 0, status: 200, stderr: '' });
        expect((JSON.parse(r.body) as { origin: string }).origin).toBe(meshClient.ip);
      }
    });

    it('traffic from the enrolled client to httpbin-ambient on the other node is mTLS (HBONE to :15008, no plaintext on the wire)', async () => {
      const target = onOtherNode(ambientPods, meshClient);
      const secret = marker('optin-mtls');
      let status = 0;
      const text = await captured(cluster(), async () => {
        status = (await curl(cluster(), 'default', meshClient.name, `http://${target.ip}:80/anything/${secret}`)).status;
      });
      expect(status).toBe(200);
      // httpbin got it…
      expect(await eventually(() => cluster().logs('default', target.name), (logs) => logs.includes(secret), 5_000)).toContain(secret);
      // …through the HBONE port, and the payload never crossed the node network in the clear.
      expect(text).toContain(`${target.ip}.15008:`);
      expect(text).not.toContain(`${target.ip}.80:`);
      expect(text).not.toContain(secret);
    });

    it('a non-mesh client in the same namespace still reaches httpbin-ambient, in plaintext (the capture sees it)', async () => {
      const target = onOtherNode(ambientPods, plainClient);
      const secret = marker('optin-plain');
      let status = 0;
      const text = await captured(cluster(), async () => {
        status = (await curl(cluster(), 'default', plainClient.name, `http://${target.ip}:80/anything/${secret}`)).status;
      });
      expect(status).toBe(200);
      expect(text).toContain(secret);
    });
  });

  describe('(b) opt-out with istio.io/dataplane-mode=none in a labelled namespace', () => {
    const NS = 'optout';
    let optedOut: PodView[] = [];
    let enrolled: PodView[] = [];
    let client: PodView;

    beforeAll(async () => {
      const driver = cluster();
      await driver.apply(
        namespaceYaml(NS, AMBIENT),
        yaml(
          deployment(NS, 'legacy', 'httpbin', { 'istio.io/dataplane-mode': 'none' }, 2),
          service(NS, 'legacy'),
          deployment(NS, 'meshed', 'httpbin', {}, 2),
          service(NS, 'meshed'),
          deployment(NS, 'sleep', 'curl'),
        ),
      );
      optedOut = await driver.pods(NS, { app: 'legacy' });
      enrolled = await driver.pods(NS, { app: 'meshed' });
      const [sleep] = await driver.pods(NS, { app: 'sleep' });
      if (sleep === undefined) throw new Error('the sleep pod is missing');
      client = sleep;
      expect(optedOut).toHaveLength(2);
      expect(new Set(optedOut.map((p) => p.node)).size).toBe(2);
      expect(new Set(enrolled.map((p) => p.node)).size).toBe(2);
      await driver.waitForZtunnels(
        (dump) => optedOut.every((p) => protocolOf(dump, p) === 'TCP') && [...enrolled, client].every((p) => protocolOf(dump, p) === 'HBONE'),
        'opted-out pods TCP, the rest of the labelled namespace HBONE',
      );
    });

    it('every ztunnel lists the opted-out pods with protocol TCP and their neighbours with HBONE', async () => {
      for (const node of cluster().nodes) {
        const dump = await cluster().ztunnelConfig(node);
        for (const pod of optedOut) expect({ node, pod: pod.name, protocol: protocolOf(dump, pod) }).toEqual({ node, pod: pod.name, protocol: 'TCP' });
        for (const pod of [...enrolled, client]) expect({ node, pod: pod.name, protocol: protocolOf(dump, pod) }).toEqual({ node, pod: pod.name, protocol: 'HBONE' });
      }
    });

    it('the opted-out pods are not captured: no ztunnel listener in their network namespace', async () => {
      for (const pod of optedOut) {
        const ports = await listeningPorts(cluster(), pod);
        expect({ pod: pod.name, ztunnel: ports.filter((p) => ZTUNNEL_PORTS.includes(p)), app: ports.includes(80) }).toEqual({ pod: pod.name, ztunnel: [], app: true });
      }
      for (const pod of enrolled) expect(await listeningPorts(cluster(), pod)).toEqual(expect.arrayContaining(ZTUNNEL_PORTS));
    });

    it('the mesh client still reaches the opted-out pods, by Service name and by pod IP', async () => {
      const r = await curl(cluster(), NS, client.name, `http://legacy.${NS}:8000/get`);
      expect({ code: r.code, status: r.status, stderr: r.stderr }).toEqual({ code: 0, status: 200, stderr: '' });
      for (const pod of optedOut) {
        const direct = await curl(cluster(), NS, client.name, `http://${pod.ip}:80/get`);
        expect({ pod: pod.name, code: direct.code, status: direct.status }).toEqual({ pod: pod.name, code: 0, status: 200 });
        expect((JSON.parse(direct.body) as { origin: string }).origin).toBe(client.ip);
      }
    });

    it('traffic to an opted-out pod on the other node is plaintext, while to an enrolled one it is HBONE', async () => {
      const legacy = onOtherNode(optedOut, client);
      const meshed = onOtherNode(enrolled, client);
      const plain = marker('optout-plain');
      const secret = marker('optout-mtls');
      const statuses: number[] = [];
      const text = await captured(cluster(), async () => {
        statuses.push((await curl(cluster(), NS, client.name, `http://${legacy.ip}:80/anything/${plain}`)).status);
        statuses.push((await curl(cluster(), NS, client.name, `http://${meshed.ip}:80/anything/${secret}`)).status);
      });
      expect(statuses).toEqual([200, 200]);
      expect(text).toContain(plain);
      expect(text).toContain(`${legacy.ip}.80:`);
      expect(text).not.toContain(secret);
      expect(text).toContain(`${meshed.ip}.15008:`);
    });

    it('the opted-out pod itself reaches the mesh (its outbound is not captured, so in plaintext)', async () => {
      const from = optedOut[0];
      if (from === undefined) throw new Error('no opted-out pod');
      const meshed = onOtherNode(enrolled, from);
      const plain = marker('optout-outbound');
      let status = 0;
      const text = await captured(cluster(), async () => {
        status = (await curl(cluster(), NS, from.name, `http://${meshed.ip}:80/anything/${plain}`)).status;
      });
      expect(status).toBe(200);
      expect(text).toContain(plain);
    });
  });
});
