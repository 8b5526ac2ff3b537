// The ZDS server on its SOCK_SEQPACKET path (reference §5.4): accepts ztunnels, runs ZdsSessions for them, sends
// each `add` with the pod's netns fd in SCM_RIGHTS, and hangs up on a ztunnel that does not ack within the
// deadline. The agent calls add/del; acks come back through `onAck`.

import { mkdir, rm } from 'node:fs/promises';
import * as path from 'node:path';

import { closeFd, openNetns, SeqpacketServer, type SeqpacketMessage, type SeqpacketSocket } from '@weft/netsys';
import { decodeZdsAck, decodeZdsHello, encodeZdsRequest, type ZdsRequest } from '@weft/xds';

import type { AgentLogger, ZdsPort } from '../agent/node-agent';
import { ZdsSessions, type EnrolledWorkload, type ZdsAction, type ZdsConnectionInfo } from './zds-sessions';

/** istio's agent waits 5 s for each ack. */
export const ZDS_ACK_TIMEOUT_MS = 5_000;

export interface ZdsServerOptions {
  readonly socketPath: string;
  readonly logger: AgentLogger;
  /** ztunnel's answer to a request: "" is success. */
  readonly onAck?: (request: ZdsRequest, error: string) => void;
  readonly ackTimeoutMs?: number;
}

export class ZdsServer implements ZdsPort {
  private readonly sessions = new ZdsSessions();
  private readonly sockets = new Map<string, SeqpacketSocket>();
  private readonly ackTimers = new Map<string, NodeJS.Timeout>();
  /** Open netns handles of enrolled pods, by uid; sent with every add, closed on del. */
  private readonly netnsFds = new Map<string, number>();
  private nextId = 0;
  private closed = false;

  private constructor(
    private readonly server: SeqpacketServer,
    private readonly options: ZdsServerOptions,
  ) {
    server.on('connection', (socket) => this.accept(socket));
    server.on('error', (error) => options.logger.error({ err: error.message }, 'ZDS server error'));
  }

  /** Listens at the path, replacing a stale socket file left by an earlier run. */
  static async start(options: ZdsServerOptions): Promise<ZdsServer> {
    await mkdir(path.dirname(options.socketPath), { recursive: true });
    await rm(options.socketPath, { force: true });
    return new ZdsServer(SeqpacketServer.listen(options.socketPath), options);
  }

  connections(): ZdsConnectionInfo[] {
    return this.sessions.info();
  }

  get connected(): number {
    return this.sockets.size;
  }

  add(workload: EnrolledWorkload, netnsPath: string): void {
    let hasNetns = false;
    const previous = this.netnsFds.get(workload.uid);
    if (previous !== undefined) closeFd(previous);
    this.netnsFds.delete(workload.uid);
    try {
      this.netnsFds.set(workload.uid, openNetns(netnsPath));
      hasNetns = true;
    } catch (cause) {
      this.options.logger.warn({ uid: workload.uid, netns: netnsPath, err: String(cause) }, 'cannot open pod netns; ztunnel is told to keep the pod');
    }
    this.perform(this.sessions.add({ ...workload, hasNetns }));
  }

  del(uid: string): void {
    this.perform(this.sessions.del(uid));
    const fd = this.netnsFds.get(uid);
    this.netnsFds.delete(uid);
    if (fd !== undefined) closeFd(fd);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.server.close();
    for (const timer of this.ackTimers.values()) clearTimeout(timer);
    this.ackTimers.clear();
    for (const socket of this.sockets.values()) socket.close();
    this.sockets.clear();
    for (const fd of this.netnsFds.values()) closeFd(fd);
    this.netnsFds.clear();
  }

  private accept(socket: SeqpacketSocket): void {
    if (this.closed) return socket.close();
    const id = `ztunnel-${++this.nextId}`;
    this.sockets.set(id, socket);
    this.perform(this.sessions.connect(id));
    this.options.logger.info({ connection: id }, 'ztunnel connected');
    socket.on('message', (message) => this.receive(id, message));
    socket.on('error', (error) => this.options.logger.warn({ connection: id, err: error.message }, 'ZDS connection error'));
    socket.on('close', () => this.drop(id, 'ztunnel disconnected'));
  }

  private receive(id: string, message: SeqpacketMessage): void {
    for (const fd of message.fds) closeFd(fd); // ztunnel never sends fds
    const phase = this.sessions.info().find((c) => c.id === id)?.phase;
    if (phase === 'awaiting-hello') {
      const hello = decodeZdsHello(message.data);
      this.perform(hello.ok ? this.sessions.hello(id, hello.value) : [{ type: 'close', connection: id, reason: hello.message }]);
      return;
    }
    const ack = decodeZdsAck(message.data);
    this.clearAckTimer(id);
    this.perform(ack.ok ? this.sessions.ack(id, ack.value) : [{ type: 'close', connection: id, reason: ack.message }]);
  }

  private perform(actions: readonly ZdsAction[]): void {
    for (const action of actions) {
      switch (action.type) {
        case 'send':
          this.send(action.connection, action.request);
          break;
        case 'close':
          this.options.logger.warn({ connection: action.connection, reason: action.reason }, 'closing ZDS connection');
          this.drop(action.connection, action.reason);
          break;
        case 'acked':
          this.options.onAck?.(action.request, action.error);
          break;
      }
    }
  }

  private send(id: string, request: ZdsRequest): void {
    const socket = this.sockets.get(id);
    if (socket === undefined) return;
    const fd = request.kind === 'add' ? this.netnsFds.get(request.uid) : undefined;
    if (request.kind === 'add' && fd === undefined) {
      // The pod was deleted between queueing and sending: tell ztunnel to keep nothing rather than send no fd.
      this.perform([{ type: 'close', connection: id, reason: `no netns for ${request.uid}` }]);
      return;
    }
    socket.send(Buffer.from(encodeZdsRequest(request)), fd === undefined ? [] : [fd]).catch((error: unknown) => {
      this.drop(id, `send failed: ${String(error)}`);
    });
    const timeout = this.options.ackTimeoutMs ?? ZDS_ACK_TIMEOUT_MS;
    this.ackTimers.set(
      id,
      setTimeout(() => this.perform([{ type: 'close', connection: id, reason: `no ack for ${request.kind} within ${timeout} ms` }]), timeout),
    );
  }

  private clearAckTimer(id: string): void {
    const timer = this.ackTimers.get(id);
    if (timer !== undefined) clearTimeout(timer);
    this.ackTimers.delete(id);
  }

  private drop(id: string, reason: string): void {
    this.clearAckTimer(id);
    const socket = this.sockets.get(id);
    if (socket === undefined) return;
    this.sockets.delete(id);
    this.sessions.disconnect(id);
    socket.close();
    this.options.logger.info({ connection: id, reason }, 'ztunnel connection closed');
  }
}
