// The L4 data plane end to end in in-pod mode (root only): the local cluster of DESIGN.md §5 in per-run network
// namespaces — controlplane, cni-node agents and ztunnels as the built processes inside node netns, pods networked
// by the real CNI chain with Weft's plugin, apps as processes inside pod netns. sleep (node-a) talks to echo
// (node-b) by pod IP and by service VIP; in-pod redirection sends it through both ztunnels over HBONE (reference
// §5.3, §2). Fails (never skips) with what to install when a prerequisite is missing.

import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';

import { isRunning } from '@weft/local-cluster';
import { eventually, ManagedProcesses, withTimeout, type ManagedProcess } from '@weft/testing';

import { NetnsCluster, requireClusterPrerequisites, runNodeIn, type ClusterPod } from './netns-cluster';

jest.setTimeout(90_000);

const ECHO_VIP = '10.96.0.50';

/** The echo app: writes back what it reads, and logs each client's address as `conn <ip>`. */
const ECHO_APP = `
const net = require('node:net');
net.createServer((s) => {
  console.log('conn ' + s.remoteAddress.replace(/^::ffff:/, ''));
  s.on('error', () => {});
  s.pipe(s);
}).listen(8080, '0.0.0.0', () => console.log('listening'));`;

/** The client app: connects to argv host:port, sends its stdin, half-closes, prints the reply as hex. */
const CLIENT_APP = `
const net = require('node:net');
const [host, port] = process.argv.slice(1);
const input = [];
process.stdin.on('data', (c) => input.push(c));
process.stdin.on('end', () => {
  const s = net.connect({ host, port: Number(port) }, () => s.end(Buffer.concat(input)));
  const chunks = [];
  s.on('data', (c) => chunks.push(c));
  s.on('end', () => { process.stdout.write(Buffer.concat(chunks).toString('hex')); process.exit(0); });
  s.on('error', (e) => { console.error(String(e)); process.exit(3); });
});
setTimeout(() => { console.error('client timed out'); process.exit(4); }, 10000);`;

const principal = (sa: string): string => `spiffe://cluster.local/ns/default/sa/${sa}`;

