// Log lines (access logs: one per request or connection) batched into one write per turn of the event loop, so a busy
// proxy does not make one blocking stdout write per line. `close` writes out what is still held.

export interface LineWriter {
  /** Queues one line (without its newline). */
  line(text: string): void;
  /** Writes out what is held now and stops batching: later lines are written one by one. */
  close(): void;
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
