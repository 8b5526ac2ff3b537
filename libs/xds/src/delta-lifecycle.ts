// Small lifecycle helpers shared by the Delta ADS server and client: a one-shot signal and a wait with a deadline
// that never leaves a timer behind.

/** A promise that `fire()` resolves; firing twice is harmless. */
export interface Signal {
  readonly fired: Promise<void>;
  fire(): void;
}

export function createSignal(): Signal {
  let fire: () => void = () => undefined;
  const fired = new Promise<void>((resolve) => {
    fire = resolve;
  });
  return { fired, fire: () => fire() };
}

/** Resolves true when `work` settles within `ms`, false when the deadline comes first; clears its timer either way. */
export function settleWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let deadline: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    deadline = setTimeout(() => resolve(false), ms);
  });
  return Promise.race([work.then(() => true), timeout]).finally(() => clearTimeout(deadline));
}
