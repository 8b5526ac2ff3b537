import type { ConfigProblem } from './compute-mesh';
import { objectStatuses, statusWrites } from './object-statuses';

const problem = (key: string, level: ConfigProblem['level'], field = 'spec.x'): ConfigProblem => ({
  key,
  object: key,
  level,
  code: 'CODE',
  field,
  message: 'text',
  stage: 'validation',
});

describe('objectStatuses', () => {
  it('groups messages per object, leaves info out and adds the condition for rejected objects', () => {
    const statuses = objectStatuses(
      [problem('A/ns/a', 'error'), problem('A/ns/a', 'warning', 'spec.y'), problem('B/ns/b', 'info'), problem('', 'error')],
      new Map([['A/ns/a', 'last-good']]),
    );
    expect([...statuses.keys()]).toEqual(['A/ns/a']);
    expect(statuses.get('A/ns/a')).toEqual({
      conditions: [expect.objectContaining({ type: 'Reconciled', status: 'False', reason: 'ServingLastGoodVersion' })],
      validationMessages: [
        { level: 'error', field: 'spec.x', message: 'CODE: text' },
        { level: 'warning', field: 'spec.y', message: 'CODE: text' },
      ],
    });
  });

  it('marks an object with no good version as Rejected even without a message of its own', () => {
    expect(objectStatuses([], new Map([['A/ns/a', 'excluded']])).get('A/ns/a')?.conditions?.[0]?.reason).toBe('Rejected');
  });
});

describe('statusWrites', () => {
  const status = { validationMessages: [{ level: 'error' as const, field: 'f', message: 'm' }] };
  const other = { validationMessages: [{ level: 'warning' as const, field: 'f', message: 'm' }] };
  it.each([
    ['nothing to nothing', new Map(), new Map(), []],
    ['a new status', new Map(), new Map([['k', status]]), [['k', status]]],
    ['an unchanged status', new Map([['k', status]]), new Map([['k', { ...status }]]), []],
    ['a changed status', new Map([['k', status]]), new Map([['k', other]]), [['k', other]]],
    ['a cleared status', new Map([['k', status]]), new Map(), [['k', undefined]]],
  ])('%s', (_name, reported, next, writes) => {
    expect(statusWrites(reported, next)).toEqual(writes);
  });
});
