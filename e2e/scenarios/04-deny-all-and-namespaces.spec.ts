// Scenario 4: namespace-wide policies at the destination ztunnel, in Istio's order of evaluation. An empty-spec
// AuthorizationPolicy in `default` allows nothing (deny-all); an ALLOW by source namespace `default` then lets sleep
// in while a client of another ambient namespace stays out; a DENY by namespace `default` overrides that ALLOW.

import { randomBytes } from 'node:crypto';

import type { PodView, ZtunnelConfigDump } from '../src/driver';
import { AMBIENT, curl, manifest, namespaceYaml, useCluster, type CurlResult } from '../src/scenario';

jest.setTimeout(120_000);

/**
 * curl's exit codes for a connection the mesh resets, as Istio's ztunnel does: 56 (reset after connecting) or, when
 * the reset wins the race with curl's connect check (same node, a few ms), 7 — never a timeout or an empty reply.
 */
const CUT_OFF = [7, 56];

const policy = (name: string, spec: string): { yaml: string } => ({
  yaml: `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: ${name}
  namespace: default
spec:${spec}
`,
});

const DENY_ALL = policy('deny-all', ' {}');
const ALLOW_DEFAULT_NS = policy(
  'allow-from-default',
  `
  action: ALLOW
  rules:
  - from:
    - source:
        namespaces: ["default"]`,
);
const DENY_DEFAULT_NS = policy(
  'deny-from-default',
  `
  action: DENY
  rules:
  - from:
    - source:
        namespaces: ["default"]`,
);

/** A curl client in namespace `other-ns` (its own service account there). */
const OTHER_NS_CLIENT = {
  yaml: `apiVersion: v1
kind: ServiceAccount
metadata:
  name: client
  namespace: other-ns
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: client
  namespace: other-ns
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
      serviceAccountName: client
      containers:
      - name: client
        image: curlimages/curl:latest
        command: ["/bin/sleep", "infinity"]
`,
};

interface Client {
  readonly namespace: string;
  readonly pod: string;
}
const SLEEP: Client = { namespace: 'default', pod: 'deployment/sleep' };
const OTHER_NS: Client = { namespace: 'other-ns', pod: 'deployment/client' };

/** Whether the ztunnel holds exactly these `default` policies (namespace-scoped: no per-workload attachment needed). */
const holdsExactly =
  (...names: string[]) =>
  (dump: ZtunnelConfigDump): boolean => {
    const held = dump.policies.filter((p) => p.namespace === 'default').map((p) => p.name);
    return held.length === names.length && names.every((n) => held.includes(n));
  };

describe('scenario 4: deny-all, ALLOW by namespace, DENY by namespace', () => {
  const cluster = useCluster();
  let httpbinPods: PodView[];
  const deniedMarkers: string[] = [];

  /** The Service (from the other namespace by its namespaced name) and each httpbin pod on its target port. */
  const targets = (): { what: string; url: (marker: string) => string }[] => [
    { what: 'Service httpbin.default:8000', url: (m) => `http://httpbin.default:8000/anything/${m}` },
    ...httpbinPods.map((p) => ({ what: `pod ${p.name} (${p.node}) :80`, url: (m: string) => `http://${p.ip}:80/anything/${m}` })),
  ];

  async function request(client: Client, url: (marker: string) => string): Promise<{ marker: string; result: CurlResult }> {
    const marker = `${client.namespace}-${randomBytes(6).toString('hex')}`;
    return { marker, result: await curl(cluster(), client.namespace, client.pod, url(marker)) };
  }

  async function expectAllowed(client: Client): Promise<void> {
    for (const target of targets()) {
      const { marker, result } = await request(client, target.url);
      expect({ client: client.namespace, target: target.what, code: result.code, status: result.status, stderr: result.stderr }).toEqual({
        client: client.namespace,
        target: target.what,
        code: 0,
        status: 200,
        stderr: '',
      });
      expect((JSON.parse(result.body) as { url: string }).url).toContain(marker);
    }
  }

  async function expectDenied(client: Client): Promise<void> {
    for (const target of targets()) {
      const { marker, result } = await request(client, target.url);
      deniedMarkers.push(marker);
      expect({ client: client.namespace, target: target.what, status: result.status, curl: CUT_OFF.includes(result.code) ? 'cut off' : `exit ${result.code}: ${result.stderr}` }).toEqual({
        client: client.namespace,
        target: target.what,
        status: 0,
        curl: 'cut off',
      });
    }
  }

  beforeAll(async () => {
    await cluster().apply(namespaceYaml('default', AMBIENT), namespaceYaml('other-ns', AMBIENT), manifest('01-sleep-httpbin.yaml'), OTHER_NS_CLIENT);
    const pods = [...(await cluster().pods('default')), ...(await cluster().pods('other-ns'))];
    httpbinPods = pods.filter((p) => p.namespace === 'default' && p.labels['app'] === 'httpbin');
    if (httpbinPods.length !== 2) throw new Error(`expected 2 httpbin pods: ${JSON.stringify(pods)}`);
    await cluster().waitForZtunnels(
      (dump) => pods.every((p) => dump.workloads.some((w) => w.name === p.name && w.namespace === p.namespace && w.protocol === 'HBONE')),
      'every pod of default and other-ns listed with protocol HBONE',
    );
  });

  it('without policies, sleep and the other-ns client both reach httpbin', async () => {
    await expectAllowed(SLEEP);
    await expectAllowed(OTHER_NS);
  });

  it('an empty-spec policy (spec: {}) denies everything: sleep → httpbin is refused', async () => {
    await cluster().apply(DENY_ALL);
    await cluster().waitForZtunnels(holdsExactly('deny-all'), 'deny-all in every ztunnel');
    await expectDenied(SLEEP);
    await expectDenied(OTHER_NS);
  });

  it('an ALLOW from namespace default lets sleep in, while the other-ns client stays denied', async () => {
    await cluster().apply(ALLOW_DEFAULT_NS);
    await cluster().waitForZtunnels(holdsExactly('deny-all', 'allow-from-default'), 'deny-all and allow-from-default in every ztunnel');
    await expectAllowed(SLEEP);
    await expectDenied(OTHER_NS);
  });

  it('a DENY from namespace default overrides the ALLOW: sleep is denied again', async () => {
    await cluster().apply(DENY_DEFAULT_NS);
    await cluster().waitForZtunnels(holdsExactly('deny-all', 'allow-from-default', 'deny-from-default'), 'all three policies in every ztunnel');
    await expectDenied(SLEEP);
    await expectDenied(OTHER_NS);
  });

  it('httpbin never logged a denied request (checked once the policies are gone)', async () => {
    await cluster().delete(DENY_ALL, ALLOW_DEFAULT_NS, DENY_DEFAULT_NS);
    await cluster().waitForZtunnels(holdsExactly(), 'no default policies in any ztunnel');
    // A fresh request from sleep to each pod shows in its log, so anything logged before it is there too.
    let logs = '';
    for (const pod of httpbinPods) {
      const { marker, result } = await request(SLEEP, (m) => `http://${pod.ip}:80/anything/${m}`);
      expect({ pod: pod.name, status: result.status }).toEqual({ pod: pod.name, status: 200 });
      const podLogs = await cluster().logs('default', pod.name);
      expect(podLogs).toContain(marker);
      logs += podLogs;
    }
    expect(deniedMarkers.length).toBeGreaterThan(0);
    for (const marker of deniedMarkers) expect(logs).not.toContain(marker);
  });
});
