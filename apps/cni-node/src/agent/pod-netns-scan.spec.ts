import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { pickPodNetns, podUidOfCgroup, scanPodNetns } from './pod-netns-scan';

const UID = '3f2a6b1c-9d8e-4f70-a1b2-c3d4e5f60718';
const OTHER = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

describe('podUidOfCgroup', () => {
  it.each<[string, string, string | undefined]>([
    ['cgroup v2, systemd driver (underscores)', `0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${UID.replace(/-/g, '_')}.slice/cri-containerd-abc.scope\n`, UID],
    ['cgroup v2, cgroupfs driver', `0::/kubepods/burstable/pod${UID}/0123456789abcdef\n`, UID],
    ['cgroup v1, a guaranteed pod', `12:pids:/kubepods/pod${UID}/0123\n11:memory:/kubepods/pod${UID}/0123\n`, UID],
    ['a node process', '0::/system.slice/containerd.service\n', undefined],
    ['empty (the process exited)', '', undefined],
  ])('%s', (_name, cgroup, expected) => {
    expect(podUidOfCgroup(cgroup)).toBe(expected);
  });
});

describe('pickPodNetns', () => {
  it('takes the lowest PID of each wanted pod, skipping processes in the node netns and unwanted pods', () => {
    const picked = pickPodNetns(
      [
        { pid: 900, podUid: UID, netnsInode: 7 },
        { pid: 120, podUid: UID, netnsInode: 7 },
        { pid: 50, podUid: OTHER, netnsInode: 1 }, // a hostNetwork pod: the node's netns
        { pid: 60, podUid: 'not-wanted', netnsInode: 9 },
        { pid: 70, podUid: undefined, netnsInode: 3 },
      ],
      new Set([UID, OTHER]),
      1,
    );
    expect([...picked]).toEqual([[UID, 120]]);
  });
});

describe('scanPodNetns over a /proc laid out in a temporary directory', () => {
  let proc: string;
  beforeEach(async () => {
    proc = await mkdtemp(path.join(tmpdir(), 'weft-proc-'));
    // Distinct files stand in for network namespaces: only their inodes are compared.
    const process = async (pid: number, cgroup: string, netns: string): Promise<void> => {
      await mkdir(path.join(proc, String(pid), 'ns'), { recursive: true });
      await writeFile(path.join(proc, String(pid), 'cgroup'), cgroup);
      const target = path.join(proc, `netns-${netns}`);
      await writeFile(target, '', { flag: 'a' });
      await symlink(target, path.join(proc, String(pid), 'ns', 'net'));
    };
    await process(1, '0::/init.scope\n', 'node');
    await process(4242, `0::/kubepods/besteffort/pod${UID}/pause\n`, 'pod');
    await process(4300, `0::/kubepods/besteffort/pod${UID}/app\n`, 'pod');
    await process(5000, `0::/kubepods/besteffort/pod${OTHER}/app\n`, 'node');
    await mkdir(path.join(proc, 'self'));
  });
  afterEach(async () => {
    await rm(proc, { recursive: true, force: true });
  });

  it("finds a pod's netns through its pause process, and none for a hostNetwork pod", async () => {
    const found = await scanPodNetns(proc, new Set([UID, OTHER]));
    expect([...found]).toEqual([[UID, path.join(proc, '4242', 'ns', 'net')]]);
  });

  it('scans nothing when no pod is wanted', async () => {
    expect((await scanPodNetns(proc, new Set())).size).toBe(0);
  });
});
