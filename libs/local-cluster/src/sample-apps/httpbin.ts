// An httpbin-compatible server (the subset Istio's guides use: /get, /headers, /ip, /status, /delay, /anything),
// answering as kennethreitz/httpbin does: Title-Cased header names, `origin` from X-Forwarded-For else the peer.
// Run: node dist/sample-apps/httpbin.js [--port 80] [--host ADDR]

import type * as http from 'node:http';

import { listenHttp, parseFlags, parsePortFlag, runMain, stdoutLog, clientIp, type LogLine, type RunningApp } from './serve';

/** httpbin caps /delay at 10 s. */
export const MAX_DELAY_S = 10;

/** Headers httpbin hides unless `?show_env=1` (httpbin/helpers.py ENV_HEADERS). */
const ENV_HEADERS = new Set(
  ['X-Varnish', 'X-Request-Start', 'X-Heroku-Queue-Depth', 'X-Real-Ip', 'X-Forwarded-Proto', 'X-Forwarded-Protocol', 'X-Forwarded-Ssl', 'X-Heroku-Queue-Wait-Time', 'X-Forwarded-For', 'X-Heroku-Dynos-In-Use', 'X-Forwarded-Port', 'X-Request-Id', 'Via', 'Total-Route-Time', 'Connect-Time'].map((h) => h.toLowerCase()),
);

export interface HttpbinOptions {
  readonly port?: number;
  readonly host?: string;
  readonly log?: LogLine;
  /** Picks among weighted status codes; tests pin it. */
  readonly random?: () => number;
}

/** Python's str.title() on a header name: `x-b3-traceid` → `X-B3-Traceid`. */
export function titleCase(name: string): string {
  return name.toLowerCase().replace(/(^|[^a-z])([a-z])/g, (_, before: string, letter: string) => before + letter.toUpperCase());
}

function headersOf(req: http.IncomingMessage, showEnv: boolean): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || (!showEnv && ENV_HEADERS.has(name))) continue;
    headers[titleCase(name)] = Array.isArray(value) ? value.join(',') : value;
  }
  return headers;
}

/** Query args as httpbin shows them: one value a string, repeated values an array. */
function argsOf(params: URLSearchParams): Record<string, string | string[]> {
  const args: Record<string, string | string[]> = {};
  for (const key of new Set(params.keys())) {
    const values = params.getAll(key);
    args[key] = values.length === 1 ? (values[0] ?? '') : values;
  }
  return args;
}

function originOf(req: http.IncomingMessage): string {
  const forwarded = req.headers['x-forwarded-for'];
  return typeof forwarded === 'string' && forwarded !== '' ? forwarded : clientIp(req.socket);
}

