// The cni-node agent on a test node: pod netns networked by the real reference plugins (loopback, bridge +
// host-local from Debian's containernetworking-plugins) and then Weft's chained plugin, invoked as a container
// runtime does. A test ZDS client plays ztunnel. Root only (CI is root); fails with what is missing otherwise.

import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { createManifestDirectorySource } from '@weft/config-source';
import { closeFd, createTcpListener, netnsInode, sameInode, SeqpacketSocket, type SeqpacketMessage } from '@weft/netsys';
import { decodeZdsRequest, encodeZdsAck, encodeZdsHello, type ZdsRequest } from '@weft/xds';
import { cniAdd, cniDel, CniChainError, eventually, NetnsFixture, requireRootNetworking, type ChainInvocation, type TestNetns } from '@weft/testing';
import pino from 'pino';
import { stringify } from 'yaml';

import { startCniNode, type CniNode } from '../src/app';
import { parseCniNodeConfig } from '../src/config';

jest.setTimeout(60_000);

const CNI_PLUGIN_DIR = '/usr/lib/cni';
const PLUGIN_SCRIPT = path.resolve(__dirname, '../dist/plugin/plugin-main.js');

/** A ztunnel stand-in: says hello, acks everything, keeps what it was sent. */
class FakeZtunnel {
  readonly received: { request: ZdsRequest; fds: number[] }[] = [];
  private constructor(private readonly socket: SeqpacketSocket) {
    socket.on('message', (message: SeqpacketMessage) => {
      const decoded = decodeZdsRequest(message.data);
      if (!decoded.ok) throw new Error(decoded.message);
      this.received.push({ request: decoded.value, fds: message.fds });
      void socket.send(Buffer.from(encodeZdsAck()));
    });
  }

  static async connect(socketPath: string): Promise<FakeZtunnel> {
    const socket = await SeqpacketSocket.connect(socketPath);
    const ztunnel = new FakeZtunnel(socket);
    await socket.send(Buffer.from(encodeZdsHello()));
    return ztunnel;
  }

  kinds(): string[] {
    return this.received.map(({ request }) => (request.kind === 'snapshot-sent' ? request.kind : `${request.kind}:${request.uid}`));
  }

  close(): void {
    for (const { fds } of this.received) for (const fd of fds) closeFd(fd);
    this.socket.close();
  }
}

const namespace = (name: string, ambient: boolean): object => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels: ambient ? { 'istio.io/dataplane-mode': 'ambient' } : {} },
});
const pod = (ns: string, name: string, uid: string): object => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: ns, uid },
  spec: { nodeName: 'node-a', serviceAccountName: 'web' },
});

