// Child processes of the datapath benchmarks (controlplane, ztunnels, waypoint, the app server, iperf3): spawned with
// their output going to a file in the temp directory (so the bench process spends nothing reading it), stopped by PID,
// and measured from /proc: CPU time (utime + stime of every thread) and memory. Also the set-up the ztunnel and
// waypoint benches share: the manifest directory and bootstrap tokens, the controlplane, loopback-mode ztunnels.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import * as path from 'node:path';

import { stringify } from 'yaml';

import { onCleanup, progress, sleep } from './bench-runtime';
import { signal, spawnControlplane, Monitoring, type ControlplaneChild } from './controlplane-process';
import { destroyAllSockets } from './datapath-load';

/** Clock ticks per second of /proc/<pid>/stat times (`getconf CLK_TCK`; 100 on Linux almost everywhere). */
export const CLOCK_TICKS = ((): number => {
  const result = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const value = Number(result.stdout?.trim());
  return Number.isFinite(value) && value > 0 ? value : 100;
})();

/** CPU seconds a process has used so far, all threads: in user space and in the kernel (system time). */
export interface CpuTimes {
  readonly user: number;
  readonly system: number;
}

export function cpuTimes(pid: number | 'self'): CpuTimes {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is parenthesised and may hold spaces: count fields after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15; fields[0] here is field 3.
  return { user: Number(fields[11]) / CLOCK_TICKS, system: Number(fields[12]) / CLOCK_TICKS };
}

/** CPU seconds (user + system, all threads) the process has used so far. */
export function cpuSeconds(pid: number | 'self'): number {
  const { user, system } = cpuTimes(pid);
  return user + system;
}

/** A CPU meter over several processes: `start()`, then `cores()` = CPU seconds per wall second since. */
export class CpuWindow {
  private readonly startCpu: Map<string, CpuTimes>;
  private readonly startWall = performance.now();

  constructor(private readonly pids: Readonly<Record<string, number | 'self'>>) {
    this.startCpu = new Map(Object.entries(pids).map(([name, pid]) => [name, cpuTimes(pid)]));
  }

  /** Cores used by each process since construction. */
  cores(): Record<string, number> {
    return this.since((now, start) => now.user + now.system - (start.user + start.system));
  }

  /** Of `cores()`, the part spent in the kernel (system time: syscalls, TCP/IP, wake-ups of other processes). */
  kernelCores(): Record<string, number> {
    return this.since((now, start) => now.system - start.system);
  }

  private since(spent: (now: CpuTimes, start: CpuTimes) => number): Record<string, number> {
    const wall = (performance.now() - this.startWall) / 1000;
    return Object.fromEntries(
      Object.entries(this.pids).map(([name, pid]) => [name, spent(cpuTimes(pid), this.startCpu.get(name) ?? { user: 0, system: 0 }) / wall]),
    );
  }
}

export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  exitStatus(): string | undefined;
  readonly exited: Promise<string>;
  /** The last lines of its output. */
  tail(lines?: number): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

/** Every child not yet known to have exited, for the synchronous last resort on 'exit'. */
export const liveChildren = new Map<number, string>();

/** A datapath bench's last resort: close the load sockets, SIGKILL every child still alive, remove its temp dir. */
export function killDatapathBench(tempDir: string | undefined): void {
  destroyAllSockets();
  for (const pid of liveChildren.keys()) signal(pid, 'SIGKILL');
  if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
}

export function spawnChild(name: string, command: string, args: readonly string[], env: Readonly<Record<string, string>>, logFile: string): Child {
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, [...args], { env: { ...process.env, ...env }, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  if (child.pid === undefined) throw new Error(`could not spawn ${name}: ${command} ${args.join(' ')}`);
  const pid = child.pid;
  liveChildren.set(pid, name);
  let status: string | undefined;
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, sig) => {
      status = sig === null ? `exit code ${code ?? 'unknown'}` : `signal ${sig}`;
      liveChildren.delete(pid);
      resolve(status);
    });
  });
  child.once('error', (err) => {
    status ??= `spawn error: ${err.message}`;
    liveChildren.delete(pid);
  });
  let stopping: Promise<void> | undefined;
  return {
    name,
    pid,
    logFile,
    exitStatus: () => status,
    exited,
    tail(lines = 30) {
      try {
        return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
      } catch {
        return '';
      }
    },
    stop(graceMs = 3_000) {
      stopping ??= (async () => {
        if (status !== undefined) return;
        signal(pid, 'SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const killed = new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            if (status === undefined) signal(pid, 'SIGKILL');
            resolve();
          }, graceMs);
        });
        await Promise.race([exited, killed]);
        clearTimeout(timer);
        await exited;
      })();
      return stopping;
    },
  };
}

/** Whether `command` is on PATH (no shell involved). */
export function onPath(command: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, command);
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function newestSourceMtime(dir: string): number {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMtime(full));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

