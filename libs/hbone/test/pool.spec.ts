// Pooling (reference §2.7): one key shares connections up to 100 streams each, concurrent misses share a new
// connection, idle connections are released after the idle timeout, and close() leaves nothing running.

import type { CertificateAuthority } from '@weft/identity';
import { createHbonePool, poolKey, type CredentialCache, type OutboundTunnel } from '../src';
import { cacheWith, identity, issue, newCa, readAll, startEchoApp, startInbound, waitFor, type InboundHarness } from './support';

const sleep = identity('sleep');
const httpbin = identity('httpbin');

let ca: CertificateAuthority;
let clientCache: CredentialCache;
let echo: Awaited<ReturnType<typeof startEchoApp>>;
let inbound: InboundHarness;

beforeAll(async () => {
  ca = await newCa();
  clientCache = await cacheWith(await issue(ca, sleep));
  echo = await startEchoApp();
  inbound = await startInbound(await cacheWith(await issue(ca, httpbin)), httpbin);
});

afterAll(async () => {
  await inbound.server.close();
  await echo.close();
});

function request(extra: { sourceAddress?: string } = {}) {
  return {
    destination: `127.0.0.1:${echo.port}`,
    hboneAddress: { host: '127.0.0.1', port: inbound.address.port },
    sourceIdentity: sleep,
    expectedIdentities: [httpbin],
    ...extra,
  };
}

async function finish(tunnel: OutboundTunnel): Promise<void> {
  tunnel.stream.end('x');
  await readAll(tunnel.stream);
}

it('puts 150 concurrent tunnels to one destination on 2 HTTP/2 connections', async () => {
  const pool = createHbonePool({ credentials: clientCache });
  const accepted = inbound.server.stats().connectionsAccepted;
  const tunnels = await Promise.all(Array.from({ length: 150 }, () => pool.connect(request())));
  const connections = pool.connections();
  expect(connections).toHaveLength(2);
  expect(connections.map((c) => c.streams).sort((a, b) => a - b)).toEqual([50, 100]);
  expect(new Set(tunnels.map((t) => t.connectionId)).size).toBe(2);
  expect(inbound.server.stats().connectionsAccepted - accepted).toBe(2);
  await Promise.all(tunnels.map(finish));
  await pool.close();
  expect(pool.connections()).toHaveLength(0);
});

it('reuses an idle connection and releases it after the idle timeout', async () => {
  const pool = createHbonePool({ credentials: clientCache, idleTimeoutMs: 200 });
  const first = await pool.connect(request());
  await finish(first);
  const second = await pool.connect(request());
  expect(second.connectionId).toBe(first.connectionId);
  await finish(second);
  await waitFor(() => pool.connections().every((c) => c.streams === 0));
  expect(pool.connections()).toHaveLength(1);
  await waitFor(() => pool.connections().length === 0, 2_000);
  const third = await pool.connect(request());
  expect(third.connectionId).not.toBe(first.connectionId);
  await finish(third);
  await pool.close();
});

it('keys connections by source address as well', async () => {
  const pool = createHbonePool({ credentials: clientCache });
  const a = await pool.connect(request());
  const b = await pool.connect(request({ sourceAddress: '127.0.0.1' }));
  expect(a.connectionId).not.toBe(b.connectionId);
  expect(poolKey(request())).not.toBe(poolKey(request({ sourceAddress: '127.0.0.1' })));
  await Promise.all([finish(a), finish(b)]);
  await pool.close();
});

it('close() drains open tunnels, then refuses new ones', async () => {
  const pool = createHbonePool({ credentials: clientCache });
  const tunnel = await pool.connect(request());
  const closing = pool.close(2_000);
  await expect(pool.connect(request())).rejects.toMatchObject({ code: 'ERR_HBONE_CLOSED' });
  // The open tunnel still works until it ends.
  tunnel.stream.end('still here');
  expect((await readAll(tunnel.stream)).toString()).toBe('still here');
  await closing;
  expect(pool.connections()).toHaveLength(0);
});

it('close() destroys tunnels still open at the deadline', async () => {
  const pool = createHbonePool({ credentials: clientCache });
  const tunnel = await pool.connect(request());
  const closed = new Promise((resolve) => tunnel.stream.once('close', resolve));
  tunnel.stream.on('error', () => undefined);
  await pool.close(100);
  await closed;
  expect(tunnel.stream.destroyed).toBe(true);
});

it('reports a non-200 answer as ERR_HBONE_HTTP_STATUS with the status', async () => {
  const pool = createHbonePool({ credentials: clientCache });
  // Nothing listens on port 1 of loopback: the server's handler answers 503 (§2.4 step 8).
  await expect(pool.connect({ ...request(), destination: '127.0.0.1:1' })).rejects.toMatchObject({
    name: 'HboneError',
    code: 'ERR_HBONE_HTTP_STATUS',
    status: 503,
  });
  await waitFor(() => pool.connections().every((c) => c.streams === 0));
  await pool.close();
});

it('times out a connection nobody answers with ERR_HBONE_CONNECT_TIMEOUT (fake: a socket factory that never connects)', async () => {
  // Stands in for a blackholed port 15008; a real one would need a non-routable address.
  const pool = createHbonePool({
    credentials: clientCache,
    connectTimeoutMs: 100,
    socketFactory: ({ signal }) =>
      new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true })),
  });
  await expect(pool.connect(request())).rejects.toMatchObject({
    code: 'ERR_HBONE_CONNECT_TIMEOUT',
    hint: 'maybe a NetworkPolicy is blocking HBONE port 15008',
  });
  await pool.close();
});
