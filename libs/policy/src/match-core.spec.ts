import {
  evaluatePair,
  matchesNamespace,
  matchesPrincipal,
  matchesServiceAccount,
  matchesString,
  normalizePrincipal,
  parsePortValue,
  parsePrincipal,
  toServiceAccountMatch,
  toStringMatch,
} from './match-core';

describe('string forms (§6.1 / §6.5 step 7)', () => {
  it.each([
    ['§6.5 "*" converts to presence', '*', { kind: 'presence' }],
    ['§6.5 "*x" converts to suffix x', '*/sa/sleep', { kind: 'suffix', value: '/sa/sleep' }],
    ['§6.5 "x*" converts to prefix x', 'cluster.local/ns/default/*', { kind: 'prefix', value: 'cluster.local/ns/default/' }],
    ['§6.5 anything else is exact', 'cluster.local/ns/default/sa/sleep', { kind: 'exact', value: 'cluster.local/ns/default/sa/sleep' }],
    ['§6.5 a "*" in the middle is literal (exact)', 'dev*prod', { kind: 'exact', value: 'dev*prod' }],
  ])('%s', (_rule, value, expected) => {
    expect(toStringMatch(value)).toEqual(expected);
  });

  it.each([
    ['§6.5 exact matches only the same string', 'test-app', 'test-app', true],
    ['§6.5 exact is case-sensitive', 'test-app', 'Test-App', false],
    ['§6.5 prefix matches a longer value', 'test-*', 'test-app', true],
    ['§6.5 prefix rejects a different start', 'test-*', 'prod-app', false],
    ['§6.5 suffix matches the end', '*-app', 'test-app', true],
    ['§6.5 suffix rejects a different end', '*-app', 'test-db', false],
    ['§6.5 presence matches any non-empty value', '*', 'x', true],
    ['§6.5 presence does not match the empty value', '*', '', false],
  ])('%s', (_rule, pattern, value, expected) => {
    expect(matchesString(toStringMatch(pattern), value)).toBe(expected);
  });
});

describe('identity matching (§6.5 step 6)', () => {
  const sleep = { trustDomain: 'cluster.local', namespace: 'default', serviceAccount: 'sleep' };

  it.each([
    ['§6.5 principal written without spiffe:// matches', 'cluster.local/ns/default/sa/sleep', 'cluster.local/ns/default/sa/sleep', true],
    ['§6.5 principal written with spiffe:// never matches (ztunnel#1901)', 'spiffe://cluster.local/ns/default/sa/sleep', 'cluster.local/ns/default/sa/sleep', false],
    ['§6.5 principal presence fails without a peer identity', '*', undefined, false],
    ['§6.5 exact principal fails without a peer identity', 'cluster.local/ns/default/sa/sleep', undefined, false],
  ])('%s', (_rule, pattern, principal, expected) => {
    expect(matchesPrincipal(toStringMatch(pattern), principal)).toBe(expected);
  });

  it('§6.5 the peer ID is compared without its spiffe:// scheme', () => {
    expect(normalizePrincipal('spiffe://cluster.local/ns/default/sa/sleep')).toBe('cluster.local/ns/default/sa/sleep');
    expect(parsePrincipal('spiffe://td.example/ns/a/sa/b')).toEqual({ trustDomain: 'td.example', namespace: 'a', serviceAccount: 'b' });
    expect(parsePrincipal('not/a/spiffe/id')).toBeUndefined();
  });

  it.each([
    ['§6.5 namespaces compare against the SPIFFE namespace', 'default', sleep, true],
    ['§6.5 namespaces reject another namespace', 'prod', sleep, false],
    ['§6.5 namespace presence needs an identity', '*', undefined, false],
  ])('%s', (_rule, pattern, id, expected) => {
    expect(matchesNamespace(toStringMatch(pattern), id)).toBe(expected);
  });

  it.each([
    ['§6.1 serviceAccounts "ns/sa" names the namespace', 'default/sleep', 'prod', sleep, true],
    ['§6.1 serviceAccounts bare "sa" means the policy namespace', 'sleep', 'default', sleep, true],
    ['§6.1 bare "sa" in a policy of another namespace does not match', 'sleep', 'prod', sleep, false],
    ['§6.5 serviceAccounts ignore the trust domain', 'default/sleep', 'default', { ...sleep, trustDomain: 'other.td' }, true],
    ['§6.5 serviceAccounts fail without an identity', 'default/sleep', 'default', undefined, false],
  ])('%s', (_rule, value, policyNs, id, expected) => {
    expect(matchesServiceAccount(toServiceAccountMatch(value, policyNs), id)).toBe(expected);
  });

  it.each([
    ['§6.5 port "80" is a port', '80', 80],
    ['§6.5 port "65535" is the largest port', '65535', 65535],
    ['§6.5 port "65536" is dropped', '65536', undefined],
    ['§6.5 named port "http" is dropped', 'http', undefined],
    ['§6.5 signed "+80" is dropped (ParseUint)', '+80', undefined],
  ])('%s', (_rule, text, expected) => {
    expect(parsePortValue(text)).toBe(expected);
  });

  it('§6.5 a field pair passes when positive is empty or any matches, and no negative matches', () => {
    const eq = (x: number) => (y: number) => x === y;
    expect(evaluatePair('ports', [], [], eq(80)).pass).toBe(true);
    expect(evaluatePair('ports', [80, 81], [], eq(80)).pass).toBe(true);
    expect(evaluatePair('ports', [81], [], eq(80)).pass).toBe(false);
    expect(evaluatePair('ports', [], [80], eq(80))).toEqual({ pass: false, detail: 'notPorts: a value matched' });
  });
});
