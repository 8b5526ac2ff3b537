// What a component has started, closed in reverse order: every listener, watch and timer is pushed here by the code
// that opened it, and `closeAll` undoes them newest first. A failing step is logged and the rest still run.

export interface LifecycleLogger {
  info(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export type CleanupStep = () => Promise<void> | void;

export class CleanupStack {
  private readonly steps: CleanupStep[] = [];

  constructor(private readonly logger: Pick<LifecycleLogger, 'error'>) {}

  push(step: CleanupStep): void {
    this.steps.push(step);
  }

  /** A step that runs after every other one, whenever it is added: a monitoring server that should see the drain. */
  pushClosedLast(step: CleanupStep): void {
    this.steps.unshift(step);
  }

  /** Runs every step pushed so far, newest first, each once; errors are logged, never thrown. */
  async closeAll(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step();
      } catch (cause) {
        this.logger.error({ err: cause }, 'shutdown step failed');
      }
    }
  }
}
