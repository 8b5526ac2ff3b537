import { PLUGGED_CA_FILES, SELF_SIGNED_CA_FILES, createMemoryCaStorage } from './ca-storage';
import { createCertificateAuthority, type CertificateAuthority } from './certificate-authority';
import { parsePemBundle } from './certificate-info';
import { verifyPeerChain } from './chain-verification';
import { createCsr } from './csr';
import { generateKeyPair } from './key-pair';
import type { Identity } from './spiffe-id';
import {
  cacerts,
  makePluggedCa,
  openssl,
  opensslOk,
  uriSansFromText,
  validityFromText,
  withTempDir,
  writeFiles,
  type PluggedCaFiles,
} from '../test/support';

const sleep: Identity = { trustDomain: 'cluster.local', namespace: 'default', serviceAccount: 'sleep' };
const HOUR = 3600;

let plugged: PluggedCaFiles;
let otherPlugged: PluggedCaFiles;

// Two CAs with openssl: seconds on a busy machine.
beforeAll(async () => {
  plugged = await withTempDir((dir) => makePluggedCa(dir));
  otherPlugged = await withTempDir((dir) => makePluggedCa(dir, 'Other Root'));
}, 60_000);

function single(pem: string): string {
  const parsed = parsePemBundle(pem);
  if (!parsed.ok || parsed.value.length !== 1) throw new Error('expected exactly one certificate');
  return parsed.value[0] ?? '';
}

async function pluggedCa(files: Record<string, string>): Promise<CertificateAuthority> {
  const created = await createCertificateAuthority({ storage: createMemoryCaStorage(files) });
  if (!created.ok) throw new Error(created.error.message);
  return created.value;
}

