import { Duplex } from 'node:stream';

import { copyingDuplex } from './copying-duplex';

/** A tunnel stream whose peer sends `chunks`, then ends; it closes as soon as it ended (autoDestroy). */
function tunnel(): { stream: Duplex; written: Buffer[] } {
  const written: Buffer[] = [];
  const stream = new Duplex({
    read() {
      // data is pushed by the test
    },
    write(chunk: Buffer, _encoding, callback) {
      written.push(chunk);
      callback();
    },
  });
  return { stream, written };
}

const readAll = async (stream: Duplex): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
};

describe('copyingDuplex', () => {
  it('keeps what arrived before the tunnel ended and closed, though nothing was read yet', async () => {
    const { stream } = tunnel();
    const wrapper = copyingDuplex(stream);
    stream.push('HTTP/1.1 200 OK\r\n\r\nhello');
    stream.push(null);
    stream.end();
    await new Promise((resolve) => stream.once('close', resolve));
    expect(wrapper.destroyed).toBe(false);
    await expect(readAll(wrapper)).resolves.toBe('HTTP/1.1 200 OK\r\n\r\nhello');
  });

  it('is destroyed when the tunnel closes without an end (a reset)', async () => {
    const { stream } = tunnel();
    const wrapper = copyingDuplex(stream);
    stream.push('partial');
    stream.destroy();
    await new Promise((resolve) => wrapper.once('close', resolve));
    expect(wrapper.destroyed).toBe(true);
  });

  it('copies each written chunk and ends the tunnel when the wrapper ends', async () => {
    const { stream, written } = tunnel();
    const wrapper = copyingDuplex(stream);
    const chunk = Buffer.from('GET / HTTP/1.1\r\n\r\n');
    wrapper.end(chunk);
    await new Promise((resolve) => wrapper.once('finish', resolve));
    chunk.fill(0);
    expect(Buffer.concat(written).toString()).toBe('GET / HTTP/1.1\r\n\r\n');
    expect(stream.writableEnded).toBe(true);
  });

  it('writes corked chunks as one private copy', async () => {
    const { stream, written } = tunnel();
    const wrapper = copyingDuplex(stream);
    const head = Buffer.from('POST / HTTP/1.1\r\ncontent-length: 2\r\n\r\n');
    const body = Buffer.from('hi');
    wrapper.cork();
    wrapper.write(head);
    wrapper.write(body);
    wrapper.uncork();
    await new Promise((resolve) => wrapper.end(resolve));
    head.fill(0);
    body.fill(0);
    expect(written.map((chunk) => chunk.toString())).toEqual(['POST / HTTP/1.1\r\ncontent-length: 2\r\n\r\nhi']);
  });

  it('completes an empty write without writing it to the tunnel', async () => {
    const { stream, written } = tunnel();
    const wrapper = copyingDuplex(stream);
    await new Promise<void>((resolve, reject) => wrapper.write('', 'latin1', (error) => (error ? reject(error) : resolve())));
    expect(written).toEqual([]);
  });
});
