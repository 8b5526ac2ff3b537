// The body of an HTTP/1.1 message read off a tunnel, as a Readable: the connection pushes the body bytes it decodes
// and pauses the tunnel when the reader falls behind; the reader asking for more resumes it.

import { Readable } from 'node:stream';

export class BodyStream extends Readable {
  constructor(private readonly onDemand: () => void) {
    super();
    // A body cut short (the peer went away) is destroyed with an error; a reader that never listened for errors must
    // not take the process down with it.
    this.on('error', () => undefined);
  }

  override _read(): void {
    this.onDemand();
  }
}
