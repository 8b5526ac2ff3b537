// The agent's side of ZDS (reference §5.4) as a pure state machine over connected ztunnels: hello → snapshot, one
// message in flight per connection until its Ack, adds to the newest connection only, dels to all. It returns the
// actions to perform; zds-server.ts performs them on real sockets (attaching the netns fd to each add).

import type { ZdsRequest, ZdsWorkloadInfo } from '@weft/xds';

export const ZDS_SUPPORTED_VERSION = 1;

export interface EnrolledWorkload {
  readonly uid: string;
  readonly workload: ZdsWorkloadInfo;
  /** False after an agent restart until the pod's netns is found again: the snapshot then says `keep`. */
  readonly hasNetns: boolean;
}

export type ZdsAction =
  | { readonly type: 'send'; readonly connection: string; readonly request: ZdsRequest }
  | { readonly type: 'close'; readonly connection: string; readonly reason: string }
  /** A message was acknowledged; `error` is ztunnel's text ("" for success). */
  | { readonly type: 'acked'; readonly connection: string; readonly request: ZdsRequest; readonly error: string };

type Phase = 'awaiting-hello' | 'snapshot' | 'ready';

interface Connection {
  readonly id: string;
  readonly order: number;
  phase: Phase;
  inFlight: ZdsRequest | undefined;
  readonly queue: ZdsRequest[];
}

export interface ZdsConnectionInfo {
  readonly id: string;
  readonly phase: Phase;
  readonly queued: number;
  readonly inFlight: ZdsRequest['kind'] | undefined;
}

export class ZdsSessions {
  private readonly connections = new Map<string, Connection>();
  private readonly workloads = new Map<string, EnrolledWorkload>();
  private order = 0;

  /** Workloads currently enrolled, as the snapshot will describe them. */
  enrolled(): EnrolledWorkload[] {
    return [...this.workloads.values()];
  }

  info(): ZdsConnectionInfo[] {
    return [...this.connections.values()].map((c) => ({ id: c.id, phase: c.phase, queued: c.queue.length, inFlight: c.inFlight?.kind }));
  }

  connect(id: string): ZdsAction[] {
    this.connections.set(id, { id, order: this.order++, phase: 'awaiting-hello', inFlight: undefined, queue: [] });
    return [];
  }

  disconnect(id: string): ZdsAction[] {
    this.connections.delete(id);
    return [];
  }

  /** ztunnel's `ZdsHello`: a supported version gets the snapshot, anything else is hung up on. */
  hello(id: string, version: number): ZdsAction[] {
    const connection = this.connections.get(id);
    if (connection === undefined) return [];
    if (connection.phase !== 'awaiting-hello') return this.close(id, 'second ZdsHello on one connection');
    if (version !== ZDS_SUPPORTED_VERSION) return this.close(id, `unsupported ZDS version ${version} (supported: V1)`);
    connection.phase = 'snapshot';
    for (const workload of [...this.workloads.values()].sort((a, b) => a.uid.localeCompare(b.uid))) {
      connection.queue.push(
        workload.hasNetns ? { kind: 'add', uid: workload.uid, workload: workload.workload } : { kind: 'keep', uid: workload.uid },
      );
    }
    connection.queue.push({ kind: 'snapshot-sent' });
    return this.pump(connection);
  }

  /** The Ack for the message in flight on `id`. */
  ack(id: string, error: string): ZdsAction[] {
    const connection = this.connections.get(id);
    if (connection?.inFlight === undefined) {
      return connection === undefined ? [] : this.close(id, 'Ack with no message in flight');
    }
    const request = connection.inFlight;
    connection.inFlight = undefined;
    if (request.kind === 'snapshot-sent') connection.phase = 'ready';
    return [{ type: 'acked', connection: id, request, error }, ...this.pump(connection)];
  }

  /** A pod was enrolled (or its netns found again): add it to the newest ztunnel. */
  add(workload: EnrolledWorkload): ZdsAction[] {
    this.workloads.set(workload.uid, workload);
    const newest = this.newest();
    if (newest === undefined || !workload.hasNetns) return [];
    // Before its hello a connection gets the add as part of its snapshot.
    if (newest.phase === 'awaiting-hello') return [];
    newest.queue.push({ kind: 'add', uid: workload.uid, workload: workload.workload });
    return this.pump(newest);
  }

  /** A pod was unenrolled or deleted: every ztunnel drops it. */
  del(uid: string): ZdsAction[] {
    if (!this.workloads.delete(uid)) return [];
    const actions: ZdsAction[] = [];
    for (const connection of this.connections.values()) {
      if (connection.phase === 'awaiting-hello') continue;
      // Still queued for this connection: drop the add rather than send add then del.
      const queued = connection.queue.findIndex((r) => (r.kind === 'add' || r.kind === 'keep') && r.uid === uid);
      if (queued >= 0) {
        connection.queue.splice(queued, 1);
        continue;
      }
      connection.queue.push({ kind: 'del', uid });
      actions.push(...this.pump(connection));
    }
    return actions;
  }

  private newest(): Connection | undefined {
    let newest: Connection | undefined;
    for (const connection of this.connections.values()) if (newest === undefined || connection.order > newest.order) newest = connection;
    return newest;
  }

  private pump(connection: Connection): ZdsAction[] {
    if (connection.inFlight !== undefined) return [];
    const next = connection.queue.shift();
    if (next === undefined) return [];
    connection.inFlight = next;
    return [{ type: 'send', connection: connection.id, request: next }];
  }

  private close(id: string, reason: string): ZdsAction[] {
    this.connections.delete(id);
    return [{ type: 'close', connection: id, reason }];
  }
}
