// The kind driver without Docker: a fake Runner records every command and answers with outputs written after the
// documented formats of kubectl, crictl (containerd), docker and tcpdump (fixtures/kind/). The process Runner itself
// is tested with real child processes.

import { readFileSync } from 'node:fs';
import * as path from 'node:path';

import type { ExecResult } from './driver';
import { GATEWAY_API_CRDS, IMAGES, KindPrerequisiteError, kindSettings, requireKindTools, type KindCluster } from './kind-cluster';
import { KindDriver, TCPDUMP_IMAGE, ZTUNNEL_CONFIG_SCRIPT } from './kind-driver';
import { kindConfig, parseBridgeName, parseNetnsScan, parsePods, podNetnsPids, rolloutTargets, workerNodeNames } from './kind-objects';
import { createProcessRunner, NOT_FOUND, TIMED_OUT, type RunOptions, type Runner } from './kind-runner';
import { driverChoice, manifest } from './scenario';

const fixture = (name: string): string => readFileSync(path.join(__dirname, 'fixtures', 'kind', name), 'utf8');

const ok = (stdout = ''): ExecResult => ({ code: 0, stdout, stderr: '' });
const failed = (code: number, stderr: string): ExecResult => ({ code, stdout: '', stderr });

interface Call {
  readonly argv: readonly string[];
  readonly options: RunOptions | undefined;
}

/** A Runner that records its calls and answers from `respond` (success with no output when it returns undefined). */
function fakeRunner(respond: (argv: readonly string[], options?: RunOptions) => ExecResult | Promise<ExecResult> | undefined = () => undefined): { run: Runner; calls: Call[]; argvs: () => string[] } {
  const calls: Call[] = [];
  const run: Runner = async (argv, options) => {
    calls.push({ argv: [...argv], options });
    return (await respond(argv, options)) ?? ok();
  };
  return { run, calls, argvs: () => calls.map((c) => c.argv.join(' ')) };
}

const has = (argv: readonly string[], ...words: string[]): boolean => words.every((w) => argv.includes(w));

const CLUSTER = 'weft-e2e-3f9c1a';
const WORKER = `${CLUSTER}-worker`;
const WORKER2 = `${CLUSTER}-worker2`;
const KUBECONFIG = '/tmp/weft-e2e-kind-test/kubeconfig';
const KUBECTL = `kubectl --kubeconfig ${KUBECONFIG}`;
const REPO = '/repo';

function driverWith(run: Runner): KindDriver {
  const cluster: KindCluster = { name: CLUSTER, kubeconfig: KUBECONFIG, scratch: '/tmp/weft-e2e-kind-test', nodes: [WORKER, WORKER2] };
  return new KindDriver(run, kindSettings({}, REPO), cluster);
}

