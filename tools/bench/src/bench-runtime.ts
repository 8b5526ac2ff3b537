// What every benchmark entry shares: progress lines on stderr (the report goes to stdout), a cleanup registry whose
// steps run once, in reverse order, on success, failure, Ctrl-C or SIGTERM, and the main() around a run.

export const benchStart = performance.now();

export function progress(message: string): void {
  process.stderr.write(`[bench +${((performance.now() - benchStart) / 1000).toFixed(1)}s] ${message}\n`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const cleanups: { what: string; run: () => Promise<void> | void }[] = [];
let cleaning: Promise<void> | undefined;

export function onCleanup(what: string, run: () => Promise<void> | void): void {
  cleanups.push({ what, run });
}

export interface BenchMain<O> {
  /** The options, or undefined for --help; throws with the problem otherwise. */
  readonly parse: (argv: readonly string[]) => O | undefined;
  readonly usage: string;
  readonly run: (options: O) => Promise<void>;
  /** Runs before the registered steps (e.g. destroying client sockets so servers can close). */
  readonly beforeCleanup?: () => void;
  /** Synchronous last resort in 'exit' (an exception escaped): kill what must not outlive the bench. */
  readonly lastResort: () => void;
}

function cleanup(beforeCleanup: (() => void) | undefined): Promise<void> {
  cleaning ??= (async () => {
    beforeCleanup?.();
    for (const step of cleanups.splice(0).reverse()) {
      try {
        await step.run();
      } catch (cause) {
        progress(`cleanup step "${step.what}" failed: ${String(cause)}`);
      }
    }
  })();
  return cleaning;
}

export async function benchMain<O>(bench: BenchMain<O>): Promise<void> {
  let options: O | undefined;
  try {
    options = bench.parse(process.argv.slice(2));
  } catch (cause) {
    process.stderr.write(`${cause instanceof Error ? cause.message : String(cause)}\n${bench.usage}`);
    process.exitCode = 2;
    return;
  }
  if (options === undefined) {
    process.stdout.write(bench.usage);
    return;
  }
  const onSignal = (name: NodeJS.Signals): void => {
    progress(`${name}: stopping the child processes and cleaning up`);
    void cleanup(bench.beforeCleanup).finally(() => process.exit(name === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', bench.lastResort);
  try {
    await bench.run(options);
  } catch (cause) {
    process.stderr.write(`bench failed: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}\n`);
    process.exitCode = 1;
  } finally {
    await cleanup(bench.beforeCleanup);
  }
  // Everything is closed; if a handle still holds the loop open, say so rather than hang.
  setTimeout(() => {
    progress('a handle is still open after cleanup; exiting');
    process.exit(process.exitCode ?? 0);
  }, 5_000).unref();
}
