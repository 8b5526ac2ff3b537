// The few system operations a local cluster needs: `ip` commands, namespaces, detached processes identified by PID
// and start time, and HTTP probes run from inside a namespace (the ports listen there, not in the root netns).

import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';

export function run(cmd: string, args: readonly string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err: unknown) {
    const stderr = typeof err === 'object' && err !== null && 'stderr' in err ? String(err.stderr) : '';
    throw new Error(`${cmd} ${args.join(' ')} failed: ${stderr.trim() || String(err)}`);
  }
}

export const netnsPath = (name: string): string => `/run/netns/${name}`;
export const netnsExists = (name: string): boolean => existsSync(netnsPath(name));

/** Where `ip netns exec` finds a namespace's own /etc files (bound over /etc for what it starts). */
export const netnsEtcDir = (name: string): string => `/etc/netns/${name}`;

/** Removes a namespace's own /etc files (the caller owns the namespace). */
export function removeNetnsEtc(name: string): void {
  rmSync(netnsEtcDir(name), { recursive: true, force: true });
}

/** `ip -n <netns> <args>` */
export const ipIn = (netns: string, ...args: string[]): string => run('ip', ['-n', netns, ...args]);

/** `ip netns exec <netns> <cmd> <args>` */
export const execIn = (netns: string, cmd: string, ...args: string[]): string => run('ip', ['netns', 'exec', netns, cmd, ...args]);

export function hasTool(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v '${tool.replace(/'/g, '')}'`], { stdio: 'ignore' }).status === 0;
}

/** Field 22 (starttime) of /proc/<pid>/stat, or undefined when the PID does not exist or is a zombie. */
export function procStartTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
  return fields[19];
}

/** Whether the process we recorded (same PID and same start time) is still running. */
export function isRunning(p: { readonly pid: number; readonly startTime: string }): boolean {
  return procStartTime(p.pid) === p.startTime;
}

export interface Started {
  readonly pid: number;
  readonly startTime: string;
}

/**
 * Starts `argv` inside `netns` as a detached session leader (it outlives the caller), stdout and stderr appended to
 * `log`. `ip netns exec` execs the command, so the PID is the command's own.
 */
export function startDetached(netns: string, argv: readonly string[], env: Readonly<Record<string, string>>, log: string): Started {
  const fd = openSync(log, 'a');
  try {
    const child = spawn('ip', ['netns', 'exec', netns, ...argv], { detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, ...env } });
    child.on('error', () => undefined);
    const pid = child.pid;
    if (pid === undefined) throw new Error(`could not start ${argv.join(' ')} in ${netns} (is iproute2 installed?)`);
    child.unref();
    const startTime = procStartTime(pid);
    if (startTime === undefined) throw new Error(`${argv.join(' ')} in ${netns} exited at once; see ${log}`);
    return { pid, startTime };
  } finally {
    closeSync(fd);
  }
}

function signal(p: Started, sig: NodeJS.Signals): void {
  if (!isRunning(p)) return;
  try {
    // The process leads its own group (detached); the group holds only what it started.
    process.kill(-p.pid, sig);
  } catch {
    try {
      process.kill(p.pid, sig);
    } catch {
      // gone meanwhile
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** SIGTERM (to its process group), then SIGKILL after `graceMs`; resolves with whether it is gone. */
export async function stopProcess<T extends Started>(p: T, graceMs: number): Promise<boolean> {
  signal(p, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isRunning(p) && Date.now() < deadline) await sleep(25);
  if (!isRunning(p)) return true;
  signal(p, 'SIGKILL');
  const killDeadline = Date.now() + 3_000;
  while (isRunning(p) && Date.now() < killDeadline) await sleep(25);
  return !isRunning(p);
}

export interface HttpResult {
  readonly status: number;
  readonly body: string;
}

const HTTP_GET = `
fetch(process.argv[1], { signal: AbortSignal.timeout(Number(process.argv[2])) }).then(
  async (r) => process.stdout.write(JSON.stringify({ status: r.status, body: await r.text() })),
  (e) => process.stdout.write(JSON.stringify({ status: 0, body: String((e && e.cause) || e) })));`;

/** GET from inside a namespace; status 0 when the connection failed. */
export function httpGetIn(netns: string, url: string, timeoutMs = 5_000): Promise<HttpResult> {
  return new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', netns, process.execPath, '-e', HTTP_GET, url, String(timeoutMs)], { encoding: 'utf8', timeout: timeoutMs + 5_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error !== null) {
        resolve({ status: 0, body: `${error.message} ${stderr}`.trim() });
        return;
      }
      try {
        resolve(JSON.parse(stdout) as HttpResult);
      } catch {
        resolve({ status: 0, body: stdout });
      }
    });
  });
}

export interface TcpSocket {
  readonly state: string;
  readonly localPort: number;
  readonly peerPort: number;
}

const portOf = (endpoint: string): number => Number(endpoint.slice(endpoint.lastIndexOf(':') + 1));

/** Parses `ss -Htan` (state, queues, local, peer). */
export function parseSs(text: string): TcpSocket[] {
  return text
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => cols.length >= 5)
    .map((cols) => ({ state: cols[0] ?? '', localPort: portOf(cols[3] ?? ''), peerPort: portOf(cols[4] ?? '') }));
}

/** The TCP sockets of a namespace (`ss -Htan` inside it); empty when the namespace is gone. */
export function tcpSocketsIn(netns: string): Promise<TcpSocket[]> {
  return new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', netns, 'ss', '-Htan'], { encoding: 'utf8', timeout: 5_000 }, (error, stdout) => resolve(error === null ? parseSs(stdout) : []));
  });
}
