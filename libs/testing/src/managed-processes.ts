// Long-running child processes inside a test netns (`ip netns exec <ns> <cmd>`, which execs the command, so the
// PID we hold is the command's own). Output is kept for failure messages; teardown stops exactly the PIDs started
// here: SIGTERM, then SIGKILL after a grace period.

import { spawn, type ChildProcess } from 'node:child_process';

export interface ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
  exited(): boolean;
}

export class ManagedProcesses {
  private readonly processes: ManagedProcess[] = [];

  /**
   * Starts `argv` inside `netns` (or in the test's own netns when `netns` is undefined). A `transient` process (a
   * one-shot command) is forgotten once it exits, so it does not crowd `logs()`. `input` is written to its stdin.
   */
  start(name: string, netns: string | undefined, argv: readonly string[], env: Readonly<Record<string, string>> = {}, options: { readonly transient?: boolean; readonly input?: Buffer } = {}): ManagedProcess {
    const [file, ...args] = netns === undefined ? argv : ['ip', 'netns', 'exec', netns, ...argv];
    if (file === undefined) throw new Error('empty argv');
    const child = spawn(file, args, { env: { ...process.env, ...env }, stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    if (options.input !== undefined) {
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(options.input);
    }
    let out = '';
    const keep = (chunk: Buffer): void => {
      out += chunk.toString();
      if (out.length > 1_000_000) out = out.slice(-500_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('error', (error) => keep(Buffer.from(`spawn failed: ${error.message}\n`)));
    const managed: ManagedProcess = {
      name,
      child,
      output: () => out,
      exited: () => child.exitCode !== null || child.signalCode !== null,
    };
    this.processes.push(managed);
    if (options.transient === true) {
      child.once('exit', () => {
        const at = this.processes.indexOf(managed);
        if (at >= 0) this.processes.splice(at, 1);
      });
    }
    return managed;
  }

  /** The last `lines` lines of every process's output, for failure messages. */
  logs(lines = 40): string {
    return this.processes
      .map((p) => `--- ${p.name} (pid ${String(p.child.pid)}${p.exited() ? `, exited ${String(p.child.exitCode ?? p.child.signalCode)}` : ''})\n${p.output().split('\n').slice(-lines).join('\n')}`)
      .join('\n');
  }

  /** Stops one process by its PID: SIGTERM, SIGKILL after `graceMs`. */
  static async stop(p: ManagedProcess, graceMs = 5_000): Promise<void> {
    if (p.exited() || p.child.pid === undefined) return;
    const exited = new Promise<void>((resolve) => p.child.once('exit', () => resolve()));
    p.child.kill('SIGTERM');
    const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  /** Stops every process started here, newest first (so dependants go before what they depend on). */
  async stopAll(graceMs = 5_000): Promise<void> {
    for (const p of this.processes.slice().reverse()) await ManagedProcesses.stop(p, graceMs);
  }

  /** PIDs started here that are still running (expected: none after stopAll). */
  running(): number[] {
    return this.processes.filter((p) => !p.exited() && p.child.pid !== undefined).map((p) => p.child.pid as number);
  }
}
