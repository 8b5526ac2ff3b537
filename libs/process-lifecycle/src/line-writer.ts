// Log lines (access logs: one per request or connection) batched into one write per turn of the event loop, so a busy
// proxy does not make one blocking stdout write per line. `close` writes out what is still held.

import type { CleanupStack } from './cleanup-stack';

export interface LineWriter {
  /** Queues one line (without its newline). */
  line(text: string): void;
  /** Writes out what is held now and stops batching: later lines are written one by one. */
  close(): void;
}

/**
 * Where a component's access log goes: `override` when given (tests), else stdout through a line writer that
 * `cleanups` closes last of all.
 */
export function accessLogSink(cleanups: CleanupStack, override?: (line: string) => void): (line: string) => void {
  if (override !== undefined) return override;
  const writer = createLineWriter((chunk) => void process.stdout.write(chunk));
  cleanups.push(() => writer.close());
  return (line) => writer.line(line);
}

export function createLineWriter(write: (chunk: string) => void): LineWriter {
  let held: string[] = [];
  let scheduled: NodeJS.Immediate | undefined;
  let closed = false;
  const flush = (): void => {
    scheduled = undefined;
    if (held.length === 0) return;
    const chunk = `${held.join('\n')}\n`;
    held = [];
    write(chunk);
  };
  return {
    line(text) {
      if (closed) {
        write(`${text}\n`);
        return;
      }
      held.push(text);
      scheduled ??= setImmediate(flush);
    },
    close() {
      closed = true;
      if (scheduled !== undefined) clearImmediate(scheduled);
      flush();
    },
  };
}
