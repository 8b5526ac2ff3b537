// CreateCertificate decisions end to end without gRPC: a real plug-in CA on disk, real CSRs, the real openssl
// verifying what was issued, bootstrap-token authentication and the node authorizer.

import { randomBytes } from 'node:crypto';

import {
  certificateInfo,
  createCertificateAuthority,
  type CertificateAuthority,
  type IssuedCertificate,
  type Result,
} from '@weft/identity';

import { createBootstrapTokenAuthenticator } from '../../src/ca/caller-authenticator';
import {
  IMPERSONATION_DENIED_MESSAGE,
  UNAUTHENTICATED_MESSAGE,
  createCertificateService,
  type CertificateService,
} from '../../src/ca/certificate-service';
import { createFileCaStorage } from '../../src/ca/file-ca-storage';
import { createNodeAuthorizer } from '../../src/ca/node-authorizer';
import {
  makePluggedCa,
  makeTempDir,
  opensslText,
  opensslVerifyChain,
  podIndex,
  recordingLogger,
  removeDir,
  unwrap,
  workloadCsr,
} from './ca-fixtures';

const TD = 'cluster.local';
const REVIEWS = `spiffe://${TD}/ns/bookinfo/sa/reviews`;
const RATINGS = `spiffe://${TD}/ns/bookinfo/sa/ratings`;
const ZTUNNEL_A = randomBytes(32).toString('hex');
const ZTUNNEL_B = randomBytes(32).toString('hex');
const UNTRUSTED_A = randomBytes(32).toString('hex');
const HOUR = 3600;
const DAY = 24 * HOUR;

let cacerts: string | undefined;
let work: string | undefined;
let ca: CertificateAuthority;

beforeAll(async () => {
  cacerts = await makeTempDir('cacerts');
  work = await makeTempDir('work');
  await makePluggedCa(cacerts, work, TD);
  ca = unwrap(await createCertificateAuthority({ storage: createFileCaStorage(cacerts), trustDomain: TD }));
});

afterAll(async () => {
  await removeDir(cacerts);
  await removeDir(work);
});