/** Why `apps/<app>/dist/main.js` cannot be used as it is (missing, or older than its or a library's sources). */
export function appBuildProblem(root: string, app: string): string | undefined {
  const main = path.join(root, 'apps', app, 'dist/main.js');
  if (!existsSync(main)) return `apps/${app}/dist/main.js is missing`;
  const built = statSync(main).mtimeMs;
  const sources = [path.join(root, 'apps', app, 'src'), ...readdirSync(path.join(root, 'libs')).map((lib) => path.join(root, 'libs', lib, 'src'))];
  return Math.max(...sources.map(newestSourceMtime)) > built ? `sources are newer than apps/${app}/dist` : undefined;
}

/** `npx nx run-many -t build -p <projects>`; output to stderr. */
export function buildApps(root: string, projects: readonly string[]): void {
  const result = spawnSync('npx', ['nx', 'run-many', '-t', 'build', '-p', ...projects], {
    cwd: root,
    stdio: ['ignore', 2, 2],
    env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
  });
  if (result.status !== 0) throw new Error(`building ${projects.join(', ')} failed (exit ${result.status ?? result.signal ?? 'unknown'})`);
}

/**
 * Builds `apps/<app>` for every app whose dist is missing or stale; with `skipBuild` only warns (a missing build is
 * still an error).
 */
export function ensureAppsBuilt(root: string, apps: readonly string[], skipBuild: boolean): void {
  const problems = apps.flatMap((app) => {
    const problem = appBuildProblem(root, app);
    return problem === undefined ? [] : [problem];
  });
  if (problems.length > 0 && skipBuild) {
    if (problems.some((p) => p.includes('missing'))) throw new Error(`${problems.join('; ')}; build with: npx nx run-many -t build -p ${apps.join(' ')}`);
    progress(`warning: ${problems.join('; ')}; using them anyway (--skip-build)`);
  } else if (problems.length > 0) {
    progress(`${problems.join('; ')}; building ${apps.join(', ')}`);
    buildApps(root, apps);
  }
}

/** Polls `check` every 50 ms until it is true; fails early if `child` exits, and after `timeoutMs`. */
export async function waitFor(what: string, child: Child | undefined, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    const status = child?.exitStatus();
    if (child !== undefined && status !== undefined) throw new Error(`${child.name} exited (${status}) while waiting for ${what}:\n${child.tail()}`);
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${child === undefined ? '' : `:\n${child.tail()}`}`);
    await sleep(50);
  }
}

export async function getJson(port: number, pathname: string): Promise<unknown> {
  const response = await fetch(`http://127.0.0.1:${port}${pathname}`, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`${pathname}: HTTP ${response.status}`);
  return response.json();
}

/** ztunnel's admin `/debug/connections`, the parts the benches read. */
export interface ZtunnelDebug {
  readonly open: number;
  readonly pool: readonly { readonly streams: number }[];
}

/** `<name>: <msg>` of every line the child logged at warn or above (pino lines and access-log lines). */
export function warningsIn(child: Child): string[] {
  const found: string[] = [];
  for (const line of child.tail(100_000).split('\n')) {
    try {
      const entry = JSON.parse(line) as { level?: unknown; msg?: unknown; message?: unknown; error?: unknown };
      if (typeof entry.level === 'number' && entry.level >= 40) found.push(`${child.name}: ${String(entry.msg)}`);
      // Access-log lines (scope "access") carry the level as text.
      if (entry.level === 'warn' || entry.level === 'error') found.push(`${child.name}: access ${String(entry.message)}: ${String(entry.error ?? '')}`);
    } catch {
      // an access-log line or other text
    }
  }
  return found;
}

// ---- the mesh the datapath benches share ----

/**
 * Writes `<dir>/manifests/mesh.yaml` (through a dot-file and a rename), `<dir>/tokens.yaml` (bootstrap tokens, one
 * per node) and `<dir>/<node>.token`; returns the manifest directory.
 */
export async function writeMeshFiles(dir: string, manifests: readonly object[], tokens: Readonly<Record<string, string>>): Promise<string> {
  const manifestDir = path.join(dir, 'manifests');
  await mkdir(manifestDir);
  await writeFile(path.join(manifestDir, '.mesh.yaml.tmp'), manifests.map((o) => stringify(o)).join('---\n'));
  await rename(path.join(manifestDir, '.mesh.yaml.tmp'), path.join(manifestDir, 'mesh.yaml'));
  await writeFile(path.join(dir, 'tokens.yaml'), stringify({ tokens: Object.entries(tokens).map(([node, token]) => ({ token, node })) }));
  for (const [node, token] of Object.entries(tokens)) await writeFile(path.join(dir, `${node}.token`), token);
  return manifestDir;
}

/** The ports of the controlplane a datapath bench starts. */
export interface ControlplanePorts {
  readonly xdsPlaintext: number;
  /** Delta ADS and the CA over TLS (istiod's 15012): what ztunnels and waypoints dial. */
  readonly xdsTls: number;
  readonly monitoring: number;
}

/**
 * The built controlplane in manifest mode on the files of {@link writeMeshFiles} (CA in `<dir>/ca`), registered for
 * cleanup; resolves once `/ready` answers 200.
 */
