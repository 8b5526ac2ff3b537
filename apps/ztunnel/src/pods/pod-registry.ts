// The node's in-pod proxies, by pod uid: ZDS adds start one (listeners inside the pod's netns), dels and snapshots
// stop them. What a proxy is — which listeners, which handlers — is the caller's `startPod`; this file only owns the
// lifecycle and the netns fds.

import { closeFd, netnsInode, sameInode } from '@weft/netsys';
import type { ZdsWorkloadInfo } from '@weft/xds';

import type { PodSet } from '../zds/zds-client';

/** A pod this ztunnel serves. */
export interface LocalPod {
  readonly uid: string;
  readonly workload: ZdsWorkloadInfo;
  /** The pod's netns (owned by the registry), or undefined in loopback mode. */
  readonly netnsFd: number | undefined;
  /** Loopback mode: the 127.0.0.x address standing in for the pod's netns. */
  readonly loopbackAddress?: string;
}

export interface PodRuntime {
  /** Stops the pod's listeners; connections already open are cut (ZDS del semantics, §5.4). */
  close(): Promise<void>;
}

export type StartPod = (pod: LocalPod) => Promise<PodRuntime>;

export interface PodRegistryLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

interface Entry {
  readonly pod: LocalPod;
  readonly runtime: PodRuntime;
}

export class PodRegistry implements PodSet {
  private readonly entries = new Map<string, Entry>();
  private closed = false;

  constructor(
    private readonly startPod: StartPod,
    private readonly logger: PodRegistryLogger,
  ) {}

  list(): LocalPod[] {
    return [...this.entries.values()].map((entry) => entry.pod);
  }

  get(uid: string): LocalPod | undefined {
    return this.entries.get(uid)?.pod;
  }

  has(uid: string): boolean {
    return this.entries.has(uid);
  }

  async add(uid: string, workload: ZdsWorkloadInfo, netnsFd: number): Promise<void> {
    const existing = this.entries.get(uid);
    if (existing?.pod.netnsFd !== undefined && sameInode(netnsInode(existing.pod.netnsFd), netnsInode(netnsFd))) {
      // The same pod again (agent restart): its proxy is already running.
      closeFd(netnsFd);
      return;
    }
    if (existing !== undefined) await this.stop(uid);
    await this.start({ uid, workload, netnsFd });
  }

  /** Loopback mode: a pod with an address instead of a netns. */
  async addLoopback(uid: string, workload: ZdsWorkloadInfo, loopbackAddress: string): Promise<void> {
    if (this.entries.has(uid)) await this.stop(uid);
    await this.start({ uid, workload, netnsFd: undefined, loopbackAddress });
  }

  async del(uid: string): Promise<void> {
    await this.stop(uid);
  }

  async retainOnly(uids: ReadonlySet<string>): Promise<void> {
    for (const uid of [...this.entries.keys()]) if (!uids.has(uid)) await this.stop(uid);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const uid of [...this.entries.keys()]) await this.stop(uid);
  }

  private async start(pod: LocalPod): Promise<void> {
    if (this.closed) {
      if (pod.netnsFd !== undefined) closeFd(pod.netnsFd);
      throw new Error('ztunnel is shutting down');
    }
    let runtime: PodRuntime;
    try {
      runtime = await this.startPod(pod);
    } catch (cause) {
      if (pod.netnsFd !== undefined) closeFd(pod.netnsFd);
      throw cause;
    }
    this.entries.set(pod.uid, { pod, runtime });
    this.logger.info({ uid: pod.uid, pod: `${pod.workload.namespace}/${pod.workload.name}` }, 'pod proxy started');
  }

  private async stop(uid: string): Promise<void> {
    const entry = this.entries.get(uid);
    if (entry === undefined) return;
    this.entries.delete(uid);
    try {
      await entry.runtime.close();
    } catch (cause) {
      this.logger.warn({ uid, err: String(cause) }, 'stopping the pod proxy failed');
    }
    if (entry.pod.netnsFd !== undefined) closeFd(entry.pod.netnsFd);
    this.logger.info({ uid }, 'pod proxy stopped');
  }
}
