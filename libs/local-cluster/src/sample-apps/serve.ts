// What every sample app shares: its flags, one stdout line per request, reading a bounded body, and a `main` that
// prints the bound port (so `--port 0` is usable) and closes on SIGTERM/SIGINT. Node's stdlib only.

import * as http from 'node:http';
import type { AddressInfo, Server as NetServer } from 'node:net';

/** Request bodies past this are refused with 413: the apps echo bodies, they are not upload targets. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** How long `close()` waits for in-flight requests before dropping them. */
export const CLOSE_DEADLINE_MS = 2000;

export interface RunningApp {
  /** The bound port (the real one when started on port 0). */
  readonly port: number;
  /** Stops accepting, then ends open connections after {@link CLOSE_DEADLINE_MS}; idempotent. */
  close(): Promise<void>;
}

export type LogLine = (line: string) => void;

export const stdoutLog: LogLine = (line) => {
  process.stdout.write(`${line}\n`);
};

export class UsageError extends Error {
  readonly code = 'ERR_SAMPLE_APP_USAGE';
}

/** `--name value` / `--name=value` flags, and bare `--name` for the booleans listed. */
export function parseFlags(argv: readonly string[], known: readonly string[], booleans: readonly string[] = []): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const match = /^--([a-z-]+)(?:=(.*))?$/s.exec(arg);
    const name = match?.[1];
    if (match === null || name === undefined || (!known.includes(name) && !booleans.includes(name))) throw new UsageError(`unknown argument ${JSON.stringify(arg)} (flags: ${[...known, ...booleans].map((f) => `--${f}`).join(' ')})`);
    if (booleans.includes(name)) {
      flags.set(name, match[2] ?? 'true');
      continue;
    }
    const value = match[2] ?? argv[++i];
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    flags.set(name, value);
  }
  return flags;
}

export function parsePortFlag(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (value === '' || !Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port takes 0..65535, not ${JSON.stringify(value)}`);
  return port;
}

/** The client's address without the IPv4-mapped prefix (`::ffff:10.244.1.5` → `10.244.1.5`). */
export function clientIp(socket: { remoteAddress?: string | undefined }): string {
  const address = socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

export class BodyTooLargeError extends Error {}

export async function readBody(req: http.IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new BodyTooLargeError(`request body over ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void | Promise<void>;

/** An HTTP server that reads each body, calls `handler`, and logs `METHOD path status client` once per request. */
export function listenHttp(name: string, port: number, host: string | undefined, handler: Handler, log: LogLine): Promise<RunningApp> {
  const server = http.createServer((req, res) => {
    const started = Date.now();
    res.on('finish', () => log(`${new Date().toISOString()} ${name} ${req.method ?? '-'} ${req.url ?? '-'} ${res.statusCode} ${clientIp(req.socket)} ${Date.now() - started}ms`));
    readBody(req)
      .then((body) => handler(req, res, body))
      .catch((err: unknown) => {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        const tooLarge = err instanceof BodyTooLargeError;
        res.writeHead(tooLarge ? 413 : 500, { 'content-type': 'text/plain' });
        res.end(`${tooLarge ? 'Payload Too Large' : 'Internal Server Error'}\n`);
      });
  });
  return listen(server, port, host);
}

/** Binds `server` and wraps it as a RunningApp. */
export function listen(server: http.Server | NetServer, port: number, host: string | undefined): Promise<RunningApp> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      let closing: Promise<void> | undefined;
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () => {
          closing ??= new Promise<void>((done) => {
            const force = setTimeout(() => {
              if ('closeAllConnections' in server) server.closeAllConnections();
            }, CLOSE_DEADLINE_MS);
            force.unref();
            server.close(() => {
              clearTimeout(force);
              done();
            });
            if ('closeIdleConnections' in server) server.closeIdleConnections();
          });
          return closing;
        },
      });
    });
  });
}

/** Runs an entry: starts the app, prints `listening on <port>`, closes on SIGTERM/SIGINT, exits 2 on usage errors. */
export function runMain(name: string, start: () => Promise<RunningApp>): void {
  // Through a promise, so a usage error thrown while parsing flags is reported like a failed bind.
  Promise.resolve()
    .then(start)
    .then(
      (app) => {
        stdoutLog(`${name} listening on ${app.port}`);
        const stop = (signal: string): void => {
          stdoutLog(`${name} got ${signal}, closing`);
          app.close().then(
            () => process.exit(0),
            () => process.exit(1),
          );
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      },
      (err: unknown) => {
        process.stderr.write(`${name}: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(err instanceof UsageError ? 2 : 1);
      },
    );
}
