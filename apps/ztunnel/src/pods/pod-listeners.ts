// Where a pod's listeners come from (reference §5.5): in netns mode a socket created inside the pod's netns by
// netsys (SO_MARK 1337, IP_TRANSPARENT, SO_REUSEPORT), dual-stack `[::]` when the pod has IPv6, else `0.0.0.0`;
// in loopback mode (component tests, development) an ordinary listener on the pod's 127.0.0.x address. Everything
// after socket creation is shared.

import * as net from 'node:net';

import { closeFd, createTcpListener, getOriginalDst, socketFd, type SocketAddress } from '@weft/netsys';

import type { LocalPod } from './pod-registry';

export const ZTUNNEL_MARK = 1337;
export const OUTBOUND_PORT = 15001;
export const INBOUND_PLAINTEXT_PORT = 15006;
export const HBONE_PORT = 15008;

export interface ListenerFactory {
  /** A listening net.Server for the pod on `port`, not yet accepting (the caller attaches handlers and `listen`s it). */
  listen(pod: LocalPod, port: number, server: net.Server): Promise<void>;
  /** The destination the app connected to before redirection. */
  originalDestination(socket: net.Socket, pod: LocalPod): SocketAddress;
}

function listenFd(server: net.Server, fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ fd }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Production: sockets inside each pod's netns. */
export function netnsListeners(): ListenerFactory {
  return {
    async listen(pod, port, server) {
      if (pod.netnsFd === undefined) throw new Error(`pod ${pod.uid} has no netns`);
      const common = { netnsFd: pod.netnsFd, port, mark: ZTUNNEL_MARK, transparent: true, reusePort: true };
      let fd: number;
      try {
        fd = createTcpListener({ ...common, host: '::', ipv6Only: false });
      } catch {
        // IPv6 disabled in the pod: IPv4 only.
        fd = createTcpListener({ ...common, host: '0.0.0.0' });
      }
      try {
        await listenFd(server, fd);
      } catch (cause) {
        closeFd(fd);
        throw cause;
      }
    },
    originalDestination(socket) {
      return getOriginalDst(socketFd(socket));
    },
  };
}

/**
 * Loopback mode: listeners on the pod's 127.0.0.x address. There is no redirection, so the outbound listener of a
 * pod stands for one destination, given per pod as `outboundTargets` (test clients dial the listener as if they were
 * dialling the target).
 */
export function loopbackListeners(options: {
  readonly portOffset?: (port: number) => number;
  readonly outboundTargets: ReadonlyMap<string, SocketAddress>;
}): ListenerFactory {
  return {
    async listen(pod, port, server) {
      const host = pod.loopbackAddress;
      if (host === undefined) throw new Error(`pod ${pod.uid} has no loopback address`);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host, port: options.portOffset?.(port) ?? port }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    },
    originalDestination(_socket, pod) {
      const target = options.outboundTargets.get(pod.uid);
      if (target === undefined) throw new Error(`no outbound target configured for loopback pod ${pod.uid}`);
      return target;
    },
  };
}
