// serveHttp1 against real peers: each connection of a 127.0.0.1 net.Server is served by it, and the clients are
// node:http requests (a keep-alive agent) or raw sockets writing exact bytes for what node:http cannot produce —
// pipelining, malformed heads, early answers, a client that goes away mid-body.

import { once } from 'node:events';
import * as http from 'node:http';
import * as net from 'node:net';
import { Readable, type Duplex } from 'node:stream';

import { seededRandom, writeInPieces } from '@weft/testing';

import { serveHttp1, type Http1Exchange, type Http1Response } from './server-connection';

type Handler = (exchange: Http1Exchange) => void;

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface RawClient {
  readonly socket: net.Socket;
  /** Everything received so far once `done` holds for it; rejects if the connection closes first. */
  until(done: (text: string) => boolean): Promise<string>;
  /** Everything received, once the connection has closed. */
  readonly closed: Promise<string>;
}

let server: net.Server;
let port: number;
let agent: http.Agent;
let handler: Handler;
let idleTimeoutMs: number;
let connections: number;
const sockets = new Set<net.Socket>();

beforeEach(async () => {
  handler = () => {
    throw new Error('no handler for this test');
  };
  idleTimeoutMs = 5000;
  connections = 0;
  agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    serveHttp1(socket, { idleTimeoutMs, onRequest: (exchange) => handler(exchange) });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as net.AddressInfo).port;
});

afterEach(async () => {
  agent.destroy();
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await new Promise((resolve) => server.close(resolve));
});

/** A complete answer with a content-length. */
function answer(response: Http1Response, status: number, body: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-length': String(Buffer.byteLength(body)), ...headers }).end(Buffer.from(body));
}

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function streamed(body: Http1Exchange['body']): Readable {
  if (!(body instanceof Readable)) throw new Error(`expected a streamed body, got ${Buffer.isBuffer(body) ? 'a buffer' : 'none'}`);
  return body;
}

/** A node:http request on the keep-alive agent; `send` writes the body and ends the request. */
function request(options: http.RequestOptions, send: (req: http.ClientRequest) => void = (req) => req.end()): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, agent, ...options }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    send(req);
  });
}

async function connectRaw(): Promise<RawClient> {
  const socket = net.connect(port, '127.0.0.1');
  sockets.add(socket);
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  let text = '';
  const checks = new Set<() => void>();
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString('latin1');
    for (const check of checks) check();
  });
  const closed = new Promise<string>((resolve) =>
    socket.once('close', () => {
      resolve(text);
      for (const check of checks) check();
    }),
  );
  const until = (done: (text: string) => boolean): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (done(text)) resolve(text);
        else if (socket.destroyed) reject(new Error(`the connection closed; received ${JSON.stringify(text)}`));
        else return;
        checks.delete(check);
      };
      checks.add(check);
      check();
    });
  return { socket, until, closed };
}

const count = (text: string, part: string): number => text.split(part).length - 1;

