// One pod's proxy: the three listeners of reference §5.5 and what happens to each connection — 15001 outbound
// (route per §2.6, HBONE or plain TCP), 15006 inbound plaintext (§2.5) and 15008 inbound HBONE (§2.4), with L4
// authorization, live re-evaluation, telemetry and the access log. Decisions come from routing/, inbound/, authz/;
// this file only carries them out on sockets.

import { randomUUID } from 'node:crypto';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';

import { formatForwarded, HTTP_STATUS_SERVICE_UNAVAILABLE, HTTP_STATUS_UNAUTHORIZED, pipeTunnel, type HbonePool, type HboneServer, type InboundTunnel } from '@weft/hbone';
import { formatSpiffeId, parseSpiffeId, type Identity } from '@weft/identity';
import type { MeshState, Service, Workload } from '@weft/mesh-model';
import type { L4Connection } from '@weft/policy';

import { rejectionMessage, type Authorizer, type ConnectionRegistry } from '../authz';
import { decideInboundConnect, decideInboundPlaintext, inboundHttpStatus, inboundResponseFlag } from '../inbound';
import { HBONE_PORT, INBOUND_PLAINTEXT_PORT, OUTBOUND_PORT, type ListenerFactory } from '../pods/pod-listeners';
import type { LocalPod, PodRuntime } from '../pods/pod-registry';
import { formatHostPort, normalizeIp, routeOutbound } from '../routing';
import {
  connectionCompleteRecord,
  connectionFailedRecord,
  formatAccessLogLine,
  trafficLabels,
  type ResponseFlag,
  type TcpMetrics,
  type TrafficLabels,
} from '../telemetry';
import type { PodNetworking } from './pod-networking';

export interface ProxyLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  debug(fields: Record<string, unknown>, message: string): void;
}

/** Node-wide services every pod proxy shares. */
export interface ProxyContext {
  readonly state: MeshState;
  readonly clusterId: string;
  readonly trustDomain: string;
  readonly listeners: ListenerFactory;
  readonly networking: PodNetworking;
  readonly pool: HbonePool;
  readonly hbone: HboneServer;
  /** Makes sure the identity's certificate is in the HBONE credential cache (waits, bounded). */
  readonly ensureCredential: (spiffeId: string) => Promise<void>;
  readonly authorizer: Authorizer;
  readonly registry: ConnectionRegistry;
  readonly metrics: TcpMetrics;
  readonly accessLog: (line: string) => void;
  readonly logger: ProxyLogger;
  readonly random?: () => number;
  /** How long a connection waits for its pod to appear in xDS. */
  readonly workloadWaitMs?: number;
  /** The local pod an inbound HBONE connection arrived for, by the address it arrived on. */
  readonly podForAddress: (ip: string) => LocalPod | undefined;
}

export interface PodProxy {
  startPod(pod: LocalPod): Promise<PodRuntime>;
  /** The node's HBONE server handler: finds the pod by the connection's local address. */
  handleTunnel(tunnel: InboundTunnel): Promise<void>;
}

/** The store uid of a pod's Workload (`<cluster>//Pod/<ns>/<name>`, reference §4.4). */
export function podWorkloadUid(clusterId: string, pod: LocalPod): string {
  return `${clusterId}//Pod/${pod.workload.namespace}/${pod.workload.name}`;
}

export function podIdentity(trustDomain: string, pod: LocalPod): Identity {
  return { trustDomain, namespace: pod.workload.namespace, serviceAccount: pod.workload.serviceAccount };
}

/** Open connections by id, so a pod's close (ZDS del) and a policy revocation can cut them. */
export class OpenConnections {
  private readonly byId = new Map<string, { readonly pod: string; readonly close: (reason: string) => void }>();

  add(id: string, pod: string, close: (reason: string) => void): () => void {
    this.byId.set(id, { pod, close });
    return () => this.byId.delete(id);
  }

  close(id: string, reason: string): void {
    this.byId.get(id)?.close(reason);
  }

