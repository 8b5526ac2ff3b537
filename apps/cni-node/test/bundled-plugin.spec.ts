// The bundled plugin relies on no host file but /bin/sh: installed as on a Kubernetes node, then run in a chroot whose
// root holds only the CNI bin dir and a shell (this machine's /bin/sh with its loader and libraries, found the way
// the bundle finds Node's), with an empty environment, as a container runtime runs a plugin. Root only (CI is root);
// fails with what is missing otherwise.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, chmod, mkdir, mkdtemp, open, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { installCniPlugin } from '../src/plugin/cni-install';
import { PLUGIN_TYPE, SUPPORTED_CNI_VERSIONS } from '../src/plugin/cni-protocol';
import { elfInterpreter, elfSoname } from '../src/plugin/elf';
import { mappedSharedLibraries } from '../src/plugin/plugin-bundle';

jest.setTimeout(60_000);

const PLUGIN_SCRIPT = path.resolve(__dirname, '../dist/plugin/plugin-main.js');
/** Where the plugin lives inside the chroot, as on a node. */
const BIN_DIR = '/opt/cni/bin';
const BUNDLE = `${BIN_DIR}/${PLUGIN_TYPE}.d/`;
const AGENT_SOCKET = '/run/weft/pluginevent.sock';

function toolPath(tool: string, pkg: string): string {
  const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
  const file = found.stdout.trim();
  if (found.status !== 0 || !file.startsWith('/')) throw new Error(`missing ${tool}: apt-get install ${pkg} (or run: bash tools/setup.sh)`);
  return file;
}

/** Fails (never skips) when the test cannot run here, saying what to do. */
function requirePrerequisites(): { readonly chroot: string; readonly env: string } {
  if (process.platform !== 'linux') throw new Error('this test needs Linux (chroot, /proc/self/maps)');
  if (process.getuid?.() !== 0) throw new Error('this test needs root (chroot needs CAP_SYS_CHROOT); CI runs as root — run it as root');
  if (!existsSync('/bin/sh')) throw new Error('missing /bin/sh: apt-get install dash');
  if (!existsSync(PLUGIN_SCRIPT)) throw new Error(`missing ${PLUGIN_SCRIPT}: run npx nx run cni-node:build`);
  return { chroot: toolPath('chroot', 'coreutils'), env: toolPath('env', 'coreutils') };
}

async function elfHead(file: string): Promise<Uint8Array> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

async function copyInto(root: string, source: string, target: string, mode: number): Promise<void> {
  await mkdir(path.join(root, path.dirname(target)), { recursive: true });
  await copyFile(source, path.join(root, target));
  await chmod(path.join(root, target), mode);
}

/** Every file under `dir`, relative to it. */
async function filesUnder(dir: string, under = ''): Promise<string[]> {
  const entries = await readdir(path.join(dir, under), { withFileTypes: true });
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? filesUnder(dir, path.posix.join(under, e.name)) : [path.posix.join(under, e.name)])));
  return nested.flat();
}

/**
 * This machine's /bin/sh at /bin/sh in `root`, with its loader at its PT_INTERP path and its libraries by soname;
 * returns the paths written.
 */
async function copyShell(root: string): Promise<string[]> {
  const shell = await realpath('/bin/sh');
  const copied = ['/bin/sh'];
  await copyInto(root, shell, '/bin/sh', 0o755);
  const interp = elfInterpreter(await elfHead(shell), shell);
  if (interp !== undefined) {
    await copyInto(root, await realpath(interp), interp, 0o755);
    copied.push(interp);
  }
  // The trailing `:` keeps the shell from exec'ing cat in its place, so the maps read are the shell's own.
  const maps = spawnSync('/bin/sh', ['-c', 'cat /proc/$$/maps; :'], { encoding: 'utf8' });
  if (maps.status !== 0) throw new Error(`reading /bin/sh's mappings failed: ${maps.stderr}`);
  for (const library of mappedSharedLibraries(maps.stdout).libraries) {
    const soname = elfSoname(await readFile(library), library) ?? path.basename(library);
    const target = path.join(path.dirname(library), soname);
    if (target === interp || (interp !== undefined && library === (await realpath(interp)))) continue;
    await copyInto(root, library, target, 0o644);
    copied.push(target);
  }
  return copied;
}

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

