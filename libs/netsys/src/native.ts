// Loads the compiled addon (build/Release/netsys.node) lazily, so importing the library never fails; the first
// call that needs the addon throws NetsysNotBuiltError with the command that builds it.
import { existsSync } from 'node:fs';
import path from 'node:path';

/** Raw address as the addon returns it. */
export interface NativeAddress {
  address: string;
  port: number;
  family: number;
}

export interface NativeMessage {
  data: Buffer;
  fds: number[];
}

export interface NativePoller {
  start(events: number): void;
  stop(): void;
  close(): void;
  ref(): void;
  unref(): void;
}

/** The addon's exports (native/*.cc). Failures throw an Error carrying `errno` and `syscall`. */
export interface NativeBinding {
  openNetns(path: string): number;
  netnsInode(fdOrPath: number | string): { dev: number; ino: number };
  closeFd(fd: number): void;
  dupFd(fd: number): number;
  createTcpListener(
    netnsFd: number,
    family: number,
    host: string,
    port: number,
    backlog: number,
    mark: number,
    flags: number,
  ): number;
  createTcpSocket(netnsFd: number, family: number, mark: number, flags: number, bindHost: string, bindPort: number): number;
  connectTcp(fd: number, family: number, host: string, port: number): boolean;
  socketError(fd: number): number;
  getOriginalDst(fd: number): NativeAddress;
  localAddress(fd: number): NativeAddress;
  peerAddress(fd: number): NativeAddress;
  seqpacketListen(path: string, backlog: number): number;
  seqpacketAccept(fd: number): number;
  seqpacketConnect(path: string): number;
  sendMessage(fd: number, data: Buffer, fds: number[]): number;
  recvMessage(fd: number, maxSize: number): NativeMessage | null;
  Poller: new (fd: number, callback: (errno: number, events: number) => void) => NativePoller;
  pollEvents: { READABLE: number; WRITABLE: number; DISCONNECT: number };
}

/** Socket option bits understood by createTcpListener/createTcpSocket (native/tcp.cc). */
export const SocketFlag = {
  transparent: 1,
  freebind: 2,
  reusePort: 4,
  reuseAddr: 8,
  ipv6Only: 16,
  ipv6OnlySet: 32,
  markSet: 64,
} as const;

/** Where the addon lives; the same relative path works from src/ (ts-jest) and dist/ (built). */
export const ADDON_PATH = path.join(__dirname, '..', 'build', 'Release', 'netsys.node');

export class NetsysNotBuiltError extends Error {
  readonly code = 'ERR_NETSYS_NOT_BUILT';
  constructor(readonly addonPath: string, cause?: unknown) {
    super(
      `netsys native addon not found or not loadable at ${addonPath}; build it with \`npx nx run netsys:build\` ` +
        '(or `bash tools/setup.sh`)',
      { cause },
    );
    this.name = 'NetsysNotBuiltError';
  }
}

let binding: NativeBinding | undefined;

export function native(): NativeBinding {
  if (binding !== undefined) return binding;
  if (process.platform !== 'linux' || !existsSync(ADDON_PATH)) throw new NetsysNotBuiltError(ADDON_PATH);
  const mod: { exports: unknown } = { exports: {} };
  try {
    process.dlopen(mod, ADDON_PATH);
  } catch (err: unknown) {
    throw new NetsysNotBuiltError(ADDON_PATH, err);
  }
  binding = mod.exports as NativeBinding;
  return binding;
}