describe('kind driver prerequisites (fake runner)', () => {
  it('fails fast when the Docker engine is not running, naming it', async () => {
    const { run } = fakeRunner((argv) => (has(argv, 'docker', 'info') ? failed(1, 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n') : undefined));
    await expect(requireKindTools(run, REPO)).rejects.toThrow(/the kind driver needs a running Docker engine: `docker info` failed: Cannot connect to the Docker daemon/);
  });

  it('names every missing tool at once, and looks for helm where tools/install-helm.sh puts it', async () => {
    const { run, argvs } = fakeRunner((argv) => (['kind', 'kubectl', 'helm', `${REPO}/node_modules/.cache/weft/helm`].includes(argv[0] ?? '') ? failed(NOT_FOUND, 'not found') : undefined));
    const error = await requireKindTools(run, REPO).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KindPrerequisiteError);
    expect((error as KindPrerequisiteError).code).toBe('ERR_E2E_KIND_PREREQUISITE');
    const message = (error as Error).message;
    expect(message).toContain('kind is not on PATH');
    expect(message).toContain('kubectl is not on PATH');
    expect(message).toContain('helm is not on PATH nor at node_modules/.cache/weft/helm (bash tools/install-helm.sh puts it there)');
    expect(message).not.toContain('Docker');
    expect(argvs()).toEqual(['docker info --format {{.ServerVersion}}', 'kind version', 'kubectl version --client', 'helm version --short', `${REPO}/node_modules/.cache/weft/helm version --short`]);
  });

  it('says when the docker CLI itself is missing', async () => {
    const { run } = fakeRunner((argv) => (argv[0] === 'docker' ? failed(NOT_FOUND, 'docker: not found') : undefined));
    await expect(requireKindTools(run, REPO)).rejects.toThrow('docker is not on PATH');
  });

  it('uses the cached helm when none is on PATH', async () => {
    const { run } = fakeRunner((argv) => (argv[0] === 'helm' ? failed(NOT_FOUND, '') : undefined));
    expect(await requireKindTools(run, REPO)).toEqual({ helm: `${REPO}/node_modules/.cache/weft/helm` });
  });

  it('selects the driver with WEFT_E2E_DRIVER (local by default)', () => {
    expect(driverChoice({})).toBe('local');
    expect(driverChoice({ WEFT_E2E_DRIVER: 'kind' })).toBe('kind');
    expect(() => driverChoice({ WEFT_E2E_DRIVER: 'minikube' })).toThrow('WEFT_E2E_DRIVER must be local or kind, not "minikube"');
  });
});

describe('kind driver bring-up and tear-down (fake runner)', () => {
  const nodesJson = fixture('nodes.json');
  const respond = (argv: readonly string[]): ExecResult | undefined => (has(argv, 'get', 'nodes') ? ok(nodesJson) : undefined);

  it('builds the images, creates the cluster, loads the images, installs the CRDs and the chart — in that order', async () => {
    const { run, calls, argvs } = fakeRunner(respond);
    const driver = await KindDriver.up(2, { run, env: {}, clusterName: CLUSTER });
    const kubeconfig = driver.cluster.kubeconfig;
    const root = path.resolve(__dirname, '..', '..');
    expect(argvs()).toEqual([
      'docker info --format {{.ServerVersion}}',
      'kind version',
      'kubectl version --client',
      'helm version --short',
      `bash ${root}/deploy/docker/build-images.sh --registry weft --tag e2e`,
      `kind create cluster --name ${CLUSTER} --config - --kubeconfig ${kubeconfig} --wait 120s`,
      `kind load docker-image weft/controlplane:e2e weft/ztunnel:e2e weft/waypoint:e2e weft/cni-node:e2e --name ${CLUSTER}`,
      `kubectl --kubeconfig ${kubeconfig} apply -f https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.2.1/standard-install.yaml`,
      `helm install weft ${root}/deploy/helm/weft --kubeconfig ${kubeconfig} -n istio-system --create-namespace --set image.registry=weft --set image.tag=e2e --set image.pullPolicy=Never --wait --timeout 5m`,
      `kubectl --kubeconfig ${kubeconfig} get nodes -o json`,
    ]);
    expect(calls[5]?.options?.input).toBe('kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n- role: worker\n');
    expect(IMAGES).toHaveLength(4);
    expect(GATEWAY_API_CRDS).toContain('/v1.2.1/standard-install.yaml');
    expect(driver.nodes).toEqual([WORKER, WORKER2]);
    expect(path.dirname(kubeconfig)).toBe(driver.cluster.scratch);

    calls.length = 0;
    await driver.down();
    expect(argvs()).toEqual([`kind delete cluster --name ${CLUSTER} --kubeconfig ${kubeconfig}`]);
  });

  it('skips the build with WEFT_E2E_KIND_SKIP_BUILD=1 and keeps logs with WEFT_E2E_KEEP_LOGS', async () => {
    const { run, argvs, calls } = fakeRunner(respond);
    const driver = await KindDriver.up(2, { run, env: { WEFT_E2E_KIND_SKIP_BUILD: '1', WEFT_E2E_KEEP_LOGS: '/keep' }, clusterName: CLUSTER });
    expect(argvs().some((a) => a.includes('build-images.sh'))).toBe(false);
    calls.length = 0;
    await driver.down();
    expect(argvs()).toEqual([`kind export logs /keep/${CLUSTER} --name ${CLUSTER}`, `kind delete cluster --name ${CLUSTER} --kubeconfig ${driver.cluster.kubeconfig}`]);
  });

  it('deletes the cluster it created when a later step fails, and reports that step', async () => {
    const { run, argvs } = fakeRunner((argv) => (argv[1] === 'install' ? failed(1, 'Error: INSTALLATION FAILED: context deadline exceeded\n') : respond(argv)));
    await expect(KindDriver.up(2, { run, env: { WEFT_E2E_KIND_SKIP_BUILD: '1' }, clusterName: CLUSTER })).rejects.toThrow(/helm install weft .* exited with 1: Error: INSTALLATION FAILED/);
    expect(argvs().at(-1)).toMatch(new RegExp(`^kind delete cluster --name ${CLUSTER} --kubeconfig `));
  });

  it('fails when a worker kind should have made is missing', async () => {
    const twoNodes = JSON.parse(nodesJson) as { items: unknown[] };
    const { run } = fakeRunner((argv) => (has(argv, 'get', 'nodes') ? ok(JSON.stringify({ ...twoNodes, items: twoNodes.items.slice(0, 2) })) : undefined));
    await expect(KindDriver.up(2, { run, env: { WEFT_E2E_KIND_SKIP_BUILD: '1' }, clusterName: CLUSTER })).rejects.toThrow(`worker node(s) ${WORKER2} missing or not Ready`);
  });

  it('names workers as kind does', () => {
    expect(workerNodeNames('c', 3)).toEqual(['c-worker', 'c-worker2', 'c-worker3']);
    expect(kindConfig(1)).toContain('- role: control-plane\n- role: worker\n');
  });
});

describe('kind driver calls (fake runner)', () => {
  it('applies files and YAML text with kubectl, then waits for the Deployments they hold', async () => {
    const { run, calls, argvs } = fakeRunner();
    const yaml = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: default\n';
    await driverWith(run).apply({ yaml }, manifest('01-sleep-httpbin.yaml'));
    expect(argvs().slice(0, 4)).toEqual([
      `${KUBECTL} apply -f -`,
      `${KUBECTL} apply -f ${manifest('01-sleep-httpbin.yaml')}`,
      `${KUBECTL} rollout status deployment/sleep -n default --timeout=180s`,
      `${KUBECTL} rollout status deployment/httpbin -n default --timeout=180s`,
    ]);
    expect(calls[0]?.options?.input).toBe(yaml);
    // Then the mesh logs are fetched for diagnostics().
    expect(argvs().slice(4)).toEqual([
      `${KUBECTL} logs -n istio-system -l app in (istiod,ztunnel) --prefix --all-containers --tail=25 --max-log-requests=20`,
      `${KUBECTL} logs -n istio-system -l k8s-app=istio-cni-node --prefix --all-containers --tail=25 --max-log-requests=20`,
    ]);
  });

  it('waits for a waypoint Gateway to be Programmed and for its Deployment', async () => {
    const { run, argvs } = fakeRunner();
    await driverWith(run).apply({ yaml: 'apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: waypoint\n  namespace: ns1\nspec:\n  gatewayClassName: istio-waypoint\n' });
    expect(argvs().slice(1, 3)).toEqual([`${KUBECTL} wait --for=condition=Programmed gateway/waypoint -n ns1 --timeout=180s`, `${KUBECTL} rollout status deployment/waypoint -n ns1 --timeout=180s`]);
    expect(rolloutTargets('kind: Pod\nmetadata:\n  name: p\n---\nkind: Gateway\nmetadata:\n  name: g\nspec:\n  gatewayClassName: other\n')).toEqual([{ kind: 'pod', namespace: 'default', name: 'p' }]);
  });

  it('deletes with foreground cascading, waiting for the pods to go', async () => {
    const { run, calls, argvs } = fakeRunner();
    await driverWith(run).delete({ yaml: 'kind: AuthorizationPolicy' }, '/m.yaml');
    expect(argvs()).toEqual([`${KUBECTL} delete -f - --ignore-not-found --wait=true --cascade=foreground`, `${KUBECTL} delete -f /m.yaml --ignore-not-found --wait=true --cascade=foreground`]);
    expect(calls[0]?.options?.input).toBe('kind: AuthorizationPolicy');
  });

  it('throws for a failed kubectl apply, with kubectl’s message', async () => {
    const { run } = fakeRunner(() => failed(1, 'error: resource mapping not found for name: "x" namespace: "" from "STDIN": no matches for kind "Foo"\n'));
    await expect(driverWith(run).apply({ yaml: 'kind: Foo' })).rejects.toMatchObject({ code: 'ERR_E2E_KIND_COMMAND', message: expect.stringContaining('no matches for kind "Foo"') as string });
  });

  it('execs with kubectl exec (deployment/NAME as given), returning a non-zero status instead of throwing', async () => {
    const { run, calls, argvs } = fakeRunner(() => ({ code: 7, stdout: '\n__WEFT_HTTP_STATUS__000', stderr: 'curl: (7) Failed to connect to httpbin port 8000\ncommand terminated with exit code 7\n' }));
    const r = await driverWith(run).exec('default', 'deployment/sleep', ['curl', '-sS', 'http://httpbin:8000/get'], 5_000);
    expect(r.code).toBe(7);
    expect(argvs()).toEqual([`${KUBECTL} exec -n default deployment/sleep -- curl -sS http://httpbin:8000/get`]);
    expect(calls[0]?.options?.timeoutMs).toBe(5_000);
  });

  it('reads logs, labels (null removes the label) and scales', async () => {
    const pods = fixture('pods-default.json');
    const oneHttpbin = JSON.stringify({ ...(JSON.parse(pods) as object), items: [(JSON.parse(pods) as { items: unknown[] }).items[0]] });
    const { run, argvs } = fakeRunner((argv) => {
      if (has(argv, 'logs', 'httpbin-7f9c6d7b8d-4xk2p')) return ok('GET /get 200\n');
      if (has(argv, 'get', 'deployment')) return ok(JSON.stringify({ kind: 'Deployment', spec: { replicas: 1, selector: { matchLabels: { app: 'httpbin' } } } }));
      if (has(argv, 'get', 'pods')) return ok(oneHttpbin);
      return undefined;
    });
    const driver = driverWith(run);
    expect(await driver.logs('default', 'httpbin-7f9c6d7b8d-4xk2p')).toBe('GET /get 200\n');
    await driver.label({ kind: 'namespace', name: 'default' }, { 'istio.io/dataplane-mode': null });
    await driver.label({ kind: 'pod', namespace: 'ns1', name: 'p1' }, { 'istio.io/dataplane-mode': 'ambient', 'x/y': null });
    await driver.scale('default', 'httpbin', 1);
    expect(argvs().slice(0, 7)).toEqual([
      `${KUBECTL} logs -n default httpbin-7f9c6d7b8d-4xk2p`,
      `${KUBECTL} label namespace default istio.io/dataplane-mode- --overwrite`,
      `${KUBECTL} label pod p1 -n ns1 istio.io/dataplane-mode=ambient x/y- --overwrite`,
      `${KUBECTL} scale deployment/httpbin -n default --replicas=1`,
      `${KUBECTL} rollout status deployment/httpbin -n default --timeout=180s`,
      `${KUBECTL} get deployment httpbin -n default -o json`,
      `${KUBECTL} get pods -n default -l app=httpbin -o json`,
    ]);
  });

  it('makes scale wait until the removed pods are gone', async () => {
    const pods = JSON.parse(fixture('pods-default.json')) as { items: { metadata: { labels: Record<string, string>; deletionTimestamp?: string } }[] };
    const httpbin = pods.items.filter((p) => p.metadata.labels['app'] === 'httpbin');
    const terminating = [httpbin[0], { ...httpbin[1], metadata: { ...httpbin[1]?.metadata, deletionTimestamp: '2025-01-14T10:06:40Z' } }];
    let lists = 0;
    const { run } = fakeRunner((argv) => {
      if (has(argv, 'get', 'deployment')) return ok(JSON.stringify({ spec: { selector: { matchLabels: { app: 'httpbin' } } } }));
      if (has(argv, 'get', 'pods')) return ok(JSON.stringify({ items: ++lists < 3 ? terminating : httpbin.slice(0, 1) }));
      return undefined;
    });
    await driverWith(run).scale('default', 'httpbin', 1);
    expect(lists).toBe(3);
  });
});

describe('kind driver pods (fake runner, recorded kubectl and crictl outputs)', () => {
  const podsJson = fixture('pods-default.json');
  const inspectHttpbin = fixture('crictl-inspect-httpbin.json');
  const inspectpHttpbin = fixture('crictl-inspectp-httpbin.json');
  const scanWorker = fixture('netns-scan-worker.txt');

  /** crictl's answer for another container/sandbox: the recorded httpbin one with its PID and sandbox replaced. */
  const inspectAs = (pid: number, sandboxId: string): string => {
    const doc = JSON.parse(inspectHttpbin) as { info: { pid: number; sandboxID: string } };
    return JSON.stringify({ ...doc, info: { ...doc.info, pid, sandboxID: sandboxId } });
  };
  const inspectpAs = (pid: number): string => {
    const doc = JSON.parse(inspectpHttpbin) as { info: { pid: number } };
    return JSON.stringify({ ...doc, info: { ...doc.info, pid } });
  };

  function respond(argv: readonly string[]): ExecResult | undefined {
    if (has(argv, 'get', 'pods')) return ok(podsJson);
    if (argv[0] !== 'docker' || argv[1] !== 'exec') return undefined;
    const [node, ...inNode] = argv.slice(2);
    if (inNode[0] === 'sh') return ok(node === WORKER ? scanWorker : '1 net:[4026532285]\n3001 net:[4026532600]\n3007 net:[4026532600]\n');
    const id = inNode.at(-1) ?? '';
    if (inNode[1] === 'inspect') {
      if (id.startsWith('a3f1')) return ok(inspectHttpbin);
      if (id.startsWith('c5f3')) return ok(inspectAs(2466, 'sandbox-sleep'));
      if (id.startsWith('b4e2')) return ok(inspectAs(3007, 'sandbox-httpbin2'));
    }
    if (inNode[1] === 'inspectp') {
      if (id.startsWith('9e0d')) return ok(inspectpHttpbin);
      if (id === 'sandbox-sleep') return ok(inspectpAs(2411));
      if (id === 'sandbox-httpbin2') return ok(inspectpAs(3001));
    }
    return failed(1, `time="2025-01-14T10:07:00Z" level=fatal msg="no such container ${id}"`);
  }

  it('maps kubectl get pods -o json: node, IP, labels, Ready condition (a terminating pod is not ready)', () => {
    const records = parsePods(podsJson);
    expect(records.map((r) => [r.name, r.node, r.ip, r.ready, r.terminating, r.containerIds.length])).toEqual([
      ['httpbin-7f9c6d7b8d-4xk2p', WORKER, '10.244.1.5', true, false, 1],
      ['httpbin-7f9c6d7b8d-qm8vz', WORKER2, '10.244.2.4', true, false, 1],
      ['sleep-5b8d7f6c9d-7hjwq', WORKER, '10.244.1.4', true, false, 1],
      ['other-6c9f8d7b5e-x2l9d', WORKER2, '10.244.2.9', false, true, 0],
    ]);
    expect(records[0]?.containerIds).toEqual(['a3f1c9e27b5d4086e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8']);
    expect(records[0]?.labels).toEqual({ app: 'httpbin', 'pod-template-hash': '7f9c6d7b8d', version: 'v1' });
  });

  it('gives PIDs from crictl inspect (info.pid) and the pod network namespace without the sandbox’s pause process', async () => {
    const { run, argvs } = fakeRunner(respond);
    const pods = await driverWith(run).pods('default', { app: 'httpbin' });
    expect(argvs()[0]).toBe(`${KUBECTL} get pods -n default -l app=httpbin -o json`);
    const byName = Object.fromEntries(pods.map((p) => [p.name, p]));
    // gunicorn's master (the container's process) and its worker share the pod's network namespace.
    expect(byName['httpbin-7f9c6d7b8d-4xk2p']).toMatchObject({ node: WORKER, ip: '10.244.1.5', ready: true, containerPids: [2718], pids: [2718, 2731] });
    expect(byName['httpbin-7f9c6d7b8d-qm8vz']).toMatchObject({ node: WORKER2, containerPids: [3007], pids: [3007] });
    expect(byName['sleep-5b8d7f6c9d-7hjwq']).toMatchObject({ containerPids: [2466], pids: [2466] });
    // A pod whose containers are gone has no PIDs rather than failing the call.
    expect(byName['other-6c9f8d7b5e-x2l9d']).toMatchObject({ ready: false, containerPids: [], pids: [] });
    expect(pods.map((p) => p.name)).toEqual([...pods.map((p) => p.name)].sort());
    expect(argvs()).toEqual(
      expect.arrayContaining([
        `docker exec ${WORKER} crictl inspect -o json a3f1c9e27b5d4086e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8`,
        `docker exec ${WORKER} crictl inspectp -o json 9e0d1c2b3a4f5e6d7c8b9a0f1e2d3c4b5a6f7e8d9c0b1a2f3e4d5c6b7a8f9e0d`,
        `docker exec ${WORKER2} crictl inspect -o json b4e2d0f38c6e5197f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809`,
        expect.stringMatching(new RegExp(`^docker exec ${WORKER} sh -c for p in /proc/`)) as string,
      ]),
    );
  });

  it('parses the /proc scan and leaves out the sandbox process', () => {
    const scan = parseNetnsScan(scanWorker);
    expect(scan.get(2602)).toBe('net:[4026532573]');
    expect(podNetnsPids(scan, 2602)).toEqual([2718, 2731]);
    expect(podNetnsPids(scan, 99999)).toEqual([]);
  });
});

describe('kind driver ztunnel, controlplane and capture (fake runner)', () => {
  const ztunnelPods = JSON.stringify({
    kind: 'List',
    items: [
      {
        metadata: { name: 'ztunnel-8kq2d', namespace: 'istio-system', labels: { app: 'ztunnel' } },
        spec: { nodeName: WORKER },
        status: { podIP: '10.244.1.2', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'istio-proxy', containerID: 'containerd://0f1e2d', state: { running: {} } }] },
      },
    ],
  });
  const dump = { workloads: [{ uid: 'Kubernetes//Pod/default/sleep-1', name: 'sleep-1', namespace: 'default', workloadIps: ['10.244.1.4'], protocol: 'HBONE', serviceAccount: 'sleep', node: WORKER, authorizationPolicies: [] }], policies: [] };

  it('reads /config_dump with a fetch run by Node inside the node’s ztunnel pod (its admin port is loopback-only)', async () => {
    const { run, argvs } = fakeRunner((argv) => (has(argv, 'get', 'pods') ? ok(ztunnelPods) : has(argv, 'exec') ? ok(JSON.stringify(dump)) : undefined));
    const driver = driverWith(run);
    expect(await driver.ztunnelConfig(WORKER)).toEqual(dump);
    await driver.ztunnelConfig(WORKER);
    expect(argvs()).toEqual([
      `${KUBECTL} get pods -n istio-system -l app=ztunnel --field-selector spec.nodeName=${WORKER} -o json`,
      `${KUBECTL} exec -n istio-system ztunnel-8kq2d -c istio-proxy -- node -e ${ZTUNNEL_CONFIG_SCRIPT}`,
      // The pod is remembered while calls through it succeed.
      `${KUBECTL} exec -n istio-system ztunnel-8kq2d -c istio-proxy -- node -e ${ZTUNNEL_CONFIG_SCRIPT}`,
    ]);
  });

  it('reads ztunnel metrics and config_errors through the API server proxy', async () => {
    const errors = { rejected: {}, problems: [{ level: 'warning', code: 'W', object: 'AuthorizationPolicy default/httpbin-access', field: 'spec.rules[0].to[0].operation.ports[0]', message: 'use port 80' }] };
    const { run, argvs } = fakeRunner((argv) => {
      if (has(argv, 'get', 'pods')) return ok(ztunnelPods);
      if (argv.some((a) => a.endsWith('/proxy/metrics'))) return ok('# TYPE istio_build gauge\nistio_build{component="ztunnel"} 1\n');
      if (argv.some((a) => a.endsWith('/config_errors'))) return ok(JSON.stringify(errors));
      return undefined;
    });
    const driver = driverWith(run);
    expect(await driver.ztunnelMetrics(WORKER)).toContain('istio_build');
    expect(await driver.configErrors()).toEqual(errors);
    expect(argvs().slice(1)).toEqual([
      `${KUBECTL} get --raw /api/v1/namespaces/istio-system/pods/ztunnel-8kq2d:15020/proxy/metrics`,
      `${KUBECTL} get --raw /api/v1/namespaces/istio-system/services/istiod:http-monitoring/proxy/debug/config_errors`,
    ]);
  });

  it('forgets a ztunnel pod a call failed through, and finds the node’s pod again', async () => {
    let execs = 0;
    const { run, argvs } = fakeRunner((argv) => (has(argv, 'get', 'pods') ? ok(ztunnelPods) : ++execs === 1 ? failed(1, 'Error from server (NotFound): pods "ztunnel-8kq2d" not found') : ok(JSON.stringify(dump))));
    const driver = driverWith(run);
    await expect(driver.ztunnelConfig(WORKER)).rejects.toThrow('pods "ztunnel-8kq2d" not found');
    await driver.ztunnelConfig(WORKER);
    expect(argvs().filter((a) => a.includes('get pods'))).toHaveLength(2);
  });

  it('waitForZtunnels polls every worker and fails with the mesh logs after its timeout', async () => {
    const { run } = fakeRunner((argv) => {
      if (has(argv, 'get', 'pods')) return ok(ztunnelPods);
      if (has(argv, 'exec')) return ok(JSON.stringify(dump));
      if (has(argv, 'logs')) return ok('[pod/ztunnel-8kq2d/istio-proxy] xds: connected\n');
      return undefined;
    });
    const driver = driverWith(run);
    const nodesSeen = new Set<string>();
    await expect(
      driver.waitForZtunnels(
        (d, node) => {
          nodesSeen.add(node);
          return d.workloads.length > 5;
        },
        'six workloads',
        300,
      ),
    ).rejects.toThrow(/timed out after 300 ms waiting for the ztunnels: six workloads\n.*xds: connected/s);
    expect([...nodesSeen].sort()).toEqual([WORKER, WORKER2]);
    expect(driver.diagnostics()).toContain('xds: connected');
  });

  it('captures with tcpdump on the kind network’s bridge, from a host-network container, and stops it with SIGINT', async () => {
    const packets = fixture('tcpdump-hbone.txt');
    const { run, calls, argvs } = fakeRunner((argv, options) => {
      if (has(argv, 'network', 'inspect')) return ok(fixture('docker-network-inspect-kind.json'));
      if (has(argv, 'run', TCPDUMP_IMAGE)) {
        return new Promise<ExecResult>((resolve) => {
          setTimeout(() => options?.onStderr?.('tcpdump: verbose output suppressed, use -v[v]... for full protocol decode\nlistening on br-7d1e0b9f4c2a, link-type EN10MB (Ethernet), snapshot length 262144 bytes\n'), 10);
          options?.signal?.addEventListener('abort', () => resolve({ code: 0, stdout: packets, stderr: '2 packets captured\n' }));
        });
      }
      return undefined;
    });
    const driver = driverWith(run);
    const capture = await driver.capture();
    expect(await capture.stop()).toBe(packets);
    expect(argvs()).toEqual([
      `docker pull ${TCPDUMP_IMAGE}`,
      'docker network inspect kind',
      `docker run --rm --name ${CLUSTER}-capture-1 --network host --cap-add NET_ADMIN --cap-add NET_RAW ${TCPDUMP_IMAGE} tcpdump -i br-7d1e0b9f4c2a -nn -l -U -A tcp`,
    ]);
    expect(calls[2]?.options?.encoding).toBe('latin1');
    // A second capture reuses the image and the bridge.
    const again = await driver.capture();
    await again.stop();
    expect(argvs().slice(3)).toEqual([expect.stringContaining(`--name ${CLUSTER}-capture-2 `) as string]);
  });

  it('fails a capture whose tcpdump exits before listening, with its stderr', async () => {
    const { run } = fakeRunner((argv) => {
      if (has(argv, 'network', 'inspect')) return ok(fixture('docker-network-inspect-kind.json'));
      if (has(argv, 'run')) return failed(1, 'tcpdump: br-7d1e0b9f4c2a: No such device exists\n');
      return undefined;
    });
    await expect(driverWith(run).capture()).rejects.toThrow(/tcpdump did not start on br-7d1e0b9f4c2a \(exited\)/);
  });

  it('names the bridge from the network’s bridge-name option when it has one', () => {
    expect(parseBridgeName(JSON.stringify([{ Id: '7d1e0b9f4c2a8e63', Options: { 'com.docker.network.bridge.name': 'kindbr0' } }]))).toBe('kindbr0');
  });
});

