// The certificate manager against a real mesh CA (@weft/identity) behind a real CreateCertificate gRPC service
// (@weft/xds) on 127.0.0.1:0. The handler is a small stand-in for the controlplane's (libraries may not import apps):
// it checks the bearer token, signs the impersonated identity for ztunnel's token and the token's own identity
// without impersonation; test modes make it fail, lie or hang.

import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';

import * as grpc from '@grpc/grpc-js';
import { createCertificateAuthority, createMemoryCaStorage, parseSpiffeId, type CertificateAuthority } from '@weft/identity';
import { addCertificateService, type CertificateCallMetadata, type CertificateRequest } from '@weft/xds';
import pino from 'pino';

import { CertificateError } from './certificate-error';
import { createCertificateManager, type CertificateManager, type CertificateManagerOptions } from './certificate-manager';
import type { CertificateChange } from './workload-certificate';

const SLEEP = 'spiffe://cluster.local/ns/default/sa/sleep';
const SLEEP_ID = { trustDomain: 'cluster.local', namespace: 'default', serviceAccount: 'sleep' };
const HTTPBIN = 'spiffe://cluster.local/ns/default/sa/httpbin';
const TOKEN = 'ztunnel-node-a-token';
const WAYPOINT = 'spiffe://cluster.local/ns/default/sa/waypoint';
/** A service account token of the waypoint: it may not impersonate. */
const WAYPOINT_TOKEN = 'waypoint-sa-token';

type Mode = 'sign' | 'wrong-san' | 'unauthenticated' | 'hang';

interface TestCa {
  readonly port: number;
  readonly calls: { request: CertificateRequest; metadata: CertificateCallMetadata }[];
  /** Modes for the next calls in order; 'sign' once they run out. */
  readonly script: Mode[];
  stop(): Promise<void>;
}

