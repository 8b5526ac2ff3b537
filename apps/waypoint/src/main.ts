// `node apps/waypoint/dist/main.js`: parse the environment once, start, and on SIGTERM/SIGINT drain and exit (exit
// codes: see @weft/process-lifecycle's runComponent).

import { runComponent } from '@weft/process-lifecycle';
import pino from 'pino';

import { startWaypoint } from './app';
import { parseWaypointConfig } from './config';

void runComponent({
  name: 'waypoint',
  parsed: parseWaypointConfig(process.env),
  logger: (config) => pino({ level: config.LOG_LEVEL, base: { component: 'waypoint', gateway: config.gatewayName, pod: config.POD_NAME } }),
  start: (config, logger) => startWaypoint({ config, logger }),
  drainDeadlineMs: (config) => config.WEFT_DRAIN_DEADLINE_MS,
});
