// Public entry of @weft/netsys: the Linux socket calls Node lacks (DESIGN.md §7), as typed functions over a small
// N-API addon. Sockets are handed to Node as fds.
export { type IpFamily, type SocketAddress, formatSocketAddress, parseIp, unmapIPv4 } from './address';
export { errnoName, InvalidOptionError, NetsysError } from './errors';
export { ADDON_PATH, NetsysNotBuiltError } from './native';
export { closeFd, CURRENT_NETNS_PATH, dupFd, type InodeId, netnsInode, openNetns, sameInode } from './netns';
export type { SocketCommonOptions, TcpListenerOptions, TcpSocketOptions } from './options';
export {
  type ConnectFromOptions,
  connectFrom,
  connectTcp,
  createTcpListener,
  createTcpSocket,
  getOriginalDst,
  localAddress,
  peerAddress,
  socketError,
  socketFd,
} from './tcp';
export {
  DEFAULT_MAX_MESSAGE_SIZE,
  MAX_FDS_PER_MESSAGE,
  type SeqpacketMessage,
  type SeqpacketOptions,
  SeqpacketSocket,
} from './seqpacket';
export { SeqpacketServer, type SeqpacketServerOptions } from './seqpacket-server';
