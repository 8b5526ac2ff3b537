// Scenario 5: STRICT mTLS. sleep + httpbin run in the ambient `default` namespace; a curl pod runs in `outside`, a
// namespace that is not in the mesh. Without a PeerAuthentication (PERMISSIVE by default) the outside pod reaches
// httpbin in plaintext. With the guide's namespace-level STRICT PeerAuthentication (07-security-defaults.yaml's
// `default`, alone) it cannot — neither through the Service's ClusterIP nor straight at a pod IP — and httpbin never
// sees the request, while sleep (in the mesh, so mTLS) still can. Switching the policy to PERMISSIVE lets the outside
// pod in again.

import type { ClusterDriver, ZtunnelConfigDump } from '../src/driver';
import { AMBIENT, curl, eventually, manifest, namespaceYaml, useCluster, type CurlResult } from '../src/scenario';

jest.setTimeout(120_000);

/** The STRICT implementation ztunnel receives (istiod's converted static policy). */
const STRICT_POLICY = 'istio-system/istio_converted_static_strict';

const peerAuthentication = (mode: 'STRICT' | 'PERMISSIVE'): { yaml: string } => ({
  yaml: `apiVersion: security.istio.io/v1beta1
kind: PeerAuthentication
metadata:
  name: default
  namespace: default
spec:
  mtls:
    mode: ${mode}
`,
});

const OUTSIDE_CLIENT = {
  yaml: `apiVersion: apps/v1
kind: Deployment
metadata:
  name: client
  namespace: outside
spec:
  replicas: 1
  selector:
    matchLabels:
      app: client
  template:
    metadata:
      labels:
        app: client
    spec:
      containers:
      - name: client
        image: curlimages/curl:latest
        command: ["/bin/sleep", "infinity"]
`,
};

/** The httpbin workloads as every ztunnel sees them, and whether each carries the STRICT policy. */
function httpbinStrict(dump: ZtunnelConfigDump, names: readonly string[]): boolean[] {
  return names.map((name) => dump.workloads.find((w) => w.namespace === 'default' && w.name === name)?.authorizationPolicies.includes(STRICT_POLICY) ?? false);
}

const outcome = (r: CurlResult): { code: number; status: number } => ({ code: r.code, status: r.status });

