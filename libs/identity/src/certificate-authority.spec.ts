import { SELF_SIGNED_CA_FILES, createMemoryCaStorage } from './ca-storage';
import {
  DEFAULT_WORKLOAD_CERT_TTL_SECONDS,
  MAX_WORKLOAD_CERT_TTL_SECONDS,
  createCertificateAuthority,
  resolveCertTtlSeconds,
  type CertificateAuthority,
  type CertificateAuthorityOptions,
} from './certificate-authority';
import { certificateInfo } from './certificate-info';
import { verifyPeerChain } from './chain-verification';
import { createCsr } from './csr';
import { exportPublicKeyPem, generateKeyPair } from './key-pair';
import type { Identity } from './spiffe-id';
import {
  certificateCount,
  openssl,
  opensslOk,
  readText,
  tamperPem,
  uriSansFromText,
  validityFromText,
  withTempDir,
  writeFiles,
} from '../test/support';

const sleep: Identity = { trustDomain: 'cluster.local', namespace: 'default', serviceAccount: 'sleep' };
const SLEEP_URI = 'spiffe://cluster.local/ns/default/sa/sleep';
const HOUR = 3600;
const DAY = 24 * HOUR;

async function newCa(options: Partial<CertificateAuthorityOptions> = {}): Promise<CertificateAuthority> {
  const created = await createCertificateAuthority({ storage: createMemoryCaStorage(), ...options });
  if (!created.ok) throw new Error(created.error.message);
  return created.value;
}

async function signSleep(ca: CertificateAuthority, ttlSeconds?: number) {
  const csrPem = await createCsr({ identity: sleep, keys: await generateKeyPair() });
  const signed = await ca.sign({ csrPem, identity: sleep, ...(ttlSeconds === undefined ? {} : { ttlSeconds }) });
  if (!signed.ok) throw new Error(signed.error.message);
  return signed.value;
}

function lifetimeSeconds(info: { notBefore: Date; notAfter: Date }): number {
  return (info.notAfter.getTime() - info.notBefore.getTime()) / 1000;
}

