// Opening one outbound HBONE connection (reference §2.1/§2.2): TCP to the next hop's port 15008 through the
// caller's socket factory, TLS 1.3 with the source identity's certificate and ALPN h2 (no SNI), the server chain
// and SAN checked against the expected identities, then HTTP/2 — ready once the server's SETTINGS arrive.

import { connect as connectHttp2, type ClientHttp2Session } from 'node:http2';
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import type { Identity } from '@weft/identity';
import { formatAuthority } from './authority';
import { HBONE_ALPN, type WorkloadCredential } from './credential-cache';
import { HboneError, errorText } from './hbone-error';
import { applyConnectionWindow, clientSessionOptions } from './http2-settings';
import { verifyPeer } from './peer-verification';

/** ztunnel's upstream connect timeout. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

export interface SocketRequest {
  readonly host: string;
  readonly port: number;
  /** The source IP to bind (the source workload's IP in in-pod mode), when the pool was given one. */
  readonly localAddress?: string;
  /** Fires when the pool gives up (timeout, close); the factory should then destroy what it made. */
  readonly signal: AbortSignal;
}

/**
 * Makes the TCP socket of a new HBONE connection, connected or still connecting (ztunnel: inside the source pod's
 * netns, with SO_MARK). The default is net.connect.
 */
export type SocketFactory = (request: SocketRequest) => Socket | Promise<Socket>;

export interface DialRequest {
  readonly host: string;
  readonly port: number;
  readonly localAddress?: string;
  readonly credential: WorkloadCredential;
  readonly expectedIdentities: readonly Identity[];
  readonly socketFactory?: SocketFactory;
  readonly connectTimeoutMs?: number;
  readonly now: () => Date;
  readonly signal: AbortSignal;
}

export interface DialedConnection {
  readonly session: ClientHttp2Session;
  readonly peerIdentity: Identity;
}

export const defaultSocketFactory: SocketFactory = (request) =>
  connectTcp({
    host: request.host,
    port: request.port,
    noDelay: true,
    ...(request.localAddress === undefined ? {} : { localAddress: request.localAddress }),
  });

/** Dial and verify one connection; rejects with an HboneError, destroying everything it made. */
export async function dialHbone(request: DialRequest): Promise<DialedConnection> {
  const target = formatAuthority({ host: request.host, port: request.port });
  const timeoutMs = request.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const controller = new AbortController();
  let phase: 'tcp' | 'tls' | 'h2' = 'tcp';
  const timer = setTimeout(() => controller.abort(timeoutError(target, timeoutMs, phase)), timeoutMs);
  const forward = (): void => controller.abort(new HboneError('ERR_HBONE_ABORTED', `dial to ${target} aborted`));
  request.signal.addEventListener('abort', forward, { once: true });
  const signal = controller.signal;
  let raw: Socket | undefined;
  let tlsSocket: TLSSocket | undefined;
  try {
    const factory = request.socketFactory ?? defaultSocketFactory;
    raw = await abortable(
      Promise.resolve(
        factory({
          host: request.host,
          port: request.port,
          signal,
          ...(request.localAddress === undefined ? {} : { localAddress: request.localAddress }),
        }),
      ),
      signal,
      (late) => late.destroy(),
    );
    // Late errors (a reset between steps) must not go unhandled; each step below listens for its own.
    raw.on('error', ignore);
    await abortable(connected(raw, target), signal);
    raw.setNoDelay(true);

    phase = 'tls';
    const socket = raw;
    tlsSocket = connectTls({
      socket,
      secureContext: request.credential.secureContext,
      ALPNProtocols: [HBONE_ALPN],
      rejectUnauthorized: true,
      // SNI is not used and the DNS name never checked (§2.1); verifyPeer checks the URI SAN below.
      checkServerIdentity: () => undefined,
    });
    tlsSocket.on('error', ignore);
    await abortable(secured(tlsSocket, target), signal);
    const peer = await verifyPeer(tlsSocket, {
      usage: 'server',
      rootsPem: request.credential.rootsPem,
      expectedIdentities: request.expectedIdentities,
      now: request.now(),
    });
    if (peer instanceof HboneError) throw peer;
    signal.throwIfAborted();

    phase = 'h2';
    const connectedTls = tlsSocket;
    const session = connectHttp2(`https://${target}`, {
      ...clientSessionOptions(),
      createConnection: () => connectedTls,
    });
    session.on('error', () => undefined);
    try {
      await abortable(serverSettings(session, target), signal);
    } catch (err) {
      session.destroy();
      throw err;
    }
    applyConnectionWindow(session);
    return { session, peerIdentity: peer };
  } catch (err) {
    tlsSocket?.destroy();
    raw?.destroy();
    throw toHboneError(err, target);
  } finally {
    clearTimeout(timer);
    request.signal.removeEventListener('abort', forward);
  }
}

