// Tunnel streams for Node's HTTP client and server (see copyingDuplex).

import { Duplex } from 'node:stream';

/**
 * A tunnel stream as a plain Duplex that copies every chunk when it is written, for Node's HTTP client and server.
 * Written directly to an Http2Stream, their corked header-and-body writes arrived with the first bytes overwritten
 * (observed both ways over real HBONE tunnels, never over TCP sockets); private copies written one chunk at a time
 * avoid it for the cost of one copy.
 */
export function copyingDuplex(stream: Duplex): Duplex {
  const wrapper = new Duplex({
    write(chunk: Buffer | string, encoding: BufferEncoding, callback: (error?: Error | null) => void) {
      stream.write(typeof chunk === 'string' ? Buffer.from(chunk, encoding) : Buffer.from(chunk), callback);
    },
    final(callback: (error?: Error | null) => void) {
      stream.end(() => callback());
    },
    read() {
      stream.resume();
    },
    destroy(error: Error | null, callback: (error?: Error | null) => void) {
      stream.destroy(error ?? undefined);
      callback(error);
    },
  });
  stream.on('data', (chunk: Buffer) => {
    if (!wrapper.push(chunk)) stream.pause();
  });
  // The tunnel may close right after its end, before the consumer has read what was pushed (an upstream answering
  // with `Connection: close`): only a close without an end (a reset) cuts the wrapper short.
  let ended = false;
  stream.on('end', () => {
    ended = true;
    wrapper.push(null);
  });
  stream.on('error', (error) => wrapper.destroy(error));
  stream.on('close', () => {
    if (!ended && !wrapper.destroyed) wrapper.destroy();
  });
  return wrapper;
}
