import { mkdtemp, readdir, readFile, rm, writeFile, mkdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { conflistWithPlugin, conflistWithoutPlugin, installCniPlugin, pluginLauncher, uninstallCniPlugin } from './cni-install';

const bridge = { type: 'bridge', bridge: 'cni0', ipam: { type: 'host-local' } };
const base = { cniVersion: '1.0.0', name: 'k8s-pod-network', plugins: [bridge, { type: 'loopback' }] };
const entry = { type: 'weft-cni', agentSocket: '/run/weft/pluginevent.sock' };

describe('conflist edits', () => {
  it('appends our entry once, replacing an older copy', () => {
    const once = conflistWithPlugin(base, entry);
    expect(once['plugins']).toEqual([bridge, { type: 'loopback' }, entry]);
    const updated = conflistWithPlugin(once, { ...entry, agentTimeoutMs: 1000 });
    expect(updated['plugins']).toEqual([bridge, { type: 'loopback' }, { ...entry, agentTimeoutMs: 1000 }]);
    expect(conflistWithoutPlugin(updated)).toEqual(base);
  });

  it('refuses a file that is not a conflist', () => {
    expect(() => conflistWithPlugin({ cniVersion: '1.0.0', type: 'bridge' }, entry, '10-bridge.conf')).toThrow(/10-bridge.conf.*plugins/);
  });

  it('the launcher quotes its paths', () => {
    expect(pluginLauncher('/usr/bin/node', "/opt/it's/plugin.js")).toContain(`exec '/usr/bin/node' '/opt/it'\\''s/plugin.js' "$@"`);
  });
});

describe('installCniPlugin', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'weft-cni-install-'));
    await mkdir(path.join(dir, 'bin'));
    await mkdir(path.join(dir, 'net.d'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('writes the executable and edits the first conflist; again is a no-op; uninstall restores it', async () => {
    const netDir = path.join(dir, 'net.d');
    const binDir = path.join(dir, 'bin');
    await writeFile(path.join(netDir, '10-pods.conflist'), JSON.stringify(base));
    await writeFile(path.join(netDir, '20-other.conflist'), JSON.stringify(base));
    const options = { binDir, netDir, entry, runtime: 'host' as const, nodePath: '/usr/bin/node', pluginScript: '/opt/weft/plugin-main.js' };

    const first = await installCniPlugin(options);
    expect(first.written).toEqual(['weft-cni']);
    const once = await readFile(first.conflist, 'utf8');
    expect((await installCniPlugin(options)).written).toEqual([]);
    expect(await readFile(first.conflist, 'utf8')).toBe(once);
    expect(first.conflist).toBe(path.join(netDir, '10-pods.conflist'));
    expect((JSON.parse(once) as { plugins: unknown[] }).plugins).toHaveLength(3);
    expect((await stat(first.binary)).mode & 0o777).toBe(0o755);
    expect(JSON.parse(await readFile(path.join(netDir, '20-other.conflist'), 'utf8'))).toEqual(base);

    await uninstallCniPlugin({ binDir, netDir });
    expect(JSON.parse(await readFile(first.conflist, 'utf8'))).toEqual(base);
    await expect(stat(first.binary)).rejects.toThrow();
  });

  it('fails clearly when the node has no network config yet', async () => {
    await expect(
      installCniPlugin({ binDir: path.join(dir, 'bin'), netDir: path.join(dir, 'net.d'), entry, runtime: 'bundled', nodePath: 'node', pluginScript: 'p.js' }),
    ).rejects.toThrow(/no \.conflist/);
    expect(await readdir(path.join(dir, 'bin'))).toEqual([]);
  });

  it('bundled: the launcher and weft-cni.d; host afterwards drops the bundle; uninstall removes both', async () => {
    const netDir = path.join(dir, 'net.d');
    const binDir = path.join(dir, 'bin');
    const pluginDir = path.join(dir, 'plugin');
    await mkdir(pluginDir);
    for (const file of ['plugin-main.js', 'cni-protocol.js']) await writeFile(path.join(pluginDir, file), '');
    await writeFile(path.join(netDir, '10-pods.conflist'), JSON.stringify(base));
    const options = { binDir, netDir, entry, nodePath: process.execPath, pluginScript: path.join(pluginDir, 'plugin-main.js') };

    const bundled = await installCniPlugin({ ...options, runtime: 'bundled' });
    expect(bundled.binary).toBe(path.join(binDir, 'weft-cni'));
    expect(bundled.written).toEqual(expect.arrayContaining(['weft-cni', 'weft-cni.d/node', 'weft-cni.d/plugin/plugin-main.js']));
    expect((await readdir(binDir)).sort()).toEqual(['weft-cni', 'weft-cni.d']);
    expect(await readFile(bundled.binary, 'utf8')).toContain('--library-path "$dir/lib"');

    await installCniPlugin({ ...options, runtime: 'host' });
    expect(await readdir(binDir)).toEqual(['weft-cni']);
    await installCniPlugin({ ...options, runtime: 'bundled' });

    await uninstallCniPlugin({ binDir, netDir });
    expect(await readdir(binDir)).toEqual([]);
    expect(JSON.parse(await readFile(path.join(netDir, '10-pods.conflist'), 'utf8'))).toEqual(base);
  });
});