describe('plug-in CA (Istio cacerts layout)', () => {
  it('signs through the intermediate: chain is leaf, intermediate, root (last), and openssl verifies it', async () => {
    const ca = await pluggedCa(cacerts(plugged));
    expect(ca.source).toBe('plugged');
    expect(ca.rootCertPem).toBe(single(plugged['root-cert.pem']));

    const csrPem = await createCsr({ identity: sleep, keys: await generateKeyPair() });
    const signed = await ca.sign({ csrPem, identity: sleep, ttlSeconds: HOUR });
    if (!signed.ok) throw new Error(signed.error.message);
    const [leaf = '', intermediate, root] = signed.value.certChain;
    // cert-chain.pem holds intermediate + root; the root appears once, at the end.
    expect(signed.value.certChain).toHaveLength(3);
    expect(intermediate).toBe(single(plugged['ca-cert.pem']));
    expect(root).toBe(single(plugged['root-cert.pem']));

    await withTempDir(async (dir) => {
      await writeFiles(dir, { 'root.pem': root ?? '', 'intermediate.pem': intermediate ?? '', 'leaf.pem': leaf });
      const through = await openssl(['verify', '-CAfile', 'root.pem', '-untrusted', 'intermediate.pem', 'leaf.pem'], dir);
      expect(through.stdout.trim()).toBe('leaf.pem: OK');
      // Without the intermediate there is no path: the leaf really is issued by the intermediate.
      const direct = await openssl(['verify', '-CAfile', 'root.pem', 'leaf.pem'], dir);
      expect(direct.code).not.toBe(0);
      expect(direct.stderr).toContain('unable to get local issuer certificate');

      const text = await opensslOk(['x509', '-in', 'leaf.pem', '-noout', '-text'], dir);
      expect(uriSansFromText(text)).toEqual(['spiffe://cluster.local/ns/default/sa/sleep']);
      expect(text).toMatch(/Issuer: O ?= ?Istio, CN ?= ?Intermediate CA, L ?= ?cluster1/);
      const validity = validityFromText(text);
      expect((validity.notAfter.getTime() - validity.notBefore.getTime()) / 1000).toBe(HOUR);
    });

    const verified = await verifyPeerChain({ chainPem: [leaf, intermediate ?? ''], rootsPem: [ca.rootCertPem], now: new Date(), usage: 'client' });
    expect(verified).toEqual({ ok: true, value: sleep });
  });

  it('works without cert-chain.pem and with a chain that omits the root', async () => {
    const { 'cert-chain.pem': _chain, ...withoutChain } = cacerts(plugged);
    const noChain = await pluggedCa(withoutChain);
    const csrPem = await createCsr({ identity: sleep, keys: await generateKeyPair() });
    const a = await noChain.sign({ csrPem, identity: sleep });
    expect(a.ok && a.value.certChain.slice(1)).toEqual([single(plugged['ca-cert.pem']), single(plugged['root-cert.pem'])]);

    const intermediateOnly = await pluggedCa({ ...cacerts(plugged), 'cert-chain.pem': plugged['ca-cert.pem'] });
    const b = await intermediateOnly.sign({ csrPem, identity: sleep });
    expect(b.ok && b.value.certChain).toHaveLength(3);
  });

  it('ends the chain with every root of a multi-root bundle (root rotation)', async () => {
    const bundle = plugged['root-cert.pem'] + otherPlugged['root-cert.pem'];
    const ca = await pluggedCa({ ...cacerts(plugged), 'root-cert.pem': bundle });
    expect(parsePemBundle(ca.rootCertPem)).toEqual({ ok: true, value: [single(plugged['root-cert.pem']), single(otherPlugged['root-cert.pem'])] });
    const csrPem = await createCsr({ identity: sleep, keys: await generateKeyPair() });
    const signed = await ca.sign({ csrPem, identity: sleep });
    expect(signed.ok && signed.value.certChain.slice(1)).toEqual([
      single(plugged['ca-cert.pem']),
      single(plugged['root-cert.pem']),
      single(otherPlugged['root-cert.pem']),
    ]);
  });

  it('is preferred over a persisted self-signed root', async () => {
    const selfSigned = createMemoryCaStorage();
    const first = await createCertificateAuthority({ storage: selfSigned });
    if (!first.ok) throw new Error(first.error.message);
    const files: Record<string, string> = {
      [SELF_SIGNED_CA_FILES.cert]: (await selfSigned.read(SELF_SIGNED_CA_FILES.cert)) ?? '',
      [SELF_SIGNED_CA_FILES.key]: (await selfSigned.read(SELF_SIGNED_CA_FILES.key)) ?? '',
      ...cacerts(plugged),
    };
    const ca = await pluggedCa(files);
    expect(ca.source).toBe('plugged');
    expect(ca.rootCertPem).not.toBe(first.value.rootCertPem);
  });

  it.each<[string, (files: PluggedCaFiles) => Record<string, string>, string, RegExp]>([
    [
      'only ca-cert.pem present',
      (files) => ({ [PLUGGED_CA_FILES.signingCert]: files['ca-cert.pem'] }),
      'ERR_CA_FILES_INCOMPLETE',
      /found ca-cert\.pem but not ca-key\.pem, root-cert\.pem/,
    ],
    [
      'a key that belongs to another CA',
      (files) => ({ ...cacerts(files), 'ca-key.pem': otherPlugged['ca-key.pem'] }),
      'ERR_CA_INVALID',
      /^ca-key\.pem is not the key of ca-cert\.pem$/,
    ],
    [
      'a root that did not issue the intermediate',
      (files) => ({ ...cacerts(files), 'root-cert.pem': otherPlugged['root-cert.pem'], 'cert-chain.pem': files['ca-cert.pem'] }),
      'ERR_CA_INVALID',
      /^ca-cert\.pem does not verify against root-cert\.pem: ca-cert\.pem issued by ".*Weft Test Root" does not chain/,
    ],
    [
      'a garbled ca-cert.pem',
      (files) => ({ ...cacerts(files), 'ca-cert.pem': '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' }),
      'ERR_CA_INVALID',
      /^ca-cert\.pem: PEM block 1 is not a valid X\.509 certificate/,
    ],
    [
      'an unreadable key',
      (files) => ({ ...cacerts(files), 'ca-key.pem': 'secret' }),
      'ERR_KEY_INVALID',
      /^ca-key\.pem is not a readable PEM private key/,
    ],
  ])('refuses %s', async (_name, files, code, message) => {
    const created = await createCertificateAuthority({ storage: createMemoryCaStorage(files(plugged)) });
    expect(created.ok).toBe(false);
    expect(!created.ok && created.error.code).toBe(code);
    expect(!created.ok && created.error.message).toMatch(message);
  });

  it('refuses a signing certificate that is not a CA', async () => {
    await withTempDir(async (dir) => {
      await writeFiles(dir, { 'root-key.pem': plugged['root-key.pem'], 'root-cert.pem': plugged['root-cert.pem'], 'leaf.ext': 'basicConstraints=critical,CA:false\n' });
      await opensslOk(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'key.pem'], dir);
      await opensslOk(['req', '-new', '-key', 'key.pem', '-subj', '/CN=not-a-ca', '-out', 'req.csr'], dir);
      await opensslOk(['x509', '-req', '-in', 'req.csr', '-CA', 'root-cert.pem', '-CAkey', 'root-key.pem', '-set_serial', '7', '-days', '30', '-extfile', 'leaf.ext', '-out', 'cert.pem'], dir);
      const files = {
        'ca-cert.pem': await opensslOk(['x509', '-in', 'cert.pem'], dir),
        'ca-key.pem': await opensslOk(['pkey', '-in', 'key.pem'], dir),
        'root-cert.pem': plugged['root-cert.pem'],
      };
      const created = await createCertificateAuthority({ storage: createMemoryCaStorage(files) });
      expect(!created.ok && created.error).toMatchObject({ code: 'ERR_CA_INVALID', message: expect.stringContaining('("CN=not-a-ca") is not a CA certificate') });
    });
  });
});
