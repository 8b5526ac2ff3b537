// Table tests for header operations in Envoy's order: remove, set (overwrite), add (append).

import type { HeaderOperations } from '@weft/mesh-model';
import { applyHeaderOperations } from './apply-header-operations';

function ops(fields: Partial<HeaderOperations>): HeaderOperations {
  return { set: {}, add: {}, remove: [], ...fields };
}

describe('applyHeaderOperations', () => {
  const cases: [string, Record<string, string | string[]>, HeaderOperations | undefined, Record<string, string | string[]>][] = [
    ['undefined changes nothing', { a: '1' }, undefined, { a: '1' }],
    ['remove', { a: '1', b: '2' }, ops({ remove: ['a'] }), { b: '2' }],
    ['remove lower-cases the name', { 'x-a': '1' }, ops({ remove: ['X-A'] }), {}],
    ['set adds a missing header', {}, ops({ set: { 'x-a': 'v' } }), { 'x-a': 'v' }],
    ['set overwrites every existing value', { 'x-a': ['1', '2'] }, ops({ set: { 'x-a': 'v' } }), { 'x-a': 'v' }],
    ['set lower-cases the name', {}, ops({ set: { 'X-A': 'v' } }), { 'x-a': 'v' }],
    ['add to a missing header', {}, ops({ add: { 'x-a': 'v' } }), { 'x-a': 'v' }],
    ['add appends to a single value', { 'x-a': '1' }, ops({ add: { 'x-a': 'v' } }), { 'x-a': ['1', 'v'] }],
    ['add appends to several values', { 'x-a': ['1', '2'] }, ops({ add: { 'x-a': 'v' } }), { 'x-a': ['1', '2', 'v'] }],
    ['remove runs before set: a removed-and-set header is set', { 'x-a': '1' }, ops({ remove: ['x-a'], set: { 'x-a': 'v' } }), { 'x-a': 'v' }],
    ['remove runs before add: only the added value is left', { 'x-a': '1' }, ops({ remove: ['x-a'], add: { 'x-a': 'v' } }), { 'x-a': 'v' }],
    ['set runs before add: add appends to the set value', { 'x-a': '1' }, ops({ set: { 'x-a': 's' }, add: { 'x-a': 'a' } }), { 'x-a': ['s', 'a'] }],
    ['empty values are dropped (no keep_empty_value)', { 'x-a': '1' }, ops({ set: { 'x-a': '' }, add: { 'x-b': '' } }), { 'x-a': '1' }],
    ['pseudo-headers and host are not modified', { host: 'a' }, ops({ remove: ['host'], set: { ':path': '/x', host: 'b' }, add: { ':authority': 'c' } }), { host: 'a' }],
  ];
  it.each(cases)('%s', (_name, headers, operations, expected) => {
    applyHeaderOperations(headers, operations);
    expect(headers).toEqual(expected);
  });
});
