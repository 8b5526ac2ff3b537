import { openNetns } from '@weft/netsys';

import { PodRegistry, type LocalPod } from './pod-registry';

const workload = { name: 'web-0', namespace: 'shop', serviceAccount: 'web' };
const logger = { info: () => undefined, warn: () => undefined };

describe('PodRegistry', () => {
  it('starts a proxy per pod, keeps it when the same netns is added again, and stops it on del', async () => {
    const events: string[] = [];
    const registry = new PodRegistry(async (pod: LocalPod) => {
      events.push(`start:${pod.uid}`);
      return { close: async () => void events.push(`stop:${pod.uid}`) };
    }, logger);
    await registry.add('a', workload, openNetns('/proc/self/ns/net'));
    await registry.add('a', workload, openNetns('/proc/self/ns/net'));
    expect(events).toEqual(['start:a']);
    await registry.addLoopback('b', workload, '127.0.0.2');
    await registry.retainOnly(new Set(['b']));
    expect(events).toEqual(['start:a', 'start:b', 'stop:a']);
    await registry.close();
    expect(events).toEqual(['start:a', 'start:b', 'stop:a', 'stop:b']);
    expect(registry.list()).toEqual([]);
  });

  it('a proxy that fails to start is not registered and the error reaches the caller (a ZDS error ack)', async () => {
    const registry = new PodRegistry(async () => {
      throw new Error('bind failed');
    }, logger);
    await expect(registry.add('a', workload, openNetns('/proc/self/ns/net'))).rejects.toThrow('bind failed');
    expect(registry.has('a')).toBe(false);
  });
});
