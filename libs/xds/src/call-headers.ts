// What every xDS and CA client of a proxy sends and logs the same way: the call headers ztunnel's AuthSource sends,
// and the adapter from the libs' `(message, fields)` logger to pino's `(fields, message)`.

import type { DeltaAdsLogger } from './delta-errors';

/** `authorization: Bearer <token>` (none when empty), `clusterid`, and the XDS_HEADER_* extras (lowercase names). */
export function xdsCallHeaders(input: { readonly token: string; readonly clusterId?: string; readonly headers?: Readonly<Record<string, string>> }): Record<string, string> {
  const headers: Record<string, string> = { ...input.headers };
  if (input.clusterId !== undefined && input.clusterId !== '') headers['clusterid'] = input.clusterId;
  const token = input.token.trim();
  if (token !== '') headers['authorization'] = `Bearer ${token}`;
  return headers;
}

/** pino's `(fields, message)` shape. */
export interface FieldsFirstLogger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export function fieldsFirstDeltaLogger(logger: FieldsFirstLogger): DeltaAdsLogger {
  return {
    debug: (message, fields) => logger.debug({ ...fields }, message),
    info: (message, fields) => logger.info({ ...fields }, message),
    warn: (message, fields) => logger.warn({ ...fields }, message),
    error: (message, fields) => logger.error({ ...fields }, message),
  };
}
