// `node apps/ztunnel/dist/main.js`: parse the environment once, start, and on SIGTERM/SIGINT drain and exit (exit
// codes: see @weft/process-lifecycle's runComponent).

import { runComponent } from '@weft/process-lifecycle';
import pino from 'pino';

import { startZtunnel } from './app';
import { parseZtunnelConfig } from './config';

void runComponent({
  name: 'ztunnel',
  parsed: parseZtunnelConfig(process.env),
  logger: (config) => pino({ level: config.LOG_LEVEL, base: { component: 'ztunnel', node: config.NODE_NAME } }),
  start: (config, logger) => startZtunnel({ config, logger }),
  drainDeadlineMs: (config) => config.WEFT_DRAIN_DEADLINE_MS,
});
