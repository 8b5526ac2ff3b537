// `node apps/controlplane/dist/main.js`: parse the environment once, start, and on SIGTERM/SIGINT drain and exit.
// A bad setting exits 2 with every problem listed; a failure to start exits 1.

import { startControlplane, type Controlplane } from './app';
import { parseControlplaneConfig } from './config';
import { createLogger } from './logging';

async function main(): Promise<void> {
  const parsed = parseControlplaneConfig(process.env);
  if (!parsed.ok) {
    process.stderr.write(`controlplane: invalid configuration:\n${parsed.errors.map((e) => `  ${e}\n`).join('')}`);
    process.exit(2);
  }
  const logger = createLogger(parsed.config.LOG_LEVEL);
  let controlplane: Controlplane;
  try {
    controlplane = await startControlplane({ config: parsed.config, logger });
  } catch (cause) {
    logger.fatal({ err: cause }, 'controlplane failed to start');
    process.exit(1);
  }
  const stop = (signal: string): void => {
    logger.info({ signal }, 'shutting down');
    controlplane.close().then(
      () => process.exit(0),
      (cause: unknown) => {
        logger.error({ err: cause }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

void main();
