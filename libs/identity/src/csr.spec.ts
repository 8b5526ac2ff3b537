import { createCsr, verifyCsr } from './csr';
import { exportPublicKeyPem, generateKeyPair } from './key-pair';
import type { Identity } from './spiffe-id';
import { x509 } from './x509';
import { openssl, opensslOk, readText, tamperPem, uriSansFromText, withTempDir, writeFiles } from '../test/support';

const sleep: Identity = { trustDomain: 'cluster.local', namespace: 'default', serviceAccount: 'sleep' };
const SLEEP_URI = 'spiffe://cluster.local/ns/default/sa/sleep';

describe('createCsr', () => {
  it('writes the CSR ztunnel sends: no subject, one critical URI SAN, ECDSA SHA-256, valid self-signature', async () => {
    const pem = await createCsr({ identity: sleep, keys: await generateKeyPair() });
    expect(pem).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----\n[\s\S]+\n-----END CERTIFICATE REQUEST-----\n$/);
    await withTempDir(async (dir) => {
      await writeFiles(dir, { 'csr.pem': pem });
      const run = await openssl(['req', '-in', 'csr.pem', '-noout', '-text', '-verify'], dir);
      expect(run.code).toBe(0);
      expect(run.stderr).toMatch(/verify OK/i);
      expect(run.stdout).toMatch(/^\s*Subject:\s*$/m);
      expect(run.stdout).toContain('X509v3 Subject Alternative Name: critical');
      expect(uriSansFromText(run.stdout)).toEqual([SLEEP_URI]);
      expect(run.stdout).not.toContain('DNS:');
      expect(run.stdout).toContain('Signature Algorithm: ecdsa-with-SHA256');
      expect(run.stdout).toContain('ASN1 OID: prime256v1');
    });
  });

  it('carries the given key', async () => {
    const keys = await generateKeyPair();
    const info = await verifyCsr(await createCsr({ identity: sleep, keys }));
    expect(info.ok && info.value.publicKeyPem).toBe(await exportPublicKeyPem(keys.publicKey));
  });
});

describe('verifyCsr', () => {
  it('reads back what createCsr wrote', async () => {
    const info = await verifyCsr(await createCsr({ identity: sleep, keys: await generateKeyPair() }));
    expect(info).toMatchObject({ ok: true, value: { subject: '', uriSans: [SLEEP_URI], dnsSans: [] } });
  });

  it('accepts a CSR made by openssl req with a URI SAN', async () => {
    await withTempDir(async (dir) => {
      await opensslOk(
        ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'key.pem', '-subj', '/O=weft']
          .concat(['-addext', `subjectAltName=URI:${SLEEP_URI},DNS:sleep.default.svc`, '-out', 'csr.pem']),
        dir,
      );
      const info = await verifyCsr(await readText(dir, 'csr.pem'));
      expect(info).toMatchObject({ ok: true, value: { subject: 'O=weft', uriSans: [SLEEP_URI], dnsSans: ['sleep.default.svc'] } });
      expect(info.ok && info.value.publicKeyPem).toBe(await opensslOk(['pkey', '-in', 'key.pem', '-pubout'], dir));
    });
  });

  it('rejects a CSR whose signed content was altered (SAN rewritten) with ERR_CSR_SIGNATURE', async () => {
    const pem = await createCsr({ identity: sleep, keys: await generateKeyPair() });
    const tampered = tamperPem(pem, '/sa/sleep', '/sa/admin');
    const result = await verifyCsr(tampered);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatchObject({
      code: 'ERR_CSR_SIGNATURE',
      message: 'csr signature does not match its public key',
      hint: expect.stringContaining('altered'),
    });
    // The untampered request still verifies: the failure is due to the change, not the helper.
    expect((await verifyCsr(tamperPem(pem, '/sa/sleep', '/sa/sleep'))).ok).toBe(true);
  });

  it('rejects a signed CSR whose SAN extension is malformed with ERR_CSR_INVALID', async () => {
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      keys: await generateKeyPair(),
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      extensions: [new x509.Extension('2.5.29.17', true, new Uint8Array([1, 2, 3]))],
    });
    const result = await verifyCsr(csr.toString('pem'));
    expect(!result.ok && result.error).toMatchObject({ code: 'ERR_CSR_INVALID', message: expect.stringMatching(/^csr is not a valid PKCS#10 request: /) });
  });

  it.each([
    ['text without PEM', 'hello', /no "-----BEGIN CERTIFICATE REQUEST-----" line/],
    ['a certificate', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', /is a PEM "CERTIFICATE", not a "CERTIFICATE REQUEST"/],
    ['garbage inside the PEM', '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n', /not a valid PKCS#10 request/],
  ])('rejects %s with ERR_CSR_INVALID', async (_name, pem, message) => {
    const result = await verifyCsr(pem);
    expect(!result.ok && result.error.code).toBe('ERR_CSR_INVALID');
    expect(!result.ok && result.error.message).toMatch(message);
  });
});