describe('serveHttp1', () => {
  it('answers a GET with status, headers and body, adding a date header', async () => {
    const seen: Http1Exchange[] = [];
    let finished: boolean | undefined;
    handler = (exchange) => {
      seen.push(exchange);
      exchange.response.once('close', () => (finished = exchange.response.writableFinished));
      answer(exchange.response, 201, 'hello', { 'content-type': 'text/plain', 'x-answer': 'yes' });
    };
    const reply = await request({ path: '/a?b=c', headers: { 'x-asked': '1' } });
    expect(reply).toMatchObject({ status: 201, body: 'hello', headers: { 'content-type': 'text/plain', 'x-answer': 'yes', 'content-length': '5' } });
    expect(new Date(String(reply.headers.date)).getTime()).toBeGreaterThan(Date.UTC(2020, 0));
    expect(seen).toHaveLength(1);
    expect(seen[0]?.head).toMatchObject({ method: 'GET', target: '/a?b=c', httpVersion: '1.1', headers: { host: `127.0.0.1:${port}`, 'x-asked': '1' } });
    expect(seen[0]?.body).toBeUndefined();
    expect(finished).toBe(true);
  });

  it('serves sequential requests on one keep-alive connection', async () => {
    handler = ({ head, response }) => answer(response, 200, `answer to ${head.target}`);
    const first = await request({ path: '/one' });
    const second = await request({ path: '/two' });
    expect([first.body, second.body]).toEqual(['answer to /one', 'answer to /two']);
    expect(first.headers.connection).toBeUndefined();
    expect(connections).toBe(1);
  });

  it('answers pipelined requests in order, handing over the next only once the current one is answered', async () => {
    const seen: string[] = [];
    handler = ({ head, response }) => {
      seen.push(head.target);
      if (head.target === '/slow') {
        setTimeout(() => {
          seen.push('answered /slow');
          answer(response, 200, 'slow');
        }, 20);
      } else answer(response, 200, 'fast');
    };
    const raw = await connectRaw();
    raw.socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /fast HTTP/1.1\r\nHost: x\r\n\r\n');
    const text = await raw.until((received) => received.endsWith('\r\n\r\nfast'));
    expect(seen).toEqual(['/slow', 'answered /slow', '/fast']);
    expect(count(text, 'HTTP/1.1 200 OK\r\n')).toBe(2);
    expect(text.indexOf('\r\n\r\nslow')).toBeLessThan(text.indexOf('\r\n\r\nfast'));
  });

  it('streams a chunked request body that arrives in several writes', async () => {
    const sent = Buffer.alloc(200 * 1024);
    for (let i = 0; i < sent.length; i++) sent[i] = (i * 7 + (i >> 10)) & 0xff;
    let received: Buffer | undefined;
    let framing: string | string[] | undefined;
    handler = ({ head, body, response }) => {
      framing = head.headers['transfer-encoding'];
      void readAll(streamed(body)).then((bytes) => {
        received = bytes;
        answer(response, 200, `got ${bytes.length}`);
      });
    };
    const reply = await request({ method: 'POST', path: '/upload' }, (req) => {
      void (async () => {
        for (let at = 0; at < sent.length; at += 50 * 1024) {
          req.write(sent.subarray(at, at + 50 * 1024));
          await new Promise((resolve) => setImmediate(resolve));
        }
        req.end();
      })();
    });
    expect(reply.body).toBe(`got ${sent.length}`);
    expect(framing).toBe('chunked');
    expect(received?.equals(sent)).toBe(true);
  });

  // TCP and HBONE may cut the bytes anywhere: in a head, in a chunk-size line, between CR and LF, in a trailer.
  it.each([1, 2, 3])('serves pipelined requests cut into small pieces (seed %d) as it serves them whole', async (seed) => {
    const stream =
      'POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world' +
      'POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n5\r\ndefgh\r\n0\r\nX-T: 1\r\n\r\n' +
      'GET /c?d=e HTTP/1.1\r\nHost: x\r\nCookie: a=1\r\nCookie: b=2\r\n\r\n' +
      'PUT /d HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' +
      'GET /e HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
    const seen: string[] = [];
    handler = ({ head, body, response }) => {
      void (body instanceof Readable ? readAll(body) : Promise.resolve(body ?? Buffer.alloc(0))).then((bytes) => {
        seen.push(`${head.method} ${head.target} ${JSON.stringify(head.headers['cookie'] ?? '')} ${bytes.toString('latin1')}`);
        answer(response, 200, head.target);
      });
    };
    const raw = await connectRaw();
    raw.socket.setNoDelay(true);
    await writeInPieces(raw.socket, stream, seededRandom(seed));
    const text = await raw.closed;
    expect(seen).toEqual(['POST /a "" hello world', 'POST /b "" abcdefgh', 'GET /c?d=e "a=1; b=2" ', 'PUT /d "" ', 'GET /e "" ']);
    expect(count(text, 'HTTP/1.1 200 OK\r\n')).toBe(5);
    expect(text.endsWith('\r\n\r\n/e')).toBe(true);
  });

  it('gives a content-length body that arrived with its head as a Buffer', async () => {
    let given: Http1Exchange['body'];
    handler = ({ body, response }) => {
      given = body;
      answer(response, 200, 'ok');
    };
    const raw = await connectRaw();
    raw.socket.write('POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello');
    await raw.until((text) => text.endsWith('\r\n\r\nok'));
    expect(Buffer.isBuffer(given)).toBe(true);
    expect(given?.toString()).toBe('hello');
  });

  it('sends 100 Continue to a request expecting it when its owner says so, once, before the final response', async () => {
    handler = ({ body, response }) => {
      response.writeContinue();
      response.writeContinue();
      void readAll(streamed(body)).then((bytes) => answer(response, 200, `got ${bytes.toString()}`));
    };
    const raw = await connectRaw();
    raw.socket.write('PUT /p HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n');
    expect(await raw.until((text) => text.includes('\r\n\r\n'))).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    raw.socket.write('data');
    const text = await raw.until((received) => received.endsWith('got data'));
    expect(text).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
    expect(count(text, '100 Continue')).toBe(1);
    expect(text).not.toContain('connection: close');
  });

  it('answers a request expecting 100-continue without it, then closes: the client may never send its body', async () => {
    handler = ({ response }) => answer(response, 403, 'denied');
    const raw = await connectRaw();
    raw.socket.write('PUT /p HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n');
    const text = await raw.closed;
    expect(text).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(text).toContain('\r\nconnection: close\r\n');
    expect(text).not.toContain('100 Continue');
  });

  it('keeps the connection of a client that sent its body without waiting for 100 Continue', async () => {
    handler = ({ body, response }) => {
      void (Buffer.isBuffer(body) ? Promise.resolve(body) : readAll(streamed(body))).then((bytes) => {
        response.writeContinue(); // too late to matter: nothing is sent
        answer(response, 200, `got ${bytes.toString()}`);
      });
    };
    const raw = await connectRaw();
    raw.socket.write('PUT /p HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\ndata');
    const text = await raw.until((received) => received.endsWith('got data'));
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text).not.toContain('connection: close');
    expect(raw.socket.destroyed).toBe(false);
  });

  it('chunks a response without content-length to HTTP/1.1 and keeps the connection', async () => {
    handler = ({ response }) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.write(Buffer.from('abc'));
      response.end(Buffer.from('defgh'));
    };
    const raw = await connectRaw();
    raw.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const text = await raw.until((received) => received.endsWith('0\r\n\r\n'));
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text).toContain('\r\ntransfer-encoding: chunked\r\n');
    expect(text).not.toContain('connection: close');
    expect(text).toContain('\r\n\r\n3\r\nabc\r\n5\r\ndefgh\r\n0\r\n\r\n');
    expect(raw.socket.destroyed).toBe(false);
    // node:http's client reads the same framing.
    expect(await request({ path: '/' })).toMatchObject({ status: 200, body: 'abcdefgh' });
  });

  it('delimits a response without content-length to HTTP/1.0 by closing the connection', async () => {
    handler = ({ response }) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.write(Buffer.from('abc'));
      response.end(Buffer.from('def'));
    };
    const raw = await connectRaw();
    raw.socket.write('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    const text = await raw.closed;
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text).toContain('\r\nconnection: close\r\n');
    expect(text).not.toContain('transfer-encoding');
    expect(text.endsWith('\r\n\r\nabcdef')).toBe(true);
  });

  it.each([
    ['a HEAD request', 'HEAD /x HTTP/1.1\r\nHost: x\r\n\r\n', 200],
    ['a 204 response', 'GET /x HTTP/1.1\r\nHost: x\r\n\r\n', 204],
  ])('sends no body for %s', async (_name, requestHead, status) => {
    handler = ({ head, response }) => {
      if (head.target === '/next') answer(response, 200, 'next');
      else response.writeHead(status, status === 204 ? {} : { 'content-length': '6' }).end(Buffer.from('body!!'));
    };
    const raw = await connectRaw();
    raw.socket.write(`${requestHead}GET /next HTTP/1.1\r\nHost: x\r\n\r\n`);
    const text = await raw.until((received) => received.endsWith('\r\n\r\nnext'));
    expect(text).not.toContain('body!!');
    expect(text).not.toContain('transfer-encoding');
    // The first response is its head alone: the second starts right after its empty line.
    expect(text).toMatch(new RegExp(`^HTTP/1\\.1 ${status} [^\\r\\n]+\\r\\n(?:[a-z-]+: [^\\r\\n]*\\r\\n)+\\r\\nHTTP/1\\.1 200 OK\\r\\n`));
  });

  it('closes the connection after the response to a request with Connection: close', async () => {
    handler = ({ response }) => answer(response, 200, 'bye');
    const raw = await connectRaw();
    raw.socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const text = await raw.closed;
    expect(text).toContain('\r\nconnection: close\r\n');
    expect(text.endsWith('\r\n\r\nbye')).toBe(true);
  });

  it.each([
    ['a line ending with a bare LF', 'GET / HTTP/1.1\nHost: x\n\n', 400],
    ['an unsupported HTTP version', 'GET / HTTP/2.0\r\nHost: x\r\n\r\n', 505],
    ['an HTTP/1.1 request without Host', 'GET / HTTP/1.1\r\nUser-Agent: t\r\n\r\n', 400],
    ['a space in a header name', 'GET / HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n', 400],
  ])('refuses %s and closes the connection', async (_name, bytes, status) => {
    const seen: string[] = [];
    handler = ({ head, response }) => {
      seen.push(head.target);
      answer(response, 200, 'served');
    };
    const raw = await connectRaw();
    raw.socket.write(`${bytes}GET /after HTTP/1.1\r\nHost: x\r\n\r\n`);
    const text = await raw.closed;
    expect(text).toMatch(new RegExp(`^HTTP/1\\.1 ${status} [^\\r\\n]+\\r\\n`));
    expect(text).toContain('\r\nconnection: close\r\n');
    expect(count(text, 'HTTP/1.1 ')).toBe(1);
    expect(seen).toEqual([]);
  });

  it('drops the rest of a request body answered early and serves the next request', async () => {
    const seen: string[] = [];
    let uploadFailed: Promise<Error> | undefined;
    handler = ({ head, body, response }) => {
      seen.push(head.target);
      if (head.target === '/upload') {
        uploadFailed = new Promise<Error>((resolve) => streamed(body).once('error', resolve));
        answer(response, 401, 'denied');
      } else answer(response, 200, 'next');
    };
    const raw = await connectRaw();
    // More than the body stream buffers before the answer, so that the unread body has paused the connection.
    raw.socket.write(`POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n${'a'.repeat(40_000)}`);
    await raw.until((text) => text.endsWith('\r\n\r\ndenied'));
    raw.socket.write(`${'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n'.padEnd(60_000, 'b')}GET /next HTTP/1.1\r\nHost: x\r\n\r\n`);
    const text = await raw.until((received) => received.endsWith('\r\n\r\nnext'));
    expect(text).toMatch(/^HTTP\/1\.1 401 Unauthorized\r\n/);
    expect(count(text, 'HTTP/1.1 ')).toBe(2);
    expect(seen).toEqual(['/upload', '/next']);
    // Whoever waited on the unread body learns it will not be complete.
    expect((await uploadFailed)?.message).toBe('the response was written before the request body was read');
  });

  it('errors the body stream and closes the response unfinished when the client goes away mid-body', async () => {
    const exchange = new Promise<Http1Exchange>((resolve) => (handler = resolve));
    const raw = await connectRaw();
    raw.socket.write('POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789');
    const { body, response } = await exchange;
    const stream = streamed(body);
    const failed = new Promise<Error>((resolve) => stream.once('error', resolve));
    const closed = once(response, 'close');
    raw.socket.destroy();
    expect(await failed).toBeInstanceOf(Error);
    await closed;
    expect(response.writableFinished).toBe(false);
    expect(stream.destroyed).toBe(true);
  });

  it('closes a connection that stays idle for the idle timeout', async () => {
    idleTimeoutMs = 200;
    handler = ({ response }) => answer(response, 200, 'ok');
    const idle = await connectRaw();
    const used = await connectRaw();
    used.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await idle.closed).toBe('');
    expect((await used.closed).endsWith('\r\n\r\nok')).toBe(true);
  });

  it('throws a TypeError for a header value with CRLF instead of writing it', async () => {
    let thrown: unknown;
    handler = ({ response }) => {
      try {
        response.writeHead(200, { 'content-length': '0', 'x-injected': 'a\r\nset-cookie: evil=1' });
      } catch (error) {
        thrown = error;
        response.destroy();
      }
    };
    const raw = await connectRaw();
    raw.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await raw.closed).toBe('');
    expect(thrown).toBeInstanceOf(TypeError);
  });

  it('switchProtocols writes the 101 and hands over the stream with the bytes received past the head; the response closes with the stream', async () => {
    const switched = new Promise<{ stream: Duplex; head: Buffer | undefined; response: Http1Response }>((resolve) => {
      handler = ({ response }) => {
        const { stream, head } = response.switchProtocols({ upgrade: 'websocket', connection: 'upgrade' });
        resolve({ stream, head, response });
      };
    });
    const raw = await connectRaw();
    raw.socket.write('GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nfirst');
    const { stream, head, response } = await switched;
    expect(head?.toString()).toBe('first');
    expect(response.writableFinished).toBe(true);
    // Bytes now belong to whoever took the stream: no HTTP parsing, no 400 for what is not a request.
    stream.on('data', (chunk: Buffer) => stream.write(Buffer.concat([Buffer.from('got:'), chunk])));
    stream.resume();
    raw.socket.write('not http');
    const text = await raw.until((received) => received.endsWith('got:not http'));
    expect(text).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\ndate: [^\r]+\r\n\r\ngot:not http$/);
    const closed = once(response, 'close');
    raw.socket.destroy();
    await closed;
  });

  it('after a refused head the response can still be answered with another', async () => {
    handler = ({ response }) => {
      expect(() => response.writeHead(200, { 'x-injected': 'a\r\nset-cookie: evil=1' })).toThrow(TypeError);
      response.writeHead(502, { 'content-length': '3' });
      response.end(Buffer.from('bad'));
    };
    const raw = await connectRaw();
    raw.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const text = await raw.until((received) => received.endsWith('\r\n\r\nbad'));
    expect(text).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/);
    expect(text).not.toContain('evil');
  });
});
