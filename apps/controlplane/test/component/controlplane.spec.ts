// The controlplane end to end in one process: manifest files change, and libs/xds clients see exactly the deltas
// Istio's istiod would send — nothing more, and nothing for subscribers the change does not concern.

import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';

import { ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL } from '@weft/xds';

import { Harness, authorizationPolicy, namespace, pod, service, type Batch, type RecordingClient } from './harness';

const HTTPBIN_HOST = 'default/httpbin.default.svc.cluster.local';
const SLEEP_HOST = 'default/sleep.default.svc.cluster.local';
const uid = (name: string): string => `Kubernetes//Pod/default/${name}`;

/** A pause long enough for any push a change could cause (source debounce 20 ms + xDS debounce 10 ms), many times over. */
const SETTLE_MS = 400;
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

const httpbinPod = (name: string, ip: string, extra: Partial<Parameters<typeof pod>[2]> = {}): object =>
  pod('default', name, {
    ip,
    labels: { app: 'httpbin' },
    serviceAccount: 'httpbin',
    redirected: true,
    ports: [{ name: 'http', containerPort: 8080 }],
    ...extra,
  });

const allowSleep = (principals: readonly string[]): object =>
  authorizationPolicy('default', 'allow-sleep', {
    selector: { matchLabels: { app: 'httpbin' } },
    action: 'ALLOW',
    rules: [{ from: [{ source: { principals } }], to: [{ operation: { ports: ['8080'] } }] }],
  });

/** The batches of one type after `from`, ignoring order between types. */
function byType(client: RecordingClient, from: number): Record<'addresses' | 'authorizations', Batch[]> {
  const batches = client.since(from);
  return {
    addresses: batches.filter((b) => b.typeUrl === ADDRESS_TYPE_URL),
    authorizations: batches.filter((b) => b.typeUrl === AUTHORIZATION_TYPE_URL),
  };
}

function flatten(batches: readonly Batch[]): { upserts: string[]; removals: string[] } {
  return {
    upserts: batches.flatMap((b) => b.upserts).sort(),
    removals: batches.flatMap((b) => b.removals).sort(),
  };
}

jest.setTimeout(30_000);

