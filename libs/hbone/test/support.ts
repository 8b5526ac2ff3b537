// Test support: a real mesh CA (and a foreign one) minting P-256 workload certificates, a TCP app server, and an
// HBONE server whose handler forwards tunnels to the app the way ztunnel's inbound does (authority port on loopback).

import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  createCertificateAuthority,
  createCsr,
  createMemoryCaStorage,
  exportPrivateKeyPem,
  generateKeyPair,
  type CertificateAuthority,
  type Identity,
} from '@weft/identity';
import {
  HTTP_STATUS_SERVICE_UNAVAILABLE,
  createCredentialCache,
  createHboneServer,
  pipeTunnel,
  type CredentialCache,
  type HboneServer,
  type HboneServerOptions,
  type InboundTunnel,
  type SocketAddress,
  type TunnelResult,
  type WorkloadCertificate,
} from '../src';

export function identity(serviceAccount: string, namespace = 'default', trustDomain = 'cluster.local'): Identity {
  return { trustDomain, namespace, serviceAccount };
}

export async function newCa(trustDomain = 'cluster.local'): Promise<CertificateAuthority> {
  const created = await createCertificateAuthority({ storage: createMemoryCaStorage(), trustDomain });
  if (!created.ok) throw new Error(created.error.message);
  return created.value;
}

/** A workload certificate for `id` signed by `ca`, as ztunnel would hold it after CreateCertificate. */
export async function issue(ca: CertificateAuthority, id: Identity): Promise<WorkloadCertificate> {
  const keys = await generateKeyPair();
  const signed = await ca.sign({ csrPem: await createCsr({ identity: id, keys }), identity: id, ttlSeconds: 3600 });
  if (!signed.ok) throw new Error(signed.error.message);
  const chain = signed.value.certChain;
  return {
    identity: id,
    privateKeyPem: await exportPrivateKeyPem(keys.privateKey),
    certChainPem: chain.slice(0, -1),
    rootsPem: [ca.rootCertPem],
  };
}

export async function cacheWith(...certificates: WorkloadCertificate[]): Promise<CredentialCache> {
  const cache = createCredentialCache();
  for (const c of certificates) cache.set(c);
  return cache;
}

/** A TCP app: echoes every byte and ends its side once the client has ended (half-close aware). */
export async function startEchoApp(host = '127.0.0.1'): Promise<{ port: number; server: Server; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen({ host, port: 0 }, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface InboundHarness {
  readonly server: HboneServer;
  readonly address: SocketAddress;
  readonly tunnels: InboundTunnel[];
  readonly results: Promise<TunnelResult>[];
}

/**
 * An HBONE server serving `serverIdentity` from `cache` on loopback; each tunnel is forwarded to the authority's
 * port on the listener's own IP, like ztunnel's inbound. `decide` may answer first (e.g. reject).
 */
export async function startInbound(
  cache: CredentialCache,
  serverIdentity: Identity,
  overrides: Partial<HboneServerOptions> & { decide?: (tunnel: InboundTunnel) => boolean; host?: string } = {},
): Promise<InboundHarness> {
  const tunnels: InboundTunnel[] = [];
  const results: Promise<TunnelResult>[] = [];
  const server = createHboneServer({
    selectCredential: () => cache.ready(serverIdentity),
    credentialTimeoutMs: 1_000,
    handler: async (tunnel) => {
      tunnels.push(tunnel);
      if (overrides.decide?.(tunnel) === false) return;
      let app: Socket;
      try {
        app = await connectApp(tunnel.localAddress.address, tunnel.authority.port);
      } catch {
        return tunnel.reject(HTTP_STATUS_SERVICE_UNAVAILABLE, 'app connect failed');
      }
      results.push(pipeTunnel(tunnel.accept(), app));
    },
    ...overrides,
  });
  const address = await server.listen({ host: overrides.host ?? '127.0.0.1', port: 0 });
  return { server, address, tunnels, results };
}

function connectApp(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, allowHalfOpen: true });
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Write `total` random bytes in `chunkSize` pieces with backpressure, end, and return their SHA-256. */
export async function writeRandom(stream: Duplex, total: number, chunkSize = 64 * 1024): Promise<string> {
  const hash = createHash('sha256');
  let left = total;
  while (left > 0) {
    const chunk = randomBytes(Math.min(chunkSize, left));
    hash.update(chunk);
    left -= chunk.length;
    if (!stream.write(chunk)) await new Promise<void>((resolve) => stream.once('drain', resolve));
  }
  stream.end();
  return hash.digest('hex');
}

/** Read to EOF and return the byte count and SHA-256, without keeping the bytes. */
export function readDigest(stream: Duplex): Promise<{ bytes: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let bytes = 0;
    stream.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      hash.update(chunk);
    });
    stream.once('end', () => resolve({ bytes, sha256: hash.digest('hex') }));
    stream.once('error', reject);
  });
}

/** Read to EOF and return everything (small payloads only). */
export function readAll(stream: Duplex): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

export function once<T = void>(emitter: { once(event: string, listener: (value: T) => void): unknown }, event: string): Promise<T> {
  return new Promise((resolve) => emitter.once(event, resolve));
}

export async function waitFor(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
