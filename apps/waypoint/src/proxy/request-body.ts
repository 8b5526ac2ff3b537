// A request body that streams to the upstream as it arrives and can be replayed to a retry or a mirror, as Envoy's
// router buffers a request for retries: every chunk is kept while the body stays within the retry buffer limit, so a
// later reader gets the whole body; past the limit the body is no longer replayable, only the chunks the live reader
// has not consumed are kept, and the downstream is paused while that backlog is full. A gRPC stream or a large upload
// is forwarded without waiting for its end.

import { Readable } from 'node:stream';

/** Envoy's default per-request retry buffer: bodies up to this size can be replayed. */
export const RETRY_BUFFER_LIMIT_BYTES = 1024 * 1024;
/** Backlog kept for the live reader once the body is past the retry buffer limit. */
const BACKLOG_HIGH_WATER_BYTES = 64 * 1024;

export class RequestBody {
  private readonly chunks: Buffer[] = [];
  /** Absolute index of chunks[0]: chunks already consumed are dropped once the body is not replayable. */
  private base = 0;
  private heldBytes = 0;
  private ended = false;
  private failed: Error | undefined;
  private overLimit = false;
  private discarded = false;
  /** The live reader: where it is in the body, and whether it has asked for more since its last full push. */
  private reader: { readable: Readable; position: number; wants: boolean } | undefined;
  private totalBytes = 0;
  /** `whole()` calls waiting for the end. */
  private readonly waiters: (() => void)[] = [];

  /** The downstream body; absent when it was whole from the start. */
  private readonly source: Readable | undefined;

  /** `body` is the downstream body as it arrives, or the whole of it. */
  constructor(
    body: Readable | Buffer,
    private readonly limit = RETRY_BUFFER_LIMIT_BYTES,
  ) {
    if (Buffer.isBuffer(body)) {
      this.source = undefined;
      this.receive(body);
      this.ended = true;
      return;
    }
    const source = body;
    this.source = source;
    source.on('data', (chunk: Buffer) => this.receive(chunk));
    source.on('end', () => {
      this.ended = true;
      this.pump();
      this.settle();
    });
    source.on('error', (error: Error) => {
      this.failed = error;
      this.reader?.readable.destroy(error);
      this.settle();
    });
  }

  /** A body that is already whole (a mirrored copy), replayable whatever its size. */
  static of(buffer: Buffer): RequestBody {
    return new RequestBody(buffer, Math.max(buffer.length, 1));
  }

  /** The whole body when it has ended within the retry buffer: sent as it is, without a reader. */
  contents(): Buffer | undefined {
    if (!this.ended || this.failed !== undefined || this.overLimit || !this.replayable) return undefined;
    // An earlier attempt's reader is over, as when a new one is opened.
    this.reader?.readable.destroy();
    this.reader = undefined;
    if (this.chunks.length === 1) return this.chunks[0];
    const whole = Buffer.concat(this.chunks);
    this.chunks.splice(0, this.chunks.length, whole);
    return whole;
  }

  /** The whole body once it has ended, if it stayed within the retry buffer; undefined otherwise. */
  whole(): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      const settle = (): void => resolve(this.ended && this.failed === undefined && !this.discarded && !this.overLimit ? Buffer.concat(this.chunks) : undefined);
      if (this.ended || this.failed !== undefined || this.discarded) settle();
      else this.waiters.push(settle);
    });
  }

  /** Bytes received so far (all of them once the body has ended). */
  get bytes(): number {
    return this.totalBytes;
  }

  get complete(): boolean {
    return this.ended;
  }

  /** Whether a new reader would get the body from its start: no chunk has been dropped yet. */
  get replayable(): boolean {
    return this.base === 0 && !this.discarded;
  }

  /**
   * A reader from the first byte; the previous reader stops receiving (its attempt is over). Throws once the body
   * is no longer replayable — check `replayable` first.
   */
  open(): Readable {
    if (!this.replayable) throw new Error('the request body is past the retry buffer limit and cannot be replayed');
    this.reader?.readable.destroy();
    const reader = {
      readable: new Readable({
        read: () => {
          reader.wants = true;
          this.pump();
        },
      }),
      position: 0,
      wants: false,
    };
    const readable = reader.readable;
    this.reader = reader;
    readable.once('close', () => {
      if (this.reader === reader) this.reader = undefined;
      this.release();
    });
    if (this.failed !== undefined) readable.destroy(this.failed);
    return readable;
  }

  /** Stops reading the downstream and drops what is held (the exchange is over). */
  discard(): void {
    this.reader?.readable.destroy();
    this.reader = undefined;
    this.chunks.length = 0;
    this.heldBytes = 0;
    this.discarded = true;
    this.source?.resume();
    this.settle();
  }

  private settle(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  private receive(chunk: Buffer): void {
    this.totalBytes += chunk.length;
    if (this.discarded) return;
    this.chunks.push(chunk);
    this.heldBytes += chunk.length;
    if (this.totalBytes > this.limit) this.overLimit = true;
    this.pump();
    this.release();
    if (this.overLimit && this.heldBytes > BACKLOG_HIGH_WATER_BYTES) this.source?.pause();
  }

  /** Pushes held chunks to the live reader until it asks for no more. */
  private pump(): void {
    const reader = this.reader;
    if (reader === undefined || reader.readable.destroyed || !reader.wants) return;
    while (reader.wants && reader.position < this.base + this.chunks.length) {
      const chunk = this.chunks[reader.position - this.base];
      reader.position++;
      if (chunk !== undefined) reader.wants = reader.readable.push(chunk);
    }
    if (this.ended && reader.position === this.base + this.chunks.length) reader.readable.push(null);
    this.release();
  }

  /** Past the limit, drops what the live reader has consumed and resumes the downstream when the backlog is small. */
  private release(): void {
    if (!this.overLimit || this.discarded) return;
    const consumed = this.reader === undefined ? 0 : this.reader.position - this.base;
    for (let i = 0; i < consumed; i++) this.heldBytes -= this.chunks.shift()?.length ?? 0;
    this.base += consumed;
    if (this.heldBytes <= BACKLOG_HIGH_WATER_BYTES && this.source?.isPaused() === true && !this.ended) this.source.resume();
  }
}
