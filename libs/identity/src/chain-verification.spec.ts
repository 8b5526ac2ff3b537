import { SELF_SIGNED_CA_FILES, createMemoryCaStorage, type CaStorage } from './ca-storage';
import { createCertificateAuthority, type CertificateAuthority, type IssuedCertificate } from './certificate-authority';
import { verifyPeerChain, type VerifyPeerChainOptions } from './chain-verification';
import { createCsr } from './csr';
import { generateKeyPair } from './key-pair';
import type { Identity } from './spiffe-id';
import { x509 } from './x509';
import { cacerts, makePluggedCa, opensslOk, readText, tamperPem, withTempDir, writeFiles, type PluggedCaFiles } from '../test/support';

const sleep: Identity = { trustDomain: 'cluster.local', namespace: 'default', serviceAccount: 'sleep' };
const SLEEP_URI = 'spiffe://cluster.local/ns/default/sa/sleep';
const HTTPBIN_URI = 'spiffe://cluster.local/ns/default/sa/httpbin';
const HOUR_MS = 3_600_000;

let storageA: CaStorage;
let caA: CertificateAuthority;
let caB: CertificateAuthority;
let good: IssuedCertificate;
let plugged: PluggedCaFiles;

async function start(storage: CaStorage, clock?: () => Date): Promise<CertificateAuthority> {
  const created = await createCertificateAuthority({ storage, ...(clock === undefined ? {} : { clock }) });
  if (!created.ok) throw new Error(created.error.message);
  return created.value;
}

async function issue(ca: CertificateAuthority, identity: Identity = sleep, ttlSeconds = 3600): Promise<IssuedCertificate> {
  const signed = await ca.sign({ csrPem: await createCsr({ identity, keys: await generateKeyPair() }), identity, ttlSeconds });
  if (!signed.ok) throw new Error(signed.error.message);
  return signed.value;
}

/** A leaf made by openssl from the given CA files, with an extension file written by the test. */
async function opensslLeaf(caCert: string, caKey: string, extensions: string): Promise<string> {
  return withTempDir(async (dir) => {
    await writeFiles(dir, { 'ca.pem': caCert, 'ca-key.pem': caKey, 'leaf.ext': extensions });
    await opensslOk(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'key.pem'], dir);
    await opensslOk(['req', '-new', '-key', 'key.pem', '-subj', '/O=weft-test', '-out', 'leaf.csr'], dir);
    await opensslOk(['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-set_serial', '99', '-days', '1', '-extfile', 'leaf.ext', '-out', 'leaf.pem'], dir);
    return readText(dir, 'leaf.pem');
  });
}

async function rootFilesOf(storage: CaStorage): Promise<[string, string]> {
  return [(await storage.read(SELF_SIGNED_CA_FILES.cert)) ?? '', (await storage.read(SELF_SIGNED_CA_FILES.key)) ?? ''];
}

function verify(options: Partial<VerifyPeerChainOptions>) {
  return verifyPeerChain({ chainPem: good.certChain, rootsPem: [caA.rootCertPem], now: new Date(), usage: 'server', ...options });
}

async function expectError(options: Partial<VerifyPeerChainOptions>, code: string, message: RegExp | string): Promise<void> {
  const result = await verify(options);
  if (result.ok) throw new Error(`expected ${code}, got identity ${JSON.stringify(result.value)}`);
  expect(result.error.code).toBe(code);
  if (typeof message === 'string') expect(result.error.message).toContain(message);
  else expect(result.error.message).toMatch(message);
}

beforeAll(async () => {
  storageA = createMemoryCaStorage();
  caA = await start(storageA);
  caB = await start(createMemoryCaStorage());
  good = await issue(caA);
  plugged = await withTempDir((dir) => makePluggedCa(dir));
});

describe('verifyPeerChain accepts', () => {
  it.each(['client', 'server'] as const)('the CA-issued chain as a %s and returns the peer identity', async (usage) => {
    expect(await verify({ usage })).toEqual({ ok: true, value: sleep });
  });

  it('a chain presented without the root, and roots given as one bundle', async () => {
    expect(await verify({ chainPem: good.certChain.slice(0, 1), rootsPem: [caB.rootCertPem + caA.rootCertPem] })).toEqual({ ok: true, value: sleep });
  });

  it('a chain through a plug-in intermediate', async () => {
    const ca = await start(createMemoryCaStorage(cacerts(plugged)));
    const issued = await issue(ca);
    expect(await verify({ chainPem: issued.certChain.slice(0, 2), rootsPem: [ca.rootCertPem] })).toEqual({ ok: true, value: sleep });
    await expectError({ chainPem: issued.certChain.slice(0, 1), rootsPem: [ca.rootCertPem] }, 'ERR_CHAIN_UNTRUSTED', 'issued by "O=Istio, CN=Intermediate CA, L=cluster1"');
  });

  it('the matching trust domain and an expected SAN among others', async () => {
    expect(await verify({ trustDomain: 'cluster.local', expectedSans: [HTTPBIN_URI, SLEEP_URI] })).toEqual({ ok: true, value: sleep });
  });
});