describe('scenario 5: STRICT PeerAuthentication keeps non-mesh clients out', () => {
  const cluster = useCluster();
  let httpbinPods: { name: string; ip: string; node: string }[] = [];

  /** Every way the outside pod can address httpbin: the Service name (ClusterIP) and each pod IP on its port 80. */
  const targets = (): string[] => ['http://httpbin.default:8000', ...httpbinPods.map((p) => `http://${p.ip}:80`)];

  async function httpbinLogs(driver: ClusterDriver): Promise<string> {
    const logs = await Promise.all(httpbinPods.map((p) => driver.logs('default', p.name)));
    return logs.join('\n');
  }

  beforeAll(async () => {
    const driver = cluster();
    await driver.apply(namespaceYaml('default', AMBIENT), namespaceYaml('outside'), manifest('01-sleep-httpbin.yaml'), OUTSIDE_CLIENT);
    httpbinPods = (await driver.pods('default', { app: 'httpbin' })).map((p) => ({ name: p.name, ip: p.ip ?? '', node: p.node }));
    expect(httpbinPods).toHaveLength(2);
    expect(new Set(httpbinPods.map((p) => p.node)).size).toBe(2);
    // httpbin is in the mesh (HBONE), the outside client is not in any ztunnel as a mesh workload.
    const [client] = await driver.pods('outside', { app: 'client' });
    await driver.waitForZtunnels(
      (dump) =>
        httpbinPods.every((p) => dump.workloads.some((w) => w.namespace === 'default' && w.name === p.name && w.protocol === 'HBONE')) &&
        !dump.workloads.some((w) => w.namespace === 'outside' && w.name === client?.name && w.protocol === 'HBONE'),
      'httpbin enrolled (HBONE) and the outside client not',
    );
  });

  it('without a PeerAuthentication (PERMISSIVE) the outside pod reaches httpbin in plaintext', async () => {
    for (const base of targets()) {
      const r = await curl(cluster(), 'outside', 'deployment/client', `${base}/get`);
      expect({ base, ...outcome(r), stderr: r.stderr }).toEqual({ base, code: 0, status: 200, stderr: '' });
    }
  });

  describe('with mtls.mode STRICT in `default`', () => {
    beforeAll(async () => {
      await cluster().apply(peerAuthentication('STRICT'));
      const names = httpbinPods.map((p) => p.name);
      await cluster().waitForZtunnels((dump) => httpbinStrict(dump, names).every(Boolean), `httpbin workloads carry ${STRICT_POLICY}`);
    });

    it('the controlplane accepts the PeerAuthentication', async () => {
      const errors = await cluster().configErrors();
      expect(errors.problems.filter((p) => p.object.includes('PeerAuthentication') && p.level === 'error')).toEqual([]);
      expect(Object.keys(errors.rejected).filter((k) => k.includes('PeerAuthentication'))).toEqual([]);
    });

    it.each(['ClusterIP name httpbin.default:8000', 'pod IP :80 (each node)'])('the outside pod cannot reach httpbin via %s', async (via) => {
      // Through the ClusterIP a request lands on either replica: try it as often as there are replicas, twice over.
      const bases = via.startsWith('ClusterIP') ? httpbinPods.flatMap(() => ['http://httpbin.default:8000', 'http://httpbin.default:8000']) : httpbinPods.map((p) => `http://${p.ip}:80`);
      for (const base of bases) {
        const marker = `strict-denied-${Math.random().toString(36).slice(2)}`;
        const r = await curl(cluster(), 'outside', 'deployment/client', `${base}/anything/${marker}`);
        // No HTTP response at all: the connection is reset/closed by the destination's ztunnel.
        expect({ base, status: r.status }).toEqual({ base, status: 0 });
        expect(r.code).not.toBe(0);
        // …and the request never reached the application.
        expect(await httpbinLogs(cluster())).not.toContain(marker);
      }
    });

    it('sleep (in the mesh, mTLS) still reaches httpbin by name and by each pod IP', async () => {
      for (const base of targets()) {
        const marker = `strict-allowed-${Math.random().toString(36).slice(2)}`;
        const r = await curl(cluster(), 'default', 'deployment/sleep', `${base}/anything/${marker}`);
        expect({ base, ...outcome(r), stderr: r.stderr }).toEqual({ base, code: 0, status: 200, stderr: '' });
        expect(await eventually(() => httpbinLogs(cluster()), (logs) => logs.includes(marker), 5_000)).toContain(marker);
      }
    });
  });

  describe('switched to mtls.mode PERMISSIVE', () => {
    beforeAll(async () => {
      await cluster().apply(peerAuthentication('PERMISSIVE'));
      const names = httpbinPods.map((p) => p.name);
      await cluster().waitForZtunnels((dump) => httpbinStrict(dump, names).every((strict) => !strict), `httpbin workloads no longer carry ${STRICT_POLICY}`);
    });

    it('the outside pod reaches httpbin again via the ClusterIP name and each pod IP', async () => {
      for (const base of targets()) {
        const marker = `permissive-${Math.random().toString(36).slice(2)}`;
        const r = await curl(cluster(), 'outside', 'deployment/client', `${base}/anything/${marker}`);
        expect({ base, ...outcome(r), stderr: r.stderr }).toEqual({ base, code: 0, status: 200, stderr: '' });
        expect(await eventually(() => httpbinLogs(cluster()), (logs) => logs.includes(marker), 5_000)).toContain(marker);
      }
    });

    it('sleep still reaches httpbin', async () => {
      const r = await curl(cluster(), 'default', 'deployment/sleep', 'http://httpbin.default:8000/get');
      expect(outcome(r)).toEqual({ code: 0, status: 200 });
    });
  });
});
