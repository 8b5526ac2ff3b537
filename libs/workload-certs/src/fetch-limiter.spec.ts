import { FetchLimiter } from './fetch-limiter';

/** A task that records its start and finishes when released. */
function gated(log: string[], key: string): { task: () => Promise<void>; release: () => void } {
  let release: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    release = resolve;
  });
  return {
    task: async () => {
      log.push(key);
      await done;
    },
    release: () => release(),
  };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('FetchLimiter', () => {
  it('runs at most `max` tasks, high priority first, raised ones ahead of the low queue', async () => {
    const log: string[] = [];
    const limiter = new FetchLimiter(1);
    const [a, b, c, d] = [gated(log, 'renew-a'), gated(log, 'renew-b'), gated(log, 'renew-c'), gated(log, 'get-d')];
    limiter.enqueue('renew-a', 'low', a.task);
    limiter.enqueue('renew-b', 'low', b.task);
    limiter.enqueue('renew-c', 'low', c.task);
    limiter.enqueue('get-d', 'high', d.task);
    limiter.raise('renew-c');
    expect(log).toEqual(['renew-a']);
    expect(limiter.active).toBe(1);

    a.release();
    await tick();
    expect(log).toEqual(['renew-a', 'get-d']);
    d.release();
    await tick();
    expect(log).toEqual(['renew-a', 'get-d', 'renew-c']);
    expect(limiter.cancel('renew-b')).toBe(true);
    c.release();
    await limiter.drain();
    expect(log).toEqual(['renew-a', 'get-d', 'renew-c']);
    expect(limiter.active).toBe(0);
  });

  it('keeps going after a task rejects', async () => {
    const limiter = new FetchLimiter(1);
    const ran: string[] = [];
    limiter.enqueue('a', 'low', () => Promise.reject(new Error('boom')));
    limiter.enqueue('b', 'low', async () => {
      ran.push('b');
    });
    await tick();
    await limiter.drain();
    expect(ran).toEqual(['b']);
  });

  it('refuses a limit that is not a positive integer', () => {
    expect(() => new FetchLimiter(0)).toThrow(RangeError);
  });
});
