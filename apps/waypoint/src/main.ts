// `node apps/waypoint/dist/main.js`: parse the environment once, start, and on SIGTERM/SIGINT drain and exit. A bad
// setting exits 2 with every problem listed; a failure to start exits 1.

import pino from 'pino';

import { startWaypoint, type Waypoint } from './app';
import { parseWaypointConfig } from './config';

async function main(): Promise<void> {
  const parsed = parseWaypointConfig(process.env);
  if (!parsed.ok) {
    process.stderr.write(`waypoint: invalid configuration:\n${parsed.errors.map((e) => `  ${e}\n`).join('')}`);
    process.exit(2);
  }
  const logger = pino({ level: parsed.config.LOG_LEVEL, base: { component: 'waypoint', gateway: parsed.config.gatewayName, pod: parsed.config.POD_NAME } });
  let waypoint: Waypoint;
  try {
    waypoint = await startWaypoint({ config: parsed.config, logger });
  } catch (cause) {
    logger.fatal({ err: cause }, 'waypoint failed to start');
    process.exit(1);
  }
  const stop = (signal: string): void => {
    logger.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => process.exit(1), parsed.config.WEFT_DRAIN_DEADLINE_MS + 2_000);
    waypoint.close().then(
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
