// `meshctl local up/status/down` end to end (root only): the built meshctl starts a 2-node cluster in per-run
// network namespaces and returns while it keeps running; `status` reports it; `down` — also after one of its
// processes was killed, and after `up` itself was killed halfway — stops exactly the recorded PIDs and deletes
// exactly the recorded namespaces, leaving nothing behind. Fails (never skips) with what to install.

import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { parse } from 'yaml';

import { httpGetIn, isRunning, parseState, requirePrerequisites, STATE_FILE, type ClusterState } from '@weft/local-cluster';

jest.setTimeout(120_000);

const MESHCTL = path.resolve(__dirname, '../dist/main.js');

function meshctl(...args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [MESHCTL, ...args], { encoding: 'utf8', timeout: 100_000 });
}

const describeResult = (r: SpawnSyncReturns<string>): string => `exit ${String(r.status)}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;

function readState(stateDir: string): ClusterState {
  return parseState(readFileSync(path.join(stateDir, STATE_FILE), 'utf8'));
}

function netnsWithPrefix(prefix: string): string[] {
  return spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name.startsWith(prefix));
}

/** Nothing of the run is left: no namespace with its prefix, none of its processes, no state. */
function expectNothingLeft(state: ClusterState, stateDir: string): void {
  expect(netnsWithPrefix(state.prefix)).toEqual([]);
  expect(state.processes.filter((p) => isRunning(p)).map((p) => `${p.name} ${p.pid}`)).toEqual([]);
  expect(existsSync(path.join(stateDir, STATE_FILE))).toBe(false);
}

describe('meshctl local up / status / down', () => {
  const base = mkdtempSync(path.join(tmpdir(), 'weft-meshctl-local-'));
  const dirs: string[] = [];
  const stateDir = (name: string): string => {
    const dir = path.join(base, name);
    dirs.push(dir);
    return dir;
  };

  beforeAll(() => {
    requirePrerequisites();
    if (!existsSync(MESHCTL)) throw new Error(`missing ${MESHCTL}: run npx nx run-many -t build -p meshctl`);
  });

  afterAll(() => {
    // Whatever a failed test left: `down` removes exactly what each state file records.
    for (const dir of dirs) if (existsSync(path.join(dir, STATE_FILE))) meshctl('local', 'down', '--state-dir', dir);
    rmSync(base, { recursive: true, force: true });
  });

  it('brings a 2-node cluster up and keeps it running, reports it, refuses a second one, and takes it down', () => {
    const dir = stateDir('full');
    const up = meshctl('local', 'up', '--nodes', '2', '--state-dir', dir);
    expect({ status: up.status, output: describeResult(up) }).toMatchObject({ status: 0 });
    expect(up.stdout).toMatch(/Weft local cluster wt[0-9a-f]{6} is up: 2 node\(s\)/);
    expect(up.stdout).toContain(`local down --state-dir ${dir}`);

    const state = readState(dir);
    expect(state.phase).toBe('up');
    expect(state.nodes.map((n) => n.name)).toEqual(['node-a', 'node-b']);
    expect(state.processes.map((p) => p.name)).toEqual(['controlplane', 'cni-node-node-a', 'cni-node-node-b', 'ztunnel-node-a', 'ztunnel-node-b']);
    // `up` has exited; what it started keeps running.
    expect(state.processes.every((p) => isRunning(p))).toBe(true);
    expect(netnsWithPrefix(state.prefix).sort()).toEqual([`${state.prefix}-node-a`, `${state.prefix}-node-b`, `${state.prefix}-underlay`]);
    for (const p of state.processes) expect(existsSync(p.log)).toBe(true);
    expect(existsSync(path.join(dir, 'manifests'))).toBe(true);
    expect(existsSync(path.join(dir, 'ca', 'self-signed-ca-cert.pem'))).toBe(true);

    const status = meshctl('local', 'status', '--state-dir', dir, '-o', 'json');
    expect({ status: status.status, output: describeResult(status) }).toMatchObject({ status: 0 });
    const report = JSON.parse(status.stdout) as { prefix: string; controlplaneReady: boolean; ztunnelReady: Record<string, boolean>; processes: { running: boolean }[] };
    expect(report).toMatchObject({ prefix: state.prefix, controlplaneReady: true, ztunnelReady: { 'node-a': true, 'node-b': true } });
    expect(report.processes.every((p) => p.running)).toBe(true);
    const table = meshctl('local', 'status', '--state-dir', dir);
    expect(table.stdout).toMatch(/ztunnel-node-b\s+\d+\s+true\s+true/);

    const again = meshctl('local', 'up', '--state-dir', dir);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain(`a local cluster (run ${state.prefix}) is already recorded in ${dir}`);
    expect(readState(dir).processes.every((p) => isRunning(p))).toBe(true);

    const down = meshctl('local', 'down', '--state-dir', dir);
    expect({ status: down.status, output: describeResult(down) }).toMatchObject({ status: 0 });
    expect(down.stdout).toContain(`cluster ${state.prefix} removed: stopped 5 process(es), deleted 3 namespace(s)`);
    expectNothingLeft(state, dir);
    expect(existsSync(dir)).toBe(false);

    const twice = meshctl('local', 'down', '--state-dir', dir);
    expect(twice.status).toBe(0);
    expect(twice.stdout).toContain('nothing to do');
    const none = meshctl('local', 'status', '--state-dir', dir);
    expect(none.status).toBe(1);
    expect(none.stderr).toContain('no local cluster is recorded');
  });

  it('cleans up after a process of the cluster was killed', () => {
    const dir = stateDir('crashed-process');
    const up = meshctl('local', 'up', '--state-dir', dir);
    expect({ status: up.status, output: describeResult(up) }).toMatchObject({ status: 0 });
    const state = readState(dir);
    const ztunnel = state.processes.find((p) => p.name === 'ztunnel-node-a');
    if (ztunnel === undefined) throw new Error('no ztunnel-node-a recorded');
    process.kill(ztunnel.pid, 'SIGKILL');
    const deadline = Date.now() + 5_000;
    while (isRunning(ztunnel) && Date.now() < deadline) spawnSync('sleep', ['0.05']);

    const status = meshctl('local', 'status', '--state-dir', dir);
    expect(status.status).toBe(3);
    expect(status.stdout).toMatch(/ztunnel-node-a\s+\d+\s+false\s+false/);

    const down = meshctl('local', 'down', '--state-dir', dir);
    expect({ status: down.status, output: describeResult(down) }).toMatchObject({ status: 0 });
    expectNothingLeft(state, dir);
  });

  it('cleans up after `up` itself was killed halfway', async () => {
    const dir = stateDir('crashed-up');
    const child = spawn(process.execPath, [MESHCTL, 'local', 'up', '--state-dir', dir], { stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // Kill `up` as soon as it has started its first process (the network exists, nothing is ready yet).
    const deadline = Date.now() + 30_000;
    let state: ClusterState | undefined;
    while (Date.now() < deadline) {
      try {
        state = readState(dir);
        if (state.processes.length > 0) break;
      } catch {
        // not written yet
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill('SIGKILL');
    await exited;
    state = readState(dir);
    expect(state.phase).toBe('creating');
    expect(state.processes.length).toBeGreaterThan(0);
    expect(netnsWithPrefix(state.prefix).length).toBeGreaterThan(0);

    const down = meshctl('local', 'down', '--state-dir', dir);
    expect({ status: down.status, output: describeResult(down) }).toMatchObject({ status: 0 });
    expectNothingLeft(state, dir);
  });
  it('applies an ambient namespace, a 2-replica Deployment and a Service, serves /get across nodes, and deletes them', async () => {
    const dir = stateDir('apply');
    const fixture = path.resolve(__dirname, 'fixtures/httpbin-ambient.yaml');
    const up = meshctl('local', 'up', '--nodes', '2', '--state-dir', dir);
    expect({ status: up.status, output: describeResult(up) }).toMatchObject({ status: 0 });
    const prefix = readState(dir).prefix;

    const apply = meshctl('local', 'apply', '-f', fixture, '--state-dir', dir);
    expect({ status: apply.status, output: describeResult(apply) }).toMatchObject({ status: 0 });
    expect(apply.stdout).toContain('namespace/demo created');
    expect(apply.stdout).toContain('service/httpbin created');

    const podFiles = readdirSync(path.join(dir, 'manifests')).filter((f) => f.startsWith('pod.demo.httpbin-'));
    expect(podFiles).toHaveLength(2);
    const pods = podFiles.map(
      (f) =>
        parse(readFileSync(path.join(dir, 'manifests', f), 'utf8')) as {
          metadata: { name: string; uid: string; labels: Record<string, string>; ownerReferences: { kind: string; name: string }[] };
          spec: { nodeName: string; serviceAccountName: string };
          status: { podIP: string; conditions: { type: string; status: string }[] };
        },
    );
    for (const pod of pods) {
      expect(pod.metadata.name).toMatch(/^httpbin-[0-9a-f]{10}-\d+$/);
      expect(pod.metadata.labels['app']).toBe('httpbin');
      expect(pod.metadata.ownerReferences[0]).toMatchObject({ kind: 'ReplicaSet', name: expect.stringMatching(/^httpbin-[0-9a-f]{10}$/) as unknown });
      expect(pod.spec.serviceAccountName).toBe('default');
      expect(pod.status.podIP).toMatch(/^10\.244\.\d+\.\d+$/);
      expect(pod.status.conditions).toContainEqual({ type: 'Ready', status: 'True', lastTransitionTime: expect.any(String) as unknown });
    }
    expect(new Set(pods.map((p) => p.spec.nodeName))).toEqual(new Set(['node-a', 'node-b']));
    const service = parse(readFileSync(path.join(dir, 'manifests', 'service.demo.httpbin.yaml'), 'utf8')) as { spec: { clusterIP: string } };
    expect(service.spec.clusterIP).toMatch(/^10\.(9[6-9]|10\d|11[01])\./);

    const state = readState(dir);
    const podNetns = state.netns.filter((n) => n.startsWith(`${prefix}-pod-`));
    expect(podNetns).toHaveLength(2);
    expect(state.processes.filter((p) => p.role === 'app' && isRunning(p))).toHaveLength(2);
    // From inside one pod (on one node) to the other pod (on the other node), through the ztunnels.
    const [a, b] = pods;
    const targetIp = a?.spec.nodeName === 'node-a' ? b?.status.podIP : a?.status.podIP;
    const fromNetns = podNetns[0] ?? '';
    let res = await httpGetIn(fromNetns, `http://${targetIp ?? ''}:80/get`);
    for (let i = 0; i < 50 && res.status !== 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      res = await httpGetIn(fromNetns, `http://${targetIp ?? ''}:80/get`);
    }
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ url: expect.stringContaining('/get') as unknown });

    const del = meshctl('local', 'delete', '-f', fixture, '--state-dir', dir);
    expect({ status: del.status, output: describeResult(del) }).toMatchObject({ status: 0 });
    const after = readState(dir);
    expect(after.processes.map((p) => p.name)).toEqual(['controlplane', 'cni-node-node-a', 'cni-node-node-b', 'ztunnel-node-a', 'ztunnel-node-b']);
    expect(netnsWithPrefix(prefix).sort()).toEqual([`${prefix}-node-a`, `${prefix}-node-b`, `${prefix}-underlay`]);
    expect(readdirSync(path.join(dir, 'manifests')).filter((f) => !f.startsWith('.'))).toEqual([]);
    for (const p of state.processes.filter((p) => p.role === 'app')) expect(isRunning(p)).toBe(false);

    const down = meshctl('local', 'down', '--state-dir', dir);
    expect({ status: down.status, output: describeResult(down) }).toMatchObject({ status: 0 });
    expectNothingLeft(state, dir);
  });
  it('up --demo, then exec, logs, ztunnel-config --node, label (live), scale, rollout restart and a waypoint through the CLI', async () => {
    const dir = stateDir('demo');
    const up = meshctl('local', 'up', '--demo', '--state-dir', dir);
    expect({ status: up.status, output: describeResult(up) }).toMatchObject({ status: 0 });
    expect(up.stdout).toContain('local exec deploy/sleep');
    const state = readState(dir);
    const sd = ['--state-dir', dir];

    const get = meshctl('local', 'exec', 'deploy/sleep', ...sd, '--', 'curl', '-sS', '-m', '5', 'http://httpbin:8000/get?from=cli');
    expect({ status: get.status, output: describeResult(get) }).toMatchObject({ status: 0 });
    expect(JSON.parse(get.stdout)).toMatchObject({ url: 'http://httpbin:8000/get?from=cli' });
    const failing = meshctl('local', 'exec', 'deploy/sleep', ...sd, '--', 'sh', '-c', 'exit 7');
    expect(failing.status).toBe(7);
    const missing = meshctl('local', 'exec', 'nope', ...sd, '--', 'true');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('pods "nope" not found in namespace default');

    const logs = [meshctl('local', 'logs', 'deploy/httpbin', ...sd).stdout];
    const pods = readdirSync(path.join(dir, 'pods')).filter((f) => f.startsWith('default.httpbin-')).map((f) => f.replace(/^default\.|\.json$/g, ''));
    expect(pods).toHaveLength(2);
    for (const pod of pods) logs.push(meshctl('local', 'logs', pod, ...sd).stdout);
    expect(logs.join('')).toContain('GET /get?from=cli 200');

    const hbone = meshctl('zc', 'workload', '--node', 'node-b', ...sd);
    expect(hbone.stdout).toMatch(/default\s+sleep-[0-9a-f]{10}-0\s+10\.244\.\d+\.\d+\s+node-\w\s+None\s+HBONE/);

    const label = meshctl('local', 'label', 'ns', 'default', 'istio.io/dataplane-mode-', ...sd);
    expect({ status: label.status, output: describeResult(label) }).toMatchObject({ status: 0 });
    expect(label.stdout).toBe('namespace/default labeled\n');
    let tcp = meshctl('zc', 'workload', '--node', 'node-b', ...sd).stdout;
    for (let i = 0; i < 100 && /HBONE/.test(tcp); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      tcp = meshctl('zc', 'workload', '--node', 'node-b', ...sd).stdout;
    }
    expect(tcp).not.toContain('HBONE');
    expect(tcp).toMatch(/sleep-[0-9a-f]{10}-0 .* TCP/);
    const refused = meshctl('local', 'label', 'ns', 'default', 'a=b', ...sd);
    expect(refused.status).toBe(0);
    const overwrite = meshctl('local', 'label', 'ns', 'default', 'a=c', ...sd);
    expect(overwrite.status).toBe(1);
    expect(overwrite.stderr).toContain("'a' already has a value (b), and --overwrite is false");

    const scale = meshctl('local', 'scale', 'deployment/httpbin', '--replicas', '3', ...sd);
    expect({ status: scale.status, output: describeResult(scale) }).toMatchObject({ status: 0 });
    const httpbinPods = (): string[] => readdirSync(path.join(dir, 'pods')).filter((f) => f.startsWith('default.httpbin-')).sort();
    expect(httpbinPods()).toHaveLength(3);
    const before = httpbinPods();
    const restart = meshctl('local', 'rollout', 'restart', 'deployment/httpbin', ...sd);
    expect({ status: restart.status, output: describeResult(restart) }).toMatchObject({ status: 0 });
    const after = httpbinPods();
    expect(after).toHaveLength(3);
    expect(after.filter((f) => before.includes(f))).toEqual([]);
    const again = meshctl('local', 'exec', 'deploy/sleep', ...sd, '--', 'curl', '-sS', '-m', '5', '-o', '/dev/null', '-w', '%{http_code}', 'http://httpbin.default.svc.cluster.local:8000/status/204');
    expect(again.stdout).toBe('204');

    // A waypoint as istioctl deploys one: the cluster runs it, the namespace binds to it, traffic goes through it.
    expect(meshctl('local', 'label', 'ns', 'default', 'istio.io/dataplane-mode=ambient', ...sd).status).toBe(0);
    const wp = meshctl('waypoint', 'apply', '--enroll-namespace', ...sd);
    expect({ status: wp.status, output: describeResult(wp) }).toMatchObject({ status: 0 });
    expect(wp.stdout).toContain('✅ waypoint default/waypoint applied');
    expect(wp.stdout).toContain('✅ namespace default labeled with "istio.io/use-waypoint: waypoint"');
    expect(meshctl('waypoint', 'list', ...sd).stdout).toMatch(/default\s+waypoint\s+service\s+True/);
    let viaWaypoint = '';
    for (let i = 0; i < 50; i++) {
      viaWaypoint = meshctl('local', 'logs', 'deploy/waypoint', ...sd).stdout;
      meshctl('local', 'exec', 'deploy/sleep', ...sd, '--', 'curl', '-sS', '-m', '5', '-o', '/dev/null', 'http://httpbin:8000/status/202');
      if (viaWaypoint.includes('"response_code":202')) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(viaWaypoint).toContain('"response_code":202');
    const wpDelete = meshctl('waypoint', 'delete', ...sd);
    expect(wpDelete.stdout).toBe('✅ waypoint default/waypoint deleted\n');
    expect(meshctl('waypoint', 'list', ...sd).stdout).toBe('No waypoints found in namespace default.\n');

    const podNetns = readState(dir).netns.filter((n) => n.startsWith(`${state.prefix}-pod-`));
    expect(podNetns).toHaveLength(4);
    for (const ns of podNetns) expect(existsSync(`/etc/netns/${ns}/hosts`)).toBe(true);
    const down = meshctl('local', 'down', ...sd);
    expect({ status: down.status, output: describeResult(down) }).toMatchObject({ status: 0 });
    for (const ns of podNetns) expect(existsSync(`/etc/netns/${ns}`)).toBe(false);
    expectNothingLeft(state, dir);
  });
});
