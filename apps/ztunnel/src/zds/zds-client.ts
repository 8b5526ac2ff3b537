// ztunnel's side of ZDS (reference §5.4): dials the cni-node agent's SEQPACKET socket, says hello, and applies the
// snapshot and the incremental adds and dels to the pod set, acking each message. A message ztunnel cannot accept
// (an add without exactly one netns fd, an fd on anything else) is answered with an error ack. On disconnect it
// redials with backoff; the next snapshot reconciles whatever changed meanwhile.

import { fstatSync, readlinkSync, statSync } from 'node:fs';

import { createBackoff, type Backoff } from '@weft/identity';
import { closeFd, SeqpacketSocket, type SeqpacketMessage } from '@weft/netsys';
import { decodeZdsRequest, encodeZdsAck, encodeZdsHello, type ZdsRequest, type ZdsWorkloadInfo } from '@weft/xds';

/** What the ZDS client drives: the node's in-pod proxies. */
export interface PodSet {
  /** Start (or keep) the pod's proxy in this netns; takes ownership of `netnsFd`. Rejects to nack. */
  add(uid: string, workload: ZdsWorkloadInfo, netnsFd: number): Promise<void>;
  /** `keep`: whether a proxy for the pod exists (true: it stays). */
  has(uid: string): boolean;
  del(uid: string): Promise<void>;
  /** After SnapshotSent: every pod not in `uids` goes. */
  retainOnly(uids: ReadonlySet<string>): Promise<void>;
}

export interface ZdsClientLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface ZdsClientOptions {
  readonly socketPath: string;
  readonly pods: PodSet;
  readonly logger: ZdsClientLogger;
  /** Redial schedule; default 100 ms doubling to 5 s. */
  readonly backoff?: Backoff;
}

/**
 * Whether an fd is a network namespace. An fd opened on `/proc/<pid>/ns/net` reads back as `net:[inode]`, but one
 * opened on a bind mount of it (`/run/netns/<name>`, what a container runtime hands the CNI plugin) reads back as
 * that path, so a namespace is also recognised by living on the nsfs filesystem (the device of our own
 * `/proc/self/ns/net`). setns(CLONE_NEWNET) on it later rejects a namespace of another type with EINVAL.
 */
export function isNetnsFd(fd: number): boolean {
  try {
    if (readlinkSync(`/proc/self/fd/${fd}`).startsWith('net:[')) return true;
    return fstatSync(fd).dev === statSync('/proc/self/ns/net').dev;
  } catch {
    return false;
  }
}

/** The acceptance rules of ztunnel's `inpod/protocol.rs` for one message and its fds; undefined means accepted. */
export function fdProblem(request: ZdsRequest, fds: readonly number[], isNetns: (fd: number) => boolean): string | undefined {
  if (request.kind !== 'add') return fds.length === 0 ? undefined : `${request.kind} must not carry file descriptors`;
  if (fds.length !== 1) return `add must carry exactly one netns fd, got ${fds.length}`;
  const [fd] = fds;
  return fd !== undefined && isNetns(fd) ? undefined : 'the fd sent with add is not a network namespace';
}

export class ZdsClient {
  private socket: SeqpacketSocket | undefined;
  private readonly backoff: Backoff;
  private attempt = 0;
  private retry: NodeJS.Timeout | undefined;
  private snapshot = new Set<string>();
  private inSnapshot = true;
  private snapshotDone = false;
  private work: Promise<void> = Promise.resolve();
  private closed = false;
  private readyWaiters: (() => void)[] = [];

  constructor(private readonly options: ZdsClientOptions) {
    this.backoff = options.backoff ?? createBackoff({ initialMs: 100, maxMs: 5_000 });
  }

  /** Whether the first snapshot has been applied (ztunnel's readiness needs it). */
  get synced(): boolean {
    return this.snapshotDone;
  }

  get connected(): boolean {
    return this.socket !== undefined && !this.socket.closed;
  }

  start(): void {
    void this.dial();
  }

  /** Resolves after the first complete snapshot. */
  whenSynced(): Promise<void> {
    return this.snapshotDone ? Promise.resolve() : new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry !== undefined) clearTimeout(this.retry);
    this.socket?.close();
    await this.work;
  }

  private async dial(): Promise<void> {
    if (this.closed) return;
    try {
      const socket = await SeqpacketSocket.connect(this.options.socketPath, { maxMessageSize: 1024 });
      if (this.closed) return socket.close();
      this.socket = socket;
      this.inSnapshot = true;
      this.snapshot = new Set();
      this.attempt = 0;
      socket.on('message', (message) => this.enqueue(socket, message));
      socket.on('error', (error) => this.options.logger.warn({ err: error.message }, 'ZDS connection error'));
      socket.on('close', () => {
        if (this.socket === socket) this.socket = undefined;
        this.options.logger.warn({ socket: this.options.socketPath }, 'ZDS connection closed; redialling');
        this.schedule();
      });
      await socket.send(Buffer.from(encodeZdsHello()));
      this.options.logger.info({ socket: this.options.socketPath }, 'connected to the CNI agent');
    } catch (cause) {
      this.options.logger.warn({ socket: this.options.socketPath, err: String(cause) }, 'cannot reach the CNI agent');
      this.schedule();
    }
  }

  private schedule(): void {
    if (this.closed || this.retry !== undefined) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.dial();
    }, this.backoff.delayMs(this.attempt++));
  }

  /** Messages are handled one at a time, in order: each ack follows its message's effect. */
  private enqueue(socket: SeqpacketSocket, message: SeqpacketMessage): void {
    this.work = this.work.then(() => this.handle(socket, message));
  }

  private async handle(socket: SeqpacketSocket, message: SeqpacketMessage): Promise<void> {
    const decoded = decodeZdsRequest(message.data);
    let error = '';
    if (!decoded.ok) {
      error = decoded.message;
    } else {
      const problem = fdProblem(decoded.value, message.fds, isNetnsFd);
      error = problem ?? (await this.apply(decoded.value, message.fds[0]));
    }
    if (error !== '') {
      for (const fd of message.fds) closeFd(fd);
      this.options.logger.warn({ err: error }, 'ZDS message refused');
    }
    if (!socket.closed) await socket.send(Buffer.from(encodeZdsAck(error))).catch(() => undefined);
  }

  /** Applies one accepted message; returns the error text for the ack ("" on success). */
  private async apply(request: ZdsRequest, fd: number | undefined): Promise<string> {
    try {
      switch (request.kind) {
        case 'add':
          if (fd === undefined) return 'add without fd';
          if (this.inSnapshot) this.snapshot.add(request.uid);
          await this.options.pods.add(request.uid, request.workload, fd);
          return '';
        case 'keep':
          if (!this.inSnapshot) return 'keep is only valid before SnapshotSent';
          if (this.options.pods.has(request.uid)) this.snapshot.add(request.uid);
          return '';
        case 'del':
          await this.options.pods.del(request.uid);
          return '';
        case 'snapshot-sent':
          this.inSnapshot = false;
          await this.options.pods.retainOnly(this.snapshot);
          if (!this.snapshotDone) {
            this.snapshotDone = true;
            for (const wake of this.readyWaiters.splice(0)) wake();
          }
          return '';
      }
    } catch (cause) {
      return cause instanceof Error ? cause.message : String(cause);
    }
  }
}
