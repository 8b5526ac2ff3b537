// The node authorizer's decision table (reference §3.3), pure values in and out.

import type { Caller } from '../../src/ca/caller-authenticator';
import { createNodeAuthorizer, type NodeAuthorizerOptions } from '../../src/ca/node-authorizer';
import { podIndex } from './ca-fixtures';

const ZTUNNEL_A: Caller = { namespace: 'istio-system', serviceAccount: 'ztunnel', nodeName: 'node-a' };
const REVIEWS = 'spiffe://cluster.local/ns/bookinfo/sa/reviews';
const base: NodeAuthorizerOptions = { trustDomain: 'cluster.local', podsOnNode: podIndex(['node-a/bookinfo/reviews']) };

describe('createNodeAuthorizer', () => {
  it('certifies the caller own identity when no impersonation is asked', () => {
    const caller: Caller = { namespace: 'bookinfo', serviceAccount: 'reviews' };
    expect(createNodeAuthorizer(base).authorize(caller, undefined)).toEqual({
      allow: true,
      impersonated: false,
      identity: { trustDomain: 'cluster.local', namespace: 'bookinfo', serviceAccount: 'reviews' },
    });
    expect(createNodeAuthorizer(base).authorize(caller, '')).toMatchObject({ allow: true, impersonated: false });
  });

  it('lets a trusted node account impersonate a pod on its node', () => {
    expect(createNodeAuthorizer(base).authorize(ZTUNNEL_A, REVIEWS)).toEqual({
      allow: true,
      impersonated: true,
      identity: { trustDomain: 'cluster.local', namespace: 'bookinfo', serviceAccount: 'reviews' },
    });
  });

  it.each<[string, Partial<NodeAuthorizerOptions>, Caller, string, RegExp]>([
    ['pod on another node', {}, { ...ZTUNNEL_A, nodeName: 'node-b' }, REVIEWS, /no running pod .* on node node-b/],
    ['untrusted account', {}, { ...ZTUNNEL_A, serviceAccount: 'default' }, REVIEWS, /not a trusted node account/],
    ['impersonation disabled', { trustedNodeAccounts: [] }, ZTUNNEL_A, REVIEWS, /impersonation is disabled/],
    ['other trust domain', {}, ZTUNNEL_A, 'spiffe://other.td/ns/bookinfo/sa/reviews', /not in trust domain/],
    ['not SPIFFE', {}, ZTUNNEL_A, 'bookinfo/reviews', /invalid/],
    ['unknown caller node', {}, { namespace: 'istio-system', serviceAccount: 'ztunnel', podName: 'z', podUid: 'u' }, REVIEWS, /node of caller .* unknown/],
  ])('denies: %s', (_name, options, caller, identity, reason) => {
    const decision = createNodeAuthorizer({ ...base, ...options }).authorize(caller, identity);
    expect(decision).toEqual({ allow: false, reason: expect.stringMatching(reason) });
  });

  it('honours a configured trusted set and resolves the caller node through the pod lookup (UID checked there)', () => {
    const seen: string[] = [];
    const authorizer = createNodeAuthorizer({
      ...base,
      trustedNodeAccounts: ['weft/node-proxy'],
      callerPods: {
        nodeOf: (ns, pod, uid, sa) => {
          seen.push(`${ns}/${pod}/${uid}/${sa}`);
          return uid === 'uid-1' ? 'node-a' : undefined;
        },
      },
    });
    const caller: Caller = { namespace: 'weft', serviceAccount: 'node-proxy', podName: 'np-1', podUid: 'uid-1' };
    expect(authorizer.authorize(caller, REVIEWS)).toMatchObject({ allow: true });
    expect(authorizer.authorize({ ...caller, podUid: 'stale' }, REVIEWS)).toMatchObject({ allow: false });
    expect(authorizer.authorize(ZTUNNEL_A, REVIEWS)).toMatchObject({ allow: false });
    expect(seen).toEqual(['weft/np-1/uid-1/node-proxy', 'weft/np-1/stale/node-proxy']);
  });

  it('rejects a malformed trusted account at construction with ERR_CA_CONFIG_INVALID', () => {
    expect(() => createNodeAuthorizer({ ...base, trustedNodeAccounts: ['istio-system'] })).toThrow(
      expect.objectContaining({ code: 'ERR_CA_CONFIG_INVALID' }),
    );
  });
});