describe('self-signed CA', () => {
  it('issues a workload certificate that openssl verifies against the root, with the requested SAN and TTL', async () => {
    const ca = await newCa();
    expect(ca.source).toBe('self-signed');
    const issued = await signSleep(ca, HOUR);

    expect(issued.certChain).toHaveLength(2);
    for (const element of issued.certChain) {
      expect(certificateCount(element)).toBe(1);
      expect(element.endsWith('-----END CERTIFICATE-----\n')).toBe(true);
    }
    expect(issued.certChain[1]).toBe(ca.rootCertPem);

    await withTempDir(async (dir) => {
      await writeFiles(dir, { 'root.pem': ca.rootCertPem, 'leaf.pem': issued.certChain[0] ?? '' });
      const verified = await openssl(['verify', '-CAfile', 'root.pem', 'leaf.pem'], dir);
      expect(verified.stdout.trim()).toBe('leaf.pem: OK');
      for (const purpose of ['sslclient', 'sslserver']) {
        expect((await openssl(['verify', '-purpose', purpose, '-CAfile', 'root.pem', 'leaf.pem'], dir)).code).toBe(0);
      }

      const text = await opensslOk(['x509', '-in', 'leaf.pem', '-noout', '-text'], dir);
      expect(uriSansFromText(text)).toEqual([SLEEP_URI]);
      expect(text).toContain('X509v3 Subject Alternative Name: critical');
      expect(text).toMatch(/^\s*Subject:\s*$/m);
      expect(text).toContain('CA:FALSE');
      expect(text).toContain('Digital Signature, Key Encipherment');
      expect(text).toContain('TLS Web Server Authentication, TLS Web Client Authentication');
      const validity = validityFromText(text);
      expect(lifetimeSeconds(validity)).toBe(HOUR);
      expect(validity.notBefore.getTime()).toBe(issued.notBefore.getTime());
      expect(Math.abs(validity.notBefore.getTime() - Date.now())).toBeLessThan(60_000);
    });
  });

  it('creates a ten-year ECDSA root named after the trust domain', async () => {
    const ca = await newCa({ trustDomain: 'example.org' });
    await withTempDir(async (dir) => {
      await writeFiles(dir, { 'root.pem': ca.rootCertPem });
      const text = await opensslOk(['x509', '-in', 'root.pem', '-noout', '-text'], dir);
      expect(text).toMatch(/Subject: O ?= ?example\.org/);
      expect(text).toMatch(/Issuer: O ?= ?example\.org/);
      expect(text).toContain('CA:TRUE');
      expect(text).toContain('Certificate Sign, CRL Sign');
      expect(text).toContain('ASN1 OID: prime256v1');
      expect(lifetimeSeconds(validityFromText(text))).toBe(3650 * DAY);
    });
  });

  it('puts the requested identity in the SAN, whatever the CSR asked for (istiod: the identity decides)', async () => {
    const ca = await newCa();
    await withTempDir(async (dir) => {
      await opensslOk(
        ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'key.pem', '-subj', '/']
          .concat(['-addext', 'subjectAltName=URI:spiffe://cluster.local/ns/kube-system/sa/admin', '-out', 'csr.pem']),
        dir,
      );
      const signed = await ca.sign({ csrPem: await readText(dir, 'csr.pem'), identity: sleep, ttlSeconds: HOUR });
      if (!signed.ok) throw new Error(signed.error.message);
      await writeFiles(dir, { 'leaf.pem': signed.value.certChain[0] ?? '', 'root.pem': ca.rootCertPem });
      const text = await opensslOk(['x509', '-in', 'leaf.pem', '-noout', '-text'], dir);
      expect(uriSansFromText(text)).toEqual([SLEEP_URI]);
      // The leaf certifies the CSR's key.
      const leafKey = await opensslOk(['x509', '-in', 'leaf.pem', '-noout', '-pubkey'], dir);
      expect(leafKey).toBe(await opensslOk(['pkey', '-in', 'key.pem', '-pubout'], dir));
      expect((await openssl(['verify', '-CAfile', 'root.pem', 'leaf.pem'], dir)).code).toBe(0);
    });
  });

  it('rejects a tampered CSR and a non-CSR with typed errors, issuing nothing', async () => {
    const ca = await newCa();
    const csrPem = await createCsr({ identity: sleep, keys: await generateKeyPair() });
    const tampered = await ca.sign({ csrPem: tamperPem(csrPem, 'default', 'defauls'), identity: sleep });
    expect(!tampered.ok && tampered.error.code).toBe('ERR_CSR_SIGNATURE');
    const notCsr = await ca.sign({ csrPem: ca.rootCertPem, identity: sleep });
    expect(!notCsr.ok && notCsr.error.code).toBe('ERR_CSR_INVALID');
  });

  it('refuses to certify a malformed identity', async () => {
    const ca = await newCa();
    const csrPem = await createCsr({ identity: sleep, keys: await generateKeyPair() });
    const result = await ca.sign({ csrPem, identity: { ...sleep, namespace: 'a/b' } });
    expect(!result.ok && result.error).toMatchObject({
      code: 'ERR_SIGN_REQUEST_INVALID',
      message: expect.stringContaining('spiffe://cluster.local/ns/a/b/sa/sleep'),
    });
  });

  it('uses the injected clock for validity', async () => {
    const now = new Date('2031-05-06T07:08:09.750Z');
    const ca = await newCa({ clock: () => now });
    const issued = await signSleep(ca, 2 * HOUR);
    expect(issued.notBefore.toISOString()).toBe('2031-05-06T07:08:09.000Z');
    expect(issued.notAfter.toISOString()).toBe('2031-05-06T09:08:09.000Z');
    const info = certificateInfo(issued.certChain[0] ?? '');
    expect(info.ok && info.value.notAfter.toISOString()).toBe('2031-05-06T09:08:09.000Z');
    expect(info.ok && info.value.serialNumber).toBe(issued.serialNumber);
  });
});