export async function startBenchControlplane(root: string, dir: string, manifestDir: string, ports: ControlplanePorts): Promise<ControlplaneChild> {
  const controlplane = spawnControlplane(path.join(root, 'apps/controlplane/dist/main.js'), {
    WEFT_MANIFEST_DIR: manifestDir,
    WEFT_CA_DIR: path.join(dir, 'ca'),
    WEFT_BOOTSTRAP_TOKENS_FILE: path.join(dir, 'tokens.yaml'),
    WEFT_XDS_PLAINTEXT_PORT: String(ports.xdsPlaintext),
    WEFT_XDS_TLS_PORT: String(ports.xdsTls),
    WEFT_MONITORING_PORT: String(ports.monitoring),
    WEFT_LISTEN_ADDRESS: '127.0.0.1',
    PILOT_DEBOUNCE_AFTER_MS: '10',
    WEFT_DRAIN_DEADLINE_MS: '500',
    LOG_LEVEL: 'warn',
  });
  liveChildren.set(controlplane.pid, 'controlplane');
  void controlplane.exited.then(() => liveChildren.delete(controlplane.pid));
  onCleanup('stop the controlplane', () => controlplane.stop(3_000));
  const monitoring = new Monitoring(ports.monitoring);
  await waitFor('the controlplane /ready', undefined, 30_000, async () => {
    const status = controlplane.exitStatus();
    if (status !== undefined) throw new Error(`the controlplane exited (${status}):\n${controlplane.tail()}`);
    return monitoring.isReady();
  }).catch((cause: unknown) => {
    throw new Error(`${String(cause)}\n${controlplane.tail()}`);
  });
  return controlplane;
}

/** The root certificate and the TLS server name a mesh component needs to reach the controlplane of a datapath bench. */
export function xdsClientEnv(dir: string, xdsTls: number, node: string): Record<string, string> {
  return {
    XDS_ADDRESS: `127.0.0.1:${xdsTls}`,
    XDS_SERVER_NAME: 'istiod.istio-system.svc',
    XDS_ROOT_CA: path.join(dir, 'ca', 'self-signed-ca-cert.pem'),
    WEFT_TOKEN_FILE: path.join(dir, `${node}.token`),
  };
}

/** A pod a loopback-mode ztunnel proxies: its 127.0.x.y address stands in for its netns. */
export interface LoopbackPod {
  readonly uid: string;
  readonly name: string;
  readonly serviceAccount: string;
  readonly address: string;
  readonly node: string;
}

/** One `WEFT_LOOPBACK_PODS` entry (namespace default): the pod, and where its outbound listener (15001) sends. */
export function loopbackPodEntry(pod: LoopbackPod, outboundTarget: string): string {
  return `${pod.uid}=default/${pod.name}/${pod.serviceAccount}@${pod.address}>${outboundTarget}`;
}

export interface ZtunnelChild extends Child {
  readonly ports: { readonly admin: number; readonly readiness: number; readonly stats: number };
}

/** A built ztunnel in loopback mode for `node`, its output to `<dir>/ztunnel-<node>.log`, registered for cleanup. */
export function startLoopbackZtunnel(options: {
  readonly root: string;
  readonly dir: string;
  readonly xdsTls: number;
  readonly node: string;
  /** `;`-joined {@link loopbackPodEntry} entries. */
  readonly pods: string;
  /** admin, stats, readiness. */
  readonly ports: readonly number[];
  readonly logLevel: string;
}): ZtunnelChild {
  const { dir, node } = options;
  const [admin = 0, stats = 0, readiness = 0] = options.ports;
  const child = spawnChild(
    `ztunnel ${node}`,
    process.execPath,
    [path.join(options.root, 'apps/ztunnel/dist/main.js')],
    {
      WEFT_ZTUNNEL_MODE: 'loopback',
      NODE_NAME: node,
      POD_NAME: `ztunnel-${node}`,
      ...xdsClientEnv(dir, options.xdsTls, node),
      WEFT_LOOPBACK_PODS: options.pods,
      ADMIN_PORT: String(admin),
      STATS_PORT: String(stats),
      READINESS_PORT: String(readiness),
      WEFT_LISTEN_ADDRESS: '127.0.0.1',
      WEFT_DRAIN_DEADLINE_MS: '500',
      LOG_LEVEL: options.logLevel,
    },
    path.join(dir, `ztunnel-${node}.log`),
  );
  onCleanup(`stop ztunnel ${node}`, () => child.stop(3_000));
  return Object.assign(child, { ports: { admin, stats, readiness } });
}

/** Waits until the ztunnel answers /healthz/ready and holds every certificate it asked for. */
export async function waitZtunnelReady(z: ZtunnelChild): Promise<void> {
  await waitFor(`${z.name} ready`, z, 30_000, async () => (await fetch(`http://127.0.0.1:${z.ports.readiness}/healthz/ready`)).ok);
  await waitFor(`${z.name} certificates`, z, 30_000, async () => {
    const dump = (await getJson(z.ports.admin, '/config_dump')) as { certificates: { state: string }[] };
    return dump.certificates.length > 0 && dump.certificates.every((c) => c.state === 'Available');
  });
}
