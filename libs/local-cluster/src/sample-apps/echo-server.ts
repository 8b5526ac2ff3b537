// An echo server in three modes: HTTP that answers with the request as JSON in ealen/echo-server's shape (host,
// http, request), a fixed `--text` reply like hashicorp/http-echo, and `--tcp`, which writes back every byte.
// Run: node dist/sample-apps/echo-server.js [--port 80 | $PORT] [--hostname NAME] [--text T [--status-code N]] [--tcp]

import * as net from 'node:net';
import * as os from 'node:os';

import { clientIp, listen, listenHttp, parseFlags, parsePortFlag, runMain, stdoutLog, type LogLine, type RunningApp } from './serve';

/** ealen caps `echo_time` at 30 s (its ECHO__TIME__MAX default is far higher; we keep tests and pods responsive). */
export const MAX_ECHO_TIME_MS = 30_000;

export interface EchoOptions {
  readonly port?: number;
  readonly host?: string;
  /** Reported as host.hostname: the pod name. */
  readonly hostname?: string;
  /** Answer every HTTP request with this text (http-echo) instead of the JSON echo. */
  readonly text?: string;
  /** The status of the `text` reply (http-echo's `-status-code`); default 200. */
  readonly statusCode?: number;
  /** Raw TCP echo instead of HTTP. */
  readonly tcp?: boolean;
  readonly log?: LogLine;
}

function ownIps(): string[] {
  return Object.values(os.networkInterfaces())
    .flat()
    .filter((i) => i !== undefined && !i.internal)
    .map((i) => i?.address ?? '');
}

function startTcpEcho(port: number, host: string | undefined, log: LogLine): Promise<RunningApp> {
  const server = net.createServer((socket) => {
    const peer = `${clientIp(socket)}:${socket.remotePort ?? 0}`;
    let bytes = 0;
    socket.on('data', (chunk) => (bytes += chunk.length));
    socket.on('close', () => log(`${new Date().toISOString()} echo-server tcp ${peer} ${bytes} bytes`));
    socket.on('error', () => socket.destroy());
    socket.pipe(socket);
  });
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return listen(server, port, host).then((app) => ({
    port: app.port,
    close: () => {
      // Echo connections never go idle on their own; end them so close() finishes.
      for (const s of sockets) s.end();
      return app.close();
    },
  }));
}

export function startEchoServer(options: EchoOptions = {}): Promise<RunningApp> {
  const port = options.port ?? 80;
  const log = options.log ?? stdoutLog;
  if (options.tcp === true) return startTcpEcho(port, options.host, log);
  const hostname = options.hostname ?? os.hostname();
  return listenHttp(
    'echo-server',
    port,
    options.host,
    async (req, res, body) => {
      if (options.text !== undefined) {
        res.writeHead(options.statusCode ?? 200, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`${options.text}\n`);
        return;
      }
      const url = new URL(req.url ?? '/', 'http://localhost');
      const query = Object.fromEntries(url.searchParams);
      const headers = req.headers;
      // ealen's controls, by query or `x-echo-*` header: status code, a fixed body, a delay.
      const control = (name: string): string | undefined => url.searchParams.get(`echo_${name}`) ?? (headers[`x-echo-${name}`] as string | undefined);
      const delay = Number(control('time') ?? 0);
      if (Number.isFinite(delay) && delay > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(delay, MAX_ECHO_TIME_MS)));
      const code = Number(control('code') ?? 200);
      const status = Number.isInteger(code) && code >= 200 && code <= 599 ? code : 200;
      const fixed = control('body');
      if (fixed !== undefined) {
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify(fixed));
        return;
      }
      const text = body.toString('utf8');
      let parsedBody: unknown = {};
      if (text !== '') {
        try {
          parsedBody = JSON.parse(text);
        } catch {
          parsedBody = text; // not JSON: echo it as a string
        }
      }
      const cookies = Object.fromEntries(
        (headers.cookie ?? '')
          .split(';')
          .map((c) => c.trim().split('='))
          .filter(([k]) => k !== undefined && k !== '')
          .map(([k, ...v]) => [k, v.join('=')]),
      );
      const echo = {
        host: { hostname, ip: req.socket.localAddress ?? '', ips: ownIps() },
        http: { method: req.method ?? 'GET', baseUrl: '', originalUrl: req.url ?? '/', protocol: 'http' },
        request: { params: { '0': url.pathname }, query, cookies, body: parsedBody, headers, remoteAddress: clientIp(req.socket) },
      };
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(echo));
    },
    log,
  );
}

/** Flags win over `$PORT`, which wins over 80 — ealen/echo-server's own order. */
export function main(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Promise<RunningApp> {
  const flags = parseFlags(argv, ['port', 'host', 'hostname', 'text', 'status-code'], ['tcp']);
  const port = parsePortFlag(flags.get('port') ?? (env['PORT'] === '' ? undefined : env['PORT']), 80);
  const statusFlag = flags.get('status-code');
  const statusCode = statusFlag === undefined ? undefined : Number(statusFlag);
  if (statusCode !== undefined && !(Number.isInteger(statusCode) && statusCode >= 200 && statusCode <= 599)) {
    throw new Error(`--status-code must be an HTTP status between 200 and 599, not ${JSON.stringify(statusFlag)}`);
  }
  return startEchoServer({ port, host: flags.get('host'), hostname: flags.get('hostname'), text: flags.get('text'), ...(statusCode === undefined ? {} : { statusCode }), tcp: flags.get('tcp') === 'true' });
}

if (require.main === module) runMain('echo-server', () => main(process.argv.slice(2), process.env));