describe('TTL rules', () => {
  const limits = { defaultTtlSeconds: DEFAULT_WORKLOAD_CERT_TTL_SECONDS, maxTtlSeconds: MAX_WORKLOAD_CERT_TTL_SECONDS };

  it.each<[string, number | undefined, number]>([
    ['absent', undefined, DAY],
    ['zero', 0, DAY],
    ['negative', -30, DAY],
    ['one hour', HOUR, HOUR],
    ['exactly the maximum', 90 * DAY, 90 * DAY],
    ['above the maximum', 365 * DAY, 90 * DAY],
  ])('%s (%j) gives %j seconds', (_name, requested, expected) => {
    expect(resolveCertTtlSeconds(requested, limits)).toBe(expected);
  });

  it('throws on a non-finite TTL (a programmer error)', () => {
    expect(() => resolveCertTtlSeconds(Number.NaN, limits)).toThrow(RangeError);
  });

  it('applies the default and the cap to issued certificates', async () => {
    const ca = await newCa({ maxTtlSeconds: 7200, defaultTtlSeconds: 1800 });
    expect(lifetimeSeconds(await signSleep(ca, 0))).toBe(1800);
    expect(lifetimeSeconds(await signSleep(ca))).toBe(1800);
    expect(lifetimeSeconds(await signSleep(ca, 10_000))).toBe(7200);
    const defaults = await newCa();
    expect(lifetimeSeconds(await signSleep(defaults, -1))).toBe(DAY);
    expect(lifetimeSeconds(await signSleep(defaults, 400 * DAY))).toBe(90 * DAY);
  });

  it('refuses nonsensical limits at construction', async () => {
    await expect(createCertificateAuthority({ storage: createMemoryCaStorage(), maxTtlSeconds: 0 })).rejects.toThrow(/maxTtlSeconds/);
  });
});