describe('cni-node agent on a test node', () => {
  const fixture = new NetnsFixture();
  let dir: string;
  let node: TestNetns;
  let web: TestNetns;
  let plain: TestNetns;
  let cniNode: CniNode;
  let ztunnel: FakeZtunnel;
  let conflist: ChainInvocation['conflist'];
  let start: () => Promise<void>;
  let webIp = '';

  const manifests = (): string => path.join(dir, 'manifests');
  const writeObjects = async (file: string, objects: readonly object[]): Promise<void> => {
    await writeFile(path.join(manifests(), `.${file}.tmp`), objects.map((o) => stringify(o)).join('---\n'));
    await rename(path.join(manifests(), `.${file}.tmp`), path.join(manifests(), file));
  };
  const chain = (netns: TestNetns, ns: string, name: string, uid: string, list = conflist): ChainInvocation => ({
    conflist: list,
    binDirs: [path.join(dir, 'bin'), CNI_PLUGIN_DIR],
    nodeNetns: node.name,
    containerId: `ctr-${name}`,
    netnsPath: netns.path,
    ifName: 'eth0',
    args: { IgnoreUnknown: '1', K8S_POD_NAMESPACE: ns, K8S_POD_NAME: name, K8S_POD_UID: uid },
  });
  const loopbackOnly = (netns: TestNetns): ChainInvocation => ({
    ...chain(netns, '', 'lo', ''),
    conflist: { cniVersion: '1.0.0', name: 'cni-loopback', plugins: [{ type: 'loopback' }] },
    ifName: 'lo',
  });
  const savedRules = (netns: TestNetns): string => netns.exec('iptables-nft-save');
  const statusOf = async (key: string): Promise<Record<string, string> | undefined> => {
    const file = path.join(manifests(), '.weft', 'cni-node-a.json');
    if (!existsSync(file)) return undefined;
    const content = JSON.parse(await readFile(file, 'utf8')) as { statuses: Record<string, { annotations?: Record<string, string> }> };
    return content.statuses[key]?.annotations;
  };

  beforeAll(async () => {
    requireRootNetworking();
    for (const plugin of ['bridge', 'host-local', 'loopback']) {
      if (!existsSync(path.join(CNI_PLUGIN_DIR, plugin))) throw new Error(`missing ${CNI_PLUGIN_DIR}/${plugin}: run tools/setup.sh (apt: containernetworking-plugins)`);
    }
    if (!existsSync(PLUGIN_SCRIPT)) throw new Error(`missing ${PLUGIN_SCRIPT}: run npx nx run cni-node:build`);
    dir = await mkdtemp(path.join(tmpdir(), 'weft-cni-node-'));
    for (const sub of ['manifests', 'bin', 'net.d', 'run', 'ipam', 'proc/1/ns']) await mkdir(path.join(dir, sub), { recursive: true });
    node = fixture.create('node');
    web = fixture.create('web');
    plain = fixture.create('plain');
    // The node's /proc as the agent reads it for pods older than itself: PID 1 in the node's netns.
    await symlink(node.path, path.join(dir, 'proc', '1', 'ns', 'net'));
    // The node's primary network, as a cluster's network add-on would have installed it.
    await writeFile(
      path.join(dir, 'net.d', '10-pods.conflist'),
      JSON.stringify({
        cniVersion: '1.0.0',
        name: `${fixture.prefix}net`,
        plugins: [
          {
            type: 'bridge',
            bridge: `${fixture.prefix}br`,
            isGateway: true,
            ipMasq: false,
            ipam: { type: 'host-local', ranges: [[{ subnet: '10.77.1.0/24' }]], dataDir: path.join(dir, 'ipam') },
          },
        ],
      }),
    );
    await writeObjects('objects.yaml', [namespace('shop', true), namespace('plain', false), pod('shop', 'web', 'uid-web'), pod('plain', 'plain', 'uid-plain')]);
    const parsed = parseCniNodeConfig({
      NODE_NAME: 'node-a',
      WEFT_MANIFEST_DIR: manifests(),
      WEFT_CNI_RUN_DIR: path.join(dir, 'run'),
      WEFT_ZDS_SOCKET: path.join(dir, 'run', 'ztunnel.sock'),
      WEFT_IPTABLES_BACKEND: 'nft',
      WEFT_CNI_BIN_DIR: path.join(dir, 'bin'),
      WEFT_CNI_NET_DIR: path.join(dir, 'net.d'),
      WEFT_HEALTH_PORT: '0',
      WEFT_LISTEN_ADDRESS: '127.0.0.1',
      WEFT_HOST_PROC: path.join(dir, 'proc'),
    });
    if (!parsed.ok) throw new Error(parsed.errors.join('; '));
    const config = parsed.config;
    start = async () => {
      const source = createManifestDirectorySource({ directory: manifests(), debounceMs: 20, statusFile: path.join(manifests(), '.weft', 'cni-node-a.json') });
      cniNode = await startCniNode({ config, logger: pino({ level: 'silent' }), source, hostNetnsPath: node.path, pluginScript: PLUGIN_SCRIPT });
      ztunnel = await FakeZtunnel.connect(path.join(dir, 'run', 'ztunnel.sock'));
      await eventually(() => ztunnel.kinds().includes('snapshot-sent'), 'the snapshot');
    };
    await start();
    // The installer appended Weft's plugin to the node's conflist; the runtime reads it from there.
    conflist = JSON.parse(await readFile(path.join(dir, 'net.d', '10-pods.conflist'), 'utf8')) as ChainInvocation['conflist'];
  });

  afterAll(async () => {
    ztunnel?.close();
    await cniNode?.close();
    for (const netns of [web, plain]) {
      if (netns !== undefined && conflist !== undefined) await cniDel(chain(netns, '', netns.name, '')).catch(() => undefined);
    }
    fixture.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('installs itself last in the node conflist and in the CNI bin dir', () => {
    expect(conflist.plugins.map((p) => p['type'])).toEqual(['bridge', 'weft-cni']);
    expect(existsSync(path.join(dir, 'bin', 'weft-cni'))).toBe(true);
    // The default runtime: the chain below runs the bundled Node from weft-cni.d, not this process's.
    expect(existsSync(path.join(dir, 'bin', 'weft-cni.d', 'node'))).toBe(true);
  });

  it('an ambient pod: ADD returns the bridge result unchanged, the §5.3 rules are in its netns, ztunnel gets Add with a usable netns fd', async () => {
    await cniAdd(loopbackOnly(web));
    const result = await cniAdd(chain(web, 'shop', 'web', 'uid-web'));
    const address = (result['ips'] as { address: string }[])[0]?.address ?? '';
    expect(address).toMatch(/^10\.77\.1\.\d+\/24$/);
    webIp = address.split('/')[0] ?? '';
    expect(result['interfaces']).toBeDefined();

    const rules = savedRules(web);
    expect(rules).toMatch(/^-A ISTIO_OUTPUT ! -d 127\.0\.0\.1\/32 -p tcp -m mark ! --mark 0x539\/0xfff -j REDIRECT --to-ports 15001$/m);
    expect(rules).toMatch(/^-A ISTIO_PRERT .*-j REDIRECT --to-ports 15006$/m);
    expect(web.exec('ip', 'rule', 'list')).toContain('fwmark 0x111/0xfff lookup 100');

    await eventually(() => ztunnel.kinds().includes('add:uid-web'), 'ZDS add');
    const add = ztunnel.received.find(({ request }) => request.kind === 'add');
    expect(add?.request).toEqual({ kind: 'add', uid: 'uid-web', workload: { name: 'web', namespace: 'shop', serviceAccount: 'web' } });
    expect(add?.fds).toHaveLength(1);
    const fd = add?.fds[0] ?? -1;
    expect(sameInode(netnsInode(fd), netnsInode(web.path))).toBe(true);
    // What ztunnel does with it: open its HBONE listener inside the pod.
    const listener = createTcpListener({ netnsFd: fd, host: '0.0.0.0', port: 15008, mark: 1337, transparent: true, reusePort: true });
    expect(web.exec('ss', '-ltnH')).toMatch(/0\.0\.0\.0:15008/);
    closeFd(listener);

    await eventually(async () => (await statusOf('Pod/shop/web'))?.['ambient.istio.io/redirection'] === 'enabled', 'redirection status enabled');
  });

  it('a pod outside the mesh: ADD passes through, no rules, nothing to ztunnel', async () => {
    await cniAdd(loopbackOnly(plain));
    const before = ztunnel.received.length;
    const result = await cniAdd(chain(plain, 'plain', 'plain', 'uid-plain'));
    expect(result['ips']).toBeDefined();
    expect(savedRules(plain)).not.toContain('ISTIO');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(ztunnel.received.length).toBe(before);
  });

  it('unlabelling the namespace removes the rules and sends Del; labelling again re-enrolls without a restart', async () => {
    await writeObjects('objects.yaml', [namespace('shop', false), namespace('plain', false), pod('shop', 'web', 'uid-web'), pod('plain', 'plain', 'uid-plain')]);
    await eventually(() => ztunnel.kinds().includes('del:uid-web'), 'ZDS del');
    // The status is cleared once the rules are gone.
    await eventually(async () => (await statusOf('Pod/shop/web')) === undefined, 'redirection status cleared');
    expect(savedRules(web)).not.toContain('ISTIO');
    expect(web.exec('ip', 'rule', 'list')).not.toContain('lookup 100');

    const adds = ztunnel.kinds().filter((k) => k === 'add:uid-web').length;
    await writeObjects('objects.yaml', [namespace('shop', true), namespace('plain', false), pod('shop', 'web', 'uid-web'), pod('plain', 'plain', 'uid-plain')]);
    await eventually(() => ztunnel.kinds().filter((k) => k === 'add:uid-web').length === adds + 1, 'second ZDS add');
    expect(savedRules(web)).toContain('ISTIO_OUTPUT');
  });

  it('restarting the agent resends a snapshot with the pod and leaves its rules unchanged', async () => {
    const ours = (netns: TestNetns): string[] => savedRules(netns).split('\n').filter((line) => line.includes('ISTIO_'));
    const before = ours(web);
    expect(before.length).toBeGreaterThan(0);
    ztunnel.close();
    await cniNode.close();
    expect(ours(web)).toEqual(before);
    await start();
    expect(ztunnel.kinds()).toEqual(['add:uid-web', 'snapshot-sent']);
    expect(ours(web)).toEqual(before);
    expect(web.exec('ip', 'rule', 'list').match(/lookup 100/g)).toHaveLength(1);
  });

  it('a pod that opts out with istio.io/dataplane-mode=none is unenrolled in a labelled namespace', async () => {
    const optedOut = { ...(pod('shop', 'web', 'uid-web') as { metadata: Record<string, unknown> }) };
    optedOut.metadata = { ...optedOut.metadata, labels: { 'istio.io/dataplane-mode': 'none' } };
    const dels = ztunnel.kinds().filter((k) => k === 'del:uid-web').length;
    await writeObjects('objects.yaml', [namespace('shop', true), namespace('plain', false), optedOut, pod('plain', 'plain', 'uid-plain')]);
    await eventually(() => ztunnel.kinds().filter((k) => k === 'del:uid-web').length === dels + 1, 'del after opt-out');
    await eventually(() => !savedRules(web).includes('ISTIO'), 'rules removed after opt-out');
  });

  it('ADD fails when an ambient pod cannot be redirected, and when the agent is unreachable', async () => {
    const weftOnly = { ...conflist, plugins: conflist.plugins.filter((p) => p['type'] === 'weft-cni') };
    await writeObjects('objects.yaml', [namespace('shop', true), namespace('plain', false), pod('shop', 'web', 'uid-web'), pod('shop', 'broken', 'uid-broken')]);
    const notANetns = path.join(dir, 'not-a-netns');
    await writeFile(notANetns, '');
    const broken = { ...chain(web, 'shop', 'broken', 'uid-broken', weftOnly), netnsPath: notANetns };
    const error: unknown = await cniAdd(broken).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(CniChainError);
    const reply = JSON.parse((error as CniChainError).failure.stdout) as { code: number; msg: string };
    expect(reply).toMatchObject({ code: 100, msg: expect.stringContaining('shop/broken') });

    const unreachable = { ...weftOnly, plugins: [{ ...weftOnly.plugins[0], agentSocket: path.join(dir, 'run', 'nobody.sock') }] };
    const down: unknown = await cniAdd(chain(web, 'shop', 'web', 'uid-web', unreachable)).then(() => undefined, (e: unknown) => e);
    expect(JSON.parse((down as CniChainError).failure.stdout)).toMatchObject({ code: 11 });
  });

  it('CNI DEL unenrolls the pod at once, forgets its netns, and the IPAM plugin releases its address', async () => {
    await eventually(() => savedRules(web).includes('ISTIO_OUTPUT'), 'web enrolled again');
    const dels = ztunnel.kinds().filter((k) => k === 'del:uid-web').length;
    expect(await readdir(path.join(dir, 'ipam', `${fixture.prefix}net`))).toContain(webIp);
    await cniDel(chain(web, 'shop', 'web', 'uid-web'));
    await eventually(() => ztunnel.kinds().filter((k) => k === 'del:uid-web').length === dels + 1, 'ZDS del on CNI DEL');
    const memory = JSON.parse(await readFile(path.join(dir, 'run', 'pods.json'), 'utf8')) as { pods: Record<string, string> };
    expect(memory.pods['Pod/shop/web']).toBeUndefined();
    const leases = await readdir(path.join(dir, 'ipam', `${fixture.prefix}net`));
    expect(webIp).not.toBe('');
    expect(leases).not.toContain(webIp);
  });

  it('a pod started before the agent (no CNI ADD seen) is found through /proc by its UID, and enrolled', async () => {
    const uid = '6c0f3d2e-8b1a-4e5f-9a7b-1c2d3e4f5a6b';
    const old = fixture.create('old');
    // Its pause process, in the pod's netns, with the pod UID in its cgroup (systemd driver: underscores).
    await mkdir(path.join(dir, 'proc', '4242', 'ns'), { recursive: true });
    await writeFile(path.join(dir, 'proc', '4242', 'cgroup'), `0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${uid.replace(/-/g, '_')}.slice/cri-containerd-0.scope\n`);
    await symlink(old.path, path.join(dir, 'proc', '4242', 'ns', 'net'));
    const oldPod = { ...pod('shop', 'old', uid), status: { podIP: '10.77.1.250', podIPs: [{ ip: '10.77.1.250' }] } };
    await writeObjects('objects.yaml', [namespace('shop', true), namespace('plain', false), pod('shop', 'web', 'uid-web'), pod('plain', 'plain', 'uid-plain'), oldPod]);
    await eventually(() => ztunnel.kinds().includes(`add:${uid}`), 'ZDS add of the pod older than the agent');
    expect(savedRules(old)).toContain('ISTIO_OUTPUT');
    await eventually(async () => (await statusOf('Pod/shop/old'))?.['ambient.istio.io/redirection'] === 'enabled', 'redirection enabled on the pod');
  });
});
