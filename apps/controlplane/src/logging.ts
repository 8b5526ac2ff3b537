// One pino logger for the process, and the adapters the libraries' logger shapes need. Libraries take
// `(message, fields)`; pino takes `(fields, message)`.

import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options = { level, base: { component: 'controlplane' } };
  return destination === undefined ? pino(options) : pino(options, destination);
}

type Fields = Readonly<Record<string, unknown>>;

export interface MessageFirstLogger {
  debug(message: string, fields?: Fields): void;
  info(message: string, fields?: Fields): void;
  warn(message: string, fields?: Fields): void;
  error(message: string, fields?: Fields): void;
}

export function messageFirst(logger: Logger, scope: string): MessageFirstLogger {
  const child = logger.child({ scope });
  return {
    debug: (message, fields) => child.debug({ ...fields }, message),
    info: (message, fields) => child.info({ ...fields }, message),
    warn: (message, fields) => child.warn({ ...fields }, message),
    error: (message, fields) => child.error({ ...fields }, message),
  };
}
