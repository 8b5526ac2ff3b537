import { FieldReader, parseGoDuration } from './validate-reader';

describe('parseGoDuration', () => {
  it.each([
    ['2s', 2000], ['1.5s', 1500], ['500ms', 500], ['1m', 60_000], ['1h30m', 5_400_000], ['0', 0], ['.5s', 500], ['100us', 0.1], ['-1s', -1000],
  ] as const)('%s is %d ms', (text, ms) => {
    expect(parseGoDuration(text)).toBeCloseTo(ms);
  });

  it.each(['', '2', 's', '2 s', '2sec', '1d', 'abc', '1.2.3s'])('%j is not a duration', (text) => {
    expect(parseGoDuration(text)).toBeUndefined();
  });
});

describe('FieldReader', () => {
  it('reports wrong types with the path and keeps going', () => {
    const r = new FieldReader('VirtualService default/x');
    expect(r.string(3, 'spec.a')).toBeUndefined();
    expect(r.stringList(['a', 1], 'spec.b')).toEqual(['a']);
    expect(r.integer('7', 'spec.c', 'ERR_X', 0)).toBe(7);
    expect(r.integer(null, 'spec.d', 'ERR_X', 0)).toBeUndefined();
    expect(r.duration('-1s', 'spec.e', 'ERR_D')).toBeUndefined();
    expect(r.messages.map((m) => `${m.code} ${m.field}`)).toEqual(['ERR_FIELD_WRONG_TYPE spec.a', 'ERR_FIELD_WRONG_TYPE spec.b[1]', 'ERR_D spec.e']);
    expect(r.messages.every((m) => m.object === 'VirtualService default/x' && m.level === 'error')).toBe(true);
  });
});