describe('controlplane on a manifest directory', () => {
  let harness: Harness;
  let all: RecordingClient;
  let httpbinOnly: RecordingClient;

  beforeAll(async () => {
    harness = await Harness.start({
      'namespaces.yaml': [namespace('default', { 'istio.io/dataplane-mode': 'ambient' }), namespace('istio-system')],
      'sleep.yaml': [
        pod('default', 'sleep-1', { ip: '10.1.0.10', labels: { app: 'sleep' }, serviceAccount: 'sleep', redirected: true }),
        service('default', 'sleep', '10.96.0.21', { app: 'sleep' }, [{ name: 'http', port: 80 }]),
      ],
      'httpbin.yaml': [
        httpbinPod('httpbin-1', '10.1.0.11'),
        service('default', 'httpbin', '10.96.0.20', { app: 'httpbin' }, [{ name: 'http', port: 8000, targetPort: 'http' }]),
      ],
    });
    all = await harness.connect();
    // A subscriber interested in one service only (ztunnel's on-demand mode).
    httpbinOnly = await harness.connect({
      addresses: { wildcard: false, names: [HTTPBIN_HOST] },
      authorizations: { wildcard: false, names: [] },
    });
    await all.client?.ready();
    await httpbinOnly.client?.ready();
  });

  afterAll(async () => {
    await harness?.close();
  });

  it('serves the initial workloads and services, and only the named ones to a named subscriber', () => {
    expect([...all.addresses.keys()].sort()).toEqual([HTTPBIN_HOST, SLEEP_HOST, uid('httpbin-1'), uid('sleep-1')].sort());
    expect(all.workload(uid('httpbin-1'))).toMatchObject({
      tunnelProtocol: 'HBONE',
      status: 'HEALTHY',
      serviceAccount: 'httpbin',
      node: 'node-a',
      services: { 'default/httpbin.default.svc.cluster.local': [expect.objectContaining({ servicePort: 8000, targetPort: 8080 })] },
    });
    expect([...httpbinOnly.addresses.keys()]).toEqual([HTTPBIN_HOST]);
    expect(all.authorizations.size).toBe(0);
  });

  it('a new pod arrives as one workload upsert, unhealthy until Ready, and its deletion as one removal', async () => {
    let from = all.batches.length;
    const unrelated = httpbinOnly.batches.length;
    await harness.write('httpbin-2.yaml', [httpbinPod('httpbin-2', '10.1.0.12', { ready: false })]);
    await all.waitFor(() => all.workload(uid('httpbin-2')) !== undefined, 'httpbin-2');
    await settle();
    expect(flatten(all.since(from))).toEqual({ upserts: [uid('httpbin-2')], removals: [] });
    expect(all.workload(uid('httpbin-2'))?.status).toBe('UNHEALTHY');

    from = all.batches.length;
    await harness.write('httpbin-2.yaml', [httpbinPod('httpbin-2', '10.1.0.12')]);
    await all.waitFor(() => all.workload(uid('httpbin-2'))?.status === 'HEALTHY', 'httpbin-2 Ready');
    await settle();
    expect(flatten(all.since(from))).toEqual({ upserts: [uid('httpbin-2')], removals: [] });

    from = all.batches.length;
    await harness.remove('httpbin-2.yaml');
    await all.waitFor(() => !all.addresses.has(uid('httpbin-2')), 'httpbin-2 removed');
    await settle();
    expect(flatten(all.since(from))).toEqual({ upserts: [], removals: [uid('httpbin-2')] });
    // The Service resource carries no endpoints, so the service's subscriber heard nothing of it.
    expect(httpbinOnly.batches.length).toBe(unrelated);
  });

  it('the namespace label alone changes nothing; the CNI redirection annotation switches the tunnel', async () => {
    let from = all.batches.length;
    await harness.write('namespaces.yaml', [namespace('default'), namespace('istio-system')]);
    await settle();
    await settle();
    // istiod keys tunnel_protocol on the CNI's annotation, not the label (reference §4.4): no delta yet.
    expect(all.since(from)).toEqual([]);

    from = all.batches.length;
    await harness.write('sleep.yaml', [
      pod('default', 'sleep-1', { ip: '10.1.0.10', labels: { app: 'sleep' }, serviceAccount: 'sleep' }),
      service('default', 'sleep', '10.96.0.21', { app: 'sleep' }, [{ name: 'http', port: 80 }]),
    ]);
    await all.waitFor(() => all.workload(uid('sleep-1'))?.tunnelProtocol === 'NONE', 'sleep-1 unenrolled');
    await settle();
    expect(flatten(all.since(from))).toEqual({ upserts: [uid('sleep-1')], removals: [] });

    from = all.batches.length;
    await harness.write('namespaces.yaml', [namespace('default', { 'istio.io/dataplane-mode': 'ambient' }), namespace('istio-system')]);
    await harness.write('sleep.yaml', [
      pod('default', 'sleep-1', { ip: '10.1.0.10', labels: { app: 'sleep' }, serviceAccount: 'sleep', redirected: true }),
      service('default', 'sleep', '10.96.0.21', { app: 'sleep' }, [{ name: 'http', port: 80 }]),
    ]);
    await all.waitFor(() => all.workload(uid('sleep-1'))?.tunnelProtocol === 'HBONE', 'sleep-1 enrolled');
    await settle();
    expect(flatten(all.since(from))).toEqual({ upserts: [uid('sleep-1')], removals: [] });
  });

  it("in manifest mode the cni-node agent's status file carries the redirection annotation", async () => {
    const statusDir = path.join(harness.manifests, '.weft');
    await harness.write('plain.yaml', [pod('default', 'plain-1', { ip: '10.1.0.30', serviceAccount: 'plain' })]);
    await all.waitFor(() => all.workload(uid('plain-1'))?.tunnelProtocol === 'NONE', 'plain-1 as NONE');
    const from = all.batches.length;
    const file = path.join(statusDir, 'cni-node-a.json');
    await writeFile(`${file}.tmp`, JSON.stringify({ statuses: { 'Pod/default/plain-1': { annotations: { 'ambient.istio.io/redirection': 'enabled' } } } }));
    await rename(`${file}.tmp`, file);
    await all.waitFor(() => all.workload(uid('plain-1'))?.tunnelProtocol === 'HBONE', 'plain-1 enrolled by the agent');
    await settle();
    expect(flatten(all.since(from))).toEqual({ upserts: [uid('plain-1')], removals: [] });
    await unlink(file);
    await harness.remove('plain.yaml');
    await all.waitFor(() => !all.addresses.has(uid('plain-1')), 'plain-1 removed');
  });

  it('a policy is added, changed, made invalid (kept at its last good version) and removed', async () => {
    const unrelated = httpbinOnly.batches.length;
    const sleepPrincipal = 'cluster.local/ns/default/sa/sleep';

    // Added: the policy, and the selected workload's binding to it.
    let from = all.batches.length;
    await harness.write('policy.yaml', [allowSleep([sleepPrincipal])]);
    await all.waitFor(() => all.authorizations.has('default/allow-sleep'), 'policy added');
    await all.waitFor(() => (all.workload(uid('httpbin-1'))?.authorizationPolicies ?? []).length > 0, 'policy bound');
    await settle();
    let seen = byType(all, from);
    expect(flatten(seen.authorizations)).toEqual({ upserts: ['default/allow-sleep'], removals: [] });
    expect(flatten(seen.addresses)).toEqual({ upserts: [uid('httpbin-1')], removals: [] });
    expect(all.workload(uid('httpbin-1'))?.authorizationPolicies).toEqual(['default/allow-sleep']);

    // Changed: only the policy; the binding is by name and did not change.
    from = all.batches.length;
    const other = 'cluster.local/ns/default/sa/other';
    await harness.write('policy.yaml', [allowSleep([sleepPrincipal, other])]);
    await all.waitFor(() => JSON.stringify(all.authorizations.get('default/allow-sleep')).includes('sa/other'), 'policy changed');
    await settle();
    seen = byType(all, from);
    expect(flatten(seen.authorizations)).toEqual({ upserts: ['default/allow-sleep'], removals: [] });
    expect(seen.addresses).toEqual([]);
    const lastGood = JSON.stringify(all.authorizations.get('default/allow-sleep'));

    // Invalid: rejected at the controlplane and reported; proxies keep the last good version and see no delta.
    from = all.batches.length;
    const invalid = allowSleep([sleepPrincipal]) as { spec: Record<string, unknown> };
    invalid.spec['targetRefs'] = [{ kind: 'Service', group: '', name: 'httpbin' }];
    await harness.write('policy.yaml', [invalid]);
    await waitForCondition(() => harness.controlplane.computed().rejected.has('AuthorizationPolicy/default/allow-sleep'), 'policy rejected');
    await settle();
    expect(all.since(from)).toEqual([]);
    expect(JSON.stringify(all.authorizations.get('default/allow-sleep'))).toBe(lastGood);
    const rejected = harness.controlplane.computed().problems.filter((p) => p.key === 'AuthorizationPolicy/default/allow-sleep');
    expect(rejected).toEqual([
      expect.objectContaining({ level: 'error', field: expect.stringMatching(/targetRefs|selector/), stage: 'validation' }),
    ]);
    await harness.source.flushStatus();
    const statusFile = JSON.parse(await readFile(path.join(harness.manifests, '.weft', 'status.json'), 'utf8')) as {
      statuses: Record<string, { conditions?: { reason?: string }[]; validationMessages?: { field: string; message: string }[] }>;
    };
    const status = statusFile.statuses['AuthorizationPolicy/default/allow-sleep'];
    expect(status?.conditions?.[0]?.reason).toBe('ServingLastGoodVersion');
    expect(status?.validationMessages?.[0]).toMatchObject({ level: 'error', field: expect.stringMatching(/targetRefs|selector/) });

    // Removed: the policy goes, and so does the workload's binding.
    from = all.batches.length;
    await harness.remove('policy.yaml');
    await all.waitFor(() => !all.authorizations.has('default/allow-sleep'), 'policy removed');
    await all.waitFor(() => (all.workload(uid('httpbin-1'))?.authorizationPolicies ?? []).length === 0, 'binding removed');
    await settle();
    seen = byType(all, from);
    expect(flatten(seen.authorizations)).toEqual({ upserts: [], removals: ['default/allow-sleep'] });
    expect(flatten(seen.addresses)).toEqual({ upserts: [uid('httpbin-1')], removals: [] });
    expect(harness.controlplane.computed().rejected.size).toBe(0);
    expect(httpbinOnly.batches.length).toBe(unrelated);
  });

  it("a service's endpoints change as workload upserts only", async () => {
    const from = all.batches.length;
    const unrelated = httpbinOnly.batches.length;
    await harness.write('httpbin.yaml', [
      httpbinPod('httpbin-1', '10.1.0.11', { labels: { app: 'moved' } }),
      service('default', 'httpbin', '10.96.0.20', { app: 'httpbin' }, [{ name: 'http', port: 8000, targetPort: 'http' }]),
    ]);
    await all.waitFor(() => Object.keys(all.workload(uid('httpbin-1'))?.services ?? {}).length === 0, 'endpoint left');
    await settle();
    expect(flatten(all.since(from))).toEqual({ upserts: [uid('httpbin-1')], removals: [] });
    expect(httpbinOnly.batches.length).toBe(unrelated);
  });
});

async function waitForCondition(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
