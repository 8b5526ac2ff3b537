import { retryDelayMs } from './reconcile-loop';

describe('retryDelayMs', () => {
  it.each([
    [1, 1_000],
    [2, 2_000],
    [3, 4_000],
    [6, 32_000],
    [7, 60_000],
    [50, 60_000],
    [0, 1_000],
  ])('after %i failed passes waits %i ms', (failures, expected) => {
    expect(retryDelayMs(failures, 1_000, 60_000)).toBe(expected);
  });
});
