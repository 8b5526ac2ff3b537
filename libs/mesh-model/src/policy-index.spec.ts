import { authorization, podUid, workload } from '../test/fixtures';
import { createMeshStore } from './mesh-store';
import { PolicyIndex } from './policy-index';
import type { Authorization, Workload } from './types';

const key = (p: Authorization): string => `${p.namespace}/${p.name}`;

const nsDeny = authorization({ name: 'deny-legacy', namespace: 'shop', scope: 'NAMESPACE', action: 'DENY' });
const nsAllow = authorization({ name: 'allow-frontend', namespace: 'shop', scope: 'NAMESPACE' });
const otherNs = authorization({ name: 'allow-all', namespace: 'bank', scope: 'NAMESPACE' });
const mesh = authorization({ name: 'istio_converted_static_strict', namespace: 'istio-system', scope: 'GLOBAL' });
const selector = authorization({ name: 'cart-only', namespace: 'shop', scope: 'WORKLOAD_SELECTOR' });
const foreignSelector = authorization({ name: 'payments', namespace: 'bank', scope: 'WORKLOAD_SELECTOR' });

function cart(authorizationPolicies: string[]): Workload {
  return workload({ uid: podUid('cart', 'shop'), namespace: 'shop', authorizationPolicies });
}

describe('policiesFor', () => {
  const store = createMeshStore();
  store.apply({ authorizations: { upsert: [selector, mesh, otherNs, nsDeny, foreignSelector, nsAllow] } });

  it.each<[string, Workload, string[], string[]]>([
    [
      'namespace policies (sorted), then GLOBAL ones, then the listed selector policies',
      cart(['shop/cart-only']),
      [key(nsAllow), key(nsDeny), key(mesh), key(selector)],
      [],
    ],
    [
      'no selector policy that the workload does not list, even in its namespace',
      cart([]),
      [key(nsAllow), key(nsDeny), key(mesh)],
      [],
    ],
    [
      'unknown listed keys reported, not thrown, and each policy once',
      cart(['shop/not-pushed-yet', 'shop/cart-only', 'shop/deny-legacy', 'shop/cart-only', 'shop/not-pushed-yet']),
      [key(nsAllow), key(nsDeny), key(mesh), key(selector)],
      ['shop/not-pushed-yet'],
    ],
    [
      'a selector policy of another namespace when the workload lists it',
      cart(['bank/payments']),
      [key(nsAllow), key(nsDeny), key(mesh), key(foreignSelector)],
      [],
    ],
    [
      'only GLOBAL policies for a namespace without any',
      workload({ uid: podUid('x', 'empty'), namespace: 'empty' }),
      [key(mesh)],
      [],
    ],
  ])('returns %s', (_name, w, policies, unknown) => {
    const result = store.policiesFor(w);
    expect(result.policies.map(key)).toEqual(policies);
    expect(result.unknown).toEqual(unknown);
  });

  it('does not depend on the order policies were written in', () => {
    const reversed = createMeshStore();
    reversed.apply({ authorizations: { upsert: [nsAllow, foreignSelector, nsDeny, otherNs, mesh, selector] } });
    expect(reversed.policiesFor(cart(['shop/cart-only']))).toEqual(store.policiesFor(cart(['shop/cart-only'])));
  });
});

describe('policy updates and removal', () => {
  it('moves a policy whose scope changes to its new bucket', () => {
    const store = createMeshStore();
    store.apply({ authorizations: { upsert: [nsAllow] } });
    store.apply({ authorizations: { upsert: [{ ...nsAllow, scope: 'WORKLOAD_SELECTOR' }] } });

    expect(store.policiesFor(cart([])).policies).toEqual([]);
    expect(store.policiesFor(cart(['shop/allow-frontend'])).policies.map(key)).toEqual([key(nsAllow)]);
  });

  it('forgets a removed policy everywhere; a workload still listing it sees it as unknown', () => {
    const store = createMeshStore();
    store.apply({ authorizations: { upsert: [nsAllow, mesh, selector] } });
    const change = store.apply({ authorizations: { remove: [key(mesh), key(selector), 'shop/never-existed'] } });

    expect(change.authorizations.removed).toEqual([key(mesh), key(selector)]);
    expect(change.authorizations.unknownRemovals).toEqual(['shop/never-existed']);
    expect(store.authorizationByKey(key(mesh))).toBeUndefined();
    expect(store.policiesFor(cart(['shop/cart-only']))).toEqual({ policies: [nsAllow], unknown: ['shop/cart-only'] });
  });

  it('leaves no empty namespace bucket behind', () => {
    const index = new PolicyIndex();
    [nsAllow, nsDeny, mesh, selector].forEach((p) => index.put(p));
    expect(index.stats()).toEqual({ policies: 4, namespaces: 2 });
    [nsAllow, nsDeny, mesh, selector].forEach((p) => expect(index.delete(key(p))).toBe(true));
    expect(index.stats()).toEqual({ policies: 0, namespaces: 0 });
  });
});
