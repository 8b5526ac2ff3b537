// Child processes of the ztunnel datapath benchmark (ztunnels, the app server, iperf3): spawned with their output
// going to a file in the temp directory (so the bench process spends nothing reading it), stopped by PID, and
// measured from /proc: CPU time (utime + stime of every thread) and memory.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';

import { signal } from './controlplane-process';

/** Clock ticks per second of /proc/<pid>/stat times (`getconf CLK_TCK`; 100 on Linux almost everywhere). */
export const CLOCK_TICKS = ((): number => {
  const result = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const value = Number(result.stdout?.trim());
  return Number.isFinite(value) && value > 0 ? value : 100;
})();

/** CPU seconds (user + system, all threads) the process has used so far. */
export function cpuSeconds(pid: number | 'self'): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is parenthesised and may hold spaces: count fields after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15; fields[0] here is field 3.
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** A CPU meter over several processes: `start()`, then `cores()` = CPU seconds per wall second since. */
export class CpuWindow {
  private readonly startCpu: Map<string, number>;
  private readonly startWall = performance.now();

  constructor(private readonly pids: Readonly<Record<string, number | 'self'>>) {
    this.startCpu = new Map(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
  }

  /** Cores used by each process since construction. */
  cores(): Record<string, number> {
    const wall = (performance.now() - this.startWall) / 1000;
    return Object.fromEntries(Object.entries(this.pids).map(([name, pid]) => [name, (cpuSeconds(pid) - (this.startCpu.get(name) ?? 0)) / wall]));
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