function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  const body = `${JSON.stringify(value, null, 2)}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'access-control-allow-origin': '*' });
  res.end(body);
}

function sendText(res: http.ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** One of `codes` (`200`, `200,500`, `200:0.9,500:0.1`) chosen as httpbin's weighted_choice does; undefined if invalid. */
export function chooseStatus(codes: string, random: () => number): number | undefined {
  const choices: { code: number; weight: number }[] = [];
  for (const part of codes.split(',')) {
    const [codeText = '', weightText] = part.split(':');
    const code = Number(codeText);
    const weight = weightText === undefined ? 1 : Number(weightText);
    if (!/^\d{3}$/.test(codeText) || code < 100 || code > 599 || !Number.isFinite(weight) || weight < 0) return undefined;
    choices.push({ code, weight });
  }
  const total = choices.reduce((sum, c) => sum + c.weight, 0);
  let pick = random() * total;
  for (const choice of choices) {
    pick -= choice.weight;
    if (pick < 0) return choice.code;
  }
  return choices.at(-1)?.code;
}

function sendStatus(res: http.ServerResponse, code: number): void {
  // The extras httpbin adds for a few codes (httpbin/helpers.py status_code).
  if (code === 418) return sendText(res, 418, '\n    -=[ teapot ]=-\n', { 'x-more-info': 'http://tools.ietf.org/html/rfc2324' });
  if (code === 401) return sendText(res, 401, '', { 'www-authenticate': 'Basic realm="Fake Realm"' });
  if (code === 407) return sendText(res, 407, '', { 'proxy-authenticate': 'Basic realm="Fake Realm"' });
  if ([301, 302, 303, 305, 307].includes(code)) return sendText(res, code, '', { location: '/redirect/1' });
  sendText(res, code, '');
}

/** The request as /anything, /post, /delay show it: args, data, files, form, headers, json, method, origin, url. */
function describeRequest(req: http.IncomingMessage, url: URL, body: Buffer, showEnv: boolean): Record<string, unknown> {
  const text = body.toString('utf8');
  const type = req.headers['content-type'] ?? '';
  const isForm = type.startsWith('application/x-www-form-urlencoded');
  let json: unknown = null;
  if (!isForm && text !== '') {
    try {
      json = JSON.parse(text);
    } catch {
      json = null; // httpbin shows null for a body that is not JSON
    }
  }
  return {
    args: argsOf(url.searchParams),
    data: isForm ? '' : text,
    files: {},
    form: isForm ? argsOf(new URLSearchParams(text)) : {},
    headers: headersOf(req, showEnv),
    json,
    method: req.method ?? 'GET',
    origin: originOf(req),
    url: url.toString(),
  };
}

const INDEX = 'httpbin (Weft local cluster): /get /headers /ip /user-agent /status/{codes} /delay/{s} /anything /post /put /patch /delete\n';

/** Starts httpbin; port 0 binds any free port (see `RunningApp.port`). */
export function startHttpbin(options: HttpbinOptions = {}): Promise<RunningApp> {
  const random = options.random ?? Math.random;
  return listenHttp(
    'httpbin',
    options.port ?? 80,
    options.host,
    async (req, res, body) => {
      const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
      const showEnv = url.searchParams.has('show_env');
      const method = req.method ?? 'GET';
      const route = url.pathname;
      if (route === '/') return sendText(res, 200, INDEX);
      if (route === '/get' && (method === 'GET' || method === 'HEAD')) {
        return sendJson(res, 200, { args: argsOf(url.searchParams), headers: headersOf(req, showEnv), origin: originOf(req), url: url.toString() });
      }
      if (route === '/headers') return sendJson(res, 200, { headers: headersOf(req, showEnv) });
      if (route === '/ip') return sendJson(res, 200, { origin: originOf(req) });
      if (route === '/user-agent') return sendJson(res, 200, { 'user-agent': req.headers['user-agent'] ?? null });
      const status = /^\/status\/([^/]+)$/.exec(route);
      if (status !== null) {
        const code = chooseStatus(decodeURIComponent(status[1] ?? ''), random);
        return code === undefined ? sendText(res, 400, 'Invalid status code') : sendStatus(res, code);
      }
      const delay = /^\/delay\/([^/]+)$/.exec(route);
      if (delay !== null) {
        const seconds = Number(delay[1]);
        if (!Number.isFinite(seconds) || seconds < 0) return sendText(res, 400, 'Invalid delay');
        await new Promise((resolve) => setTimeout(resolve, Math.min(seconds, MAX_DELAY_S) * 1000));
        return sendJson(res, 200, describeRequest(req, url, body, showEnv));
      }
      if (route === '/anything' || route.startsWith('/anything/')) return sendJson(res, 200, describeRequest(req, url, body, showEnv));
      const verb = route.slice(1).toUpperCase();
      if (['POST', 'PUT', 'PATCH', 'DELETE'].includes(verb)) {
        return verb === method ? sendJson(res, 200, describeRequest(req, url, body, showEnv)) : sendText(res, 405, 'Method Not Allowed', { allow: verb });
      }
      if (route === '/get') return sendText(res, 405, 'Method Not Allowed', { allow: 'GET, HEAD, OPTIONS' });
      sendText(res, 404, 'Not Found\n');
    },
    options.log ?? stdoutLog,
  );
}

export function main(argv: readonly string[]): Promise<RunningApp> {
  const flags = parseFlags(argv, ['port', 'host']);
  return startHttpbin({ port: parsePortFlag(flags.get('port'), 80), host: flags.get('host') });
}

if (require.main === module) runMain('httpbin', () => main(process.argv.slice(2)));
