// A component's `main`: parse the environment once, start, and on SIGTERM or SIGINT close (drain) and exit. A bad
// setting exits 2 with every problem listed; a failure to start exits 1; a shutdown that fails, or outlasts the drain
// deadline plus a grace for the steps after draining, exits 1; a clean one exits 0.

import type { LifecycleLogger } from './cleanup-stack';

/** How long after the drain deadline a shutdown may still take before the process gives up on it. */
export const SHUTDOWN_GRACE_MS = 2_000;

export type ParsedConfig<C> = { readonly ok: true; readonly config: C } | { readonly ok: false; readonly errors: readonly string[] };

export interface ComponentLogger extends LifecycleLogger {
  fatal(fields: Record<string, unknown>, message: string): void;
}

export interface RunComponentOptions<C, L extends ComponentLogger, R extends { close(): Promise<void> }> {
  /** As it appears in messages: `ztunnel`, `waypoint` … */
  readonly name: string;
  readonly parsed: ParsedConfig<C>;
  readonly logger: (config: C) => L;
  readonly start: (config: C, logger: L) => Promise<R>;
  readonly drainDeadlineMs: (config: C) => number;
  /** Seams for tests; default the process's. */
  readonly signals?: { once(signal: 'SIGTERM' | 'SIGINT', listener: () => void): unknown };
  readonly exit?: (code: number) => void;
  readonly stderr?: (text: string) => void;
}

export async function runComponent<C, L extends ComponentLogger, R extends { close(): Promise<void> }>(options: RunComponentOptions<C, L, R>): Promise<void> {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const signals = options.signals ?? process;
  const { parsed } = options;
  if (!parsed.ok) {
    (options.stderr ?? ((text: string) => void process.stderr.write(text)))(`${options.name}: invalid configuration:\n${parsed.errors.map((e) => `  ${e}\n`).join('')}`);
    exit(2);
    return;
  }
  const logger = options.logger(parsed.config);
  let component: R;
  try {
    component = await options.start(parsed.config, logger);
  } catch (cause) {
    logger.fatal({ err: cause }, `${options.name} failed to start`);
    exit(1);
    return;
  }
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => {
      logger.error({ deadlineMs: options.drainDeadlineMs(parsed.config) + SHUTDOWN_GRACE_MS }, 'shutdown outlasted its deadline');
      exit(1);
    }, options.drainDeadlineMs(parsed.config) + SHUTDOWN_GRACE_MS);
    component.close().then(
      () => {
        clearTimeout(deadline);
        exit(0);
      },
      (cause: unknown) => {
        clearTimeout(deadline);
        logger.error({ err: cause }, 'shutdown failed');
        exit(1);
      },
    );
  };
  signals.once('SIGTERM', () => stop('SIGTERM'));
  signals.once('SIGINT', () => stop('SIGINT'));
}
