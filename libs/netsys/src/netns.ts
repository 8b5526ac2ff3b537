// Network-namespace handles: open one, tell two apart by (dev, ino), close descriptors.
import { callNative, InvalidOptionError } from './errors';
import { native } from './native';
import { checkFd } from './options';

/** The calling thread's own netns; open this to remember "where we are". */
export const CURRENT_NETNS_PATH = '/proc/thread-self/ns/net';

/** Identity of a namespace (or any file): equal dev and ino mean the same namespace. */
export interface InodeId {
  dev: number;
  ino: number;
}

/**
 * Opens a netns handle (`/var/run/netns/<name>`, `/proc/<pid>/ns/net`) with O_RDONLY | O_CLOEXEC and returns the
 * fd; the caller owns it and must closeFd() it. Needs read access to the path (no capability to open; setns
 * later needs CAP_SYS_ADMIN).
 */
export function openNetns(path: string): number {
  if (typeof path !== 'string' || path === '') throw new InvalidOptionError('path', 'expected a non-empty path');
  return callNative(() => native().openNetns(path), path);
}

/** fstat (fd) or stat (path) → { dev, ino }, for comparing namespaces. */
export function netnsInode(fdOrPath: number | string): InodeId {
  if (typeof fdOrPath === 'string') {
    if (fdOrPath === '') throw new InvalidOptionError('path', 'expected a non-empty path');
    return callNative(() => native().netnsInode(fdOrPath), fdOrPath);
  }
  const fd = checkFd(fdOrPath, 'fd');
  return callNative(() => native().netnsInode(fd));
}

/** True when both ids name the same namespace. */
export function sameInode(a: InodeId, b: InodeId): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/** close(2). Throws NetsysError EBADF for a descriptor that is not open. */
export function closeFd(fd: number): void {
  const checked = checkFd(fd, 'fd');
  callNative(() => native().closeFd(checked));
}

/** A CLOEXEC duplicate of `fd` (fcntl F_DUPFD_CLOEXEC); the caller owns the copy. */
export function dupFd(fd: number): number {
  const checked = checkFd(fd, 'fd');
  return callNative(() => native().dupFd(checked));
}
