// The listening side of SOCK_SEQPACKET (the ZDS server in the CNI agent): accepts without blocking, driven by the
// addon's libuv poll, and hands each peer out as a SeqpacketSocket.
import { EventEmitter } from 'node:events';
import { unlinkSync } from 'node:fs';
import { callNative, InvalidOptionError, NetsysError } from './errors';
import { native, type NativePoller } from './native';
import { asError, BATCH, checkMaxSize, closeQuietly, type SeqpacketOptions, SeqpacketSocket } from './seqpacket';

const DEFAULT_BACKLOG = 128;

type ServerEvents = { connection: [SeqpacketSocket]; close: []; error: [Error] };

export interface SeqpacketServerOptions extends SeqpacketOptions {
  backlog?: number;
}

/**
 * A SEQPACKET listener at a filesystem path (the ZDS server side). Emits 'connection' per accepted peer (closed at
 * once when nobody listens for 'connection'). close() stops accepting, closes the fd and unlinks the path;
 * connections already accepted stay open (their owners close them). A stale socket file makes listen fail with
 * EADDRINUSE: remove it first if you know it is stale.
 */
export class SeqpacketServer extends EventEmitter<ServerEvents> {
  private readonly poller: NativePoller;
  private readonly socketOpts: SeqpacketOptions;
  private closedFlag = false;

  private constructor(
    readonly path: string,
    readonly fd: number,
    opts: SeqpacketServerOptions,
  ) {
    super();
    this.socketOpts = { maxMessageSize: opts.maxMessageSize };
    const n = native();
    try {
      this.poller = callNative(() => new n.Poller(fd, (errno) => this.onPoll(errno)));
      callNative(() => this.poller.start(n.pollEvents.READABLE));
    } catch (err: unknown) {
      closeQuietly([fd]);
      throw err;
    }
  }

  /** Binds and listens at `path` (non-blocking; returns at once). */
  static listen(path: string, opts: SeqpacketServerOptions = {}): SeqpacketServer {
    if (typeof path !== 'string' || path === '') throw new InvalidOptionError('path', 'expected a socket path');
    checkMaxSize(opts.maxMessageSize);
    const backlog = opts.backlog ?? DEFAULT_BACKLOG;
    if (!Number.isInteger(backlog) || backlog < 0) throw new InvalidOptionError('backlog', 'expected a non-negative integer');
    const fd = callNative(() => native().seqpacketListen(path, backlog), path);
    return new SeqpacketServer(path, fd, opts);
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.poller.close();
    closeQuietly([this.fd]);
    try {
      unlinkSync(this.path);
    } catch {
      // Someone else removed or replaced it; either way it is no longer ours to clean.
    }
    process.nextTick(() => this.emit('close'));
  }

  ref(): this {
    if (!this.closedFlag) this.poller.ref();
    return this;
  }

  unref(): this {
    if (!this.closedFlag) this.poller.unref();
    return this;
  }

  private onPoll(errno: number): void {
    if (this.closedFlag) return;
    if (errno !== 0) {
      this.emitError(new NetsysError(errno, 'uv_poll'));
      return;
    }
    const n = native();
    for (let i = 0; i < BATCH && !this.closedFlag; i++) {
      let fd: number;
      try {
        fd = callNative(() => n.seqpacketAccept(this.fd));
      } catch (err: unknown) {
        // EMFILE and friends: report and keep listening; the poll fires again while the peer waits.
        this.emitError(asError(err, 'accept4'));
        return;
      }
      if (fd < 0) return;
      if (this.listenerCount('connection') === 0) {
        closeQuietly([fd]);
        continue;
      }
      this.emit('connection', new SeqpacketSocket(fd, this.socketOpts));
    }
  }

  private emitError(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }
}
