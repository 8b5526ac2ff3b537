import { createCertificateAuthority, createCsr, createMemoryCaStorage, generateKeyPair, parseSpiffeId, type CertificateAuthority } from '@weft/identity';

import { checkCertificateResponse } from './certificate-response';

const SLEEP = 'spiffe://cluster.local/ns/default/sa/sleep';

async function newCa(): Promise<CertificateAuthority> {
  const ca = await createCertificateAuthority({ storage: createMemoryCaStorage() });
  if (!ca.ok) throw new Error(ca.error.message);
  return ca.value;
}

async function signed(ca: CertificateAuthority, id: string): Promise<string[]> {
  const identity = parseSpiffeId(id);
  if (!identity.ok) throw new Error(identity.error.message);
  const keys = await generateKeyPair();
  const result = await ca.sign({ csrPem: await createCsr({ identity: identity.value, keys }), identity: identity.value });
  if (!result.ok) throw new Error(result.error.message);
  return result.value.certChain;
}

describe('checkCertificateResponse', () => {
  let ca: CertificateAuthority;
  let other: CertificateAuthority;

  beforeAll(async () => {
    [ca, other] = await Promise.all([newCa(), newCa()]);
  });

  it('accepts leaf-first, root-last and splits the chain from the roots', async () => {
    const chain = await signed(ca, SLEEP);
    const checked = await checkCertificateResponse(SLEEP, chain, new Date());
    expect(checked.ok && checked.value.chain.map((c) => c.uriSans)).toEqual([[SLEEP]]);
    expect(checked.ok && checked.value.roots.map((c) => c.pem)).toEqual([ca.rootCertPem]);
  });

  it('accepts a root bundle holding several roots (CA rotation)', async () => {
    const chain = await signed(ca, SLEEP);
    const bundle = [...chain.slice(0, -1), `${other.rootCertPem}${chain.at(-1) ?? ''}`];
    const checked = await checkCertificateResponse(SLEEP, bundle, new Date());
    expect(checked.ok && checked.value.roots).toHaveLength(2);
  });

  it.each<[string, () => Promise<string[]>, string, string]>([
    ['a leaf for another identity', () => signed(ca, 'spiffe://cluster.local/ns/default/sa/httpbin'), SLEEP, 'ERR_CERT_SAN_MISMATCH'],
    ['a chain that does not reach the returned root', async () => [...(await signed(other, SLEEP)).slice(0, -1), ca.rootCertPem], SLEEP, 'ERR_CERT_CHAIN_INVALID'],
    ['a leaf without the root', async () => (await signed(ca, SLEEP)).slice(0, 1), SLEEP, 'ERR_CERT_CHAIN_INVALID'],
    ['an element that is not PEM', async () => ['not a certificate', ca.rootCertPem], SLEEP, 'ERR_CERT_CHAIN_INVALID'],
  ])('rejects %s', async (_what, response, identity, code) => {
    const checked = await checkCertificateResponse(identity, await response(), new Date());
    expect(checked.ok ? 'ok' : checked.error.code).toBe(code);
  });

  it('accepts a leaf that starts in our future (CA clock ahead): every reissue would too', async () => {
    const chain = await signed(ca, SLEEP);
    const checked = await checkCertificateResponse(SLEEP, chain, new Date(Date.now() - 60_000));
    expect(checked.ok).toBe(true);
  });

  it('rejects an expired leaf', async () => {
    const chain = await signed(ca, SLEEP);
    const checked = await checkCertificateResponse(SLEEP, chain, new Date(Date.now() + 2 * 86_400_000));
    expect(checked.ok ? 'ok' : checked.error.code).toBe('ERR_CERT_CHAIN_INVALID');
  });
});
