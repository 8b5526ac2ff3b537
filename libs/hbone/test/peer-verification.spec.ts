// The SPIFFE checks of the handshake (reference §2.1): the server refuses a client chain from another CA or a client
// identity outside its trust domain; the client refuses a server whose URI SAN is not expected or whose chain it
// cannot verify. Both sides report typed errors.

import type { CertificateAuthority } from '@weft/identity';
import { createHbonePool, type ConnectionInfo, type CredentialCache, type HboneError } from '../src';
import { cacheWith, identity, issue, newCa, startEchoApp, startInbound, type InboundHarness } from './support';

const sleep = identity('sleep');
const httpbin = identity('httpbin');

let ca: CertificateAuthority;
let foreignCa: CertificateAuthority;
let serverCache: CredentialCache;
let echo: Awaited<ReturnType<typeof startEchoApp>>;
let inbound: InboundHarness;
const handshakeErrors: HboneError[] = [];

beforeAll(async () => {
  ca = await newCa();
  foreignCa = await newCa('other.example');
  serverCache = await cacheWith(await issue(ca, httpbin));
  echo = await startEchoApp();
  inbound = await startInbound(serverCache, httpbin, {
    onHandshakeError: (error: HboneError, _connection: ConnectionInfo) => handshakeErrors.push(error),
  });
});

afterAll(async () => {
  await inbound.server.close();
  await echo.close();
});

async function attempt(clientCache: CredentialCache, source = sleep, expected = [httpbin]): Promise<unknown> {
  const pool = createHbonePool({ credentials: clientCache, connectTimeoutMs: 3_000 });
  try {
    const tunnel = await pool.connect({
      destination: `127.0.0.1:${echo.port}`,
      hboneAddress: { host: '127.0.0.1', port: inbound.address.port },
      sourceIdentity: source,
      expectedIdentities: expected,
    });
    tunnel.stream.end();
    return tunnel;
  } catch (err) {
    return err;
  } finally {
    await pool.close();
  }
}

it('accepts a client of the same CA and trust domain', async () => {
  const result = await attempt(await cacheWith(await issue(ca, sleep)));
  expect(result).toHaveProperty('peerIdentity', httpbin);
});

it('fails the handshake of a client whose certificate comes from a foreign CA', async () => {
  handshakeErrors.length = 0;
  const failures = inbound.server.stats().handshakeFailures;
  // The client trusts our root (so it accepts the server) but presents a certificate the server cannot verify.
  const foreign = { ...(await issue(foreignCa, sleep)), rootsPem: [ca.rootCertPem] };
  const result = await attempt(await cacheWith(foreign));
  // TLS 1.3 checks the client certificate after the client's handshake is done: the client sees the close.
  expect(result).toMatchObject({ name: 'HboneError', code: 'ERR_HBONE_CONNECTION_CLOSED' });
  expect(handshakeErrors.map((e) => e.code)).toContain('ERR_HBONE_PEER_UNTRUSTED');
  expect(inbound.server.stats().handshakeFailures).toBeGreaterThan(failures);
});

it('fails the handshake of a client outside the trust domain, even from our CA', async () => {
  handshakeErrors.length = 0;
  const outsider = identity('sleep', 'default', 'other.example');
  const result = await attempt(await cacheWith(await issue(ca, outsider)), outsider);
  expect(result).toMatchObject({ code: 'ERR_HBONE_CONNECTION_CLOSED' });
  expect(handshakeErrors.map((e) => e.code)).toContain('ERR_HBONE_TRUST_DOMAIN_MISMATCH');
});

it('refuses a server whose SAN is not among the expected identities', async () => {
  const result = await attempt(await cacheWith(await issue(ca, sleep)), sleep, [identity('reviews'), identity('ratings')]);
  expect(result).toMatchObject({ name: 'HboneError', code: 'ERR_HBONE_SAN_MISMATCH' });
  expect(inbound.tunnels.every((t) => t.peerIdentity.serviceAccount === 'sleep')).toBe(true);
});

it('refuses a server whose chain does not reach our roots', async () => {
  // The client trusts only the foreign CA, so our server's chain is unknown to it.
  const result = await attempt(await cacheWith(await issue(foreignCa, sleep)), sleep, [httpbin]);
  expect(result).toMatchObject({ code: 'ERR_HBONE_PEER_UNTRUSTED' });
});

it('fails the connection when no certificate can be selected in time', async () => {
  handshakeErrors.length = 0;
  const empty = await startInbound(await cacheWith(), httpbin, {
    credentialTimeoutMs: 100,
    onHandshakeError: (error: HboneError) => handshakeErrors.push(error),
  });
  const pool = createHbonePool({ credentials: await cacheWith(await issue(ca, sleep)) });
  await expect(
    pool.connect({
      destination: `127.0.0.1:${echo.port}`,
      hboneAddress: { host: '127.0.0.1', port: empty.address.port },
      sourceIdentity: sleep,
      expectedIdentities: [httpbin],
    }),
  ).rejects.toMatchObject({ code: 'ERR_HBONE_TLS_HANDSHAKE' });
  expect(handshakeErrors.map((e) => e.code)).toContain('ERR_HBONE_NO_CERTIFICATE');
  await pool.close();
  await empty.server.close();
});

it('refuses to connect without a source certificate', async () => {
  const result = await attempt(await cacheWith());
  expect(result).toMatchObject({ code: 'ERR_HBONE_NO_CERTIFICATE' });
});
