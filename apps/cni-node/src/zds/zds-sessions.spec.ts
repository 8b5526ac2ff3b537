import { ZdsSessions, type EnrolledWorkload, type ZdsAction } from './zds-sessions';

const wl = (uid: string, hasNetns = true): EnrolledWorkload => ({
  uid,
  workload: { name: uid, namespace: 'default', serviceAccount: 'sa' },
  hasNetns,
});
const sent = (actions: readonly ZdsAction[]): string[] =>
  actions.flatMap((a) => (a.type === 'send' ? [`${a.connection}:${a.request.kind}${'uid' in a.request ? `:${a.request.uid}` : ''}`] : []));

describe('ZdsSessions', () => {
  it('sends the snapshot one message at a time, each after the previous Ack, then SnapshotSent', () => {
    const zds = new ZdsSessions();
    zds.add(wl('b'));
    zds.add(wl('a'));
    zds.add(wl('c', false));
    expect(zds.connect('z1')).toEqual([]);
    expect(sent(zds.hello('z1', 1))).toEqual(['z1:add:a']);
    expect(sent(zds.ack('z1', ''))).toEqual(['z1:add:b']);
    expect(sent(zds.ack('z1', ''))).toEqual(['z1:keep:c']);
    expect(sent(zds.ack('z1', ''))).toEqual(['z1:snapshot-sent']);
    const last = zds.ack('z1', '');
    expect(last).toEqual([{ type: 'acked', connection: 'z1', request: { kind: 'snapshot-sent' }, error: '' }]);
    expect(zds.info()).toEqual([{ id: 'z1', phase: 'ready', queued: 0, inFlight: undefined }]);
  });

  it('an empty snapshot is just SnapshotSent', () => {
    const zds = new ZdsSessions();
    zds.connect('z1');
    expect(sent(zds.hello('z1', 1))).toEqual(['z1:snapshot-sent']);
  });

  it('hangs up on an unsupported version or a second hello', () => {
    const zds = new ZdsSessions();
    zds.connect('z1');
    expect(zds.hello('z1', 2)).toEqual([{ type: 'close', connection: 'z1', reason: expect.stringContaining('version 2') }]);
    zds.connect('z2');
    zds.hello('z2', 1);
    expect(zds.hello('z2', 1)[0]).toMatchObject({ type: 'close', connection: 'z2' });
  });

  it('adds go to the newest ztunnel only; dels go to all', () => {
    const zds = new ZdsSessions();
    zds.connect('old');
    zds.hello('old', 1);
    zds.ack('old', '');
    zds.connect('new');
    zds.hello('new', 1);
    zds.ack('new', '');
    expect(sent(zds.add(wl('p')))).toEqual(['new:add:p']);
    zds.ack('new', '');
    expect(sent(zds.del('p')).sort()).toEqual(['new:del:p', 'old:del:p']);
  });

  it('queues incremental messages behind the one in flight', () => {
    const zds = new ZdsSessions();
    zds.connect('z');
    zds.hello('z', 1);
    expect(sent(zds.add(wl('p')))).toEqual([]);
    expect(sent(zds.ack('z', ''))).toEqual(['z:add:p']);
  });

  it('a del for a pod whose add is still queued cancels the add', () => {
    const zds = new ZdsSessions();
    zds.connect('z');
    zds.hello('z', 1);
    zds.add(wl('p'));
    expect(sent(zds.del('p'))).toEqual([]);
    expect(sent(zds.ack('z', ''))).toEqual([]);
    expect(zds.enrolled()).toEqual([]);
  });

  it('a pod without its netns is kept in a snapshot but not added incrementally', () => {
    const zds = new ZdsSessions();
    zds.connect('z');
    zds.hello('z', 1);
    zds.ack('z', '');
    expect(sent(zds.add(wl('p', false)))).toEqual([]);
    expect(sent(zds.add(wl('p', true)))).toEqual(['z:add:p']);
  });

  it('reports an ack error with the request it answers', () => {
    const zds = new ZdsSessions();
    zds.add(wl('p'));
    zds.connect('z');
    zds.hello('z', 1);
    expect(zds.ack('z', 'bad netns')[0]).toEqual({ type: 'acked', connection: 'z', request: expect.objectContaining({ kind: 'add', uid: 'p' }), error: 'bad netns' });
  });

  it('an Ack with nothing in flight is a protocol error', () => {
    const zds = new ZdsSessions();
    zds.connect('z');
    expect(zds.ack('z', '')[0]).toMatchObject({ type: 'close', connection: 'z' });
  });
});