describe('verifyPeerChain rejects', () => {
  it('a chain from another CA whose root has the same name', async () => {
    const leafOnly = await verify({ chainPem: good.certChain.slice(0, 1), rootsPem: [caB.rootCertPem] });
    expect(!leafOnly.ok && leafOnly.error).toMatchObject({
      code: 'ERR_CHAIN_UNTRUSTED',
      message: `peer certificate (${SLEEP_URI}) issued by "O=cluster.local" does not chain to any of the 1 trusted root(s) ["O=cluster.local"]`,
      hint: expect.stringContaining('same name'),
    });
    // Sent with its own root, the chain is reported as ending in an untrusted root.
    const withRoot = await verify({ rootsPem: [caB.rootCertPem] });
    expect(!withRoot.ok && withRoot.error).toMatchObject({
      code: 'ERR_CHAIN_UNTRUSTED',
      message: 'chain ends in the self-signed root "O=cluster.local", which is not one of the 1 trusted root(s) ["O=cluster.local"]',
    });
  });

  it('a chain from a differently named root', async () => {
    const result = await verify({ rootsPem: [plugged['root-cert.pem']] });
    expect(!result.ok && result.error).toMatchObject({ code: 'ERR_CHAIN_UNTRUSTED', hint: expect.stringContaining('different mesh CA') });
  });

  it('a leaf whose signed bytes were altered', async () => {
    const tampered = tamperPem(good.certChain[0] ?? '', '/sa/sleep', '/sa/admin');
    await expectError({ chainPem: [tampered] }, 'ERR_CHAIN_UNTRUSTED', 'spiffe://cluster.local/ns/default/sa/admin');
  });

  it('an expired certificate issued by a back-dated CA', async () => {
    const past = new Date(Date.now() - 48 * HOUR_MS);
    const expired = await issue(await start(storageA, () => past));
    const result = await verify({ chainPem: expired.certChain });
    expect(!result.ok && result.error.code).toBe('ERR_CERT_EXPIRED');
    expect(!result.ok && result.error.message).toMatch(
      new RegExp(`^peer certificate \\(${SLEEP_URI}\\) expired at ${expired.notAfter.toISOString().replace(/\./g, '\\.')} \\(now `),
    );
  });

  it('a good certificate checked at a time after it ends', async () => {
    await expectError({ now: new Date(good.notAfter.getTime() + 1000) }, 'ERR_CERT_EXPIRED', 'expired at');
  });

  it('a certificate checked before it starts', async () => {
    await expectError({ now: new Date(good.notBefore.getTime() - HOUR_MS) }, 'ERR_CERT_NOT_YET_VALID', `is not valid before ${good.notBefore.toISOString()}`);
  });

  it('a peer outside the trust domain', async () => {
    await expectError({ trustDomain: 'example.org' }, 'ERR_TRUST_DOMAIN_MISMATCH', `peer identities ["${SLEEP_URI}"] are not in trust domain "example.org"`);
    const foreign = await issue(caA, { ...sleep, trustDomain: 'example.org' });
    const result = await verify({ chainPem: foreign.certChain, trustDomain: 'cluster.local' });
    expect(!result.ok && result.error.code).toBe('ERR_TRUST_DOMAIN_MISMATCH');
  });

  it('a SAN outside the expected list, naming both', async () => {
    await expectError(
      { expectedSans: [HTTPBIN_URI] },
      'ERR_SAN_MISMATCH',
      `peer URI SANs ["${SLEEP_URI}"] match none of the expected identities ["${HTTPBIN_URI}"]`,
    );
    await expectError({ expectedSans: [] }, 'ERR_SAN_MISMATCH', 'expected identities []');
  });

  it('a certificate without a SPIFFE URI SAN', async () => {
    const serving = await caA.signServing({ publicKey: (await generateKeyPair()).publicKey, dnsNames: ['istiod.istio-system.svc'] });
    if (!serving.ok) throw new Error(serving.error.message);
    await expectError({ chainPem: serving.value.certChain }, 'ERR_NO_SPIFFE_ID', 'URI SANs: []');
  });

  it.each<[string, string[], RegExp | string]>([
    ['an empty chain', [], 'chainPem is empty'],
    ['text that is not PEM', ['hello'], 'chainPem[0] holds no PEM certificate'],
    ['a private key', ['-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'], /^chainPem\[0\]: PEM block 1 is a "PRIVATE KEY"/],
  ])('%s with ERR_CERT_PARSE', async (_name, chainPem, message) => {
    await expectError({ chainPem }, 'ERR_CERT_PARSE', message);
  });

  it('a certificate whose SAN extension is malformed, without throwing', async () => {
    const keys = await generateKeyPair();
    const broken = await x509.X509CertificateGenerator.createSelfSigned({
      keys,
      name: 'CN=broken',
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      extensions: [new x509.Extension('2.5.29.17', true, new Uint8Array([1, 2, 3]))],
    });
    const pem = broken.toString('pem');
    await expectError({ chainPem: [pem], rootsPem: [pem] }, 'ERR_CERT_PARSE', 'chainPem[0]: PEM block 1 is not a valid X.509 certificate');
  });

  it('no roots at all', async () => {
    await expectError({ rootsPem: [] }, 'ERR_CHAIN_UNTRUSTED', 'no trusted roots were given');
  });
});

