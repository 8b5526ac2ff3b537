// The project's test command (`npm test`): every check CI relies on, in one place, ending with one plain
// summary line `N passed, N failed` taken from jest's JSON report. A failing check before the tests does not
// stop the tests from running, but it fails the run (and counts as one failure in the summary).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', FORCE_COLOR: '0' };
const failedChecks = [];

function run(label, command, args) {
  process.stdout.write(`\n== ${label}\n`);
  const result = spawnSync(command, args, { cwd: root, env, stdio: 'inherit' });
  const ok = result.status === 0;
  if (!ok) failedChecks.push(label);
  return ok;
}

function capture(command, args) {
  const result = spawnSync(command, args, { cwd: root, env, encoding: 'utf8' });
  return { ok: result.status === 0, out: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}

/** Tools the suite shells out to; a missing one is a set-up problem, reported with what to install. */
function checkPrerequisites() {
  const needed = [['openssl', ['version'], 'apt-get install openssl (or run: bash tools/setup.sh)']];
  for (const [tool, args, hint] of needed) {
    if (!capture(tool, args).ok) {
      process.stdout.write(`missing prerequisite: ${tool} — ${hint}\n`);
      failedChecks.push(`prerequisite ${tool}`);
    }
  }
}

/** Generated protobuf code must be exactly what `protos/` produces: regenerate and compare with git. */
function checkGeneratedCode() {
  if (!existsSync(path.join(root, '.git'))) {
    process.stdout.write('\n== codegen check skipped: not a git checkout\n');
    return;
  }
  if (!run('codegen (protos → libs/xds/src/generated)', 'npx', ['nx', 'run', 'xds:codegen', '--skip-nx-cache', '--output-style=static'])) return;
  const status = capture('git', ['status', '--porcelain', '--', 'libs/xds/src/generated']);
  if (status.out.trim() !== '') {
    process.stdout.write(`generated code differs from protos/ — run \`npx nx run xds:codegen\` and commit:\n${status.out}`);
    failedChecks.push('generated code is stale');
  }
}

function runJest() {
  const dir = mkdtempSync(path.join(tmpdir(), 'weft-jest-'));
  const report = path.join(dir, 'report.json');
  process.stdout.write('\n== jest (every project)\n');
  spawnSync('npx', ['jest', '--ci', '--json', `--outputFile=${report}`], { cwd: root, env, stdio: 'inherit' });
  let passed = 0;
  let failed = 0;
  if (existsSync(report)) {
    const json = JSON.parse(readFileSync(report, 'utf8'));
    passed = json.numPassedTests;
    // A suite that fails to load has no failed tests; count it so it cannot pass unnoticed.
    failed = json.numFailedTests + json.numRuntimeErrorTestSuites;
  } else {
    failed = 1;
    failedChecks.push('jest produced no report');
  }
  rmSync(dir, { recursive: true, force: true });
  return { passed, failed };
}

checkPrerequisites();
checkGeneratedCode();
run('lint, typecheck and build (nx run-many)', 'npx', [
  'nx', 'run-many', '-t', 'lint', 'typecheck', 'build', '--output-style=static', '--skip-nx-cache',
]);
const { passed, failed } = runJest();

if (failedChecks.length > 0) process.stdout.write(`\nfailed checks: ${failedChecks.join('; ')}\n`);
process.stdout.write(`${passed} passed, ${failed + failedChecks.length} failed\n`);
process.exit(failed + failedChecks.length === 0 ? 0 : 1);
