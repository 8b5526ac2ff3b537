import { applyLabelChanges, parseLabelChange } from './kubectl';

describe('parseLabelChange', () => {
  it.each<[string, unknown]>([
    ['istio.io/dataplane-mode=ambient', { key: 'istio.io/dataplane-mode', value: 'ambient' }],
    ['istio.io/dataplane-mode-', { key: 'istio.io/dataplane-mode', remove: true }],
    ['app=', { key: 'app', value: '' }],
    ['version=v1.2_3', { key: 'version', value: 'v1.2_3' }],
  ])('%s', (arg, change) => {
    expect(parseLabelChange(arg)).toEqual(change);
  });

  it.each<[string, string]>([
    ['ambient', 'neither key=value nor key-'],
    ['=x', 'neither key=value nor key-'],
    ['a b=c', 'invalid label key "a b"'],
    ['-=x', 'invalid label key "-"'],
    ['app=has space', 'invalid label value "has space" for app'],
    [`app=${'x'.repeat(64)}`, 'invalid label value'],
    ['Bad_Prefix.io/x=y', 'invalid label key'],
  ])('refuses %s', (arg, message) => {
    expect(() => parseLabelChange(arg)).toThrow(message);
  });
});

describe('applyLabelChanges', () => {
  const labels = { app: 'httpbin', 'istio.io/dataplane-mode': 'ambient' };
  it('sets, removes, keeps the rest, and never changes its input', () => {
    expect(applyLabelChanges(labels, [{ key: 'istio.io/dataplane-mode', remove: true }, { key: 'version', value: 'v1' }], false)).toEqual({ app: 'httpbin', version: 'v1' });
    expect(labels).toEqual({ app: 'httpbin', 'istio.io/dataplane-mode': 'ambient' });
  });

  it('removing a label that is not there is fine; setting the same value needs no --overwrite', () => {
    expect(applyLabelChanges(labels, [{ key: 'nope', remove: true }, { key: 'app', value: 'httpbin' }], false)).toEqual(labels);
  });

  it("refuses to change a value without --overwrite, with kubectl's message", () => {
    expect(() => applyLabelChanges(labels, [{ key: 'istio.io/dataplane-mode', value: 'none' }], false)).toThrow("'istio.io/dataplane-mode' already has a value (ambient), and --overwrite is false");
    expect(applyLabelChanges(labels, [{ key: 'istio.io/dataplane-mode', value: 'none' }], true)['istio.io/dataplane-mode']).toBe('none');
  });
});
