// Log lines (access logs: one per request or connection) batched, so a busy proxy does not make one blocking stdout
// write per line: by default into one write per turn of the event loop; with a flush interval, as Envoy's file access
// log does, into one write per interval or per `maxHeldBytes`, whichever comes first. `close` writes out what is
// still held.

import type { CleanupStack } from './cleanup-stack';

export interface LineWriter {
  /** Queues one line (without its newline). */
  line(text: string): void;
  /** Writes out what is held now and stops batching: later lines are written one by one. */
  close(): void;
}

export interface LineWriterOptions {
  /** Hold lines up to this long instead of until the end of the event-loop turn. */
  readonly flushIntervalMs?: number;
  /** With a flush interval: write at once when this much is held. Default 64 KiB (Envoy's flush size). */
  readonly maxHeldBytes?: number;
}

/**
 * Where a component's access log goes: `override` when given (tests), else stdout through a line writer that
 * `cleanups` closes last of all.
 */
export function accessLogSink(cleanups: CleanupStack, override?: (line: string) => void, options: LineWriterOptions = {}): (line: string) => void {
  if (override !== undefined) return override;
  const writer = createLineWriter((chunk) => void process.stdout.write(chunk), options);
  cleanups.push(() => writer.close());
  return (line) => writer.line(line);
}

export function createLineWriter(write: (chunk: string) => void, options: LineWriterOptions = {}): LineWriter {
  const { flushIntervalMs } = options;
  const maxHeldBytes = options.maxHeldBytes ?? 64 * 1024;
  let held: string[] = [];
  let heldBytes = 0;
  let scheduled: NodeJS.Immediate | NodeJS.Timeout | undefined;
  let closed = false;
  const cancel = (): void => {
    if (scheduled === undefined) return;
    if (flushIntervalMs === undefined) clearImmediate(scheduled as NodeJS.Immediate);
    else clearTimeout(scheduled as NodeJS.Timeout);
    scheduled = undefined;
  };
  const flush = (): void => {
    scheduled = undefined;
    if (held.length === 0) return;
    const chunk = `${held.join('\n')}\n`;
    held = [];
    heldBytes = 0;
    write(chunk);
  };
  const schedule = (): void => {
    if (scheduled !== undefined) return;
    if (flushIntervalMs === undefined) {
      scheduled = setImmediate(flush);
      return;
    }
    const timer = setTimeout(flush, flushIntervalMs);
    // Held lines never keep the process alive: close() writes them out at shutdown.
    timer.unref();
    scheduled = timer;
  };
  return {
    line(text) {
      if (closed) {
        write(`${text}\n`);
        return;
      }
      held.push(text);
      heldBytes += text.length + 1;
      if (flushIntervalMs !== undefined && heldBytes >= maxHeldBytes) {
        cancel();
        flush();
        return;
      }
      schedule();
    },
    close() {
      closed = true;
      cancel();
      flush();
    },
  };
}
