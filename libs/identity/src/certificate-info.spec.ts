import { createMemoryCaStorage } from './ca-storage';
import { createCertificateAuthority, type CertificateAuthority } from './certificate-authority';
import { certificateInfo, parsePemBundle } from './certificate-info';
import { generateKeyPair } from './key-pair';
import { opensslOk, withTempDir, writeFiles } from '../test/support';

let ca: CertificateAuthority;
let otherCa: CertificateAuthority;

beforeAll(async () => {
  const [a, b] = await Promise.all([
    createCertificateAuthority({ storage: createMemoryCaStorage() }),
    createCertificateAuthority({ storage: createMemoryCaStorage(), trustDomain: 'example.org' }),
  ]);
  if (!a?.ok || !b?.ok) throw new Error('CA setup failed');
  ca = a.value;
  otherCa = b.value;
});

describe('parsePemBundle', () => {
  it('splits a multi-root bundle into one normalised PEM per certificate, ignoring text between blocks', () => {
    const bundle = `# current root\n${ca.rootCertPem}\n\nsubject=O = example.org\r\n${otherCa.rootCertPem.replace(/\n/g, '\r\n')}`;
    expect(parsePemBundle(bundle)).toEqual({ ok: true, value: [ca.rootCertPem, otherCa.rootCertPem] });
  });

  it('re-encodes a certificate with unusual line lengths to the canonical form', () => {
    const body = /-----BEGIN CERTIFICATE-----\n([\s\S]+)\n-----END CERTIFICATE-----/.exec(ca.rootCertPem)?.[1] ?? '';
    const oneLine = `-----BEGIN CERTIFICATE-----\n${body.replace(/\n/g, '')}\n-----END CERTIFICATE-----`;
    expect(parsePemBundle(oneLine)).toEqual({ ok: true, value: [ca.rootCertPem] });
  });

  it.each<[string, string, string, RegExp | undefined]>([
    ['empty text', '', 'trust bundle holds no PEM certificate', undefined],
    ['a private key', '-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n', 'trust bundle: PEM block 1 is a "EC PRIVATE KEY", not a "CERTIFICATE"', /private key must never/],
    ['mismatched labels', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END X509 CRL-----\n', 'trust bundle: PEM block 1 begins "CERTIFICATE" but ends "X509 CRL"', undefined],
    ['a truncated block', '-----BEGIN CERTIFICATE-----\nMIIB', 'trust bundle: 1 PEM block(s) have no matching END line', /truncated/],
    ['a block that is not DER', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', 'trust bundle: PEM block 1 is not a valid X.509 certificate', undefined],
  ])('rejects %s with ERR_CERT_PARSE naming the source', (_name, pem, message, hint) => {
    const result = parsePemBundle(pem, 'trust bundle');
    if (result.ok) throw new Error('expected a parse error');
    expect(result.error.code).toBe('ERR_CERT_PARSE');
    expect(result.error.message).toContain(message);
    if (hint !== undefined) expect(result.error.hint).toMatch(hint);
  });

  it('reports the failing block of a bundle whose second certificate is broken', () => {
    const result = parsePemBundle(`${ca.rootCertPem}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`);
    expect(!result.ok && result.error.message).toContain('PEM block 2 is not a valid X.509 certificate');
  });
});

describe('certificateInfo', () => {
  it('summarises a workload certificate as openssl reads it', async () => {
    const issued = await ca.signServing({ publicKey: (await generateKeyPair()).publicKey, dnsNames: ['istiod.istio-system.svc'] });
    if (!issued.ok) throw new Error(issued.error.message);
    const leaf = issued.value.certChain[0] ?? '';
    const info = certificateInfo(leaf);
    if (!info.ok) throw new Error(info.error.message);
    await withTempDir(async (dir) => {
      await writeFiles(dir, { 'leaf.pem': leaf });
      const serial = (await opensslOk(['x509', '-in', 'leaf.pem', '-noout', '-serial'], dir)).trim().replace(/^serial=/, '');
      expect(info.value.serialNumber).toBe(serial.toLowerCase());
      const dates = await opensslOk(['x509', '-in', 'leaf.pem', '-noout', '-dates', '-dateopt', 'iso_8601'], dir);
      expect(info.value.notBefore.toISOString().replace('.000Z', 'Z')).toBe(/notBefore=(.+)/.exec(dates)?.[1]?.replace(' ', 'T'));
      expect(info.value.notAfter.toISOString().replace('.000Z', 'Z')).toBe(/notAfter=(.+)/.exec(dates)?.[1]?.replace(' ', 'T'));
    });
    expect(info.value).toMatchObject({
      subject: '',
      issuer: 'O=cluster.local',
      uriSans: [],
      dnsSans: ['istiod.istio-system.svc'],
      pem: leaf,
    });
    expect(info.value.serialNumber).toMatch(/^[0-9a-f]{32}$/);
  });

  it('reads URI SANs and takes the first certificate of a chain', async () => {
    const info = certificateInfo(ca.rootCertPem + otherCa.rootCertPem);
    expect(info).toMatchObject({ ok: true, value: { subject: 'O=cluster.local', uriSans: [], dnsSans: [], pem: ca.rootCertPem } });
  });

  it('rejects a non-certificate', () => {
    expect(certificateInfo('nothing', 'ztunnel cert')).toEqual({
      ok: false,
      error: { code: 'ERR_CERT_PARSE', message: 'ztunnel cert holds no PEM certificate' },
    });
  });
});
