// End to end over loopback: client pool → HBONE server (mTLS, HTTP/2 CONNECT) → TCP echo app, with byte-exact
// echo from 1 B to 100 MiB, half-close in both directions, and the byte counts the data path reports.

import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { CertificateAuthority } from '@weft/identity';
import { createHbonePool, pipeTunnel, type CredentialCache, type HbonePool } from '../src';
import {
  cacheWith,
  identity,
  issue,
  newCa,
  readAll,
  readDigest,
  startEchoApp,
  startInbound,
  writeRandom,
  type InboundHarness,
} from './support';

const sleep = identity('sleep');
const httpbin = identity('httpbin');
const MIB = 1024 * 1024;

let ca: CertificateAuthority;
let serverCache: CredentialCache;
let clientCache: CredentialCache;
let echo: Awaited<ReturnType<typeof startEchoApp>>;
let inbound: InboundHarness;
let pool: HbonePool;

beforeAll(async () => {
  ca = await newCa();
  serverCache = await cacheWith(await issue(ca, httpbin));
  clientCache = await cacheWith(await issue(ca, sleep));
  echo = await startEchoApp();
  inbound = await startInbound(serverCache, httpbin);
  pool = createHbonePool({ credentials: clientCache });
});

afterAll(async () => {
  await pool.close();
  await inbound.server.close();
  await echo.close();
});

function tunnelToEcho() {
  return pool.connect({
    destination: `127.0.0.1:${echo.port}`,
    hboneAddress: { host: '127.0.0.1', port: inbound.address.port },
    sourceIdentity: sleep,
    expectedIdentities: [httpbin],
  });
}

describe('echo through a tunnel', () => {
  it.each([
    ['1 B', 1],
    ['64 KiB', 64 * 1024],
  ])('echoes %s byte-exactly', async (_label, size) => {
    const tunnel = await tunnelToEcho();
    const received = readDigest(tunnel.stream);
    const sent = await writeRandom(tunnel.stream, size);
    expect(await received).toEqual({ bytes: size, sha256: sent });
    const result = await inbound.results[inbound.results.length - 1];
    expect(result).toEqual({ bytesSent: size, bytesReceived: size });
  });

  it('echoes 100 MiB byte-exactly without buffering it all', async () => {
    const tunnel = await tunnelToEcho();
    const received = readDigest(tunnel.stream);
    const sent = await writeRandom(tunnel.stream, 100 * MIB, 256 * 1024);
    expect(await received).toEqual({ bytes: 100 * MIB, sha256: sent });
    const result = await inbound.results[inbound.results.length - 1];
    expect(result).toEqual({ bytesSent: 100 * MIB, bytesReceived: 100 * MIB });
  }, 120_000);

  it('carries the peer identity to the server handler and back to the client', async () => {
    const tunnel = await tunnelToEcho();
    expect(tunnel.peerIdentity).toEqual(httpbin);
    const seen = inbound.tunnels[inbound.tunnels.length - 1];
    expect(seen?.peerIdentity).toEqual(sleep);
    expect(seen?.localIdentity).toEqual(httpbin);
    tunnel.stream.end();
    await readAll(tunnel.stream);
  });
});

describe('half-close', () => {
  let app: Server;
  let appPort: number;
  const appSockets = new Set<Socket>();

  beforeAll(async () => {
    // Reads the whole request until EOF, then answers and closes: only works if our FIN reaches it alone.
    app = createServer({ allowHalfOpen: true }, (socket) => {
      appSockets.add(socket);
      socket.on('error', () => undefined);
      readAll(socket).then(
        (request) => socket.end(`got ${request.length} bytes: ${request.toString()}`),
        () => socket.destroy(),
      );
    });
    await new Promise<void>((resolve) => app.listen({ host: '127.0.0.1', port: 0 }, resolve));
    appPort = (app.address() as AddressInfo).port;
  });

  afterAll(async () => {
    for (const s of appSockets) s.destroy();
    await new Promise((resolve) => app.close(resolve));
  });

  it('delivers the client FIN to the app, then the reply and the app FIN to the client', async () => {
    const tunnel = await pool.connect({
      destination: `127.0.0.1:${appPort}`,
      hboneAddress: { host: '127.0.0.1', port: inbound.address.port },
      sourceIdentity: sleep,
      expectedIdentities: [httpbin],
    });
    tunnel.stream.end('hello');
    expect((await readAll(tunnel.stream)).toString()).toBe('got 5 bytes: hello');
    const result = await inbound.results[inbound.results.length - 1];
    expect(result).toEqual({ bytesSent: 5, bytesReceived: 'got 5 bytes: hello'.length });
  });

  it('works from a TCP client through pipeTunnel on the outbound side too', async () => {
    // Outbound ztunnel shape: app socket → pipeTunnel → HBONE stream.
    const outbound = createServer({ allowHalfOpen: true }, (socket) => {
      socket.on('error', () => undefined);
      void pool
        .connect({
          destination: `127.0.0.1:${appPort}`,
          hboneAddress: { host: '127.0.0.1', port: inbound.address.port },
          sourceIdentity: sleep,
          expectedIdentities: [httpbin],
        })
        .then((tunnel) => pipeTunnel(socket, tunnel.stream));
    });
    await new Promise<void>((resolve) => outbound.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const client = connect({ host: '127.0.0.1', port: (outbound.address() as AddressInfo).port, allowHalfOpen: true });
    client.end('ping');
    expect((await readAll(client)).toString()).toBe('got 4 bytes: ping');
    client.destroy();
    await new Promise((resolve) => outbound.close(resolve));
  });
});