/** `istio_tcp_connections_opened_total` samples as label maps with their values. */
function openedSamples(metrics: string): { labels: Record<string, string>; value: number }[] {
  const samples: { labels: Record<string, string>; value: number }[] = [];
  for (const line of metrics.split('\n')) {
    const match = /^istio_tcp_connections_opened_total\{(.*)\}\s+(\S+)$/.exec(line);
    if (match === null) continue;
    const labels: Record<string, string> = {};
    for (const [, key = '', value = ''] of (match[1] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key] = value;
    samples.push({ labels, value: Number(match[2]) });
  }
  return samples;
}

describe('in-pod mode: two nodes, the real CNI chain, controlplane, cni-node agents and ztunnels as processes', () => {
  let cluster: NetnsCluster;
  let sleep: ClusterPod;
  let echo: ClusterPod;
  let echoApp: ManagedProcess;
  const capture = new ManagedProcesses();

  const send = async (host: string, port: number, payload: Buffer): Promise<Buffer> => {
    const hex = await runNodeIn(cluster.processes, sleep.netns, `client → ${host}:${port}`, CLIENT_APP, [host, String(port)], 15_000, payload).catch((cause: unknown) => {
      throw new Error(`${String(cause)}\n${cluster.logs(30)}`);
    });
    return Buffer.from(hex.trim(), 'hex');
  };

  beforeAll(async () => {
    requireClusterPrerequisites();
    cluster = await NetnsCluster.create();
    await cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default', labels: { 'istio.io/dataplane-mode': 'ambient' } } } as never);
    await cluster.apply({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'echo', namespace: 'default' },
      spec: { clusterIP: ECHO_VIP, clusterIPs: [ECHO_VIP], selector: { app: 'echo' }, ports: [{ name: 'tcp-echo', port: 80, targetPort: 8080 }] },
    } as never);
    await cluster.startControlplane();
    await Promise.all([cluster.startCniNode('node-a'), cluster.startCniNode('node-b')]);
    cluster.startZtunnel('node-a');
    cluster.startZtunnel('node-b');
    sleep = await cluster.createPod({ name: 'sleep', namespace: 'default', uid: 'uid-sleep-0001', serviceAccount: 'sleep', node: 'node-a' });
    echo = await cluster.createPod({ name: 'echo', namespace: 'default', uid: 'uid-echo-0001', serviceAccount: 'echo', node: 'node-b', labels: { app: 'echo' }, containerPorts: [8080] });
    echoApp = cluster.processes.start('echo app', echo.netns.name, [process.execPath, '-e', ECHO_APP]);
    await eventually(() => echoApp.output().includes('listening'), 'the echo app to listen', 10_000, () => cluster.logs());
    await eventually(async () => (await cluster.ztunnelReady('node-a')) && (await cluster.ztunnelReady('node-b')), 'both ztunnels ready', 30_000, () => cluster.logs());
    // Both workloads are HBONE with their IPs in both ztunnels once the agents' redirection status and the pods'
    // IPs reached the controlplane and its pushes reached the ztunnels.
    for (const node of ['node-a', 'node-b'] as const) {
      await eventually(
        async () => {
          const dump = await cluster.httpGet(cluster.node(node).netns, 'http://127.0.0.1:15000/config_dump');
          if (dump.status !== 200) return false;
          const workloads = (JSON.parse(dump.body) as { workloads: { name: string; protocol: string; workloadIps: string[] }[] }).workloads;
          return [sleep, echo].every((pod) => workloads.some((w) => w.name === pod.spec.name && w.protocol === 'HBONE' && w.workloadIps.includes(pod.ip)));
        },
        `sleep and echo to be HBONE workloads with their IPs in ztunnel ${node}`,
        20_000,
        () => cluster.logs(),
      );
    }
  });

  afterAll(async () => {
    await capture.stopAll(2_000);
    const prefix = cluster?.prefix;
    const started = cluster?.local.state.processes.slice() ?? [];
    await cluster?.close();
    const survivors = started.filter((p) => isRunning(p));
    if (survivors.length > 0) throw new Error(`cluster processes left running: ${survivors.map((p) => `${p.name} ${p.pid}`).join(', ')}`);
    if (prefix !== undefined) {
      const left = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').filter((line) => line.startsWith(prefix));
      if (left.length > 0) throw new Error(`namespaces left behind: ${left.join(', ')}`);
    }
    const running = [...(cluster?.processes.running() ?? []), ...capture.running()];
    if (running.length > 0) throw new Error(`child processes left running: ${running.join(', ')}`);
  });

  it('pods got addresses from their node CIDR and the agents enrolled them', async () => {
    expect(sleep.ip).toMatch(/^10\.244\.1\.\d+$/);
    expect(echo.ip).toMatch(/^10\.244\.2\.\d+$/);
    for (const node of ['node-a', 'node-b'] as const) {
      const status = JSON.parse(await readFile(path.join(cluster.manifests, '.weft', `cni-${node}.json`), 'utf8')) as { statuses: Record<string, { annotations?: Record<string, string> }> };
      const pod = node === 'node-a' ? 'sleep' : 'echo';
      expect(status.statuses[`Pod/default/${pod}`]?.annotations?.['ambient.istio.io/redirection']).toBe('enabled');
    }
    expect(sleep.netns.exec('iptables-nft-save', '-t', 'nat')).toMatch(/-j REDIRECT --to-ports 15001/);
  });

  it('echoes bytes from sleep to the echo pod IP through both ztunnels, and the app sees the sleep pod as the source', async () => {
    const payload = randomBytes(64 * 1024);
    const reply = await send(echo.ip, 8080, payload);
    expect(reply.length).toBe(payload.length);
    expect(reply.equals(payload)).toBe(true);
    expect(echoApp.output()).toContain(`conn ${sleep.ip}`);
    const sources = echoApp.output().split('\n').filter((line) => line.startsWith('conn ')).map((line) => line.slice(5));
    expect(new Set(sources)).toEqual(new Set([sleep.ip]));
  });

  it('reaches the echo service by its VIP (in-pod redirection captures it; nothing routes the VIP)', async () => {
    const payload = Buffer.from(`to the VIP ${randomBytes(8).toString('hex')}`);
    expect((await send(ECHO_VIP, 80, payload)).toString()).toBe(payload.toString());
  });

  it('counts mutual-TLS connections with both principals on both ztunnels, in metrics promtool accepts', async () => {
    for (const [node, reporter] of [['node-a', 'source'], ['node-b', 'destination']] as const) {
      const metrics = await cluster.httpGet(cluster.node(node).netns, 'http://127.0.0.1:15020/metrics');
      expect(metrics.status).toBe(200);
      const lint = spawnSync('promtool', ['check', 'metrics'], { input: metrics.body, encoding: 'utf8' });
      expect({ node, status: lint.status, output: `${lint.stdout}${lint.stderr}` }).toEqual({ node, status: 0, output: '' });
      const matching = openedSamples(metrics.body).filter(
        ({ labels }) =>
          labels['reporter'] === reporter &&
          labels['connection_security_policy'] === 'mutual_tls' &&
          labels['source_principal'] === principal('sleep') &&
          labels['destination_principal'] === principal('echo'),
      );
      expect({ node, total: matching.reduce((sum, s) => sum + s.value, 0) >= 2 }).toEqual({ node, total: true });
    }
  });

  it('puts only TLS on the wire: TCP to 15008 between the nodes, never the payload', async () => {
    const file = path.join(cluster.dir, 'underlay.pcap');
    // The bridge in promiscuous mode (tcpdump's default) sees the frames it forwards between the nodes' ports;
    // --immediate-mode hands each packet over at once, so none is still in the kernel buffer when tcpdump stops.
    const tcpdump = capture.start('tcpdump', cluster.underlay.name, ['tcpdump', '-i', cluster.bridge, '--immediate-mode', '-U', '-n', '-s', '0', '-w', file, 'tcp']);
    await eventually(() => tcpdump.output().includes('listening on'), 'tcpdump to listen', 10_000, () => tcpdump.output());
    const marker = `WEFT-MARKER-${randomBytes(12).toString('hex')}`;
    const payload = Buffer.from(marker.repeat(64));
    expect((await send(echo.ip, 8080, payload)).equals(payload)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await withTimeout(ManagedProcesses.stop(tcpdump, 2_000), 5_000, 'tcpdump to stop');

    const pcap = await readFile(file);
    expect(pcap.length).toBeGreaterThan(24);
    expect(pcap.includes(Buffer.from(marker))).toBe(false);
    const read = (filter: string): string[] => spawnSync('tcpdump', ['-r', file, '-n', filter], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.trim() !== '');
    const hbone = read(`tcp dst port 15008 and src host ${sleep.ip} and dst host ${echo.ip}`);
    expect(hbone.length).toBeGreaterThan(0);
    expect(read('tcp port 8080')).toEqual([]);
  });
});
