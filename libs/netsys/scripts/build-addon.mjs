// Builds the native addon with node-gyp against the Node headers already on the machine, so no download is
// needed (CI has no network beyond the package registries). Header search order: npm's `nodedir` setting,
// the running Node's own prefix, then /usr (Debian's nodejs headers in /usr/include/node).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const candidates = [
  process.env.npm_config_nodedir,
  path.resolve(path.dirname(process.execPath), '..'),
  '/usr',
].filter((dir) => typeof dir === 'string' && dir !== '');
const nodedir = candidates.find((dir) => existsSync(path.join(dir, 'include', 'node', 'node_api.h')));
if (nodedir === undefined) {
  console.error(
    `netsys: no Node headers (include/node/node_api.h) under ${candidates.join(', ')}; ` +
      'install them (Debian: the nodejs package ships them) or set npm_config_nodedir',
  );
  process.exit(1);
}
const nodeGyp = require.resolve('node-gyp/bin/node-gyp.js');
for (const step of ['configure', 'build']) {
  const result = spawnSync(process.execPath, [nodeGyp, step, `--nodedir=${nodedir}`, '--silent'], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
