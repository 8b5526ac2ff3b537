import { EMPTY_MATCH } from '@weft/mesh-model';
import type { SpiffeIdentity } from '@weft/policy';

import { authorization, meshOf, workload } from '@weft/testing';
import { createAuthorizer, type Authorizer } from './authorizer';
import { createConnectionRegistry, type RevokedConnection } from './connection-registry';

const sa = (serviceAccount: string): SpiffeIdentity => ({ trustDomain: 'cluster.local', namespace: 'default', serviceAccount });
const api = workload({ name: 'api', addresses: ['10.0.1.1'] });
const other = workload({ name: 'other', namespace: 'other', addresses: ['10.0.1.2'] });
const allowClient = authorization({
  name: 'allow-client',
  rules: [{ clauses: [{ matches: [{ ...EMPTY_MATCH, principals: [{ kind: 'exact', value: 'cluster.local/ns/default/sa/client' }] }] }] }],
});

function setup() {
  const store = meshOf({ workloads: [api, other] });
  const revoked: RevokedConnection[] = [];
  const real = createAuthorizer(store);
  const evaluations = { count: 0 };
  const authorizer: Authorizer = {
    ...real,
    authorize(request) {
      evaluations.count += 1;
      return real.authorize(request);
    },
  };
  const registry = createConnectionRegistry({ state: store, authorizer, onRevoked: (r) => revoked.push(r) });
  store.subscribe((change) => {
    registry.onMeshChange(change);
  });
  const track = (id: string, serviceAccount: string, pod = api) =>
    registry.track({ id, workload: pod, connection: { srcIp: '10.0.0.1', dstIp: pod.addresses[0] ?? '', dstPort: 8080, srcIdentity: sa(serviceAccount) } });
  return { store, registry, revoked, track, evaluations };
}

describe('createConnectionRegistry (reference §2.4, §6.5 step 8)', () => {
  it('closes exactly the connections a new policy no longer allows', () => {
    const { store, registry, revoked, track } = setup();
    track('c1', 'client');
    track('c2', 'intruder');
    track('c3', 'intruder', other);
    store.apply({ authorizations: { upsert: [allowClient] } });
    expect(revoked.map((r) => [r.id, r.message])).toEqual([
      ['c2', 'connection closed due to policy change: allow policies exist, but none allowed'],
    ]);
    expect(registry.size).toBe(2);
  });

  it('a workload update that attaches a policy re-evaluates too', () => {
    const { store, revoked, track } = setup();
    track('c1', 'intruder');
    store.apply({ authorizations: { upsert: [{ ...allowClient, scope: 'WORKLOAD_SELECTOR' }] } });
    expect(revoked).toEqual([]);
    store.apply({ workloads: { upsert: [{ ...api, authorizationPolicies: ['default/allow-client'] }] } });
    expect(revoked.map((r) => r.id)).toEqual(['c1']);
  });

  it('changes that cannot affect authorization do not re-evaluate', () => {
    const { store, track, evaluations } = setup();
    track('c1', 'client');
    store.apply({ workloads: { upsert: [workload({ name: 'new', addresses: ['10.0.9.9'] })] } });
    expect(evaluations.count).toBe(0);
    store.apply({ authorizations: { upsert: [allowClient] } });
    expect(evaluations.count).toBe(1);
  });

  it('untracked connections are not re-evaluated, and untrack is idempotent', () => {
    const { store, registry, revoked, track } = setup();
    const untrack = track('c1', 'intruder');
    untrack();
    untrack();
    store.apply({ authorizations: { upsert: [allowClient] } });
    expect(revoked).toEqual([]);
    expect(registry.size).toBe(0);
  });

  it('a revoked connection is reported once', () => {
    const { store, registry, revoked, track } = setup();
    track('c1', 'intruder');
    store.apply({ authorizations: { upsert: [allowClient] } });
    expect(registry.reevaluate()).toEqual([]);
    expect(revoked).toHaveLength(1);
  });
});
