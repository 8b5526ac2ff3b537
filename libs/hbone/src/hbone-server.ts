// The inbound HBONE listener (port 15008, reference §2.1/§2.2/§2.4): TCP accepted on any number of listeners (host
// and port, a pre-created fd, or a caller's net.Server), the certificate chosen per connection from the local
// address, TLS 1.3 mutual auth with the SPIFFE trust-domain check, then HTTP/2 CONNECT streams to the handler.

import { createServer as createHttp2Server, type ServerHttp2Session } from 'node:http2';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { HBONE_ALPN, type WorkloadCredential } from './credential-cache';
import { HboneError, NOOP_HBONE_LOGGER, errorText, type HboneLogger } from './hbone-error';
import { applyConnectionWindow, serverSessionOptions, startKeepalive, type KeepaliveOptions } from './http2-settings';
import { serveInboundStream, type TunnelHandler } from './inbound-tunnel';
import { verifyPeer } from './peer-verification';
import { fromAddressInfo, localAddressOf, remoteAddressOf, type SocketAddress } from './socket-address';

/** ztunnel waits about 5 s for the local workload (and so its certificate) before giving up (§2.4 step 4). */
export const DEFAULT_CREDENTIAL_TIMEOUT_MS = 5_000;
/** From TCP accept to a verified peer; a client that stalls the handshake longer is dropped. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
/** How long close() lets open tunnels finish after GOAWAY before destroying them. */
export const DEFAULT_SERVER_CLOSE_DEADLINE_MS = 5_000;

/** Where to accept connections: a host and port, a listening fd (e.g. made inside a pod netns), or a net.Server. */
export type ListenTarget =
  | { readonly host: string; readonly port: number }
  | { readonly fd: number }
  | { readonly server: NetServer };

export interface ConnectionInfo {
  readonly localAddress: SocketAddress | undefined;
  readonly remoteAddress: SocketAddress | undefined;
}

export interface HboneServerOptions {
  /**
   * The credential to serve a connection with, chosen from the address it arrived on (in-pod mode: the pod owning the
   * listener). May wait, e.g. for a certificate fetch; `signal` fires when the server stops waiting. Undefined, a
   * rejection or the timeout fails the connection before TLS starts.
   */
  selectCredential(
    localAddress: SocketAddress,
    signal: AbortSignal,
  ): WorkloadCredential | undefined | Promise<WorkloadCredential | undefined>;
  readonly handler: TunnelHandler;
  readonly credentialTimeoutMs?: number;
  readonly handshakeTimeoutMs?: number;
  /** PING keepalive (10 s / 20 s by default); false turns it off. */
  readonly keepalive?: KeepaliveOptions | false;
  /** Accept `host:port` authorities too (waypoints, E/W gateways); default only `ip:port`. */
  readonly acceptHostnameAuthorities?: boolean;
  /** The early-deny hook of §2.4 step 1: a connection closed before any HTTP status (TLS or identity failure). */
  readonly onHandshakeError?: (error: HboneError, connection: ConnectionInfo) => void;
  readonly clock?: () => Date;
  readonly logger?: HboneLogger;
}

export interface HboneServerStats {
  readonly connectionsAccepted: number;
  readonly connectionsOpen: number;
  readonly handshakeFailures: number;
  readonly tunnelsRequested: number;
  readonly tunnelsRejected: number;
}

export interface HboneServer {
  /** Start accepting on `target`; resolves with the bound address. The server owns the listener from then on. */
  listen(target: ListenTarget): Promise<SocketAddress>;
  /** Serve a TCP connection accepted elsewhere. */
  handleConnection(socket: Socket): void;
  stats(): HboneServerStats;
  /** Stop listening, send GOAWAY, let tunnels finish until the deadline, then destroy what is left. Idempotent. */
  close(deadlineMs?: number): Promise<void>;
  /** Destroy every listener, connection and tunnel now. Idempotent. */
  destroy(): void;
}

