// `node apps/cni-node/dist/main.js`: parse the environment once, start the agent, and on SIGTERM/SIGINT undo its
// node changes and exit (exit codes: see @weft/process-lifecycle's runComponent).

import { runComponent } from '@weft/process-lifecycle';
import pino from 'pino';

import { startCniNode } from './app';
import { parseCniNodeConfig } from './config';

void runComponent({
  name: 'cni-node',
  parsed: parseCniNodeConfig(process.env),
  logger: (config) => pino({ level: config.LOG_LEVEL, base: { component: 'cni-node', node: config.NODE_NAME } }),
  start: (config, logger) => startCniNode({ config, logger }),
  drainDeadlineMs: (config) => config.WEFT_DRAIN_DEADLINE_MS,
});
