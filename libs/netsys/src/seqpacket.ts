// Unix SOCK_SEQPACKET sockets with SCM_RIGHTS fd passing (the ZDS transport, istio-ambient-reference §5.4), driven
// by a libuv poll in the addon so no call blocks the event loop. One send() is one datagram is one 'message'.
import { EventEmitter } from 'node:events';
import { callNative, errnoValue, InvalidOptionError, NetsysError } from './errors';
import { native, type NativePoller } from './native';
import { closeFd, dupFd } from './netns';

/** One datagram. Received fds are owned by whoever takes the message and must be closed by it. */
export interface SeqpacketMessage {
  data: Buffer;
  fds: number[];
}

export interface SeqpacketOptions {
  /** Largest datagram accepted; a bigger one is an EMSGSIZE error. Default 64 KiB. */
  maxMessageSize?: number;
}

export const MAX_FDS_PER_MESSAGE = 16;
export const DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024;
/** Datagrams or accepts handled per poll callback before yielding back to the loop (the poll is level-triggered). */
export const BATCH = 64;
/** A full unix listen backlog fails connect with EAGAIN; retry this long before giving up. */
const CONNECT_RETRY_MS = 10;
const CONNECT_RETRY_LIMIT_MS = 1000;

interface PendingSend {
  data: Buffer;
  fds: number[];
  ownsFds: boolean;
  resolve: () => void;
  reject: (err: Error) => void;
}

export function checkMaxSize(value: number | undefined): number {
  const size = value ?? DEFAULT_MAX_MESSAGE_SIZE;
  if (!Number.isInteger(size) || size < 1 || size > 16 * 1024 * 1024) {
    throw new InvalidOptionError('maxMessageSize', `expected an integer in 1..16777216, got ${String(value)}`);
  }
  return size;
}

export function asError(err: unknown, syscall: string): Error {
  return err instanceof Error ? err : new NetsysError(errnoValue('EIO'), syscall);
}

export function closeQuietly(fds: readonly number[]): void {
  for (const fd of fds) {
    try {
      closeFd(fd);
    } catch {
      // Already closed: nothing left to release.
    }
  }
}

type SocketEvents = { message: [SeqpacketMessage]; close: []; error: [Error] };

/**
 * A connected SEQPACKET socket. Owns its fd from construction: close() stops polling and closes it. Emits
 * 'message' per datagram (a message arriving with no 'message' listener and no iterator is dropped and its fds
 * closed), 'error', then 'close' once — also when the peer hangs up. Empty datagrams are reserved: a zero-length
 * read means end-of-stream, so send() refuses an empty payload.
 */
export class SeqpacketSocket extends EventEmitter<SocketEvents> implements AsyncIterable<SeqpacketMessage> {
  private readonly poller: NativePoller;
  private readonly maxSize: number;
  private readonly queue: PendingSend[] = [];
  private pollMask = 0;
  private closedFlag = false;

  /** Wraps an already-connected, non-blocking SEQPACKET fd and takes ownership of it. */
  constructor(
    readonly fd: number,
    opts: SeqpacketOptions = {},
  ) {
    super();
    this.maxSize = checkMaxSize(opts.maxMessageSize);
    const n = native();
    try {
      this.poller = callNative(() => new n.Poller(fd, (errno, events) => this.onPoll(errno, events)));
    } catch (err: unknown) {
      closeQuietly([fd]);
      throw err;
    }
    try {
      this.setMask(n.pollEvents.READABLE | n.pollEvents.DISCONNECT);
    } catch (err: unknown) {
      this.poller.close();
      closeQuietly([fd]);
      throw err;
    }
  }