async function startCa(ttlSeconds = 3600): Promise<TestCa> {
  const created = await createCertificateAuthority({
    storage: createMemoryCaStorage(),
    defaultTtlSeconds: ttlSeconds,
    maxTtlSeconds: ttlSeconds,
  });
  if (!created.ok) throw new Error(created.error.message);
  const ca: CertificateAuthority = created.value;
  const calls: TestCa['calls'] = [];
  const script: Mode[] = [];
  const hanging: (() => void)[] = [];
  const server = new grpc.Server();
  addCertificateService(server, async (request, metadata) => {
    calls.push({ request, metadata });
    const mode = script.shift() ?? 'sign';
    const nodeToken = metadata.authorization === `Bearer ${TOKEN}`;
    const waypointToken = metadata.authorization === `Bearer ${WAYPOINT_TOKEN}`;
    const impersonating = request.impersonatedIdentity !== undefined;
    if (!(nodeToken || (waypointToken && !impersonating)) || mode === 'unauthenticated') {
      return { ok: false, grpcCode: 'UNAUTHENTICATED', message: 'request impersonation authentication failure' };
    }
    if (mode === 'hang') {
      await new Promise<void>((resolve) => hanging.push(resolve));
      return { ok: false, grpcCode: 'INTERNAL', message: 'released' };
    }
    const own = waypointToken ? WAYPOINT : '';
    const wanted = mode === 'wrong-san' ? HTTPBIN : (request.impersonatedIdentity ?? own);
    const identity = parseSpiffeId(wanted);
    if (!identity.ok) return { ok: false, grpcCode: 'INVALID_ARGUMENT', message: identity.error.message };
    const signed = await ca.sign({ csrPem: request.csr, identity: identity.value, ttlSeconds: request.validityDurationSeconds });
    return signed.ok ? { ok: true, certChain: signed.value.certChain } : { ok: false, grpcCode: 'INTERNAL', message: signed.error.message };
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    port,
    calls,
    script,
    async stop() {
      for (const release of hanging.splice(0)) release();
      server.forceShutdown();
    },
  };
}

/** A port nothing listens on: bound, then released. */
async function deadPort(): Promise<number> {
  const server = new grpc.Server();
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  server.forceShutdown();
  return port;
}

function nextChange(manager: CertificateManager, kind: CertificateChange['kind']): Promise<CertificateChange> {
  return new Promise((resolve) => {
    const unsubscribe = manager.subscribe((change) => {
      if (change.kind !== kind) return;
      unsubscribe();
      resolve(change);
    });
  });
}

async function rejection(promise: Promise<unknown>): Promise<CertificateError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof CertificateError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('CertificateManager (real CA over gRPC on 127.0.0.1:0)', () => {
  let ca: TestCa | undefined;
  let manager: CertificateManager | undefined;

  const start = (port: number, options: Partial<CertificateManagerOptions> = {}): CertificateManager => {
    manager = createCertificateManager({
      caAddress: `127.0.0.1:${port}`,
      credentials: grpc.credentials.createInsecure(),
      token: () => TOKEN,
      clusterId: 'Kubernetes',
      logger: pino({ level: 'silent' }),
      backoff: { initialMs: 100, maxMs: 400, random: () => 0.5 },
      ...options,
    });
    return manager;
  };

  afterEach(async () => {
    await manager?.close();
    manager = undefined;
    await ca?.stop();
    ca = undefined;
  });

  it('issues by impersonation: fresh P-256 key, exact SAN, chain to the returned root, dump row', async () => {
    ca = await startCa();
    const m = start(ca.port);
    const issued = nextChange(m, 'issued');
    const cert = await m.get(SLEEP);

    expect(ca.calls).toHaveLength(1);
    expect(ca.calls[0]?.request).toMatchObject({ validityDurationSeconds: 86400, impersonatedIdentity: SLEEP });
    expect(ca.calls[0]?.request.csr).toContain('BEGIN CERTIFICATE REQUEST');
    expect(ca.calls[0]?.metadata).toEqual({ authorization: `Bearer ${TOKEN}`, clusterId: 'Kubernetes' });
    const leaf = new X509Certificate(cert.certChainPem[0] ?? '');
    expect(leaf.subjectAltName).toBe(`URI:${SLEEP}`);
    expect(leaf.verify(new X509Certificate(cert.rootsPem[0] ?? '').publicKey)).toBe(true);
    const key = createPrivateKey(cert.privateKeyPem);
    expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(createPublicKey(key).export({ type: 'spki', format: 'der' })).toEqual(leaf.publicKey.export({ type: 'spki', format: 'der' }));
    expect(cert.refreshAt.getTime()).toBe(cert.notBefore.getTime() + (cert.notAfter.getTime() - cert.notBefore.getTime()) / 2);
    expect(await issued).toEqual({ kind: 'issued', identity: SLEEP_ID, spiffeId: SLEEP, certificate: cert });
    expect(m.current(SLEEP)).toBe(cert);
    expect(m.snapshot()).toEqual([
      {
        identity: SLEEP,
        state: 'Available',
        certChain: [
          { pem: cert.certChainPem[0], serialNumber: cert.serialNumber, validFrom: cert.notBefore.toISOString(), expirationTime: cert.notAfter.toISOString() },
        ],
        rootCerts: [expect.objectContaining({ pem: cert.rootsPem[0] })],
      },
    ]);
  });

  it('rejects a response whose leaf names another identity, and keeps retrying', async () => {
    ca = await startCa();
    ca.script.push('wrong-san', 'wrong-san', 'wrong-san', 'wrong-san', 'wrong-san');
    const m = start(ca.port);
    m.prefetch(SLEEP);
    await waitFor(() => m.snapshot()[0]?.state.startsWith('Unavailable: ') === true);
    const error = await rejection(m.get(SLEEP, { timeoutMs: 50 }));
    expect(error.code).toBe('ERR_CERT_FETCH_TIMEOUT');
    expect(error.cause?.code).toBe('ERR_CERT_SAN_MISMATCH');
    expect(m.current(SLEEP)).toBeUndefined();
    await waitFor(() => (ca?.calls.length ?? 0) >= 2);
  });

  it('renews at half-life with a new key and serial, announcing the rotation', async () => {
    ca = await startCa(4);
    const m = start(ca.port);
    const first = await m.get(SLEEP);
    const rotated = await nextChange(m, 'rotated');
    const second = rotated.kind === 'rotated' ? rotated.certificate : undefined;

    expect(ca.calls).toHaveLength(2);
    expect(second?.serialNumber).not.toBe(first.serialNumber);
    expect(second?.privateKeyPem).not.toBe(first.privateKeyPem);
    expect(m.current(SLEEP)).toBe(second);
    // Renewed at notBefore + 2 s, i.e. before the 4 s certificate expired.
    expect(Date.now()).toBeGreaterThanOrEqual(first.refreshAt.getTime());
    expect(Date.now()).toBeLessThan(first.notAfter.getTime());
  }, 10_000);

  it('backs off after failures, then succeeds; waiting callers get the certificate', async () => {
    ca = await startCa();
    ca.script.push('unauthenticated', 'unauthenticated');
    const m = start(ca.port);
    const began = Date.now();
    const cert = await m.get(SLEEP, { timeoutMs: 5_000 });
    expect(cert.spiffeId).toBe(SLEEP);
    expect(ca.calls).toHaveLength(3);
    // 100 ms then 200 ms (random pinned to the middle: no jitter).
    expect(Date.now() - began).toBeGreaterThanOrEqual(300);
  });

  it('shares one fetch among concurrent get calls and a prefetch', async () => {
    ca = await startCa();
    const m = start(ca.port);
    m.prefetch(SLEEP);
    const certs = await Promise.all([m.get(SLEEP), m.get(SLEEP), m.get(SLEEP), m.get(SLEEP)]);
    expect(ca.calls).toHaveLength(1);
    expect(new Set(certs).size).toBe(1);
    m.prefetch(SLEEP);
    expect(await m.get(SLEEP)).toBe(certs[0]);
    expect(ca.calls).toHaveLength(1);
  });

  it('fails get with a typed timeout when the CA is down', async () => {
    const m = start(await deadPort());
    const error = await rejection(m.get(SLEEP, { timeoutMs: 1_000 }));
    expect(error).toBeInstanceOf(CertificateError);
    expect(error.code).toBe('ERR_CERT_FETCH_TIMEOUT');
    expect(error.cause?.code).toBe('ERR_CERT_FETCH_FAILED');
    expect(error.grpcCode).toBe(grpc.status.UNAVAILABLE);
  });

  it('rejects an identity that is not a SPIFFE ID', async () => {
    ca = await startCa();
    const m = start(ca.port);
    expect((await rejection(m.get('sleep.default'))).code).toBe('ERR_CERT_IDENTITY_INVALID');
    expect(() => m.prefetch('spiffe://cluster.local/default/sleep')).toThrow(CertificateError);
    expect(ca.calls).toHaveLength(0);
  });

  it('forget drops the certificate, stops renewing and fails waiters', async () => {
    ca = await startCa();
    ca.script.push('hang');
    const m = start(ca.port);
    const forgotten = nextChange(m, 'forgotten');
    const waiting = m.get(SLEEP, { timeoutMs: 5_000 });
    await waitFor(() => ca?.calls.length === 1);
    m.forget(SLEEP);
    expect((await rejection(waiting)).code).toBe('ERR_CERT_FORGOTTEN');
    expect(await forgotten).toEqual({ kind: 'forgotten', identity: SLEEP_ID, spiffeId: SLEEP });
    expect(m.snapshot()).toEqual([]);
  });

  it('impersonate: false asks for the token\'s own identity without ImpersonatedIdentity, with the same checks', async () => {
    ca = await startCa(4);
    const m = start(ca.port, { token: () => WAYPOINT_TOKEN, impersonate: false });
    const cert = await m.get(WAYPOINT);

    expect(ca.calls[0]?.request).toEqual({ csr: expect.stringContaining('BEGIN CERTIFICATE REQUEST'), validityDurationSeconds: 86400 });
    expect(ca.calls[0]?.request).not.toHaveProperty('impersonatedIdentity');
    expect(ca.calls[0]?.metadata).toEqual({ authorization: `Bearer ${WAYPOINT_TOKEN}`, clusterId: 'Kubernetes' });
    expect(new X509Certificate(cert.certChainPem[0] ?? '').subjectAltName).toBe(`URI:${WAYPOINT}`);
    expect(m.snapshot().map((row) => [row.identity, row.state])).toEqual([[WAYPOINT, 'Available']]);
    // Renewed without impersonation too.
    const rotated = await nextChange(m, 'rotated');
    expect(rotated.spiffeId).toBe(WAYPOINT);
    expect(ca.calls[1]?.request).not.toHaveProperty('impersonatedIdentity');
  }, 10_000);

  it('impersonate: false cannot obtain another identity than the token\'s: ERR_CERT_SAN_MISMATCH', async () => {
    ca = await startCa();
    const m = start(ca.port, { token: () => WAYPOINT_TOKEN, impersonate: false });
    const error = await rejection(m.get(SLEEP, { timeoutMs: 300 }));
    expect(error.code).toBe('ERR_CERT_FETCH_TIMEOUT');
    expect(error.cause?.code).toBe('ERR_CERT_SAN_MISMATCH');
    expect(ca.calls[0]?.request.impersonatedIdentity).toBeUndefined();
  });

  it('impersonate: false with a refused token fails with a token hint, not an impersonation one', async () => {
    ca = await startCa();
    ca.script.push('unauthenticated');
    const m = start(ca.port, { token: () => WAYPOINT_TOKEN, impersonate: false });
    m.prefetch(WAYPOINT);
    await waitFor(() => m.snapshot()[0]?.state.startsWith('Unavailable: ') === true);
    const state = m.snapshot()[0]?.state ?? '';
    expect(state).toContain('the CA refused the token;');
    expect(state).not.toContain('CA_TRUSTED_NODE_ACCOUNTS');
    expect(state).toContain(WAYPOINT);
  });

  it('a waypoint in manifest mode impersonates its own identity under the node token (the default)', async () => {
    ca = await startCa();
    const m = start(ca.port);
    const cert = await m.get(WAYPOINT);
    expect(ca.calls[0]?.request.impersonatedIdentity).toBe(WAYPOINT);
    expect(ca.calls[0]?.metadata.authorization).toBe(`Bearer ${TOKEN}`);
    expect(cert.spiffeId).toBe(WAYPOINT);
  });

  it('close() cancels CA calls in flight, retry timers and waiters, leaving no timer behind', async () => {
    ca = await startCa();
    ca.script.push('hang');
    const timersBefore = activeTimers();
    const m = start(ca.port);
    const hanging = m.get(SLEEP, { timeoutMs: 60_000 });
    await waitFor(() => ca?.calls.length === 1);
    const dead = start(await deadPort());
    dead.prefetch(HTTPBIN);
    await waitFor(() => dead.snapshot()[0]?.state.startsWith('Unavailable') === true);
    expect(activeTimers()).toBeGreaterThan(timersBefore); // the waiter's timeout and the retry are armed

    await Promise.all([m.close(), dead.close()]);
    expect((await rejection(hanging)).code).toBe('ERR_CERT_MANAGER_CLOSED');
    expect((await rejection(m.get(SLEEP))).code).toBe('ERR_CERT_MANAGER_CLOSED');
    expect(dead.snapshot()).toEqual([]);
    await ca.stop();
    ca = undefined;
    await waitFor(() => activeTimers() <= timersBefore);
  });
});

function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

async function waitFor(predicate: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
