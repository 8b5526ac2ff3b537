// Finding the network namespace of a pod whose CNI ADD this agent never saw (it ran before the agent was installed,
// or the agent's memory was lost), as istio-cni does: through the node's /proc. A process of the pod carries the
// pod's UID in its cgroup path (`…/pod<uid>/…` with the cgroupfs driver, `…-pod<uid_with_underscores>.slice/…`
// with systemd); its `ns/net` is the pod's netns, unless it shares the node's (a hostNetwork pod, never enrolled).
// The lowest such PID is taken: the sandbox's pause process, started first and alive as long as the pod.

import { readdir, readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';

const POD_UID = /pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})/;

/** The pod UID in a `/proc/<pid>/cgroup` text, or undefined for a process outside any pod. */
export function podUidOfCgroup(cgroup: string): string | undefined {
  for (const line of cgroup.split('\n')) {
    const match = POD_UID.exec(line);
    if (match?.[1] !== undefined) return match[1].replace(/_/g, '-');
  }
  return undefined;
}

export interface ProcessNetns {
  readonly pid: number;
  readonly podUid: string | undefined;
  /** The inode of its network namespace. */
  readonly netnsInode: number;
}

/** For each wanted pod, the netns of its lowest PID that is not in the node's netns (PID 1's). */
export function pickPodNetns(processes: readonly ProcessNetns[], wanted: ReadonlySet<string>, nodeNetnsInode: number | undefined): Map<string, number> {
  const picked = new Map<string, number>();
  for (const process of [...processes].sort((a, b) => a.pid - b.pid)) {
    if (process.podUid === undefined || !wanted.has(process.podUid) || picked.has(process.podUid)) continue;
    if (process.netnsInode === nodeNetnsInode) continue;
    picked.set(process.podUid, process.pid);
  }
  return picked;
}

async function netnsInode(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).ino;
  } catch {
    return undefined; // the process exited, or is not ours to read
  }
}

/** Scans `procDir` (the node's /proc) for the pods in `uids`: UID → `<procDir>/<pid>/ns/net`. */
export async function scanPodNetns(procDir: string, uids: ReadonlySet<string>): Promise<Map<string, string>> {
  if (uids.size === 0) return new Map();
  const processes: ProcessNetns[] = [];
  for (const entry of await readdir(procDir)) {
    if (!/^\d+$/.test(entry)) continue;
    const cgroup = await readFile(path.join(procDir, entry, 'cgroup'), 'utf8').catch(() => '');
    const podUid = podUidOfCgroup(cgroup);
    if (podUid === undefined || !uids.has(podUid)) continue;
    const inode = await netnsInode(path.join(procDir, entry, 'ns', 'net'));
    if (inode !== undefined) processes.push({ pid: Number(entry), podUid, netnsInode: inode });
  }
  const nodeInode = await netnsInode(path.join(procDir, '1', 'ns', 'net'));
  const found = new Map<string, string>();
  for (const [uid, pid] of pickPodNetns(processes, uids, nodeInode)) found.set(uid, path.join(procDir, String(pid), 'ns', 'net'));
  return found;
}
