// Scenario 3: the guide's ALLOW policy for httpbin, by principal (cluster.local/ns/default/sa/sleep), enforced by the
// destination ztunnel. (a) Corrected to the workload's target port 80: sleep gets through, a client with another
// service account is cut off before httpbin sees anything. (b) As the guide wrote it (Service port 8000): Istio matches
// target ports, so the rule matches nothing and sleep is denied too — and the controlplane's validation says why.

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { parse, stringify } from 'yaml';

import type { PodView, ZtunnelConfigDump } from '../src/driver';
import { AMBIENT, curl, manifest, namespaceYaml, useCluster, type CurlResult } from '../src/scenario';

jest.setTimeout(120_000);

/**
 * curl's exit codes for a connection the mesh resets, as Istio's ztunnel does: 56 (reset after connecting) or, when
 * the reset wins the race with curl's connect check (same node, a few ms), 7 — never a timeout or an empty reply.
 */
const CUT_OFF = [7, 56];

const POLICY_FILE = manifest('02-authz-sleep-to-httpbin.yaml');
const POLICY = { namespace: 'default', name: 'httpbin-access' };

const OTHER_CLIENT = {
  yaml: `apiVersion: v1
kind: ServiceAccount
metadata:
  name: other
  namespace: default
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: other
  namespace: default
spec:
  replicas: 1
  selector:
    matchLabels:
      app: other
  template:
    metadata:
      labels:
        app: other
    spec:
      serviceAccountName: other
      containers:
      - name: other
        image: curlimages/curl:latest
        command: ["/bin/sleep", "infinity"]
`,
};

/** The guide's policy with its port replaced by `port`. */
function policyWithPort(port: string): { yaml: string } {
  const doc = parse(readFileSync(POLICY_FILE, 'utf8')) as { spec: { rules: { to: { operation: { ports: string[] } }[] }[] } };
  for (const rule of doc.spec.rules) for (const to of rule.to) to.operation.ports = [port];
  return { yaml: stringify(doc) };
}

/** The destination ports of the policy as a ztunnel holds it, or undefined when it does not hold it. */
function policyPorts(dump: ZtunnelConfigDump): number[] | undefined {
  const policy = dump.policies.find((p) => p.name === POLICY.name && p.namespace === POLICY.namespace) as { rules?: { destinationPorts?: number[] }[][][] } | undefined;
  if (policy === undefined) return undefined;
  return (policy.rules ?? []).flat(2).flatMap((m) => m.destinationPorts ?? []);
}

const newMarker = (who: string): string => `${who}-${randomBytes(6).toString('hex')}`;

