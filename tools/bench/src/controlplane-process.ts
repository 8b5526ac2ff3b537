// The controlplane under test as a child process (`node apps/controlplane/dist/main.js`), and its monitoring port:
// readiness, /debug/connections, /metrics, and memory figures read from /proc/<pid>/status.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { createInterface } from 'node:readline';

import type { DeltaConnectionInfo } from '@weft/xds';

export const BUILD_COMMAND = 'npx nx run controlplane:build';

/** The workspace root: the nearest ancestor of `from` holding nx.json. */
export function workspaceRoot(from: string): string {
  let dir = path.resolve(from);
  while (!existsSync(path.join(dir, 'nx.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no nx.json above ${from}`);
    dir = parent;
  }
  return dir;
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

/** Why the built controlplane cannot be used as it is, or undefined when it is up to date. */
export function controlplaneBuildProblem(root: string): string | undefined {
  const dist = path.join(root, 'apps/controlplane/dist');
  for (const file of ['main.js', 'app.js']) {
    if (!existsSync(path.join(dist, file))) return `apps/controlplane/dist/${file} is missing`;
  }
  const built = statSync(path.join(dist, 'main.js')).mtimeMs;
  const sources = [path.join(root, 'apps/controlplane/src'), ...readdirSync(path.join(root, 'libs')).map((lib) => path.join(root, 'libs', lib, 'src'))];
  const newest = Math.max(...sources.map(newestSourceMtime));
  return newest > built ? 'sources are newer than apps/controlplane/dist' : undefined;
}

/** Runs the nx build of the controlplane (and the libraries it depends on); output goes to stderr. */
export function buildControlplane(root: string): void {
  const result = spawnSync('npx', ['nx', 'run', 'controlplane:build'], {
    cwd: root,
    stdio: ['ignore', 2, 2],
    env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
  });
  if (result.status !== 0) throw new Error(`${BUILD_COMMAND} failed (exit ${result.status ?? result.signal ?? 'unknown'})`);
}

/** Free TCP ports on 127.0.0.1: each bound on port 0 at the same time (so they differ), read, and closed. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => {
    const address = s.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    return address.port;
  });
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}

export interface ComputeRecord {
  /** performance.now() when the log line arrived. */
  readonly at: number;
  readonly configVersion: number;
  readonly elapsedMs: number;
  readonly objects: number;
}

export interface MemoryKb {
  readonly rssKb: number;
  readonly hwmKb: number;
}

export function procMemory(pid: number | 'self'): MemoryKb {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rssKb: field('VmRSS'), hwmKb: field('VmHWM') };
}

export interface ControlplaneChild {
  readonly pid: number;
  readonly spawnedAt: number;
  /** One record per "mesh computed" log line, in order. */
  readonly computations: ComputeRecord[];
  /** Warnings and errors the controlplane logged (message text), at most 50. */
  readonly warnings: string[];
  exitStatus(): string | undefined;
  /** Resolves with the exit status once the process has exited. */
  readonly exited: Promise<string>;
  /** The last lines of output, for failure reports. */
  tail(): string;
  memory(): MemoryKb;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

/** Signals a process by PID; one that has already gone is not an error. */
export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // ESRCH: it exited meanwhile.
  }
}

export function spawnControlplane(mainJs: string, env: Readonly<Record<string, string>>): ControlplaneChild {
  const spawnedAt = performance.now();
  const child: ChildProcess = spawn(process.execPath, [mainJs], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not spawn ${process.execPath} ${mainJs}`);
  const pid = child.pid;
  const computations: ComputeRecord[] = [];
  const warnings: string[] = [];
  const lines: string[] = [];
  let status: string | undefined;
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      status = signal === null ? `exit code ${code ?? 'unknown'}` : `signal ${signal}`;
      resolve(status);
    });
  });
  const keep = (line: string): void => {
    lines.push(line);
    if (lines.length > 40) lines.shift();
  };
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    keep(line);
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    if (entry['msg'] === 'mesh computed') {
      computations.push({
        at: performance.now(),
        configVersion: Number(entry['configVersion']),
        elapsedMs: Number(entry['elapsedMs']),
        objects: Number(entry['objects']),
      });
    } else if (typeof entry['level'] === 'number' && entry['level'] >= 40 && warnings.length < 50) {
      warnings.push(String(entry['msg']));
    }
  });
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', keep);

  let stopping: Promise<void> | undefined;
  return {
    pid,
    spawnedAt,
    computations,
    warnings,
    exitStatus: () => status,
    exited,
    tail: () => lines.join('\n'),
    memory: () => procMemory(pid),
    stop(graceMs = 5_000) {
      stopping ??= (async () => {
        if (status !== undefined) return;
        signal(pid, 'SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const killed = new Promise<string>((resolve) => {
          timer = setTimeout(() => {
            if (status === undefined) signal(pid, 'SIGKILL');
            resolve('killed');
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

/** Monitoring-port client (15014-equivalent). */
export class Monitoring {
  constructor(private readonly port: number) {}

  private async get(pathname: string, timeoutMs = 10_000): Promise<Response> {
    return fetch(`http://127.0.0.1:${this.port}${pathname}`, { signal: AbortSignal.timeout(timeoutMs) });
  }

  async isReady(): Promise<boolean> {
    try {
      const response = await this.get('/ready', 2_000);
      await response.arrayBuffer();
      return response.status === 200;
    } catch {
      return false;
    }
  }

  /** The plaintext listener's streams (`grpc-xds`). */
  async connections(): Promise<DeltaConnectionInfo[]> {
    const response = await this.get('/debug/connections');
    if (response.status !== 200) throw new Error(`/debug/connections: HTTP ${response.status}`);
    const body = (await response.json()) as Record<string, DeltaConnectionInfo[] | undefined>;
    return body['grpc-xds'] ?? [];
  }

  /** Samples of one metric family, keyed by their label text (`{type="..."}`, or "" without labels). */
  async metric(name: string): Promise<Map<string, number>> {
    const response = await this.get('/metrics');
    const text = await response.text();
    const samples = new Map<string, number>();
    for (const line of text.split('\n')) {
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line);
      if (match !== null && match[1] === name) samples.set(match[2] ?? '', Number(match[3]));
    }
    return samples;
  }
}