  /** Connects to a SEQPACKET listener at `path` (retrying briefly while its backlog is full). */
  static async connect(path: string, opts: SeqpacketOptions = {}): Promise<SeqpacketSocket> {
    if (typeof path !== 'string' || path === '') throw new InvalidOptionError('path', 'expected a socket path');
    checkMaxSize(opts.maxMessageSize);
    const started = Date.now();
    for (;;) {
      try {
        const fd = callNative(() => native().seqpacketConnect(path), path);
        return new SeqpacketSocket(fd, opts);
      } catch (err: unknown) {
        const retry = err instanceof NetsysError && err.code === 'EAGAIN' && Date.now() - started < CONNECT_RETRY_LIMIT_MS;
        if (!retry) throw err;
      }
      await new Promise((resolve) => setTimeout(resolve, CONNECT_RETRY_MS));
    }
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /**
   * Sends one datagram carrying `fds` (at most 16) as SCM_RIGHTS. Resolves once the kernel has it. The fds are
   * duplicated into the message; if it must wait for space, netsys keeps its own duplicates, so the caller may
   * close its fds as soon as send() returns.
   */
  send(data: Buffer, fds: readonly number[] = []): Promise<void> {
    if (!Buffer.isBuffer(data) || data.length === 0) {
      return Promise.reject(new InvalidOptionError('data', 'expected a non-empty Buffer'));
    }
    if (data.length > this.maxSize) {
      return Promise.reject(new InvalidOptionError('data', `larger than maxMessageSize (${this.maxSize})`));
    }
    if (!Array.isArray(fds) || fds.length > MAX_FDS_PER_MESSAGE || !fds.every((fd) => Number.isInteger(fd) && fd >= 0)) {
      return Promise.reject(new InvalidOptionError('fds', `expected at most ${MAX_FDS_PER_MESSAGE} file descriptors`));
    }
    if (this.closedFlag) return Promise.reject(new NetsysError(errnoValue('EPIPE'), 'sendmsg', 'socket is closed'));
    return new Promise<void>((resolve, reject) => {
      const item: PendingSend = { data, fds: [...fds], ownsFds: false, resolve, reject };
      if (this.queue.length === 0 && this.trySend(item)) return;
      if (!item.ownsFds) {
        try {
          item.fds = this.dupAll(item.fds);
          item.ownsFds = true;
        } catch (err: unknown) {
          reject(asError(err, 'fcntl'));
          return;
        }
      }
      this.queue.push(item);
      this.setMask(this.pollMask | native().pollEvents.WRITABLE);
    });
  }

  /** Stops polling, closes the fd, rejects unsent messages; 'close' follows on the next tick. Idempotent. */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.poller.close();
    closeQuietly([this.fd]);
    for (const item of this.queue.splice(0)) {
      if (item.ownsFds) closeQuietly(item.fds);
      item.reject(new NetsysError(errnoValue('EPIPE'), 'sendmsg', 'socket closed before the message was sent'));
    }
    process.nextTick(() => this.emit('close'));
  }

  /** Whether this socket keeps the process alive (default yes). */
  ref(): this {
    if (!this.closedFlag) this.poller.ref();
    return this;
  }

  unref(): this {
    if (!this.closedFlag) this.poller.unref();
    return this;
  }

  /** Messages until the peer hangs up or close(); throws the socket's error. Ending early closes unread fds. */
  [Symbol.asyncIterator](): AsyncIterableIterator<SeqpacketMessage> {
    return messageIterator(this);
  }

  private setMask(mask: number): void {
    if (this.closedFlag || mask === this.pollMask) return;
    this.pollMask = mask;
    callNative(() => this.poller.start(mask));
  }

  private dupAll(fds: number[]): number[] {
    const copies: number[] = [];
    try {
      for (const fd of fds) copies.push(dupFd(fd));
    } catch (err: unknown) {
      closeQuietly(copies);
      throw err;
    }
    return copies;
  }

