import {
  formatPrincipal,
  formatSpiffeId,
  identitiesEqual,
  identityFromWorkload,
  parsePrincipal,
  parseSpiffeId,
  type Identity,
} from './spiffe-id';

describe('parseSpiffeId', () => {
  it.each<[string, Identity]>([
    ['spiffe://cluster.local/ns/default/sa/sleep', { trustDomain: 'cluster.local', namespace: 'default', serviceAccount: 'sleep' }],
    ['spiffe://example.org/ns/istio-system/sa/ztunnel', { trustDomain: 'example.org', namespace: 'istio-system', serviceAccount: 'ztunnel' }],
    ['spiffe://td_1/ns/my.ns/sa/svc-account_v2', { trustDomain: 'td_1', namespace: 'my.ns', serviceAccount: 'svc-account_v2' }],
  ])('accepts %s', (uri, expected) => {
    expect(parseSpiffeId(uri)).toEqual({ ok: true, value: expected });
  });

  it.each<[string, string, string, RegExp | undefined]>([
    ['empty string', '', 'does not start with "spiffe://"', /parsePrincipal/],
    ['principal form', 'cluster.local/ns/default/sa/sleep', 'does not start with "spiffe://"', /parsePrincipal/],
    ['wrong scheme', 'https://cluster.local/ns/default/sa/sleep', 'does not start with "spiffe://"', undefined],
    ['uppercase scheme', 'SPIFFE://cluster.local/ns/default/sa/sleep', 'does not start with "spiffe://"', /lowercase/],
    ['missing sa part', 'spiffe://cluster.local/ns/default', 'too few path segments (2; want exactly 4', undefined],
    ['trust domain only', 'spiffe://cluster.local', 'too few path segments (0;', undefined],
    ['extra segment', 'spiffe://cluster.local/ns/default/sa/sleep/extra', 'too many path segments (5;', undefined],
    ['trailing slash', 'spiffe://cluster.local/ns/default/sa/sleep/', 'too many path segments', undefined],
    ['wrong ns literal', 'spiffe://cluster.local/namespace/default/sa/sleep', 'segment 2 is "namespace", want "ns"', undefined],
    ['wrong sa literal', 'spiffe://cluster.local/ns/default/serviceaccount/sleep', 'segment 4 is "serviceaccount", want "sa"', undefined],
    ['empty trust domain', 'spiffe:///ns/default/sa/sleep', 'the trust domain is empty', undefined],
    ['empty namespace', 'spiffe://cluster.local/ns//sa/sleep', 'the namespace is empty', undefined],
    ['empty service account', 'spiffe://cluster.local/ns/default/sa/', 'the service account is empty', undefined],
    ['dot-dot segment', 'spiffe://cluster.local/ns/../sa/sleep', 'the namespace is "..", which SPIFFE forbids', undefined],
    ['query string', 'spiffe://cluster.local/ns/default/sa/sleep?x=1', 'the service account "sleep?x=1" has characters', undefined],
    ['port in trust domain', 'spiffe://cluster.local:8080/ns/default/sa/sleep', 'the trust domain "cluster.local:8080" has characters', undefined],
  ])('rejects %s', (_name, uri, problem, hint) => {
    const result = parseSpiffeId(uri);
    if (result.ok) throw new Error(`expected ${uri} to be rejected`);
    expect(result.error.code).toBe('ERR_SPIFFE_ID_INVALID');
    expect(result.error.message).toContain(`"${uri}"`);
    expect(result.error.message).toContain(problem);
    if (hint === undefined) expect(result.error.hint).toBeUndefined();
    else expect(result.error.hint).toMatch(hint);
  });

  it('round-trips through formatSpiffeId', () => {
    const uri = 'spiffe://cluster.local/ns/bookinfo/sa/bookinfo-productpage';
    const parsed = parseSpiffeId(uri);
    expect(parsed.ok && formatSpiffeId(parsed.value)).toBe(uri);
  });
});

describe('formatSpiffeId', () => {
  it('writes spiffe://<td>/ns/<ns>/sa/<sa>', () => {
    expect(formatSpiffeId({ trustDomain: 'cluster.local', namespace: 'default', serviceAccount: 'sleep' })).toBe(
      'spiffe://cluster.local/ns/default/sa/sleep',
    );
  });
});

describe('identityFromWorkload', () => {
  it.each<[string, string, string, Identity]>([
    ['', 'default', '', { trustDomain: 'cluster.local', namespace: 'default', serviceAccount: 'default' }],
    ['', 'bookinfo', 'reviews', { trustDomain: 'cluster.local', namespace: 'bookinfo', serviceAccount: 'reviews' }],
    ['example.org', 'bookinfo', '', { trustDomain: 'example.org', namespace: 'bookinfo', serviceAccount: 'default' }],
    ['example.org', 'ns1', 'sa1', { trustDomain: 'example.org', namespace: 'ns1', serviceAccount: 'sa1' }],
  ])('fills the WDS defaults for td=%j ns=%j sa=%j', (trustDomain, namespace, serviceAccount, expected) => {
    expect(identityFromWorkload(trustDomain, namespace, serviceAccount)).toEqual(expected);
  });

  it('yields the SPIFFE ID istiod would certify for a default workload', () => {
    expect(formatSpiffeId(identityFromWorkload('', 'default', ''))).toBe('spiffe://cluster.local/ns/default/sa/default');
  });
});

describe('principals', () => {
  const sleep: Identity = { trustDomain: 'cluster.local', namespace: 'default', serviceAccount: 'sleep' };

  it('formats the AuthorizationPolicy principal without the scheme', () => {
    expect(formatPrincipal(sleep)).toBe('cluster.local/ns/default/sa/sleep');
  });

  it('parses a principal back into the identity', () => {
    expect(parsePrincipal('cluster.local/ns/default/sa/sleep')).toEqual({ ok: true, value: sleep });
  });

  it('rejects a principal written with the scheme, naming the input', () => {
    const result = parsePrincipal('spiffe://cluster.local/ns/default/sa/sleep');
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error.message).toContain('must not start with "spiffe://"');
  });

  it('rejects a malformed principal and carries the detail in the hint', () => {
    const result = parsePrincipal('cluster.local/ns/default');
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatchObject({
      code: 'ERR_SPIFFE_ID_INVALID',
      message: expect.stringContaining('principal "cluster.local/ns/default"'),
      hint: expect.stringContaining('too few path segments'),
    });
  });
});

describe('identitiesEqual', () => {
  const a: Identity = { trustDomain: 'cluster.local', namespace: 'default', serviceAccount: 'sleep' };

  it.each<[string, Identity, boolean]>([
    ['the same identity', { ...a }, true],
    ['another trust domain', { ...a, trustDomain: 'Cluster.local' }, false],
    ['another namespace', { ...a, namespace: 'other' }, false],
    ['another service account', { ...a, serviceAccount: 'httpbin' }, false],
  ])('compares %s', (_name, b, expected) => {
    expect(identitiesEqual(a, b)).toBe(expected);
  });
});
