import { PassThrough, type Readable } from 'node:stream';

import { RequestBody } from './request-body';

const collect = (readable: Readable): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    readable.on('data', (chunk: Buffer) => chunks.push(chunk));
    readable.on('end', () => resolve(Buffer.concat(chunks)));
    readable.on('error', reject);
    readable.resume();
  });

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('RequestBody', () => {
  it('streams chunks to the reader as they arrive, before the body ends', async () => {
    const source = new PassThrough();
    const body = new RequestBody(source);
    const reader = body.open();
    const seen: string[] = [];
    reader.on('data', (chunk: Buffer) => seen.push(chunk.toString()));
    source.write('one');
    await tick();
    expect(seen).toEqual(['one']);
    source.write('two');
    await tick();
    expect({ seen, complete: body.complete }).toEqual({ seen: ['one', 'two'], complete: false });
    source.end();
    await tick();
    expect({ complete: body.complete, bytes: body.bytes }).toEqual({ complete: true, bytes: 6 });
  });

  it('replays the whole body to a second reader within the limit, and the first stops', async () => {
    const source = new PassThrough();
    const body = new RequestBody(source, 100);
    const first = body.open();
    first.resume();
    source.write('abc');
    await tick();
    const second = body.open();
    expect(first.destroyed).toBe(true);
    source.end('def');
    expect({ text: (await collect(second)).toString(), replayable: body.replayable }).toEqual({ text: 'abcdef', replayable: true });
  });

  it('a body that ended before the first reader opened is delivered whole', async () => {
    const source = new PassThrough();
    const body = new RequestBody(source);
    source.end('all of it');
    await tick();
    expect((await collect(body.open())).toString()).toBe('all of it');
  });

  it('past the limit it is no longer replayable once the reader has consumed, and open() says why', async () => {
    const source = new PassThrough();
    const body = new RequestBody(source, 4);
    const reader = body.open();
    const done = collect(reader);
    source.end('0123456789');
    expect((await done).toString()).toBe('0123456789');
    expect(body.replayable).toBe(false);
    expect(() => body.open()).toThrow('the request body is past the retry buffer limit and cannot be replayed');
  });

  it('past the limit with no reader yet, everything is held (and the source paused) for the first reader', async () => {
    const source = new PassThrough();
    const body = new RequestBody(source, 4);
    const big = Buffer.alloc(200 * 1024, 7);
    source.end(big);
    await tick();
    expect(body.replayable).toBe(true);
    expect((await collect(body.open())).equals(big)).toBe(true);
  });

  it('pauses the downstream while a slow reader has a full backlog past the limit, and resumes when it drains', async () => {
    const source = new PassThrough();
    const body = new RequestBody(source, 1);
    const reader = body.open();
    reader.pause();
    for (let i = 0; i < 10; i++) source.write(Buffer.alloc(16 * 1024));
    await tick();
    expect(source.isPaused()).toBe(true);
    const done = collect(reader);
    source.end();
    expect((await done).length).toBe(160 * 1024);
  });

  it('an error of the downstream reaches the reader', async () => {
    const source = new PassThrough();
    const body = new RequestBody(source);
    const reader = body.open();
    const done = collect(reader);
    source.destroy(new Error('client went away'));
    await expect(done).rejects.toThrow('client went away');
  });

  it('discard() stops the reader and drops the body', async () => {
    const source = new PassThrough();
    const body = new RequestBody(source);
    const reader = body.open();
    source.write('x');
    body.discard();
    expect({ destroyed: reader.destroyed, replayable: body.replayable }).toEqual({ destroyed: true, replayable: false });
  });
});
