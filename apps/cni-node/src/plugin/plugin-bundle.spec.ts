import { readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import * as path from 'node:path';

import * as ts from 'typescript';

import { BundleError, bundledLauncher, mappedSharedLibraries, planBundle, PLUGIN_ENTRY, PLUGIN_FILES, unplannedFiles } from './plugin-bundle';

const MAPS = `
00400000-00401000 r--p 00000000 fe:01 1234                               /usr/bin/node
7f0000000000-7f0000001000 r--p 00000000 fe:01 2001                       /usr/lib/x86_64-linux-gnu/libc.so.6
7f0000001000-7f0000002000 r-xp 00001000 fe:01 2001                       /usr/lib/x86_64-linux-gnu/libc.so.6
7f0000003000-7f0000004000 r--p 00000000 fe:01 2002                       /usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30
7f0000005000-7f0000006000 r--p 00000000 fe:01 2003                       /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
7f0000007000-7f0000008000 r--p 00000000 fe:01 2004                       /work/node_modules/netsys/build/Release/netsys.node
7f0000009000-7f000000a000 r--p 00000000 fe:01 2005                       /usr/lib/locale/C.utf8/LC_CTYPE
7f000000b000-7f000000c000 r--p 00000000 fe:01 2006                       /usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache
7f000000d000-7f000000e000 r--p 00000000 fe:01 2007                       /opt/my libs/libfoo.so
7f000000f000-7f0000010000 r--p 00000000 fe:01 2008                       /usr/lib/x86_64-linux-gnu/libz.so.1.2.13 (deleted)
7f0000011000-7f0000012000 rw-p 00000000 00:00 0                          [heap]
7f0000013000-7f0000014000 rw-s 00000000 00:01 77                         /memfd:libfake.so (deleted)
7ffd00000000-7ffd00001000 r-xp 00000000 00:00 0                          [vdso]
7f0000015000-7f0000016000 r--p 00000000 fe:01 2009                       /usr/lib/x86_64-linux-gnu/libsolid.so.txt
`;

describe('mappedSharedLibraries', () => {
  it('keeps file-backed .so and .so.N mappings once, in the order first mapped', () => {
    expect(mappedSharedLibraries(MAPS)).toEqual({
      libraries: [
        '/usr/lib/x86_64-linux-gnu/libc.so.6',
        '/usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30',
        '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2',
        '/opt/my libs/libfoo.so',
      ],
      deleted: ['/usr/lib/x86_64-linux-gnu/libz.so.1.2.13', '/memfd:libfake.so'],
    });
  });

  it.each([
    { name: 'empty', maps: '', libraries: [] },
    { name: 'anonymous and pseudo mappings only', maps: '7f00-7f01 rw-p 00000000 00:00 0 \n7f02-7f03 r-xp 00000000 00:00 0   [vdso]', libraries: [] },
    { name: 'an inode-0 path', maps: '7f00-7f01 r--p 00000000 00:00 0   /libghost.so.1', libraries: [] },
    { name: 'a native addon', maps: '7f00-7f01 r--p 00000000 fe:01 9   /a/addon.node', libraries: [] },
    { name: 'a versioned library', maps: '7f00-7f01 r--p 00000000 fe:01 9   /lib/libcrypto.so.3', libraries: ['/lib/libcrypto.so.3'] },
  ])('$name', ({ maps, libraries }) => {
    expect(mappedSharedLibraries(maps).libraries).toEqual(libraries);
  });
});

describe('bundledLauncher', () => {
  it('runs the bundled Node through the bundled loader, found from $0 with shell built-ins only', () => {
    expect(bundledLauncher('ld-linux-x86-64.so.2')).toBe(
      [
        '#!/bin/sh',
        "# Weft's chained CNI plugin (written by the cni-node installer): Node, its loader and libraries, and the plugin,",
        '# all from weft-cni.d/ next to this file.',
        'case "$0" in */*) dir="${0%/*}/weft-cni.d" ;; *) dir="./weft-cni.d" ;; esac',
        'exec "$dir/ld-linux-x86-64.so.2" --library-path "$dir/lib" "$dir/node" "$dir/plugin/plugin-main.js" "$@"',
        '',
      ].join('\n'),
    );
  });

  it('runs a static Node directly', () => {
    expect(bundledLauncher(undefined)).toMatch(/^exec "\$dir\/node" "\$dir\/plugin\/plugin-main\.js" "\$@"$/m);
  });

  it.each(['../ld.so', 'ld so', '$(reboot)', '..'])('refuses the loader name %j', (name) => {
    expect(() => bundledLauncher(name)).toThrow(BundleError);
  });
});

describe('planBundle', () => {
  const sources = {
    node: '/usr/bin/node',
    interpreter: { path: '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', name: 'ld-linux-x86-64.so.2' },
    libraries: [
      { path: '/usr/lib/x86_64-linux-gnu/libc.so.6', soname: 'libc.so.6' },
      { path: '/usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30', soname: 'libstdc++.so.6' },
      { path: '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', soname: 'ld-linux-x86-64.so.2' },
      { path: '/opt/other/libc.so.6', soname: 'libc.so.6' },
    ],
    pluginDir: '/app/dist/plugin/',
  };

  it('lays out node, loader, libraries by soname and the plugin under weft-cni.d/, the launcher last', () => {
    const plan = planBundle(sources);
    expect(plan.map((file) => [file.target, file.kind === 'copy' ? file.source : 'launcher', file.mode.toString(8)])).toEqual([
      ['weft-cni.d/node', '/usr/bin/node', '755'],
      ['weft-cni.d/ld-linux-x86-64.so.2', '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', '755'],
      ['weft-cni.d/lib/libc.so.6', '/usr/lib/x86_64-linux-gnu/libc.so.6', '644'],
      ['weft-cni.d/lib/libstdc++.so.6', '/usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30', '644'],
      ['weft-cni.d/plugin/plugin-main.js', '/app/dist/plugin/plugin-main.js', '644'],
      ['weft-cni.d/plugin/cni-protocol.js', '/app/dist/plugin/cni-protocol.js', '644'],
      ['weft-cni', 'launcher', '755'],
    ]);
    expect(plan.at(-1)).toEqual({ kind: 'write', target: 'weft-cni', mode: 0o755, content: bundledLauncher('ld-linux-x86-64.so.2') });
  });

  it('a static Node has no loader', () => {
    const { interpreter: _interpreter, ...rest } = sources;
    const plan = planBundle({ ...rest, libraries: [] });
    expect(plan.map((file) => file.target)).toEqual(['weft-cni.d/node', 'weft-cni.d/plugin/plugin-main.js', 'weft-cni.d/plugin/cni-protocol.js', 'weft-cni']);
  });

  it('refuses a soname that is not a plain file name', () => {
    expect(() => planBundle({ ...sources, libraries: [{ path: '/lib/x.so', soname: '../../etc/x.so' }] })).toThrow(/not a plain file name/);
  });

  it('names what an older bundle left behind', () => {
    const plan = planBundle(sources);
    expect(unplannedFiles(plan, ['weft-cni.d/node', 'weft-cni.d/lib/libc.so.6', 'weft-cni.d/lib/libssl.so.1.1', 'weft-cni.d/.node.weft-tmp'])).toEqual([
      'weft-cni.d/lib/libssl.so.1.1',
      'weft-cni.d/.node.weft-tmp',
    ]);
  });
});

/** Every module the compiled `file` requires, as CommonJS: what the bundled Node will load at run time. */
function requiresOf(file: string): string[] {
  const output = ts.transpileModule(readFileSync(file, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
    fileName: file,
  }).outputText;
  return [...output.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)].map((match) => match[1] ?? '');
}

describe('PLUGIN_FILES', () => {
  it('holds exactly the plugin entry and the modules it requires, and the plugin needs nothing else but Node built-ins', () => {
    const dir = __dirname;
    const seen = new Set<string>();
    const external = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const specifier of requiresOf(path.join(dir, file.replace(/\.js$/, '.ts')))) {
        if (!specifier.startsWith('.')) {
          external.add(specifier);
          continue;
        }
        const target = path.relative(dir, path.resolve(dir, path.dirname(file), specifier));
        visit(`${target.replace(/\.(js|ts)$/, '')}.js`);
      }
    };
    visit(PLUGIN_ENTRY);
    expect([...seen].sort()).toEqual([...PLUGIN_FILES].sort());
    // A package (zod, pino, @weft/*) would need node_modules, which the bundle does not carry.
    expect([...external].filter((name) => !isBuiltin(name))).toEqual([]);
    expect(external.size).toBeGreaterThan(0);
  });
});
