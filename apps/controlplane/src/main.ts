// `node apps/controlplane/dist/main.js`: parse the environment once, start, and on SIGTERM/SIGINT drain and exit
// (exit codes: see @weft/process-lifecycle's runComponent).

import { runComponent } from '@weft/process-lifecycle';

import { startControlplane } from './app';
import { parseControlplaneConfig } from './config';
import { createLogger } from './logging';

void runComponent({
  name: 'controlplane',
  parsed: parseControlplaneConfig(process.env),
  logger: (config) => createLogger(config.LOG_LEVEL),
  start: (config, logger) => startControlplane({ config, logger }),
  drainDeadlineMs: (config) => config.WEFT_DRAIN_DEADLINE_MS,
});
