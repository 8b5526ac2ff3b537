// Tunnel streams for Node's HTTP client and server (see copyingDuplex).

import { Duplex } from 'node:stream';

type Chunk = Buffer | string;

/** A private copy of what Node's HTTP code handed us (it may reuse or overwrite its own buffers). */
function copyOf(chunk: Chunk, encoding: BufferEncoding): Buffer {
  return typeof chunk === 'string' ? Buffer.from(chunk, encoding) : Buffer.from(chunk);
}

/**
 * A tunnel stream as a plain Duplex that copies every chunk when it is written, for Node's HTTP client and server.
 * Written directly to an Http2Stream, their corked header-and-body writes arrived with the first bytes overwritten
 * (observed both ways over real HBONE tunnels, never over TCP sockets); private copies written one chunk at a time
 * avoid it for the cost of one copy. Corked writes (a message's head and body) become one copy and one write, so one
 * DATA frame instead of several.
 *
 * An empty write (Node's HTTP code ends every message with one) is done at once and never reaches the tunnel: sent,
 * it would take a whole HTTP/2 send cycle to complete, and until then the message is `writableFinished` without its
 * 'finish'. Node's HTTP client then releases a keep-alive socket twice (once at the response's end, once at
 * 'finish'); the Agent destroys the pooled tunnel on the second release, and the next request dials a new one.
 */
export function copyingDuplex(stream: Duplex): Duplex {
  const send = (copy: Buffer, callback: (error?: Error | null) => void): void => {
    if (copy.length === 0) {
      callback();
      return;
    }
    stream.write(copy, callback);
  };
  const wrapper = new Duplex({
    write(chunk: Chunk, encoding: BufferEncoding, callback: (error?: Error | null) => void) {
      send(copyOf(chunk, encoding), callback);
    },
    writev(chunks: { chunk: Chunk; encoding: BufferEncoding }[], callback: (error?: Error | null) => void) {
      // Buffer.concat copies even a single buffer: the result is private as well.
      send(Buffer.concat(chunks.map(({ chunk, encoding }) => (typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk))), callback);
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