describe('verifyPeerChain on openssl-made certificates', () => {
  it('takes the FIRST URI SAN that parses as SPIFFE as the identity', async () => {
    const [rootCert, rootKey] = await rootFilesOf(storageA);
    const leaf = await opensslLeaf(
      rootCert,
      rootKey,
      'subjectAltName=URI:https://weft.example/not-spiffe,URI:spiffe://example.org/ns/a/sa/first,URI:spiffe://cluster.local/ns/b/sa/second\n',
    );
    // The trust-domain rule is satisfied by any SPIFFE SAN; the identity is still the first one.
    expect(await verify({ chainPem: [leaf], trustDomain: 'cluster.local' })).toEqual({
      ok: true,
      value: { trustDomain: 'example.org', namespace: 'a', serviceAccount: 'first' },
    });
  });

  it('enforces the extended key usage for the side the peer plays', async () => {
    const [rootCert, rootKey] = await rootFilesOf(storageA);
    const serverOnly = await opensslLeaf(rootCert, rootKey, `extendedKeyUsage=serverAuth\nsubjectAltName=URI:${SLEEP_URI}\n`);
    expect(await verify({ chainPem: [serverOnly], usage: 'server' })).toEqual({ ok: true, value: sleep });
    await expectError({ chainPem: [serverOnly], usage: 'client' }, 'ERR_CERT_WRONG_USAGE', 'is not valid for client authentication (extended key usage ["1.3.6.1.5.5.7.3.1"])');

    const noEku = await opensslLeaf(rootCert, rootKey, `subjectAltName=URI:${SLEEP_URI}\n`);
    expect(await verify({ chainPem: [noEku], usage: 'client' })).toEqual({ ok: true, value: sleep });
  });

  it('refuses an "intermediate" that is not a CA', async () => {
    const [rootCert, rootKey] = await rootFilesOf(storageA);
    const fake = await withTempDir(async (dir) => {
      await writeFiles(dir, { 'ca.pem': rootCert, 'ca-key.pem': rootKey, 'fake.ext': 'basicConstraints=critical,CA:false\n' });
      await opensslOk(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'fake-key.pem'], dir);
      await opensslOk(['req', '-new', '-key', 'fake-key.pem', '-subj', '/CN=workload-not-ca', '-out', 'fake.csr'], dir);
      await opensslOk(['x509', '-req', '-in', 'fake.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-set_serial', '5', '-days', '1', '-extfile', 'fake.ext', '-out', 'fake.pem'], dir);
      return { cert: await readText(dir, 'fake.pem'), key: await readText(dir, 'fake-key.pem') };
    });
    const leaf = await opensslLeaf(fake.cert, fake.key, `subjectAltName=URI:${SLEEP_URI}\n`);
    await expectError({ chainPem: [leaf, fake.cert] }, 'ERR_CHAIN_UNTRUSTED', 'intermediate 1 ("CN=workload-not-ca") is not a CA certificate');
  });

  it('honours the intermediate path length constraint', async () => {
    // The plug-in intermediate says pathlen:0, so a sub-CA below it may not issue certificates.
    const subCa = await withTempDir(async (dir) => {
      await writeFiles(dir, { 'ca.pem': plugged['ca-cert.pem'], 'ca-key.pem': plugged['ca-key.pem'], 'sub.ext': 'basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign\n' });
      await opensslOk(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'sub-key.pem'], dir);
      await opensslOk(['req', '-new', '-key', 'sub-key.pem', '-subj', '/CN=Sub CA', '-out', 'sub.csr'], dir);
      await opensslOk(['x509', '-req', '-in', 'sub.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-set_serial', '6', '-days', '1', '-extfile', 'sub.ext', '-out', 'sub.pem'], dir);
      return { cert: await readText(dir, 'sub.pem'), key: await readText(dir, 'sub-key.pem') };
    });
    const leaf = await opensslLeaf(subCa.cert, subCa.key, `subjectAltName=URI:${SLEEP_URI}\n`);
    await expectError(
      { chainPem: [leaf, subCa.cert, plugged['ca-cert.pem']], rootsPem: [plugged['root-cert.pem']] },
      'ERR_CHAIN_UNTRUSTED',
      'allows 0 intermediates below it; the chain has 1',
    );
    // Without the constraint violation (leaf directly under the intermediate) the same root accepts.
    const direct = await opensslLeaf(plugged['ca-cert.pem'], plugged['ca-key.pem'], `subjectAltName=URI:${SLEEP_URI}\n`);
    expect(await verify({ chainPem: [direct, plugged['ca-cert.pem']], rootsPem: [plugged['root-cert.pem']] })).toEqual({ ok: true, value: sleep });
  });
});
