// The inbound request rules (reference §2.3/§2.4): the handler sees :authority and the HBONE headers as sent; a
// non-CONNECT method and a malformed authority are answered 400 before the handler; the handler's own status
// (401 deny) reaches the client; the server also serves a caller's net.Server and IPv6 loopback.

import { connect as connectHttp2, constants, type ClientHttp2Session } from 'node:http2';
import { createServer, type AddressInfo } from 'node:net';
import { connect as connectTls } from 'node:tls';
import type { CertificateAuthority } from '@weft/identity';
import {
  HTTP_STATUS_UNAUTHORIZED,
  createHbonePool,
  formatForwarded,
  type CredentialCache,
  type HbonePool,
  type SocketAddress,
} from '../src';
import { cacheWith, identity, issue, newCa, readAll, startEchoApp, startInbound, type InboundHarness } from './support';

const sleep = identity('sleep');
const httpbin = identity('httpbin');

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
  inbound = await startInbound(serverCache, httpbin, {
    decide: (tunnel) => {
      if (tunnel.headers.baggage?.includes('denied') !== true) return true;
      tunnel.reject(HTTP_STATUS_UNAUTHORIZED, 'RBAC: denied');
      return false;
    },
  });
  pool = createHbonePool({ credentials: clientCache });
});

afterAll(async () => {
  await pool.close();
  await inbound.server.close();
  await echo.close();
});

/** A bare HTTP/2 client with a valid workload certificate, to send what the pool never would. */
function rawSession(address: SocketAddress): ClientHttp2Session {
  const credential = clientCache.get(sleep);
  if (credential === undefined) throw new Error('no client credential');
  const session = connectHttp2(`https://127.0.0.1:${address.port}`, {
    createConnection: () =>
      connectTls({
        host: address.address,
        port: address.port,
        secureContext: credential.secureContext,
        ALPNProtocols: ['h2'],
        rejectUnauthorized: false,
      }),
  });
  session.on('error', () => undefined);
  return session;
}

function statusOf(session: ClientHttp2Session, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: false });
    stream.on('error', reject);
    stream.once('response', (response) => {
      resolve(Number(response[constants.HTTP2_HEADER_STATUS]));
      stream.resume();
      stream.end();
    });
  });
}

it('hands :authority, forwarded, baggage and traceparent to the handler as sent', async () => {
  const forwarded = formatForwarded({ address: '10.0.0.7', port: 41234 }, 'httpbin.default.svc.cluster.local');
  const baggage = 'k8s.cluster.name=Kubernetes,k8s.namespace.name=default,k8s.deployment.name=sleep';
  const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00';
  const tunnel = await pool.connect({
    destination: `127.0.0.1:${echo.port}`,
    hboneAddress: { host: '127.0.0.1', port: inbound.address.port },
    sourceIdentity: sleep,
    expectedIdentities: [httpbin],
    headers: { forwarded, baggage, traceparent },
  });
  const seen = inbound.tunnels[inbound.tunnels.length - 1];
  expect(seen?.requestHeaders[':authority']).toBe(`127.0.0.1:${echo.port}`);
  expect(seen?.requestHeaders[':method']).toBe('CONNECT');
  expect(seen?.authority).toEqual({ kind: 'ip', host: '127.0.0.1', port: echo.port, family: 4 });
  expect(seen?.headers).toEqual({ forwarded, baggage, traceparent });
  expect(forwarded).toBe('for="10.0.0.7:41234";host=httpbin.default.svc.cluster.local');
  expect(seen?.localAddress).toEqual({ address: '127.0.0.1', port: inbound.address.port, family: 4 });
  expect(seen?.remoteAddress.address).toBe('127.0.0.1');
  tunnel.stream.end();
  await readAll(tunnel.stream);
});

it('sends a random W3C traceparent when none is given', async () => {
  const tunnel = await pool.connect({
    destination: `127.0.0.1:${echo.port}`,
    hboneAddress: { host: '127.0.0.1', port: inbound.address.port },
    sourceIdentity: sleep,
    expectedIdentities: [httpbin],
  });
  expect(inbound.tunnels[inbound.tunnels.length - 1]?.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
  tunnel.stream.end();
  await readAll(tunnel.stream);
});

it('answers a non-CONNECT method with 400 (§2.4 step 2) without calling the handler', async () => {
  const before = inbound.tunnels.length;
  const session = rawSession(inbound.address);
  expect(await statusOf(session, { ':method': 'GET', ':path': '/', ':scheme': 'https', ':authority': 'x:1' })).toBe(400);
  expect(await statusOf(session, { ':method': 'POST', ':path': '/', ':scheme': 'https', ':authority': 'x:1' })).toBe(400);
  expect(inbound.tunnels.length).toBe(before);
  session.close();
});

it.each(['httpbin', '127.0.0.1', '127.0.0.1:0', '127.0.0.1:65536', '::1:80', 'httpbin.default:80'])(
  'answers a CONNECT to "%s" with 400 (§2.4 step 3; host names only when enabled)',
  async (authority) => {
    const session = rawSession(inbound.address);
    expect(await statusOf(session, { ':method': 'CONNECT', ':authority': authority })).toBe(400);
    session.close();
  },
);

it('passes the handler status to the client (401 for an authorization deny)', async () => {
  await expect(
    pool.connect({
      destination: `127.0.0.1:${echo.port}`,
      hboneAddress: { host: '127.0.0.1', port: inbound.address.port },
      sourceIdentity: sleep,
      expectedIdentities: [httpbin],
      headers: { baggage: 'k8s.deployment.name=denied' },
    }),
  ).rejects.toMatchObject({ code: 'ERR_HBONE_HTTP_STATUS', status: 401 });
});

it('answers 503 for a handler that throws', async () => {
  const broken = await startInbound(serverCache, httpbin, {
    handler: () => {
      throw new Error('boom');
    },
  });
  await expect(
    pool.connect({
      destination: `127.0.0.1:${echo.port}`,
      hboneAddress: { host: '127.0.0.1', port: broken.address.port },
      sourceIdentity: sleep,
      expectedIdentities: [httpbin],
    }),
  ).rejects.toMatchObject({ status: 503 });
  await broken.server.close();
});

it('serves on a listener the caller created (net.Server), and over IPv6 loopback', async () => {
  const listener = createServer({ pauseOnConnect: true });
  await new Promise<void>((resolve) => listener.listen({ host: '::1', port: 0 }, resolve));
  const harness = await startInbound(serverCache, httpbin);
  const address = await harness.server.listen({ server: listener });
  expect(address).toEqual({ address: '::1', port: (listener.address() as AddressInfo).port, family: 6 });
  const echo6 = await startEchoApp('::1');
  const tunnel = await pool.connect({
    destination: `[::1]:${echo6.port}`,
    hboneAddress: { host: '::1', port: address.port },
    sourceIdentity: sleep,
    expectedIdentities: [httpbin],
  });
  const seen = harness.tunnels[harness.tunnels.length - 1];
  expect(seen?.authority).toEqual({ kind: 'ip', host: '::1', port: echo6.port, family: 6 });
  tunnel.stream.end('v6');
  expect((await readAll(tunnel.stream)).toString()).toBe('v6');
  await harness.server.close();
  expect(listener.listening).toBe(false);
  await echo6.close();
});