function ignore(): void {}

function timeoutError(target: string, ms: number, phase: 'tcp' | 'tls' | 'h2'): HboneError {
  if (phase === 'tcp') {
    return new HboneError('ERR_HBONE_CONNECT_TIMEOUT', `connection to ${target} timed out after ${ms} ms`, {
      hint: 'maybe a NetworkPolicy is blocking HBONE port 15008',
    });
  }
  return new HboneError('ERR_HBONE_CONNECT_TIMEOUT', `${phase === 'tls' ? 'TLS' : 'HTTP/2'} setup with ${target} timed out after ${ms} ms`);
}

function connected(socket: Socket, target: string): Promise<void> {
  if (!socket.connecting && !socket.destroyed && socket.remoteAddress !== undefined) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onError = (err: unknown): void => {
      socket.off('connect', onConnect);
      reject(new HboneError('ERR_HBONE_CONNECT_FAILED', `connection to ${target} failed: ${errorText(err)}`, { cause: err }));
    };
    const onConnect = (): void => {
      socket.off('error', onError);
      resolve();
    };
    socket.once('error', onError);
    socket.once('connect', onConnect);
  });
}

// OpenSSL verification failures (chain to an unknown CA, expired, bad signature) as Node reports them.
const UNTRUSTED_CODE = /CERT|ISSUER|SIGNATURE|VERIFY/;

function secured(socket: TLSSocket, target: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: unknown): void => {
      socket.off('secureConnect', onSecure);
      socket.off('close', onClose);
      const code = (err as { code?: unknown }).code;
      const untrusted = typeof code === 'string' && UNTRUSTED_CODE.test(code);
      reject(
        new HboneError(
          untrusted ? 'ERR_HBONE_PEER_UNTRUSTED' : 'ERR_HBONE_TLS_HANDSHAKE',
          `TLS handshake with ${target} failed: ${errorText(err)}`,
          { cause: err, ...(untrusted ? { hint: 'the server certificate does not chain to our mesh roots' } : {}) },
        ),
      );
    };
    const onClose = (): void => {
      socket.off('error', onError);
      socket.off('secureConnect', onSecure);
      reject(new HboneError('ERR_HBONE_TLS_HANDSHAKE', `${target} closed the connection during the TLS handshake`));
    };
    const onSecure = (): void => {
      socket.off('error', onError);
      socket.off('close', onClose);
      if (socket.alpnProtocol !== HBONE_ALPN) {
        reject(new HboneError('ERR_HBONE_TLS_HANDSHAKE', `${target} did not negotiate ALPN "h2"`));
      } else resolve();
    };
    socket.once('error', onError);
    socket.once('close', onClose);
    socket.once('secureConnect', onSecure);
  });
}

/** The server's first SETTINGS: it only sends them after accepting our certificate (TLS 1.3 checks it late). */
function serverSettings(session: ClientHttp2Session, target: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onSettings = (): void => {
      session.off('close', onClose);
      resolve();
    };
    const onClose = (): void => {
      session.off('remoteSettings', onSettings);
      reject(
        new HboneError('ERR_HBONE_CONNECTION_CLOSED', `${target} closed the connection before HTTP/2 SETTINGS`, {
          hint: 'the server refused our client certificate (another mesh CA or trust domain) or is not an HBONE server',
        }),
      );
    };
    session.once('remoteSettings', onSettings);
    session.once('close', onClose);
  });
}

/** Race `work` against `signal`; a value that arrives too late is handed to `discard`. */
function abortable<T>(work: Promise<T>, signal: AbortSignal, discard?: (late: T) => void): Promise<T> {
  if (signal.aborted) {
    void work.then(discard, () => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      void work.then(discard, () => undefined);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) return;
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

function toHboneError(err: unknown, target: string): HboneError {
  if (err instanceof HboneError) return err;
  return new HboneError('ERR_HBONE_CONNECT_FAILED', `connection to ${target} failed: ${errorText(err)}`, { cause: err });
}