export function createHboneServer(options: HboneServerOptions): HboneServer {
  const logger = options.logger ?? NOOP_HBONE_LOGGER;
  const clock = options.clock ?? (() => new Date());
  const credentialTimeoutMs = options.credentialTimeoutMs ?? DEFAULT_CREDENTIAL_TIMEOUT_MS;
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  const listeners = new Set<NetServer>();
  // Connections not yet carrying an HTTP/2 session (raw TCP, then TLS); close() drops these at once.
  const handshaking = new Set<Socket>();
  const sessions = new Set<ServerHttp2Session>();
  // Only a session factory: connections reach it by emit('connection') once TLS and the SPIFFE checks passed.
  const sessionFactory = createHttp2Server(serverSessionOptions());
  const counters = { connectionsAccepted: 0, handshakeFailures: 0, tunnelsRequested: 0, tunnelsRejected: 0 };
  let sequence = 0;
  let closing = false;
  let closed: Promise<void> | undefined;

  sessionFactory.on('session', (session: ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });

  function handleConnection(raw: Socket): void {
    if (closing) {
      raw.destroy();
      return;
    }
    counters.connectionsAccepted++;
    handshaking.add(raw);
    raw.once('close', () => handshaking.delete(raw));
    raw.on('error', (err: unknown) => logger.debug('connection error', { error: errorText(err) }));
    raw.setNoDelay(true);
    void establish(raw, `c${++sequence}`);
  }

  async function establish(raw: Socket, connectionId: string): Promise<void> {
    const info: ConnectionInfo = { localAddress: localAddressOf(raw), remoteAddress: remoteAddressOf(raw) };
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), handshakeTimeoutMs);
    const fail = (error: HboneError, socket: Socket): void => {
      counters.handshakeFailures++;
      logger.warn('HBONE handshake failed', { connection: connectionId, ...info, code: error.code, error: error.message });
      options.onHandshakeError?.(error, info);
      socket.destroy();
    };
    try {
      const { localAddress, remoteAddress } = info;
      if (localAddress === undefined || remoteAddress === undefined) {
        raw.destroy();
        return;
      }
      const credential = await selectCredential(localAddress, deadline.signal);
      if (credential instanceof HboneError) return fail(credential, raw);
      if (raw.destroyed) return;

      const tlsSocket = new TLSSocket(raw, {
        isServer: true,
        secureContext: credential.secureContext,
        requestCert: true,
        rejectUnauthorized: true,
        ALPNProtocols: [HBONE_ALPN],
      });
      handshaking.add(tlsSocket);
      tlsSocket.once('close', () => handshaking.delete(tlsSocket));
      const secured = await handshake(tlsSocket, deadline.signal);
      if (secured instanceof HboneError) return fail(secured, tlsSocket);
      const peer = await verifyPeer(tlsSocket, {
        usage: 'client',
        rootsPem: credential.rootsPem,
        trustDomain: credential.identity.trustDomain,
        now: clock(),
      });
      if (peer instanceof HboneError) return fail(peer, tlsSocket);
      if (tlsSocket.destroyed || closing) {
        tlsSocket.destroy();
        return;
      }
      // tls.Server clears this flag before 'secureConnection'; a TLSSocket made by hand keeps it set, and
      // node:http2 would then wait for a 'secureConnect' that a server socket never emits.
      (tlsSocket as TLSSocket & { secureConnecting: boolean }).secureConnecting = false;

      // The factory emits 'session' synchronously from its connection listener.
      let created: ServerHttp2Session | undefined;
      const capture = (s: ServerHttp2Session): void => {
        created = s;
      };
      sessionFactory.once('session', capture);
      sessionFactory.emit('connection', tlsSocket);
      sessionFactory.off('session', capture);
      const session = created;
      if (session === undefined) {
        tlsSocket.destroy();
        return;
      }
      handshaking.delete(raw);
      handshaking.delete(tlsSocket);
      applyConnectionWindow(session);
      if (options.keepalive !== false) {
        startKeepalive(session, options.keepalive ?? {}, (error) => {
          logger.warn('HBONE connection dead', { connection: connectionId, error: error.message });
          session.destroy(error);
        });
      }
      session.on('error', (err: unknown) => logger.debug('session error', { connection: connectionId, error: errorText(err) }));
      session.on('stream', (stream, headers) => {
        counters.tunnelsRequested++;
        serveInboundStream(stream, headers, {
          connectionId,
          peerIdentity: peer,
          localIdentity: credential.identity,
          localAddress,
          remoteAddress,
          acceptHostnames: options.acceptHostnameAuthorities === true,
          handler: options.handler,
          logger,
          onRejected: () => counters.tunnelsRejected++,
        });
      });
      logger.debug('HBONE connection up', { connection: connectionId, ...info, peer });
    } finally {
      clearTimeout(timer);
    }
  }

  async function selectCredential(local: SocketAddress, deadline: AbortSignal): Promise<WorkloadCredential | HboneError> {
    const noCertificate = (detail: string, cause?: unknown): HboneError =>
      new HboneError('ERR_HBONE_NO_CERTIFICATE', `no certificate to serve ${local.address}:${local.port}: ${detail}`, {
        cause,
        hint: 'the local workload is unknown or its certificate was not issued yet',
      });
    const gaveUp = new AbortController();
    let onGiveUp: (() => void) | undefined;
    const expired = new Promise<HboneError>((resolve) => {
      onGiveUp = () => {
        gaveUp.abort();
        resolve(noCertificate(`not ready within ${credentialTimeoutMs} ms`));
      };
    });
    const timer = setTimeout(() => onGiveUp?.(), credentialTimeoutMs);
    const giveUp = (): void => onGiveUp?.();
    deadline.addEventListener('abort', giveUp, { once: true });
    try {
      const selected = Promise.resolve()
        .then(() => options.selectCredential(local, gaveUp.signal))
        .then(
          (credential) => credential ?? noCertificate('no workload identity for this address'),
          (err: unknown) => noCertificate(errorText(err), err),
        );
      return await Promise.race([selected, expired]);
    } finally {
      clearTimeout(timer);
      deadline.removeEventListener('abort', giveUp);
    }
  }

  function handshake(socket: TLSSocket, deadline: AbortSignal): Promise<true | HboneError> {
    return new Promise((resolve) => {
      const done = (result: true | HboneError): void => {
        socket.off('secure', onSecure);
        socket.off('error', onError);
        socket.off('close', onClose);
        deadline.removeEventListener('abort', onDeadline);
        resolve(result);
      };
      const onSecure = (): void => {
        if (socket.alpnProtocol !== HBONE_ALPN) {
          return done(new HboneError('ERR_HBONE_TLS_HANDSHAKE', 'the client did not negotiate ALPN "h2"'));
        }
        done(true);
      };
      const onError = (err: unknown): void =>
        done(new HboneError('ERR_HBONE_TLS_HANDSHAKE', `TLS handshake failed: ${errorText(err)}`, { cause: err }));
      const onClose = (): void => done(new HboneError('ERR_HBONE_TLS_HANDSHAKE', 'connection closed during TLS handshake'));
      const onDeadline = (): void =>
        done(new HboneError('ERR_HBONE_TLS_HANDSHAKE', `TLS handshake not done within ${handshakeTimeoutMs} ms`));
      socket.once('secure', onSecure);
      socket.on('error', onError);
      socket.once('close', onClose);
      deadline.addEventListener('abort', onDeadline, { once: true });
      // Errors after the handshake belong to the HTTP/2 session; keep one listener so none goes unhandled.
      socket.on('error', (err: unknown) => logger.debug('TLS socket error', { error: errorText(err) }));
    });
  }

  function listen(target: ListenTarget): Promise<SocketAddress> {
    if (closing) return Promise.reject(new HboneError('ERR_HBONE_CLOSED', 'HBONE server is closed'));
    const server = 'server' in target ? target.server : createNetServer({ pauseOnConnect: true });
    listeners.add(server);
    server.on('connection', handleConnection);
    server.on('error', (err: unknown) => logger.error('HBONE listener error', { error: errorText(err) }));
    const bound = (): SocketAddress => {
      const address = fromAddressInfo(server.address());
      if (address === undefined) throw new HboneError('ERR_HBONE_INVALID_ARGUMENT', 'listener has no TCP address');
      return address;
    };
    if ('server' in target && target.server.listening) return Promise.resolve().then(bound);
    return new Promise<SocketAddress>((resolve, reject) => {
      const onError = (err: unknown): void => {
        listeners.delete(server);
        reject(new HboneError('ERR_HBONE_INVALID_ARGUMENT', `cannot listen: ${errorText(err)}`, { cause: err }));
      };
      server.once('error', onError);
      server.once('listening', () => {
        server.off('error', onError);
        try {
          resolve(bound());
        } catch (err) {
          reject(err);
        }
      });
      if ('fd' in target) server.listen({ fd: target.fd });
      else if ('host' in target) server.listen({ host: target.host, port: target.port });
      // A caller's server that is not listening yet: it will call listen() itself.
    });
  }

  function stopListening(): void {
    closing = true;
    for (const server of listeners) {
      server.off('connection', handleConnection);
      if (server.listening) server.close();
    }
    listeners.clear();
  }

  function destroyAll(): void {
    for (const session of sessions) session.destroy();
    for (const socket of handshaking) socket.destroy();
  }

  return {
    listen,
    handleConnection,
    stats: () => ({ ...counters, connectionsOpen: sessions.size }),
    close(deadlineMs = DEFAULT_SERVER_CLOSE_DEADLINE_MS): Promise<void> {
      if (closed !== undefined) return closed;
      stopListening();
      // Connections still in their handshake have no tunnel to drain.
      for (const socket of handshaking) socket.destroy();
      const open = [...sessions];
      for (const session of open) session.close();
      closed = waitAll(open, deadlineMs).then((inTime) => {
        if (!inTime) logger.warn('HBONE tunnels still open at the close deadline; destroying them', { deadlineMs });
        destroyAll();
      });
      return closed;
    },
    destroy(): void {
      stopListening();
      destroyAll();
      closed ??= Promise.resolve();
    },
  };
}

/** Resolves true when every session closed within `ms`, false at the deadline; leaves no timer behind. */
function waitAll(sessions: readonly ServerHttp2Session[], ms: number): Promise<boolean> {
  const all = Promise.all(sessions.map((s) => (s.closed && s.destroyed ? undefined : new Promise((r) => s.once('close', r)))));
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  return Promise.race([all.then(() => true), deadline]).finally(() => clearTimeout(timer));
}
