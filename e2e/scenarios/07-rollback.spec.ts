// Scenario 7: rollback. With `default` labelled for ambient, sleep reaches httpbin over HBONE (nothing readable on the
// node network). Removing the namespace label (`kubectl label namespace default istio.io/dataplane-mode-`) takes the
// pods out of the mesh without restarting them: every ztunnel lists them with protocol TCP, their containers keep the
// same PIDs, nothing of ztunnel is left in their network namespaces, sleep → httpbin still works, and the traffic
// now crosses the nodes in plaintext.

import type { ClusterDriver, PodView } from '../src/driver';
import { AMBIENT, curl, eventually, manifest, namespaceYaml, useCluster } from '../src/scenario';

jest.setTimeout(120_000);

const ZTUNNEL_PORTS = [15001, 15006, 15008];

const marker = (what: string): string => `${what}-${Math.random().toString(36).slice(2, 12)}`;

/** The TCP ports listening in a pod's network namespace. */
async function listeningPorts(driver: ClusterDriver, pod: PodView): Promise<number[]> {
  const r = await driver.exec(pod.namespace, pod.name, ['ss', '-Htln']);
  expect({ pod: pod.name, code: r.code, stderr: r.stderr }).toEqual({ pod: pod.name, code: 0, stderr: '' });
  return r.stdout.split('\n').flatMap((line) => {
    const local = line.trim().split(/\s+/)[3];
    const port = local === undefined ? NaN : Number(local.slice(local.lastIndexOf(':') + 1));
    return Number.isFinite(port) ? [port] : [];
  });
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

interface Exchange {
  readonly status: number;
  readonly origin: string | undefined;
  /** tcpdump's text for the duration of the request. */
  readonly wire: string;
}

describe('scenario 7: rollback by removing the namespace label', () => {
  const cluster = useCluster();
  let before: PodView[] = [];
  let sleep: PodView;
  let remote: PodView;

  /** sleep → the httpbin pod on the other node, by pod IP, with `secret` in the path, captured between the nodes. */
  async function exchange(secret: string): Promise<Exchange> {
    const capture = await cluster().capture();
    // curl never throws (a failed request is status 0), so stop() always runs.
    const r = await curl(cluster(), 'default', sleep.name, `http://${remote.ip}:80/anything/${secret}`).catch(async (error: unknown) => {
      await capture.stop();
      throw error;
    });
    const wire = await capture.stop();
    const origin = r.status === 200 ? (JSON.parse(r.body) as { origin: string }).origin : undefined;
    return { status: r.status, origin, wire };
  }

  beforeAll(async () => {
    const driver = cluster();
    await driver.apply(namespaceYaml('default', AMBIENT), manifest('01-sleep-httpbin.yaml'));
    before = await driver.pods('default');
    const [s] = before.filter((p) => p.labels['app'] === 'sleep');
    if (s === undefined) throw new Error('no sleep pod');
    sleep = s;
    const r = before.find((p) => p.labels['app'] === 'httpbin' && p.node !== sleep.node);
    if (r === undefined) throw new Error(`no httpbin pod on another node than sleep's ${sleep.node}`);
    remote = r;
    expect(before).toHaveLength(3);
    await driver.waitForZtunnels((dump) => before.every((p) => dump.workloads.some((w) => w.namespace === 'default' && w.name === p.name && w.protocol === 'HBONE')), 'every pod HBONE');
  });

  describe('with the mesh on', () => {
    it('sleep reaches httpbin by Service name', async () => {
      const r = await curl(cluster(), 'default', sleep.name, 'http://httpbin.default:8000/get');
      expect({ code: r.code, status: r.status, stderr: r.stderr }).toEqual({ code: 0, status: 200, stderr: '' });
    });

    it('every pod is captured (ztunnel listeners in its network namespace)', async () => {
      for (const pod of before) expect({ pod: pod.name, ports: await listeningPorts(cluster(), pod) }).toEqual({ pod: pod.name, ports: expect.arrayContaining(ZTUNNEL_PORTS) });
    });

    it('traffic to the httpbin pod on the other node is mTLS: HBONE to :15008, the payload not visible', async () => {
      const secret = marker('before-rollback');
      const x = await exchange(secret);
      expect({ status: x.status, origin: x.origin }).toEqual({ status: 200, origin: sleep.ip });
      expect(await eventually(() => cluster().logs('default', remote.name), (logs) => logs.includes(secret), 5_000)).toContain(secret);
      expect(x.wire).toContain(`${remote.ip}.15008:`);
      expect(x.wire).not.toContain(`${remote.ip}.80:`);
      expect(x.wire).not.toContain(secret);
    });
  });

  describe('after removing istio.io/dataplane-mode from the namespace', () => {
    beforeAll(async () => {
      await cluster().label({ kind: 'namespace', name: 'default' }, { 'istio.io/dataplane-mode': null });
      await cluster().waitForZtunnels(
        (dump) => before.every((p) => dump.workloads.some((w) => w.namespace === 'default' && w.name === p.name && w.protocol === 'TCP')),
        'every pod of `default` listed with protocol TCP',
        30_000,
      );
    });

    it('every ztunnel lists every pod with protocol TCP', async () => {
      for (const node of cluster().nodes) {
        const dump = await cluster().ztunnelConfig(node);
        for (const pod of before) {
          const w = dump.workloads.find((x) => x.namespace === 'default' && x.name === pod.name);
          expect({ node, pod: pod.name, protocol: w?.protocol, ips: w?.workloadIps }).toEqual({ node, pod: pod.name, protocol: 'TCP', ips: [pod.ip] });
        }
      }
    });

    it('the pods keep running: same pods, same IPs, same container PIDs, still alive', async () => {
      const after = await cluster().pods('default');
      expect(after.map((p) => ({ name: p.name, node: p.node, ip: p.ip, containerPids: p.containerPids }))).toEqual(
        before.map((p) => ({ name: p.name, node: p.node, ip: p.ip, containerPids: p.containerPids })),
      );
      for (const pod of after) {
        expect(pod.ready).toBe(true);
        expect(pod.containerPids.length).toBeGreaterThan(0);
        for (const pid of pod.containerPids) expect({ pod: pod.name, pid, alive: alive(pid) }).toEqual({ pod: pod.name, pid, alive: true });
        // Only the app's own program is in the pod's network namespace.
        expect({ pod: pod.name, pids: pod.pids }).toEqual({ pod: pod.name, pids: pod.containerPids });
      }
    });

    it('no pod is captured any more: ztunnel has closed its listeners in their network namespaces', async () => {
      for (const pod of before) {
        const ports = await eventually(
          () => listeningPorts(cluster(), pod),
          (p) => !p.some((x) => ZTUNNEL_PORTS.includes(x)),
        );
        expect({ pod: pod.name, ztunnel: ports.filter((p) => ZTUNNEL_PORTS.includes(p)) }).toEqual({ pod: pod.name, ztunnel: [] });
      }
    });

    it('sleep still reaches httpbin by Service name and by each pod IP', async () => {
      const r = await curl(cluster(), 'default', sleep.name, 'http://httpbin.default:8000/get');
      expect({ code: r.code, status: r.status, stderr: r.stderr }).toEqual({ code: 0, status: 200, stderr: '' });
      for (const pod of before.filter((p) => p.labels['app'] === 'httpbin')) {
        const direct = await curl(cluster(), 'default', sleep.name, `http://${pod.ip}:80/get`);
        expect({ pod: pod.name, code: direct.code, status: direct.status }).toEqual({ pod: pod.name, code: 0, status: 200 });
        expect((JSON.parse(direct.body) as { origin: string }).origin).toBe(sleep.ip);
      }
    });

    it('traffic to the httpbin pod on the other node is now plaintext: the marker is on the wire, to port 80', async () => {
      const secret = marker('after-rollback');
      const x = await exchange(secret);
      expect({ status: x.status, origin: x.origin }).toEqual({ status: 200, origin: sleep.ip });
      expect(x.wire).toContain(secret);
      expect(x.wire).toContain(`${remote.ip}.80:`);
      expect(x.wire).not.toContain(`${remote.ip}.15008:`);
    });
  });
});