describe('process runner (real child processes)', () => {
  const run = createProcessRunner();
  const node = process.execPath;

  it('returns the exit status and output, and feeds stdin', async () => {
    expect(await run([node, '-e', 'process.stdin.pipe(process.stdout); process.stdin.on("end", () => { process.stderr.write("e"); process.exitCode = 3; })'], { input: 'hello' })).toEqual({ code: 3, stdout: 'hello', stderr: 'e' });
  });

  it('says 127 for a program that is not installed', async () => {
    expect((await run(['weft-no-such-program-e2e'])).code).toBe(NOT_FOUND);
  });

  it('kills at the timeout with status 124', async () => {
    expect((await run([node, '-e', 'setTimeout(() => {}, 60000)'], { timeoutMs: 200 })).code).toBe(TIMED_OUT);
  });

  it('stops a long-running command with SIGINT on abort, keeping what it wrote', async () => {
    const stopper = new AbortController();
    const script = 'process.on("SIGINT", () => { process.stdout.write("bye"); process.exit(0); }); process.stderr.write("listening on x\\n"); setInterval(() => {}, 1000);';
    const done = run([node, '-e', script], { signal: stopper.signal, onStderr: (chunk) => chunk.includes('listening on') && stopper.abort() });
    expect(await done).toEqual({ code: 0, stdout: 'bye', stderr: 'listening on x\n' });
  });
});
