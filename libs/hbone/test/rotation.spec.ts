// Certificate rotation: replacing an identity's certificate gives new connections the new certificate (on both
// sides), while tunnels already open on the old one keep working until they end.

import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { createHbonePool, type OutboundTunnel } from '../src';
import { cacheWith, identity, issue, newCa, readAll, startEchoApp, startInbound } from './support';

const sleep = identity('sleep');
const httpbin = identity('httpbin');

function serial(pem: string | undefined): string {
  return new X509Certificate(pem ?? '').serialNumber;
}

function tlsOf(tunnel: OutboundTunnel): TLSSocket {
  return tunnel.stream.session?.socket as TLSSocket;
}

async function roundTrip(tunnel: OutboundTunnel, text: string): Promise<string> {
  const reply = new Promise<string>((resolve) => tunnel.stream.once('data', (chunk: Buffer) => resolve(chunk.toString())));
  tunnel.stream.write(text);
  return reply;
}

it('uses a rotated certificate for new connections while existing tunnels continue', async () => {
  const ca = await newCa();
  const server1 = await issue(ca, httpbin);
  const client1 = await issue(ca, sleep);
  const serverCache = await cacheWith(server1);
  const clientCache = await cacheWith(client1);
  const echo = await startEchoApp();
  const inbound = await startInbound(serverCache, httpbin);
  const pool = createHbonePool({ credentials: clientCache });
  const request = {
    destination: `127.0.0.1:${echo.port}`,
    hboneAddress: { host: '127.0.0.1', port: inbound.address.port },
    sourceIdentity: sleep,
    expectedIdentities: [httpbin],
  };

  const before = await pool.connect(request);
  expect(tlsOf(before).getPeerX509Certificate()?.serialNumber).toBe(serial(server1.certChainPem[0]));
  const firstCredential = serverCache.get(httpbin);

  const server2 = await issue(ca, httpbin);
  const client2 = await issue(ca, sleep);
  expect(serverCache.set(server2).generation).toBe(2);
  clientCache.set(client2);
  expect(serverCache.get(httpbin)).not.toBe(firstCredential);

  const after = await pool.connect(request);
  expect(after.connectionId).not.toBe(before.connectionId);
  expect(tlsOf(after).getPeerX509Certificate()?.serialNumber).toBe(serial(server2.certChainPem[0]));
  const seenByServer = inbound.tunnels[inbound.tunnels.length - 1]?.stream.session?.socket as TLSSocket;
  expect(seenByServer.getPeerX509Certificate()?.serialNumber).toBe(serial(client2.certChainPem[0]));

  // The tunnel opened before the rotation still carries bytes.
  expect(await roundTrip(before, 'old')).toBe('old');
  expect(await roundTrip(after, 'new')).toBe('new');
  before.stream.end();
  after.stream.end();
  await Promise.all([readAll(before.stream), readAll(after.stream)]);
  // The connection made with the old client certificate is not reused once its last tunnel ended.
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(pool.connections().map((c) => c.credentialGeneration)).toEqual([2]);

  await pool.close();
  await inbound.server.close();
  await echo.close();
});

it('refuses a certificate that does not carry the identity it is installed for', async () => {
  const ca = await newCa();
  const cache = await cacheWith();
  const wrong = { ...(await issue(ca, sleep)), identity: httpbin };
  expect(() => cache.set(wrong)).toThrow(expect.objectContaining({ code: 'ERR_HBONE_CERTIFICATE_INVALID' }));
  const mismatchedKey = { ...(await issue(ca, sleep)), privateKeyPem: (await issue(ca, sleep)).privateKeyPem };
  expect(() => cache.set(mismatchedKey)).toThrow(expect.objectContaining({ code: 'ERR_HBONE_CERTIFICATE_INVALID' }));
  expect(cache.get(sleep)).toBeUndefined();
});

it('lets a server wait for a certificate that arrives after the connection', async () => {
  const ca = await newCa();
  const serverCache = await cacheWith();
  const echo = await startEchoApp();
  const inbound = await startInbound(serverCache, httpbin);
  const pool = createHbonePool({ credentials: await cacheWith(await issue(ca, sleep)) });
  const pending = pool.connect({
    destination: `127.0.0.1:${echo.port}`,
    hboneAddress: { host: '127.0.0.1', port: inbound.address.port },
    sourceIdentity: sleep,
    expectedIdentities: [httpbin],
  });
  await new Promise((resolve) => setTimeout(resolve, 100));
  serverCache.set(await issue(ca, httpbin));
  const tunnel = await pending;
  tunnel.stream.end('late');
  expect((await readAll(tunnel.stream)).toString()).toBe('late');
  await pool.close();
  await inbound.server.close();
  await echo.close();
});