function setup(signer: Pick<CertificateAuthority, 'sign'> = ca): { service: CertificateService; logger: ReturnType<typeof recordingLogger> } {
  const logger = recordingLogger();
  const authenticator = createBootstrapTokenAuthenticator([
    { token: ZTUNNEL_A, node: 'node-a', namespace: 'istio-system', serviceAccount: 'ztunnel' },
    { token: ZTUNNEL_B, node: 'node-b', namespace: 'istio-system', serviceAccount: 'ztunnel' },
    { token: UNTRUSTED_A, node: 'node-a', namespace: 'bookinfo', serviceAccount: 'sneaky' },
  ]);
  const authorizer = createNodeAuthorizer({
    trustDomain: TD,
    podsOnNode: podIndex(['node-a/bookinfo/reviews', 'node-b/bookinfo/ratings']),
  });
  return { service: createCertificateService({ ca: signer, authenticator, authorizer, logger }), logger };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}`, clusterId: 'Kubernetes' });

describe('CreateCertificate handler', () => {
  it('issues a certificate for a pod on the caller node that openssl verifies, with the requested URI SAN', async () => {
    const { service, logger } = setup();
    const result = await service.handle(
      { csr: await workloadCsr(REVIEWS), validityDurationSeconds: DAY, impersonatedIdentity: REVIEWS },
      bearer(ZTUNNEL_A),
      'ipv4:10.0.0.1:40000',
    );
    if (!result.ok) throw new Error(result.message);
    // leaf, intermediate, root last
    expect(result.certChain).toHaveLength(3);
    expect(result.certChain.every((pem) => pem.endsWith('\n'))).toBe(true);
    expect(result.certChain[2]).toBe(ca.rootCertPem);
    expect(await opensslVerifyChain(result.certChain, work as string)).toMatch(/: OK/);
    const text = await opensslText(result.certChain[0] as string, work as string);
    expect(text).toContain(`URI:${REVIEWS}`);
    expect(service.stats).toEqual({ issued: 1, unauthenticated: 0, invalid: 0, error: 0 });
    expect(logger.lines).toEqual([
      expect.objectContaining({ level: 'info', message: 'certificate issued', fields: expect.objectContaining({ identity: REVIEWS, impersonated: true, node: 'node-a' }) }),
    ]);
  });

  it('without impersonation certifies the caller own identity, ignoring the SAN in the CSR', async () => {
    const { service } = setup();
    const result = await service.handle({ csr: await workloadCsr(REVIEWS), validityDurationSeconds: HOUR }, bearer(UNTRUSTED_A), 'p');
    if (!result.ok) throw new Error(result.message);
    expect(unwrap(certificateInfo(result.certChain[0] as string)).uriSans).toEqual([`spiffe://${TD}/ns/bookinfo/sa/sneaky`]);
  });

  const AUTHN = UNAUTHENTICATED_MESSAGE;
  const IMPERSONATION = IMPERSONATION_DENIED_MESSAGE;
  it.each([
    ['a pod on another node', `Bearer ${ZTUNNEL_A}`, RATINGS, IMPERSONATION, /no running pod with bookinfo\/ratings on node node-a/],
    ['an untrusted caller service account', `Bearer ${UNTRUSTED_A}`, REVIEWS, IMPERSONATION, /bookinfo\/sneaky is not a trusted node account/],
    ['an identity in another trust domain', `Bearer ${ZTUNNEL_A}`, 'spiffe://evil.example/ns/bookinfo/sa/reviews', IMPERSONATION, /not in trust domain cluster.local/],
    ['a malformed impersonated identity', `Bearer ${ZTUNNEL_A}`, 'spiffe://cluster.local/bookinfo/reviews', IMPERSONATION, /impersonated identity is invalid/],
    ['a wrong bootstrap token', `Bearer ${randomBytes(32).toString('hex')}`, REVIEWS, AUTHN, /bootstrap token not recognised/],
    ['a missing token', undefined, REVIEWS, AUTHN, /no "authorization: Bearer <token>" header/],
    ['a non-bearer authorization header', `Basic ${ZTUNNEL_A}`, REVIEWS, AUTHN, /no "authorization: Bearer/],
  ])('refuses %s with istiod opaque UNAUTHENTICATED message and logs the real reason', async (_name, authorization, identity, message, reason) => {
    const { service, logger } = setup();
    const metadata = authorization === undefined ? {} : { authorization };
    const request = { csr: await workloadCsr(REVIEWS), validityDurationSeconds: DAY, impersonatedIdentity: identity };
    const result = await service.handle(request, metadata, 'peer-1');
    expect(result).toEqual({ ok: false, grpcCode: 'UNAUTHENTICATED', message });
    expect(service.stats).toEqual({ issued: 0, unauthenticated: 1, invalid: 0, error: 0 });
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]?.level).toBe('warn');
    expect(String(logger.lines[0]?.fields['reason'])).toMatch(reason);
  });

  it.each([
    ['garbage', 'not a csr', /ERR_CSR_INVALID/],
    ['an empty CSR', '  ', /csr is empty/],
  ])('answers INVALID_ARGUMENT with a clear message for %s', async (_name, csr, message) => {
    const { service } = setup();
    const result = await service.handle({ csr, validityDurationSeconds: DAY, impersonatedIdentity: REVIEWS }, bearer(ZTUNNEL_A), 'p');
    expect(result).toEqual({ ok: false, grpcCode: 'INVALID_ARGUMENT', message: expect.stringMatching(message) });
    expect(service.stats.invalid).toBe(1);
  });

  it('answers INVALID_ARGUMENT for a CSR whose signature does not verify', async () => {
    const { service } = setup();
    const good = await workloadCsr(REVIEWS);
    const body = good.split('\n').filter((line) => line !== '' && !line.startsWith('-----')).join('');
    // Flip a bit inside the trailing signature bytes; the DER still parses.
    const der = Buffer.from(body, 'base64');
    der[der.length - 3] = (der[der.length - 3] ?? 0) ^ 0x01;
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE REQUEST-----\n`;
    const result = await service.handle({ csr: tampered, validityDurationSeconds: DAY, impersonatedIdentity: REVIEWS }, bearer(ZTUNNEL_A), 'p');
    expect(result).toMatchObject({ ok: false, grpcCode: 'INVALID_ARGUMENT', message: expect.stringMatching(/^ERR_CSR_(SIGNATURE|INVALID): /) });
  });

  it('refuses a named cert signer with INVALID_ARGUMENT', async () => {
    const { service } = setup();
    const result = await service.handle(
      { csr: await workloadCsr(REVIEWS), validityDurationSeconds: DAY, impersonatedIdentity: REVIEWS, certSigner: 'other' },
      bearer(ZTUNNEL_A),
      'p',
    );
    expect(result).toMatchObject({ ok: false, grpcCode: 'INVALID_ARGUMENT', message: expect.stringContaining('"other"') });
  });

  it.each([
    [0, DAY],
    [-5, DAY],
    [HOUR, HOUR],
    [365 * DAY, 90 * DAY],
  ])('validity_duration %i gives a certificate valid for %i seconds (24 h default, 90 d cap)', async (requested, expected) => {
    const { service } = setup();
    const result = await service.handle(
      { csr: await workloadCsr(REVIEWS), validityDurationSeconds: requested, impersonatedIdentity: REVIEWS },
      bearer(ZTUNNEL_A),
      'p',
    );
    if (!result.ok) throw new Error(result.message);
    const leaf = unwrap(certificateInfo(result.certChain[0] as string));
    expect((leaf.notAfter.getTime() - leaf.notBefore.getTime()) / 1000).toBe(expected);
  });

  it('maps a CA generation failure and a throwing CA to INTERNAL (fake CA: a real one cannot be made to fail)', async () => {
    const failing: Pick<CertificateAuthority, 'sign'> = {
      sign: (): Promise<Result<IssuedCertificate>> =>
        Promise.resolve({ ok: false, error: { code: 'ERR_CERT_GENERATION', message: 'hsm offline' } }),
    };
    const throwing: Pick<CertificateAuthority, 'sign'> = { sign: () => Promise.reject(new Error('boom')) };
    for (const signer of [failing, throwing]) {
      const { service, logger } = setup(signer);
      const result = await service.handle({ csr: await workloadCsr(REVIEWS), validityDurationSeconds: DAY, impersonatedIdentity: REVIEWS }, bearer(ZTUNNEL_A), 'p');
      expect(result).toMatchObject({ ok: false, grpcCode: 'INTERNAL' });
      expect(service.stats).toEqual({ issued: 0, unauthenticated: 0, invalid: 0, error: 1 });
      expect(logger.lines[0]?.level).toBe('error');
    }
  });

  it('checks authentication before the request body: an anonymous bad CSR is UNAUTHENTICATED, not INVALID_ARGUMENT', async () => {
    const { service } = setup();
    const result = await service.handle({ csr: 'junk', validityDurationSeconds: 0 }, {}, 'p');
    expect(result).toMatchObject({ ok: false, grpcCode: 'UNAUTHENTICATED' });
  });
});
