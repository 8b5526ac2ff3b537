import {
  ZDS_MAX_MESSAGE_BYTES,
  decodeZdsAck,
  decodeZdsHello,
  decodeZdsRequest,
  encodeZdsAck,
  encodeZdsHello,
  encodeZdsRequest,
  type ZdsRequest,
} from './zds-codec';

describe('ZDS codec', () => {
  it.each<ZdsRequest>([
    { kind: 'add', uid: '6b2c1c7e-1f7d-4a1b-9d3e-2f4c5a6b7c8d', workload: { name: 'web-0', namespace: 'default', serviceAccount: 'web' } },
    { kind: 'keep', uid: 'u-1' },
    { kind: 'del', uid: 'u-2' },
    { kind: 'snapshot-sent' },
  ])('round-trips %o', (request) => {
    expect(decodeZdsRequest(encodeZdsRequest(request))).toEqual({ ok: true, value: request });
  });

  it('puts DelWorkload.uid in field 2 and WorkloadRequest.keep in field 5 (the wire contract)', () => {
    // del = field 2 of WorkloadRequest (0x12), inner uid = field 2 (0x12).
    expect(Buffer.from(encodeZdsRequest({ kind: 'del', uid: 'x' })).toString('hex')).toBe('1203120178');
    // keep = field 5 (0x2a), inner uid = field 1 (0x0a).
    expect(Buffer.from(encodeZdsRequest({ kind: 'keep', uid: 'x' })).toString('hex')).toBe('2a030a0178');
    expect(Buffer.from(encodeZdsRequest({ kind: 'snapshot-sent' })).toString('hex')).toBe('1a00');
  });

  it('hello and ack', () => {
    expect(decodeZdsHello(encodeZdsHello())).toEqual({ ok: true, value: 1 });
    expect(decodeZdsAck(encodeZdsAck())).toEqual({ ok: true, value: '' });
    expect(decodeZdsAck(encodeZdsAck('no such netns'))).toEqual({ ok: true, value: 'no such netns' });
  });

  it('rejects garbage and empty payloads', () => {
    expect(decodeZdsRequest(new Uint8Array([0xff, 0xff, 0xff])).ok).toBe(false);
    expect(decodeZdsRequest(new Uint8Array()).ok).toBe(false);
    expect(decodeZdsAck(new Uint8Array()).ok).toBe(false);
  });

  it('refuses to build a message ztunnel could not read', () => {
    const huge = 'x'.repeat(ZDS_MAX_MESSAGE_BYTES);
    expect(() => encodeZdsRequest({ kind: 'add', uid: 'u', workload: { name: huge, namespace: 'n', serviceAccount: 's' } })).toThrow(/1024/);
  });
});
