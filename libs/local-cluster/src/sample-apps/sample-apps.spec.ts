import * as http from 'node:http';
import * as net from 'node:net';

import { main as echoMain, startEchoServer } from './echo-server';
import { startHello } from './hello';
import { chooseStatus, startHttpbin, titleCase } from './httpbin';
import { parseFlags, type RunningApp } from './serve';

interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

function request(port: number, path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const apps: RunningApp[] = [];
async function started(app: Promise<RunningApp>): Promise<RunningApp> {
  const running = await app;
  apps.push(running);
  return running;
}
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

describe('httpbin', () => {
  let lines: string[];
  let port: number;
  beforeEach(async () => {
    lines = [];
    port = (await started(startHttpbin({ port: 0, host: '127.0.0.1', log: (l) => lines.push(l), random: () => 0.75 }))).port;
  });

  it('answers /get with args, Title-Cased headers, origin and url, and logs one line', async () => {
    const reply = await request(port, '/get?a=1&b=2&b=3', { headers: { 'x-b3-traceid': 'abc' } });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/json');
    expect(JSON.parse(reply.body)).toEqual({
      args: { a: '1', b: ['2', '3'] },
      headers: { Host: `127.0.0.1:${port}`, 'X-B3-Traceid': 'abc', Connection: 'close' },
      origin: '127.0.0.1',
      url: `http://127.0.0.1:${port}/get?a=1&b=2&b=3`,
    });
    expect(lines).toEqual([expect.stringMatching(/ httpbin GET \/get\?a=1&b=2&b=3 200 127\.0\.0\.1 \d+ms$/)]);
  });

  it('answers /headers, /ip (X-Forwarded-For first) and / ', async () => {
    expect(JSON.parse((await request(port, '/headers', { headers: { 'user-agent': 'curl/8.5.0' } })).body).headers['User-Agent']).toBe('curl/8.5.0');
    expect(JSON.parse((await request(port, '/ip')).body)).toEqual({ origin: '127.0.0.1' });
    expect(JSON.parse((await request(port, '/ip', { headers: { 'x-forwarded-for': '10.0.0.9' } })).body)).toEqual({ origin: '10.0.0.9' });
    const forwarded = await request(port, '/headers', { headers: { 'x-forwarded-for': '10.0.0.9' } });
    expect(JSON.parse(forwarded.body).headers['X-Forwarded-For']).toBeUndefined();
    expect((await request(port, '/')).body).toMatch(/^httpbin/);
    expect((await request(port, '/nope')).status).toBe(404);
  });

  it('answers /status/{code} and a weighted choice among codes', async () => {
    expect((await request(port, '/status/503')).status).toBe(503);
    expect((await request(port, '/status/200,500')).status).toBe(500); // random() = 0.75 picks the second
    expect((await request(port, '/status/418')).body).toMatch(/teapot/);
    expect((await request(port, '/status/302')).headers.location).toBe('/redirect/1');
    expect((await request(port, '/status/abc')).status).toBe(400);
    expect(chooseStatus('200:0.9,500:0.1', () => 0.5)).toBe(200);
    expect(chooseStatus('200:0.9,500:0.1', () => 0.95)).toBe(500);
    expect(chooseStatus('99', () => 0)).toBeUndefined();
  });

  it('answers /anything with method, args, data, json and form', async () => {
    const reply = JSON.parse((await request(port, '/anything/x?q=1', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"k":[1]}' })).body);
    expect(reply).toMatchObject({ method: 'PUT', args: { q: '1' }, data: '{"k":[1]}', json: { k: [1] }, form: {}, origin: '127.0.0.1', url: `http://127.0.0.1:${port}/anything/x?q=1` });
    const form = JSON.parse((await request(port, '/post', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1&b=2' })).body);
    expect(form).toMatchObject({ form: { a: '1', b: '2' }, data: '', json: null, method: 'POST' });
    expect((await request(port, '/post')).status).toBe(405);
  });

  it('answers /delay/{s} after the delay', async () => {
    const before = Date.now();
    const reply = await request(port, '/delay/0.3');
    expect(reply.status).toBe(200);
    expect(Date.now() - before).toBeGreaterThanOrEqual(280);
    expect(JSON.parse(reply.body).url).toBe(`http://127.0.0.1:${port}/delay/0.3`);
    expect((await request(port, '/delay/x')).status).toBe(400);
  });

  it('titles header names as Python does', () => {
    expect(titleCase('x-request-id')).toBe('X-Request-Id');
    expect(titleCase('X-B3-TRACEID')).toBe('X-B3-Traceid');
  });
});

describe('echo-server', () => {
  it('answers with the request as JSON in ealen/echo-server shape', async () => {
    const lines: string[] = [];
    const { port } = await started(startEchoServer({ port: 0, host: '127.0.0.1', hostname: 'echo-1', log: (l) => lines.push(l) }));
    const reply = await request(port, '/path/x?a=1', { method: 'POST', headers: { 'content-type': 'application/json', cookie: 'k=v' }, body: '{"hello":"world"}' });
    expect(reply.status).toBe(200);
    const echo = JSON.parse(reply.body);
    expect(echo.host).toMatchObject({ hostname: 'echo-1', ip: '127.0.0.1' });
    expect(echo.http).toEqual({ method: 'POST', baseUrl: '', originalUrl: '/path/x?a=1', protocol: 'http' });
    expect(echo.request).toMatchObject({ params: { '0': '/path/x' }, query: { a: '1' }, cookies: { k: 'v' }, body: { hello: 'world' }, remoteAddress: '127.0.0.1' });
    expect(echo.request.headers['content-type']).toBe('application/json');
    expect(lines).toHaveLength(1);
  });

  it('honours echo_code and echo_body as ealen does', async () => {
    const { port } = await started(startEchoServer({ port: 0, host: '127.0.0.1', log: () => undefined }));
    const reply = await request(port, '/?echo_code=404&echo_body=gone');
    expect(reply.status).toBe(404);
    expect(reply.body).toBe('"gone"');
  });

  it('answers a fixed text in http-echo mode', async () => {
    const { port } = await started(startEchoServer({ port: 0, host: '127.0.0.1', text: 'hello world', log: () => undefined }));
    expect((await request(port, '/anything')).body).toBe('hello world\n');
  });

  it('answers the fixed text with --status-code as http-echo does, and refuses a status that is not one', async () => {
    const { port } = await started(echoMain(['--port', '0', '--host', '127.0.0.1', '--text', 'down', '--status-code', '503'], {}));
    expect(await request(port, '/')).toMatchObject({ status: 503, body: 'down\n' });
    expect(() => echoMain(['--text', 'x', '--status-code', '99'], {})).toThrow('--status-code must be an HTTP status between 200 and 599, not "99"');
  });

  it('echoes raw bytes in --tcp mode', async () => {
    const { port } = await started(echoMain(['--tcp', '--port', '0', '--host', '127.0.0.1'], {}));
    const socket = net.connect(port, '127.0.0.1');
    const echoed = await new Promise<string>((resolve, reject) => {
      socket.once('data', (d) => resolve(d.toString()));
      socket.once('error', reject);
      socket.write('ping\x00pong');
    });
    socket.destroy();
    expect(echoed).toBe('ping\x00pong');
  });

  it('takes its port from --port, then $PORT', async () => {
    const app = await started(echoMain(['--host', '127.0.0.1'], { PORT: '0' }));
    expect(app.port).toBeGreaterThan(0);
  });
});

describe('hello', () => {
  it('answers /hello with version and instance, like Istio helloworld', async () => {
    const { port } = await started(startHello({ port: 0, host: '127.0.0.1', version: 'v2', instance: 'helloworld-v2-abc', log: () => undefined }));
    expect((await request(port, '/hello')).body).toBe('Hello version: v2, instance: helloworld-v2-abc\n');
    expect((await request(port, '/health')).status).toBe(200);
    expect((await request(port, '/other')).status).toBe(404);
  });
});

describe('flags', () => {
  it('parses --name value, --name=value and booleans, and names unknown flags', () => {
    expect([...parseFlags(['--port', '80', '--text=a b', '--tcp'], ['port', 'text'], ['tcp'])]).toEqual([
      ['port', '80'],
      ['text', 'a b'],
      ['tcp', 'true'],
    ]);
    expect(() => parseFlags(['--bogus'], ['port'])).toThrow(/unknown argument "--bogus" \(flags: --port\)/);
    expect(() => parseFlags(['--port'], ['port'])).toThrow(/--port needs a value/);
  });
});
