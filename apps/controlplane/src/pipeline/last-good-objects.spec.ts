import type { KubeObject } from '@weft/mesh-config';
import { mergeWithLastGood } from './last-good-objects';

const policy = (name: string, generation: number): KubeObject => ({
  apiVersion: 'security.istio.io/v1',
  kind: 'AuthorizationPolicy',
  metadata: { name, namespace: 'default', generation },
  spec: {},
});

describe('mergeWithLastGood', () => {
  it('serves valid objects and remembers them', () => {
    const result = mergeWithLastGood([policy('a', 1)], new Set(), new Map());
    expect(result.effective).toEqual([policy('a', 1)]);
    expect([...result.lastGood.keys()]).toEqual(['AuthorizationPolicy/default/a']);
  });

  it('keeps the last good version of an object that became invalid', () => {
    const first = mergeWithLastGood([policy('a', 1)], new Set(), new Map());
    const second = mergeWithLastGood([policy('a', 2)], new Set(['AuthorizationPolicy/default/a']), first.lastGood);
    expect(second.effective).toEqual([policy('a', 1)]);
    expect(second.heldBack).toEqual(['AuthorizationPolicy/default/a']);
    expect(second.excluded).toEqual([]);
  });

  it('leaves out an invalid object that never had a good version', () => {
    const result = mergeWithLastGood([policy('b', 1)], new Set(['AuthorizationPolicy/default/b']), new Map());
    expect(result.effective).toEqual([]);
    expect(result.excluded).toEqual(['AuthorizationPolicy/default/b']);
  });

  it('forgets objects deleted from the source, so a later bad re-create is excluded', () => {
    const first = mergeWithLastGood([policy('a', 1)], new Set(), new Map());
    const deleted = mergeWithLastGood([], new Set(), first.lastGood);
    expect(deleted.lastGood.size).toBe(0);
    const recreated = mergeWithLastGood([policy('a', 3)], new Set(['AuthorizationPolicy/default/a']), deleted.lastGood);
    expect(recreated.effective).toEqual([]);
  });

  it('takes a fixed object as the new good version', () => {
    const first = mergeWithLastGood([policy('a', 1)], new Set(), new Map());
    const broken = mergeWithLastGood([policy('a', 2)], new Set(['AuthorizationPolicy/default/a']), first.lastGood);
    const fixed = mergeWithLastGood([policy('a', 3)], new Set(), broken.lastGood);
    expect(fixed.effective).toEqual([policy('a', 3)]);
    expect(fixed.heldBack).toEqual([]);
  });
});
