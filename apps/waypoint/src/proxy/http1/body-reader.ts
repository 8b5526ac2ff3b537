// Reads one message body off the bytes of a connection by the message's framing (RFC 9112 §6.3): a known length,
// chunked coding, or (responses only) everything until the connection closes. Pure: the caller owns the bytes.

import { ChunkedDecoder, type BodyFraming, type HeaderMap } from './message-head';

export type BodyRead =
  | {
      readonly kind: 'data';
      /** Body bytes, subarrays of the input. */
      readonly chunks: Buffer[];
      /** Input bytes used; the rest belongs to what follows the body (or is not yet decodable). */
      readonly consumed: number;
      /** The body ended within the input. */
      readonly done: boolean;
      readonly trailers: HeaderMap;
    }
  | { readonly kind: 'invalid'; readonly reason: string };

const NO_TRAILERS: HeaderMap = Object.freeze({}) as HeaderMap;

export class BodyReader {
  private remaining: number;
  private readonly chunked: ChunkedDecoder | undefined;

  constructor(private readonly framing: BodyFraming) {
    this.remaining = framing.kind === 'length' ? framing.length : 0;
    this.chunked = framing.kind === 'chunked' ? new ChunkedDecoder() : undefined;
  }

  /** Whether the body ends only with the connection. */
  get untilClose(): boolean {
    return this.framing.kind === 'close';
  }

  read(buffer: Buffer, offset: number): BodyRead {
    switch (this.framing.kind) {
      case 'none':
        return { kind: 'data', chunks: [], consumed: 0, done: true, trailers: NO_TRAILERS };
      case 'close': {
        const chunks = offset < buffer.length ? [buffer.subarray(offset)] : [];
        return { kind: 'data', chunks, consumed: buffer.length - offset, done: false, trailers: NO_TRAILERS };
      }
      case 'length': {
        const take = Math.min(this.remaining, buffer.length - offset);
        this.remaining -= take;
        const chunks = take > 0 ? [buffer.subarray(offset, offset + take)] : [];
        return { kind: 'data', chunks, consumed: take, done: this.remaining === 0, trailers: NO_TRAILERS };
      }
      case 'chunked':
        return (this.chunked as ChunkedDecoder).decode(buffer, offset);
    }
  }
}
