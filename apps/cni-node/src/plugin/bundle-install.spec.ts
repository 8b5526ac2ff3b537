// The bundle installed from this very process (its Node, loader and mapped libraries) into a temp bin dir. The plugin
// JS is a stand-in that reports what it was started with; the real plugin in a chroot is test/bundled-plugin.spec.ts.

import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { installPluginBundle, removePluginBundle } from './bundle-install';
import { bundledLauncher } from './plugin-bundle';

jest.setTimeout(30_000);

async function listFiles(dir: string, under = ''): Promise<string[]> {
  const entries = await readdir(path.join(dir, under), { withFileTypes: true });
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? listFiles(dir, path.posix.join(under, e.name)) : [path.posix.join(under, e.name)])));
  return nested.flat().sort();
}

describe('installPluginBundle', () => {
  let dir: string;
  let binDir: string;
  let pluginDir: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'weft-cni-bundle-'));
    binDir = path.join(dir, 'bin');
    pluginDir = path.join(dir, 'dist', 'plugin');
    await mkdir(binDir);
    await mkdir(pluginDir, { recursive: true });
    await writeFile(path.join(pluginDir, 'cni-protocol.js'), 'exports.answer = 42;\n');
    await writeFile(
      path.join(pluginDir, 'plugin-main.js'),
      `const { answer } = require('./cni-protocol');\nprocess.stdout.write(JSON.stringify({ answer, args: process.argv.slice(2), path: process.env.PATH ?? null }));\n`,
    );
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("copies this process's Node, loader and libraries and the plugin; the launcher runs them with no environment", async () => {
    const result = await installPluginBundle({ binDir, nodePath: process.execPath, pluginDir });
    const files = await listFiles(binDir);
    const loader = files.find((file) => /^weft-cni\.d\/ld-[^/]+$/.test(file)) ?? '';
    expect(files).toEqual(expect.arrayContaining(['weft-cni', 'weft-cni.d/node', 'weft-cni.d/lib/libc.so.6', 'weft-cni.d/plugin/plugin-main.js', 'weft-cni.d/plugin/cni-protocol.js']));
    expect(files.filter((file) => !file.startsWith('weft-cni.d/lib/'))).toEqual(
      ['weft-cni', 'weft-cni.d/node', loader, 'weft-cni.d/plugin/cni-protocol.js', 'weft-cni.d/plugin/plugin-main.js'].sort(),
    );
    expect(result.written.length).toBe(files.length);
    expect(await readFile(path.join(binDir, 'weft-cni'), 'utf8')).toBe(bundledLauncher(path.basename(loader)));
    expect((await stat(path.join(binDir, 'weft-cni'))).mode & 0o777).toBe(0o755);
    expect((await stat(path.join(binDir, 'weft-cni.d/node'))).size).toBe((await stat(process.execPath)).size);

    const run = spawnSync(path.join(binDir, 'weft-cni'), ['one', 'two'], { env: {}, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ answer: 42, args: ['one', 'two'], path: null });
  });

  it('a second install writes nothing; a changed file is replaced by a new file; leftovers are removed', async () => {
    await installPluginBundle({ binDir, nodePath: process.execPath, pluginDir });
    const inode = async (file: string): Promise<number> => (await stat(path.join(binDir, file))).ino;
    const before = { node: await inode('weft-cni.d/node'), main: await inode('weft-cni.d/plugin/plugin-main.js'), launcher: await inode('weft-cni') };

    const again = await installPluginBundle({ binDir, nodePath: process.execPath, pluginDir });
    expect(again.written).toEqual([]);
    expect(again.removed).toEqual([]);
    expect({ node: await inode('weft-cni.d/node'), main: await inode('weft-cni.d/plugin/plugin-main.js'), launcher: await inode('weft-cni') }).toEqual(before);

    await writeFile(path.join(pluginDir, 'plugin-main.js'), 'process.stdout.write("v2");\n');
    await writeFile(path.join(binDir, 'weft-cni.d', 'lib', 'libgone.so.1'), 'from an older Node');
    const updated = await installPluginBundle({ binDir, nodePath: process.execPath, pluginDir });
    expect(updated.written).toEqual(['weft-cni.d/plugin/plugin-main.js']);
    expect(updated.removed).toEqual(['weft-cni.d/lib/libgone.so.1']);
    expect(await inode('weft-cni.d/plugin/plugin-main.js')).not.toBe(before.main);
    expect(await inode('weft-cni.d/node')).toBe(before.node);
    expect(spawnSync(path.join(binDir, 'weft-cni'), [], { env: {}, encoding: 'utf8' }).stdout).toBe('v2');
    expect((await listFiles(binDir)).filter((file) => file.includes('weft-tmp'))).toEqual([]);
  });

  it('refuses to bundle a library replaced on disk since it was loaded', async () => {
    const maps = '7f00-7f01 r-xp 00000000 fe:01 12 /usr/lib/x86_64-linux-gnu/libz.so.1.2.13 (deleted)\n';
    await expect(installPluginBundle({ binDir, nodePath: process.execPath, pluginDir, maps })).rejects.toMatchObject({
      code: 'ERR_CNI_BUNDLE_LIBRARY_DELETED',
      message: expect.stringMatching(/libz\.so\.1\.2\.13.*restart the agent/),
    });
  });

  it('removePluginBundle removes the launcher and the bundle directory', async () => {
    await installPluginBundle({ binDir, nodePath: process.execPath, pluginDir });
    await writeFile(path.join(binDir, 'bridge'), 'another plugin');
    await removePluginBundle(binDir);
    expect(await listFiles(binDir)).toEqual(['bridge']);
    await removePluginBundle(binDir);
  });
});
