import { EventEmitter } from 'node:events';

import Fastify from 'fastify';

import { CleanupStack } from './cleanup-stack';
import { createLineWriter } from './line-writer';
import { listenFastify } from './listen';
import { runComponent, SHUTDOWN_GRACE_MS, type ComponentLogger, type ParsedConfig } from './run-component';

function recordingLogger(): ComponentLogger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, message: string) => {
    const err = fields['err'];
    lines.push(`${level} ${message}${err instanceof Error ? `: ${err.message}` : ''}`);
  };
  return { lines, info: at('info'), error: at('error'), fatal: at('fatal') };
}

describe('CleanupStack', () => {
  it('runs steps newest first, once, and logs a failing step without stopping the others', async () => {
    const logger = recordingLogger();
    const stack = new CleanupStack(logger);
    const order: string[] = [];
    stack.push(() => void order.push('first'));
    stack.push(() => {
      throw new Error('boom');
    });
    stack.push(async () => void order.push('last'));
    stack.pushClosedLast(() => void order.push('monitoring'));
    await stack.closeAll();
    await stack.closeAll();
    expect({ order, lines: logger.lines }).toEqual({ order: ['last', 'first', 'monitoring'], lines: ['error shutdown step failed: boom'] });
  });
});

describe('listenFastify', () => {
  it('returns the port the kernel chose for 0', async () => {
    const app = Fastify({ logger: false });
    const port = await listenFastify(app, '127.0.0.1', 0);
    await app.close();
    expect(port).toBeGreaterThan(0);
  });
});

describe('runComponent', () => {
  interface Run {
    readonly exits: number[];
    readonly stderr: string[];
    readonly logger: ReturnType<typeof recordingLogger>;
    readonly signals: EventEmitter;
  }

  async function run(parsed: ParsedConfig<{ drain: number }>, start: () => Promise<{ close(): Promise<void> }>): Promise<Run> {
    const exits: number[] = [];
    const stderr: string[] = [];
    const logger = recordingLogger();
    const signals = new EventEmitter();
    await runComponent({
      name: 'ztunnel',
      parsed,
      logger: () => logger,
      start,
      drainDeadlineMs: (config) => config.drain,
      signals,
      exit: (code) => void exits.push(code),
      stderr: (text) => void stderr.push(text),
    });
    return { exits, stderr, logger, signals };
  }

  it('a bad configuration exits 2 with every problem listed', async () => {
    const r = await run({ ok: false, errors: ['XDS_ADDRESS: required', 'NODE_NAME: required'] }, () => Promise.reject(new Error('not reached')));
    expect({ exits: r.exits, stderr: r.stderr }).toEqual({ exits: [2], stderr: ['ztunnel: invalid configuration:\n  XDS_ADDRESS: required\n  NODE_NAME: required\n'] });
  });

  it('a failure to start exits 1 and says why', async () => {
    const r = await run({ ok: true, config: { drain: 10 } }, () => Promise.reject(new Error('port 15008 in use')));
    expect({ exits: r.exits, lines: r.logger.lines }).toEqual({ exits: [1], lines: ['fatal ztunnel failed to start: port 15008 in use'] });
  });

  it('SIGTERM closes the component and exits 0; a second signal does not close it again', async () => {
    let closes = 0;
    const r = await run({ ok: true, config: { drain: 10 } }, async () => ({ close: async () => void closes++ }));
    r.signals.emit('SIGTERM');
    r.signals.emit('SIGINT');
    await new Promise((resolve) => setImmediate(resolve));
    expect({ exits: r.exits, closes }).toEqual({ exits: [0], closes: 1 });
  });

  it('a close that fails exits 1', async () => {
    const r = await run({ ok: true, config: { drain: 10 } }, async () => ({ close: () => Promise.reject(new Error('stuck')) }));
    r.signals.emit('SIGINT');
    await new Promise((resolve) => setImmediate(resolve));
    expect({ exits: r.exits, last: r.logger.lines.at(-1) }).toEqual({ exits: [1], last: 'error shutdown failed: stuck' });
  });

  it('a close that outlasts the drain deadline plus the grace exits 1', async () => {
    jest.useFakeTimers();
    try {
      const r = await run({ ok: true, config: { drain: 100 } }, async () => ({ close: () => new Promise<void>(() => undefined) }));
      r.signals.emit('SIGTERM');
      jest.advanceTimersByTime(100 + SHUTDOWN_GRACE_MS - 1);
      expect(r.exits).toEqual([]);
      jest.advanceTimersByTime(1);
      expect(r.exits).toEqual([1]);
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('createLineWriter', () => {
  it('writes the lines of one turn of the event loop in one write, and what is held on close', async () => {
    const writes: string[] = [];
    const writer = createLineWriter((chunk) => void writes.push(chunk));
    writer.line('a');
    writer.line('b');
    expect(writes).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    writer.line('c');
    writer.close();
    writer.line('d');
    expect(writes).toEqual(['a\nb\n', 'c\n', 'd\n']);
  });

  it('with a flush interval holds lines until the interval ends, or until maxHeldBytes is held', () => {
    jest.useFakeTimers();
    try {
      const writes: string[] = [];
      const writer = createLineWriter((chunk) => void writes.push(chunk), { flushIntervalMs: 1000, maxHeldBytes: 8 });
      writer.line('a');
      writer.line('b');
      jest.advanceTimersByTime(999);
      expect(writes).toEqual([]);
      jest.advanceTimersByTime(1);
      expect(writes).toEqual(['a\nb\n']);
      // 3 + 3 + 3 bytes held: past 8, written at once, and the pending timer is dropped.
      writer.line('cc');
      writer.line('dd');
      writer.line('ee');
      expect(writes).toEqual(['a\nb\n', 'cc\ndd\nee\n']);
      expect(jest.getTimerCount()).toBe(0);
      writer.line('f');
      writer.close();
      expect(writes).toEqual(['a\nb\n', 'cc\ndd\nee\n', 'f\n']);
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });
});
