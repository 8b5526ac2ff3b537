// How ztunnel opens TCP connections on a pod's behalf (reference §5.5): in netns mode from inside the pod's netns
// with SO_MARK 1337 (so the pod's own REDIRECT rules let them out), and for inbound delivery with IP_TRANSPARENT
// and the client's address as source; in loopback mode from the pod's 127.0.0.x address. Only this file differs
// between the modes on the connecting side.

import * as net from 'node:net';

import { connectFrom } from '@weft/netsys';

import { ZTUNNEL_MARK } from '../pods/pod-listeners';
import type { LocalPod } from '../pods/pod-registry';

export interface ConnectRequest {
  readonly host: string;
  readonly port: number;
  /** Source address to present (inbound delivery spoofs the client's); omitted: the pod's own. */
  readonly spoofSource?: string;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface PodNetworking {
  connect(pod: LocalPod, request: ConnectRequest): Promise<net.Socket>;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

function family(host: string): 4 | 6 {
  return net.isIPv6(host) ? 6 : 4;
}

export function netnsNetworking(): PodNetworking {
  return {
    async connect(pod, request) {
      if (pod.netnsFd === undefined) throw new Error(`pod ${pod.uid} has no netns`);
      const spoof = request.spoofSource !== undefined && family(request.spoofSource) === family(request.host) ? request.spoofSource : undefined;
      const socket = await connectFrom({
        netnsFd: pod.netnsFd,
        family: family(request.host),
        mark: ZTUNNEL_MARK,
        ...(spoof === undefined ? {} : { transparent: true, bindAddress: spoof }),
        host: request.host,
        port: request.port,
        timeoutMs: request.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      });
      socket.setNoDelay(true);
      return socket;
    },
  };
}

export function loopbackNetworking(): PodNetworking {
  return {
    connect(pod, request) {
      return new Promise((resolve, reject) => {
        const socket = net.connect({
          host: request.host,
          port: request.port,
          ...(pod.loopbackAddress === undefined ? {} : { localAddress: pod.loopbackAddress }),
          noDelay: true,
        });
        const timer = setTimeout(() => socket.destroy(new Error(`connect to ${request.host}:${request.port} timed out`)), request.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
        const onAbort = (): void => {
          socket.destroy(new Error('connect aborted'));
        };
        request.signal?.addEventListener('abort', onAbort, { once: true });
        socket.once('connect', () => {
          clearTimeout(timer);
          request.signal?.removeEventListener('abort', onAbort);
          resolve(socket);
        });
        socket.once('error', (error) => {
          clearTimeout(timer);
          request.signal?.removeEventListener('abort', onAbort);
          reject(error);
        });
      });
    },
  };
}
