// `node apps/cni-node/dist/main.js`: parse the environment once, start the agent, and on SIGTERM/SIGINT undo its
// node changes and exit. A bad setting exits 2 with every problem listed; a failure to start exits 1.

import pino from 'pino';

import { startCniNode, type CniNode } from './app';
import { parseCniNodeConfig } from './config';

async function main(): Promise<void> {
  const parsed = parseCniNodeConfig(process.env);
  if (!parsed.ok) {
    process.stderr.write(`cni-node: invalid configuration:\n${parsed.errors.map((e) => `  ${e}\n`).join('')}`);
    process.exit(2);
  }
  const logger = pino({ level: parsed.config.LOG_LEVEL, base: { component: 'cni-node', node: parsed.config.NODE_NAME } });
  let node: CniNode;
  try {
    node = await startCniNode({ config: parsed.config, logger });
  } catch (cause) {
    logger.fatal({ err: cause }, 'cni-node failed to start');
    process.exit(1);
  }
  const stop = (signal: string): void => {
    logger.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => process.exit(1), parsed.config.WEFT_DRAIN_DEADLINE_MS);
    node.close().then(
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
