import { structurallyEqual } from './structurally-equal';

describe('structurallyEqual', () => {
  it.each<[string, unknown, unknown, boolean]>([
    ['equal primitives', 'a', 'a', true],
    ['different primitives', 1, 2, false],
    ['NaN and NaN', NaN, NaN, true],
    ['null and undefined', null, undefined, false],
    ['equal nested records', { a: [1, { b: 'x' }] }, { a: [1, { b: 'x' }] }, true],
    ['records differing deep down', { a: [1, { b: 'x' }] }, { a: [1, { b: 'y' }] }, false],
    ['arrays of different length', [1, 2], [1, 2, 3], false],
    ['an array and a record', [1], { 0: 1 }, false],
    ['an undefined property and a missing one', { a: 1, w: undefined }, { a: 1 }, true],
    ['a property only on one side', { a: 1 }, { a: 1, b: 2 }, false],
    ['equal Maps', new Map([[80, 8080]]), new Map([[80, 8080]]), true],
    ['Maps with different values', new Map([[80, 8080]]), new Map([[80, 9090]]), false],
    ['Maps with different keys', new Map([[80, 8080]]), new Map([[81, 8080]]), false],
    ['Maps with different keys holding undefined', new Map([[1, undefined]]), new Map([[2, undefined]]), false],
    ['a Map and a record', new Map(), {}, false],
    ['equal byte arrays', Uint8Array.of(1, 2), Uint8Array.of(1, 2), true],
    ['different byte arrays', Uint8Array.of(1, 2), Uint8Array.of(1, 3), false],
  ])('%s → %s', (_name, a, b, expected) => {
    expect(structurallyEqual(a, b)).toBe(expected);
    expect(structurallyEqual(b, a)).toBe(expected);
  });
});