  closePod(pod: string, reason: string): void {
    for (const entry of [...this.byId.values()]) if (entry.pod === pod) entry.close(reason);
  }

  get size(): number {
    return this.byId.size;
  }
}

async function waitForWorkload(state: MeshState, uid: string, timeoutMs: number): Promise<Workload | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const workload = state.workloadByUid(uid);
    if (workload !== undefined || Date.now() >= deadline) return workload;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

/**
 * The `forwarded` header of an outbound CONNECT (reference §2.3): the app's address, and `host=` the service it
 * addressed, which the destination ztunnel reads for its `destination_service` label (§2.4) — the authority is then
 * the chosen endpoint's IP and says nothing about the service.
 */
export function outboundForwarded(client: { readonly address: string; readonly port: number }, service: Service | undefined): string {
  return formatForwarded(client, service?.hostname);
}

export function createPodProxy(context: ProxyContext, open: OpenConnections): PodProxy {
  const random = context.random ?? Math.random;
  const workloadWaitMs = context.workloadWaitMs ?? 5_000;

  const logComplete = (labels: TrafficLabels, src: string, dst: string, started: number, sent: number, received: number, hbone?: string, error?: string): void => {
    const record = connectionCompleteRecord({
      labels,
      srcAddr: src,
      dstAddr: dst,
      ...(hbone === undefined ? {} : { hboneAddr: hbone }),
      sent,
      received,
      durationMs: Date.now() - started,
      ...(error === undefined ? {} : { error }),
    });
    context.accessLog(formatAccessLogLine(record, new Date()));
  };

  /** 15001: the app's own connection, redirected. */
  const outbound = async (pod: LocalPod, socket: net.Socket): Promise<void> => {
    const started = Date.now();
    socket.setNoDelay(true);
    const src = formatHostPort(normalizeIp(socket.remoteAddress ?? ''), socket.remotePort ?? 0);
    let original;
    try {
      original = context.listeners.originalDestination(socket, pod);
    } catch (cause) {
      context.logger.warn({ pod: pod.uid, err: describe(cause) }, 'no original destination; closing');
      socket.resetAndDestroy();
      return;
    }
    const destination = { ip: normalizeIp(original.address), port: original.port };
    const dst = formatHostPort(destination.ip, destination.port);
    const source = await waitForWorkload(context.state, podWorkloadUid(context.clusterId, pod), workloadWaitMs);
    if (source === undefined) {
      context.accessLog(formatAccessLogLine(connectionFailedRecord({ srcAddr: src, dstAddr: dst, reporter: 'source', error: 'unknown source workload' }), new Date()));
      socket.resetAndDestroy();
      return;
    }
    const decision = routeOutbound(context.state, { source, originalDestination: destination, random });
    if (decision.kind === 'refused' || decision.kind === 'double-hbone') {
      const reason = decision.kind === 'refused' ? decision.reason : 'double HBONE (multi-network) is not supported';
      context.accessLog(formatAccessLogLine(connectionFailedRecord({ srcAddr: src, dstAddr: dst, reporter: 'source', error: reason }), new Date()));
      socket.resetAndDestroy();
      return;
    }
    const id = randomUUID();
    if (decision.kind === 'hbone') {
      const labels = trafficLabels({
        reporter: 'source',
        source,
        sourcePrincipal: decision.sourceIdentity,
        destination: decision.destinationWorkload,
        ...(decision.destinationService === undefined ? {} : { destinationService: decision.destinationService }),
        securityPolicy: 'mutual_tls',
      });
      const meter = context.metrics.open(labels);
      let flag: ResponseFlag = '-';
      try {
        await context.ensureCredential(decision.sourceIdentity);
        const sourceIdentity = parseSpiffeId(decision.sourceIdentity);
        if (!sourceIdentity.ok) throw new Error(sourceIdentity.error.message);
        const expected = decision.expectedIdentities.flatMap((sid) => {
          const parsed = parseSpiffeId(sid);
          return parsed.ok ? [parsed.value] : [];
        });
        const tunnel = await context.pool.connect({
          destination: decision.authority,
          hboneAddress: { host: decision.nextHop.host, port: decision.nextHop.port },
          sourceIdentity: sourceIdentity.value,
          ...(pod.loopbackAddress === undefined ? { sourceAddress: source.addresses[0] ?? '' } : { sourceAddress: pod.loopbackAddress }),
          expectedIdentities: expected,
          headers: { forwarded: outboundForwarded({ address: normalizeIp(socket.remoteAddress ?? ''), port: socket.remotePort ?? 0 }, decision.destinationService) },
        });
        const forget = open.add(id, pod.uid, (reason) => {
          socket.destroy(new Error(reason));
          tunnel.stream.destroy();
        });
        const result = await pipeTunnel(socket, tunnel.stream);
        forget();
        meter.sent(result.bytesSent);
        meter.received(result.bytesReceived);
        logComplete(labels, src, formatHostPort(decision.nextHop.host, decision.nextHop.port), started, result.bytesSent, result.bytesReceived, decision.authority);
      } catch (cause) {
        flag = 'CONNECT';
        const via = `${formatHostPort(decision.nextHop.host, decision.nextHop.port)} (${decision.authority})`;
        context.accessLog(formatAccessLogLine(connectionFailedRecord({ srcAddr: src, dstAddr: dst, reporter: 'source', error: `${describe(cause)} via ${via}` }), new Date()));
        socket.resetAndDestroy();
      } finally {
        meter.close(flag);
      }
      return;
    }
    // Plain TCP: a workload outside the mesh, or an unknown address (passthrough).
    const labels = trafficLabels({
      reporter: 'source',
      source,
      ...(decision.kind === 'tcp' ? { destination: decision.destinationWorkload } : {}),
      securityPolicy: 'unknown',
    });
    const meter = context.metrics.open(labels);
    try {
      const upstream = await context.networking.connect(pod, { host: decision.nextHop.host, port: decision.nextHop.port });
      const forget = open.add(id, pod.uid, (reason) => {
        socket.destroy(new Error(reason));
        upstream.destroy();
      });
      const result = await pipeTunnel(socket, upstream);
      forget();
      meter.sent(result.bytesSent);
      meter.received(result.bytesReceived);
      meter.close();
      logComplete(labels, src, formatHostPort(decision.nextHop.host, decision.nextHop.port), started, result.bytesSent, result.bytesReceived);
    } catch (cause) {
      meter.close('CONNECT');
      context.accessLog(formatAccessLogLine(connectionFailedRecord({ srcAddr: src, dstAddr: dst, reporter: 'source', error: describe(cause) }), new Date()));
      socket.resetAndDestroy();
    }
  };

  /**
   * Admits a connection to a local pod (authorization) and relays it to the app from inside the pod's netns. Once
   * the connection is known to be for this pod, every outcome is one "connection complete" line, an error included
   * (a policy denial reads `connection closed due to policy rejection: …`, as Istio's troubleshooting guides grep
   * for); `refuse` only answers the client.
   */
  const deliver = async (
    pod: LocalPod,
    workload: Workload,
    connection: L4Connection,
    upstreamTarget: { ip: string; port: number },
    labelsFor: (flag: ResponseFlag) => TrafficLabels,
    accept: () => Duplex,
    refuse: (status: number, reason: string) => void,
    src: string,
  ): Promise<void> => {
    const started = Date.now();
    const dst = formatHostPort(upstreamTarget.ip, upstreamTarget.port);
    const fail = (flag: ResponseFlag, status: number, error: string): void => {
      const labels = labelsFor(flag);
      context.metrics.open(labels).close(flag);
      logComplete(labels, src, dst, started, 0, 0, undefined, error);
      refuse(status, error);
    };
    const decision = context.authorizer.authorize({ workload, connection });
    if (!decision.allow) {
      fail('DENY', HTTP_STATUS_UNAUTHORIZED, rejectionMessage(decision));
      return;
    }
    let upstream: net.Socket;
    try {
      upstream = await context.networking.connect(pod, { host: upstreamTarget.ip, port: upstreamTarget.port, spoofSource: connection.srcIp });
    } catch (cause) {
      fail('CONNECT', HTTP_STATUS_SERVICE_UNAVAILABLE, `connect to the app failed: ${describe(cause)}`);
      return;
    }
    const labels = labelsFor('-');
    const meter = context.metrics.open(labels);
    const downstream = accept();
    const id = randomUUID();
    const forget = open.add(id, pod.uid, (reason) => {
      context.logger.info({ pod: pod.uid, src, reason }, 'closing connection');
      downstream.destroy();
      upstream.destroy();
    });
    const untrack = context.registry.track({ id, workload, connection });
    const result = await pipeTunnel(downstream, upstream);
    untrack();
    forget();
    meter.sent(result.bytesSent);
    meter.received(result.bytesReceived);
    meter.close();
    logComplete(labels, src, dst, started, result.bytesSent, result.bytesReceived);
  };

  /** 15008: an HBONE CONNECT for one of this node's pods; the pod is the one the connection arrived for. */
  const inboundTunnel = async (pod: LocalPod, tunnel: InboundTunnel): Promise<void> => {
    const workload = await waitForWorkload(context.state, podWorkloadUid(context.clusterId, pod), workloadWaitMs);
    const src = formatHostPort(normalizeIp(tunnel.remoteAddress.address), tunnel.remoteAddress.port);
    const target = decideInboundConnect(
      context.state,
      { method: 'CONNECT', authority: `${tunnel.authority.host.includes(':') ? `[${tunnel.authority.host}]` : tunnel.authority.host}:${tunnel.authority.port}`, connectionDstIp: tunnel.localAddress.address, ...(tunnel.headers.forwarded === undefined ? {} : { forwarded: tunnel.headers.forwarded }) },
      { localWorkload: workload },
    );
    const peer = formatSpiffeId(tunnel.peerIdentity);
    const sourceWorkload = context.state.workloadByAddress('', normalizeIp(tunnel.remoteAddress.address));
    const labelsFor = (flag: ResponseFlag, service = target.ok ? target.destinationService : undefined): TrafficLabels =>
      trafficLabels({
        reporter: 'destination',
        ...(sourceWorkload === undefined ? {} : { source: sourceWorkload }),
        sourcePrincipal: peer,
        ...(workload === undefined ? {} : { destination: workload }),
        ...(service === undefined ? {} : { destinationService: service }),
        securityPolicy: 'mutual_tls',
        responseFlags: flag,
      });
    const dst = formatHostPort(normalizeIp(tunnel.localAddress.address), tunnel.localAddress.port);
    const reject = (status: number, reason: string): void => {
      context.accessLog(formatAccessLogLine(connectionFailedRecord({ srcAddr: src, dstAddr: dst, reporter: 'destination', error: `${status}: ${reason}` }), new Date()));
      tunnel.reject(status, reason);
    };
    if (!target.ok || workload === undefined) {
      const code = target.ok ? 'ERR_INBOUND_UNKNOWN_LOCAL_WORKLOAD' : target.code;
      const meter = context.metrics.open(labelsFor(inboundResponseFlag(code)));
      meter.close(inboundResponseFlag(code));
      reject(inboundHttpStatus(code), target.ok ? 'unknown local workload' : target.reason);
      return;
    }
    const connection: L4Connection = {
      srcIp: normalizeIp(tunnel.remoteAddress.address),
      dstIp: target.rbacDestination.ip,
      dstPort: target.rbacDestination.port,
      srcIdentity: tunnel.peerIdentity,
    };
    await deliver(pod, workload, connection, target.upstream, (flag) => labelsFor(flag), () => tunnel.accept(), (status, reason) => tunnel.reject(status, reason), src);
  };

  /** 15006: plaintext to the pod (no identity); the same authorization path, so STRICT denies it. */
  const inboundPlaintext = async (pod: LocalPod, socket: net.Socket): Promise<void> => {
    socket.setNoDelay(true);
    const src = formatHostPort(normalizeIp(socket.remoteAddress ?? ''), socket.remotePort ?? 0);
    let original;
    try {
      original = context.listeners.originalDestination(socket, pod);
    } catch {
      socket.resetAndDestroy();
      return;
    }
    const workload = await waitForWorkload(context.state, podWorkloadUid(context.clusterId, pod), workloadWaitMs);
    const target = decideInboundPlaintext(context.state, { localWorkload: workload, originalDestination: { ip: original.address, port: original.port } });
    if (!target.ok || workload === undefined) {
      socket.resetAndDestroy();
      return;
    }
    const sourceWorkload = context.state.workloadByAddress('', normalizeIp(socket.remoteAddress ?? ''));
    const connection: L4Connection = { srcIp: normalizeIp(socket.remoteAddress ?? ''), dstIp: target.upstream.ip, dstPort: target.upstream.port };
    const labelsFor = (flag: ResponseFlag): TrafficLabels =>
      trafficLabels({
        reporter: 'destination',
        ...(sourceWorkload === undefined ? {} : { source: sourceWorkload }),
        destination: workload,
        ...(target.destinationService === undefined ? {} : { destinationService: target.destinationService }),
        securityPolicy: 'unknown',
        responseFlags: flag,
      });
    await deliver(pod, workload, connection, target.upstream, labelsFor, () => socket, () => socket.resetAndDestroy(), src);
  };

  /** Starts the pod's three listeners; the returned runtime stops them and cuts the pod's connections. */
  const startPod = async (pod: LocalPod): Promise<PodRuntime> => {
    const servers: net.Server[] = [];
    const guard = (work: Promise<void>): void => {
      work.catch((cause: unknown) => context.logger.warn({ pod: pod.uid, err: describe(cause) }, 'connection handler failed'));
    };
    const make = (handler: (socket: net.Socket) => void): net.Server => {
      const server = net.createServer({ noDelay: true }, handler);
      servers.push(server);
      return server;
    };
    const outboundServer = make((socket) => guard(outbound(pod, socket)));
    const plaintextServer = make((socket) => guard(inboundPlaintext(pod, socket)));
    const hboneServer = make((socket) => context.hbone.handleConnection(socket));
    try {
      await context.listeners.listen(pod, OUTBOUND_PORT, outboundServer);
      await context.listeners.listen(pod, INBOUND_PLAINTEXT_PORT, plaintextServer);
      await context.listeners.listen(pod, HBONE_PORT, hboneServer);
    } catch (cause) {
      for (const server of servers) server.close();
      throw cause;
    }
    return {
      async close() {
        for (const server of servers) server.close();
        open.closePod(pod.uid, 'pod removed from the node');
      },
    };
  };

  const handleTunnel = async (tunnel: InboundTunnel): Promise<void> => {
    const pod = context.podForAddress(normalizeIp(tunnel.localAddress.address));
    if (pod === undefined) {
      const reason = `no local pod on ${tunnel.localAddress.address}`;
      const src = formatHostPort(normalizeIp(tunnel.remoteAddress.address), tunnel.remoteAddress.port);
      const dst = formatHostPort(normalizeIp(tunnel.localAddress.address), tunnel.localAddress.port);
      context.accessLog(formatAccessLogLine(connectionFailedRecord({ srcAddr: src, dstAddr: dst, reporter: 'destination', error: `503: ${reason}` }), new Date()));
      tunnel.reject(HTTP_STATUS_SERVICE_UNAVAILABLE, reason);
      return;
    }
    try {
      await inboundTunnel(pod, tunnel);
    } catch (cause) {
      context.logger.warn({ pod: pod.uid, err: describe(cause) }, 'inbound tunnel failed');
      if (!tunnel.answered) tunnel.reject(HTTP_STATUS_SERVICE_UNAVAILABLE, describe(cause));
    }
  };

  return { startPod, handleTunnel };
}
