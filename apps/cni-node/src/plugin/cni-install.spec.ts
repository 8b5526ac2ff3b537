import { mkdtemp, readFile, rm, writeFile, mkdir, stat } from 'node:fs/promises';
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
    const options = { binDir, netDir, entry, nodePath: '/usr/bin/node', pluginScript: '/opt/weft/plugin-main.js' };

    const first = await installCniPlugin(options);
    const once = await readFile(first.conflist, 'utf8');
    await installCniPlugin(options);
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
      installCniPlugin({ binDir: path.join(dir, 'bin'), netDir: path.join(dir, 'net.d'), entry, nodePath: 'node', pluginScript: 'p.js' }),
    ).rejects.toThrow(/no \.conflist/);
  });
});