describe('scenario 3: ALLOW httpbin by principal (the guide policy)', () => {
  const cluster = useCluster();
  let httpbinPods: PodView[];
  /** Markers of requests that must never have reached httpbin. */
  const deniedMarkers: string[] = [];

  /** The URLs that reach httpbin: the Service, and every pod directly on its target port. */
  const targets = (): { what: string; url: (marker: string) => string }[] => [
    { what: 'Service httpbin:8000', url: (m) => `http://httpbin:8000/anything/${m}` },
    ...httpbinPods.map((p) => ({ what: `pod ${p.name} (${p.node}) :80`, url: (m: string) => `http://${p.ip}:80/anything/${m}` })),
  ];

  async function request(client: string, url: (marker: string) => string): Promise<{ marker: string; result: CurlResult }> {
    const marker = newMarker(client);
    return { marker, result: await curl(cluster(), 'default', `deployment/${client}`, url(marker)) };
  }

  async function expectAllowed(client: string): Promise<void> {
    for (const target of targets()) {
      const { marker, result } = await request(client, target.url);
      expect({ target: target.what, code: result.code, status: result.status, stderr: result.stderr }).toEqual({ target: target.what, code: 0, status: 200, stderr: '' });
      expect((JSON.parse(result.body) as { url: string }).url).toContain(marker);
    }
  }

  async function expectDenied(client: string): Promise<void> {
    for (const target of targets()) {
      const { marker, result } = await request(client, target.url);
      deniedMarkers.push(marker);
      // The connection is reset or refused: no HTTP response at all, and curl says so.
      expect({ target: target.what, status: result.status, curl: CUT_OFF.includes(result.code) ? 'cut off' : `exit ${result.code}: ${result.stderr}` }).toEqual({ target: target.what, status: 0, curl: 'cut off' });
      expect(result.stderr).not.toBe('');
    }
  }

  /** Both httpbin pods' logs, once a fresh request from sleep to each pod shows in them (so nothing is left unflushed). */
  async function httpbinLogsAfterProbe(): Promise<string> {
    let logs = '';
    for (const pod of httpbinPods) {
      const { marker, result } = await request('sleep', (m) => `http://${pod.ip}:80/anything/${m}`);
      expect({ pod: pod.name, status: result.status }).toEqual({ pod: pod.name, status: 200 });
      const podLogs = await cluster().logs('default', pod.name);
      expect(podLogs).toContain(marker);
      logs += podLogs;
    }
    return logs;
  }

  beforeAll(async () => {
    await cluster().apply(namespaceYaml('default', AMBIENT), manifest('01-sleep-httpbin.yaml'), OTHER_CLIENT);
    const pods = await cluster().pods('default');
    httpbinPods = pods.filter((p) => p.labels['app'] === 'httpbin');
    if (httpbinPods.length !== 2) throw new Error(`expected 2 httpbin pods: ${JSON.stringify(pods)}`);
    await cluster().waitForZtunnels(
      (dump) => pods.every((p) => dump.workloads.some((w) => w.name === p.name && w.namespace === 'default' && w.protocol === 'HBONE')),
      'every default pod listed with protocol HBONE',
    );
  });

  it('without a policy, both sleep and other reach httpbin (the baseline the policy changes)', async () => {
    await expectAllowed('sleep');
    await expectAllowed('other');
    const dump = await cluster().ztunnelConfig(cluster().nodes[0] ?? '');
    const other = dump.workloads.find((w) => w.namespace === 'default' && w.name.startsWith('other-'));
    expect(other?.serviceAccount).toBe('other');
  });

  describe('(a) corrected to the target port: ports ["80"]', () => {
    beforeAll(async () => {
      await cluster().apply(policyWithPort('80'));
      await cluster().waitForZtunnels(
        (dump) =>
          JSON.stringify(policyPorts(dump)) === '[80]' &&
          httpbinPods.every((p) => dump.workloads.find((w) => w.name === p.name)?.authorizationPolicies.includes(`${POLICY.namespace}/${POLICY.name}`) === true),
        'httpbin-access (port 80) attached to both httpbin pods',
      );
    });

    it('lets sleep (sa sleep) reach httpbin through the Service and each pod', async () => {
      await expectAllowed('sleep');
    });

    it('resets the connections of other (sa other); httpbin never sees its requests', async () => {
      await expectDenied('other');
      const logs = await httpbinLogsAfterProbe();
      for (const marker of deniedMarkers) expect(logs).not.toContain(marker);
    });

    it('raises no Service-port warning for the corrected policy', async () => {
      const errors = await cluster().configErrors();
      expect(errors.problems.filter((p) => p.object === `AuthorizationPolicy ${POLICY.namespace}/${POLICY.name}`)).toEqual([]);
    });
  });

  describe('(b) as the guide wrote it: ports ["8000"] (a Service port)', () => {
    beforeAll(async () => {
      await cluster().apply(POLICY_FILE);
      await cluster().waitForZtunnels((dump) => JSON.stringify(policyPorts(dump)) === '[8000]', 'httpbin-access with port 8000 in every ztunnel');
    });

    it('denies sleep too, exactly as Istio does (the rule matches target ports only)', async () => {
      await expectDenied('sleep');
      await expectDenied('other');
    });

    it('reports in config_errors that 8000 is a Service port of httpbin whose target port is 80', async () => {
      const errors = await cluster().configErrors();
      const problem = errors.problems.find((p) => p.object === `AuthorizationPolicy ${POLICY.namespace}/${POLICY.name}`);
      expect(problem).toBeDefined();
      expect(problem?.message).toMatch(/port 8000 is a Service port of httpbin\b/);
      expect(problem?.message).toContain('target port');
      expect(problem?.message).toMatch(/use port 80$/);
    });

    it('once the policy is deleted sleep gets through again, and httpbin never logged a denied request', async () => {
      await cluster().delete(POLICY_FILE);
      await cluster().waitForZtunnels(
        (dump) => policyPorts(dump) === undefined && httpbinPods.every((p) => dump.workloads.find((w) => w.name === p.name)?.authorizationPolicies.length === 0),
        'httpbin-access gone from every ztunnel',
      );
      await expectAllowed('sleep');
      const logs = await httpbinLogsAfterProbe();
      expect(deniedMarkers.length).toBeGreaterThan(0);
      for (const marker of deniedMarkers) expect(logs).not.toContain(marker);
    });
  });
});