  /** true when done (sent or failed), false when the socket is full. */
  private trySend(item: PendingSend): boolean {
    let sent: number;
    try {
      sent = callNative(() => native().sendMessage(this.fd, item.data, item.fds));
    } catch (err: unknown) {
      if (item.ownsFds) closeQuietly(item.fds);
      item.reject(asError(err, 'sendmsg'));
      if (err instanceof NetsysError && (err.code === 'EPIPE' || err.code === 'ECONNRESET')) this.close();
      return true;
    }
    if (sent < 0) return false;
    if (item.ownsFds) closeQuietly(item.fds);
    item.resolve();
    return true;
  }

  private onPoll(errno: number, events: number): void {
    if (this.closedFlag) return;
    if (errno !== 0) {
      // libuv turns POLLERR into EBADF and stops the poll: drain what is queued (which also finds end-of-stream),
      // then report the socket's own error.
      this.readSome();
      if (this.closedFlag) return;
      let soError = errno;
      try {
        soError = callNative(() => native().socketError(this.fd)) || errno;
      } catch {
        // Keep libuv's errno.
      }
      this.fail(new NetsysError(soError, 'uv_poll'));
      return;
    }
    const ev = native().pollEvents;
    if (events & ev.WRITABLE) this.flush();
    if (events & (ev.READABLE | ev.DISCONNECT)) this.readSome();
  }

  private flush(): void {
    while (!this.closedFlag) {
      const item = this.queue[0];
      if (item === undefined) break;
      if (!this.trySend(item)) return;
      this.queue.shift();
    }
    if (!this.closedFlag) this.setMask(this.pollMask & ~native().pollEvents.WRITABLE);
  }

  private readSome(): void {
    const n = native();
    for (let i = 0; i < BATCH && !this.closedFlag; i++) {
      let msg: SeqpacketMessage | null;
      try {
        msg = callNative(() => n.recvMessage(this.fd, this.maxSize));
      } catch (err: unknown) {
        this.fail(asError(err, 'recvmsg'));
        return;
      }
      if (msg === null) return;
      if (msg.data.length === 0 && msg.fds.length === 0) {
        this.close(); // end-of-stream: the peer closed
        return;
      }
      if (this.listenerCount('message') === 0) {
        closeQuietly(msg.fds);
        continue;
      }
      this.emit('message', msg);
    }
  }

  private fail(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
    this.close();
  }
}

function messageIterator(socket: SeqpacketSocket): AsyncIterableIterator<SeqpacketMessage> {
  const buffered: SeqpacketMessage[] = [];
  let waiter: { resolve: (r: IteratorResult<SeqpacketMessage>) => void; reject: (e: Error) => void } | undefined;
  let error: Error | undefined;
  let done = false;
  const onMessage = (msg: SeqpacketMessage): void => {
    if (waiter) {
      const w = waiter;
      waiter = undefined;
      w.resolve({ value: msg, done: false });
    } else {
      buffered.push(msg);
    }
  };
  const onError = (err: Error): void => {
    error = err;
  };
  const finish = (): void => {
    done = true;
    socket.off('message', onMessage);
    socket.off('error', onError);
    socket.off('close', finish);
    if (!waiter) return;
    const w = waiter;
    waiter = undefined;
    if (error) {
      const e = error;
      error = undefined;
      w.reject(e);
    } else {
      w.resolve({ value: undefined, done: true });
    }
  };
  socket.on('message', onMessage);
  socket.on('error', onError);
  socket.on('close', finish);
  if (socket.closed) finish();
  const iterator: AsyncIterableIterator<SeqpacketMessage> = {
    next(): Promise<IteratorResult<SeqpacketMessage>> {
      const msg = buffered.shift();
      if (msg) return Promise.resolve({ value: msg, done: false });
      if (error) {
        const e = error;
        error = undefined;
        return Promise.reject(e);
      }
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve, reject) => {
        waiter = { resolve, reject };
      });
    },
    return(): Promise<IteratorResult<SeqpacketMessage>> {
      finish();
      for (const msg of buffered.splice(0)) closeQuietly(msg.fds);
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