describe('persistence of the self-signed root', () => {
  it('reuses the persisted root when a second CA starts on the same storage', async () => {
    const storage = createMemoryCaStorage();
    const first = await createCertificateAuthority({ storage });
    if (!first.ok) throw new Error(first.error.message);
    expect(storage.writes).toEqual([SELF_SIGNED_CA_FILES.key, SELF_SIGNED_CA_FILES.cert]);

    const second = await createCertificateAuthority({ storage });
    if (!second.ok) throw new Error(second.error.message);
    expect(second.value.rootCertPem).toBe(first.value.rootCertPem);
    expect(storage.writes).toHaveLength(2);

    // The restarted CA signs with the same key: its leaf verifies against the first CA's root.
    const issued = await signSleep(second.value, HOUR);
    const verified = await verifyPeerChain({ chainPem: issued.certChain, rootsPem: [first.value.rootCertPem], now: new Date(), usage: 'server' });
    expect(verified).toEqual({ ok: true, value: sleep });
  });

  it('creates a different root on a different storage', async () => {
    expect((await newCa()).rootCertPem).not.toBe((await newCa()).rootCertPem);
  });

  it('replaces a lone key left by an interrupted first start', async () => {
    const storage = createMemoryCaStorage({ [SELF_SIGNED_CA_FILES.key]: 'left over' });
    const created = await createCertificateAuthority({ storage });
    expect(created.ok).toBe(true);
    expect(await storage.read(SELF_SIGNED_CA_FILES.key)).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it('refuses a persisted root without its key', async () => {
    const ca = await newCa();
    const storage = createMemoryCaStorage({ [SELF_SIGNED_CA_FILES.cert]: ca.rootCertPem });
    const created = await createCertificateAuthority({ storage });
    expect(!created.ok && created.error).toMatchObject({ code: 'ERR_CA_FILES_INCOMPLETE', message: expect.stringContaining(SELF_SIGNED_CA_FILES.key) });
  });

  it('refuses an expired persisted root', async () => {
    const storage = createMemoryCaStorage();
    await createCertificateAuthority({ storage, clock: () => new Date('2000-01-01T00:00:00Z'), selfSignedRootTtlSeconds: DAY });
    const restarted = await createCertificateAuthority({ storage });
    expect(!restarted.ok && restarted.error).toMatchObject({ code: 'ERR_CA_INVALID', message: expect.stringContaining('expired at 2000-01-02T00:00:00.000Z') });
  });

  it('reports storage failures naming the file', async () => {
    const failingRead = { read: () => Promise.reject(new Error('permission denied')), write: () => Promise.resolve() };
    const read = await createCertificateAuthority({ storage: failingRead });
    expect(!read.ok && read.error).toMatchObject({ code: 'ERR_CA_STORAGE', message: 'reading ca-cert.pem from the CA storage failed: permission denied' });

    const failingWrite = { read: () => Promise.resolve(undefined), write: () => Promise.reject(new Error('read-only file system')) };
    const write = await createCertificateAuthority({ storage: failingWrite });
    expect(!write.ok && write.error).toMatchObject({ code: 'ERR_CA_STORAGE', message: expect.stringContaining(`writing ${SELF_SIGNED_CA_FILES.key}`) });
  });
});

describe('signServing', () => {
  const dnsNames = ['istiod.istio-system.svc', 'istiod.istio-system.svc.cluster.local'];

  it.each(['CryptoKey', 'SPKI PEM', 'CSR'] as const)('issues a DNS serving certificate from a %s', async (form) => {
    const ca = await newCa();
    const keys = await generateKeyPair();
    const key =
      form === 'CryptoKey'
        ? { publicKey: keys.publicKey }
        : form === 'SPKI PEM'
          ? { publicKey: await exportPublicKeyPem(keys.publicKey) }
          : { csrPem: await createCsr({ identity: sleep, keys }) };
    const issued = await ca.signServing({ ...key, dnsNames, ttlSeconds: HOUR });
    if (!issued.ok) throw new Error(issued.error.message);
    expect(issued.value.certChain[issued.value.certChain.length - 1]).toBe(ca.rootCertPem);

    await withTempDir(async (dir) => {
      await writeFiles(dir, { 'root.pem': ca.rootCertPem, 'leaf.pem': issued.value.certChain[0] ?? '' });
      const verify = ['verify', '-purpose', 'sslserver', '-verify_hostname', 'istiod.istio-system.svc', '-CAfile', 'root.pem', 'leaf.pem'];
      expect((await openssl(verify, dir)).stdout.trim()).toBe('leaf.pem: OK');
      const text = await opensslOk(['x509', '-in', 'leaf.pem', '-noout', '-text'], dir);
      expect(text).toContain('DNS:istiod.istio-system.svc, DNS:istiod.istio-system.svc.cluster.local');
      expect(uriSansFromText(text)).toEqual([]);
      expect(lifetimeSeconds(validityFromText(text))).toBe(HOUR);
      expect(await opensslOk(['x509', '-in', 'leaf.pem', '-noout', '-pubkey'], dir)).toBe(await exportPublicKeyPem(keys.publicKey));
    });
  });

  it.each<[string, string[], RegExp]>([
    ['no names', [], /dnsNames is empty/],
    ['a name with a space', ['istiod svc'], /"istiod svc", which is not a DNS name/],
    ['a URI', ['spiffe://cluster.local/ns/a/sa/b'], /not a DNS name/],
  ])('refuses %s', async (_name, names, message) => {
    const ca = await newCa();
    const result = await ca.signServing({ publicKey: (await generateKeyPair()).publicKey, dnsNames: names });
    expect(!result.ok && result.error.code).toBe('ERR_SIGN_REQUEST_INVALID');
    expect(!result.ok && result.error.message).toMatch(message);
  });

  it('refuses an unreadable public key PEM', async () => {
    const ca = await newCa();
    const result = await ca.signServing({ publicKey: 'not a key', dnsNames });
    expect(!result.ok && result.error).toMatchObject({ code: 'ERR_KEY_INVALID', message: expect.stringMatching(/^publicKey is not a PEM/) });
  });

  it('refuses a private key passed as the public key', async () => {
    const ca = await newCa();
    const result = await ca.signServing({ publicKey: (await generateKeyPair()).privateKey, dnsNames });
    expect(!result.ok && result.error).toMatchObject({ code: 'ERR_KEY_INVALID', message: 'publicKey is a private key' });
  });
});
