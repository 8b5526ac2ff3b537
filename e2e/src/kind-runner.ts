// The one way the kind driver runs external commands (docker, kind, kubectl, helm): a Runner takes an argv and
// resolves with the exit status and output, never throwing. The driver gets it injected, so its unit tests can
// record the exact commands and answer them with recorded outputs.

import { spawn } from 'node:child_process';

import type { ExecResult } from './driver';

export interface RunOptions {
  /** Written to the command's stdin (YAML for `kubectl apply -f -`). */
  readonly input?: string;
  /** Kills the command (SIGKILL) after this long; the result is then code 124, as with timeout(1). */
  readonly timeoutMs?: number;
  /** Ends a long-running command (tcpdump): SIGINT, then SIGKILL after {@link STOP_GRACE_MS}. */
  readonly signal?: AbortSignal;
  /** Sees stderr as it arrives (e.g. tcpdump's "listening on"). */
  readonly onStderr?: (chunk: string) => void;
  /** How stdout is decoded: latin1 keeps every byte of a packet capture. Default utf8. */
  readonly encoding?: 'utf8' | 'latin1';
}

/** Runs `argv`; a program that cannot be started resolves with code 127 (as a shell says "not found"). */
export type Runner = (argv: readonly string[], options?: RunOptions) => Promise<ExecResult>;

/** Status of a command that did not start (not installed). */
export const NOT_FOUND = 127;
/** Status of a command killed at its timeout. */
export const TIMED_OUT = 124;
/** How long an aborted command has to finish (tcpdump flushes its buffer) before it is killed. */
export const STOP_GRACE_MS = 5_000;

const SIGNAL_NUMBERS: Readonly<Record<string, number>> = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/** The Runner over real processes: each child is owned by its PID and killed only through it. */
export function createProcessRunner(): Runner {
  return (argv, options = {}) =>
    new Promise((resolve) => {
      const [file, ...args] = argv;
      if (file === undefined) {
        resolve({ code: NOT_FOUND, stdout: '', stderr: 'empty command' });
        return;
      }
      const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      let stderr = '';
      let timedOut = false;
      let settled = false;
      const timers: NodeJS.Timeout[] = [];
      const finish = (result: ExecResult): void => {
        if (settled) return;
        settled = true;
        for (const t of timers) clearTimeout(t);
        options.signal?.removeEventListener('abort', stop);
        resolve(result);
      };
      const stop = (): void => {
        child.kill('SIGINT');
        timers.push(setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS));
      };
      child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
        options.onStderr?.(chunk);
      });
      child.on('error', (error: NodeJS.ErrnoException) => {
        finish({ code: error.code === 'ENOENT' ? NOT_FOUND : 126, stdout: '', stderr: `${file}: ${error.message}` });
      });
      child.on('close', (code, signal) => {
        const status = timedOut ? TIMED_OUT : (code ?? 128 + (SIGNAL_NUMBERS[signal ?? ''] ?? 0));
        finish({ code: status, stdout: Buffer.concat(out).toString(options.encoding ?? 'utf8'), stderr });
      });
      if (options.timeoutMs !== undefined) {
        timers.push(
          setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, options.timeoutMs),
        );
      }
      if (options.signal !== undefined) {
        if (options.signal.aborted) stop();
        else options.signal.addEventListener('abort', stop, { once: true });
      }
      // stdin is the input, or empty; a command that exits without reading it (EPIPE) is reported by its own status.
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input ?? '');
    });
}