describe('the bundled plugin in a chroot with only the CNI bin dir and /bin/sh', () => {
  let tools: { readonly chroot: string; readonly env: string };
  let dir: string;
  let root: string;
  let config: Record<string, unknown>;
  let agent: Server | undefined;
  let shellFiles: string[];

  /** `env -i <vars> chroot <root> /opt/cni/bin/weft-cni` with the network config on stdin. */
  const runPlugin = (vars: Readonly<Record<string, string>>, stdin: string): Promise<Run> =>
    new Promise((resolve, reject) => {
      const assignments = Object.entries(vars).map(([key, value]) => `${key}=${value}`);
      const child = spawn(tools.env, ['-i', ...assignments, tools.chroot, root, `${BIN_DIR}/${PLUGIN_TYPE}`], { stdio: 'pipe' });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
      child.on('error', reject);
      child.on('close', (status) => resolve({ status, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
      child.stdin.end(stdin);
    });

  beforeAll(async () => {
    tools = requirePrerequisites();
    dir = await mkdtemp(path.join(tmpdir(), 'weft-cni-chroot-'));
    root = path.join(dir, 'root');
    // The node's conflist stays outside the chroot: the plugin gets its config on stdin.
    const netDir = path.join(dir, 'net.d');
    await mkdir(netDir, { recursive: true });
    await writeFile(path.join(netDir, '10-pods.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'pods', plugins: [{ type: 'bridge' }] }));
    await installCniPlugin({
      binDir: path.join(root, BIN_DIR),
      netDir,
      runtime: 'bundled',
      nodePath: process.execPath,
      pluginScript: PLUGIN_SCRIPT,
      entry: { type: PLUGIN_TYPE, agentSocket: AGENT_SOCKET, excludeNamespaces: ['kube-system'] },
    });
    shellFiles = await copyShell(root);
    // What the runtime hands our plugin: the conflist's name and version with our entry, and the bridge's result.
    const conflist = JSON.parse(await readFile(path.join(netDir, '10-pods.conflist'), 'utf8')) as { cniVersion: string; name: string; plugins: Record<string, unknown>[] };
    const ours = conflist.plugins.find((plugin) => plugin['type'] === PLUGIN_TYPE) ?? {};
    config = {
      cniVersion: conflist.cniVersion,
      name: conflist.name,
      ...ours,
      prevResult: { cniVersion: '1.0.0', interfaces: [{ name: 'eth0' }], ips: [{ address: '10.77.1.5/24', interface: 0 }] },
    };
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => (agent === undefined ? resolve() : agent.close(() => resolve())));
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('answers VERSION with an empty environment', async () => {
    const outsideBinDir = (await filesUnder(root)).filter((file) => !file.startsWith(`${BIN_DIR.slice(1)}/`));
    expect(outsideBinDir.sort()).toEqual(shellFiles.map((file) => file.slice(1)).sort());
    const run = await runPlugin({ CNI_COMMAND: 'VERSION' }, JSON.stringify(config));
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ cniVersion: '1.0.0', supportedVersions: SUPPORTED_CNI_VERSIONS });
  });

  it('loads every library of the Node process from the bundle', async () => {
    // The loader's own trace: `env` and `chroot` (host binaries) and the shell come first, then the bundled loader.
    const run = await runPlugin({ CNI_COMMAND: 'VERSION', LD_DEBUG: 'libs' }, JSON.stringify(config));
    expect(run.status).toBe(0);
    const inits = [...run.stderr.matchAll(/calling init: (\S+)/g)].map((match) => match[1] ?? '');
    const first = inits.findIndex((file) => file.startsWith(BUNDLE));
    expect(first).toBeGreaterThanOrEqual(0);
    const nodes = inits.slice(first);
    expect(nodes.filter((file) => !file.startsWith(BUNDLE))).toEqual([]);
    expect(nodes).toContain(`${BUNDLE}lib/libc.so.6`);
  });

  it('ADD of an ambient pod asks the agent over its socket and passes prevResult through', async () => {
    const requests: { url: string; body: Record<string, unknown> }[] = [];
    agent = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        requests.push({ url: request.url ?? '', body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> });
        response.setHeader('content-type', 'application/json').end(JSON.stringify({ ambient: true, message: 'enrolled' }));
      });
    });
    const listening = agent;
    // The agent's socket directory, which the DaemonSet shares with the host (istio's /var/run/istio-cni).
    await mkdir(path.join(root, path.dirname(AGENT_SOCKET)), { recursive: true });
    await new Promise<void>((resolve) => listening.listen(path.join(root, AGENT_SOCKET), resolve));

    const run = await runPlugin(
      {
        CNI_COMMAND: 'ADD',
        CNI_CONTAINERID: 'ctr-web',
        CNI_NETNS: '/var/run/netns/web',
        CNI_IFNAME: 'eth0',
        CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web;K8S_POD_UID=uid-web',
        CNI_PATH: BIN_DIR,
      },
      JSON.stringify(config),
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(config['prevResult']);
    expect(requests).toEqual([
      {
        url: '/cmdadd',
        body: { netns: '/var/run/netns/web', containerId: 'ctr-web', podName: 'web', podNamespace: 'shop', podUid: 'uid-web', ips: ['10.77.1.5'] },
      },
    ]);
  });
});
