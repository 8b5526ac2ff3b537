// `node apps/ztunnel/dist/main.js`: parse the environment once, start, and on SIGTERM/SIGINT drain and exit. A bad
// setting exits 2 with every problem listed; a failure to start exits 1.

import pino from 'pino';

import { startZtunnel, type Ztunnel } from './app';
import { parseZtunnelConfig } from './config';

async function main(): Promise<void> {
  const parsed = parseZtunnelConfig(process.env);
  if (!parsed.ok) {
    process.stderr.write(`ztunnel: invalid configuration:\n${parsed.errors.map((e) => `  ${e}\n`).join('')}`);
    process.exit(2);
  }
  const logger = pino({ level: parsed.config.LOG_LEVEL, base: { component: 'ztunnel', node: parsed.config.NODE_NAME } });
  let ztunnel: Ztunnel;
  try {
    ztunnel = await startZtunnel({ config: parsed.config, logger });
  } catch (cause) {
    logger.fatal({ err: cause }, 'ztunnel failed to start');
    process.exit(1);
  }
  const stop = (signal: string): void => {
    logger.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => process.exit(1), parsed.config.WEFT_DRAIN_DEADLINE_MS + 2_000);
    ztunnel.close().then(
      () => {
        clearTimeout(deadline);
        process.exit(0);
      },
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
