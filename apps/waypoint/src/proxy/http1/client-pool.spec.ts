// Http1Pool and Http1Pools against real peers: tunnels are net.Sockets dialled to a node:http server on 127.0.0.1, or
// to a raw net.Server writing exact bytes (close-delimited and interim responses) — reuse, framing, aborts, failures.

import { once } from 'node:events';
import * as http from 'node:http';
import * as net from 'node:net';
import { PassThrough, type Duplex, type Readable } from 'node:stream';

import { seededRandom, writeInPieces } from '@weft/testing';

import type { UpstreamRequest, UpstreamResponse } from '../upstream-message';
import { Http1Pool, Http1Pools, UpstreamConnectError } from './client-pool';

let server: http.Server;
let port: number;
let handler: http.RequestListener;
/** Server-side sockets of `server`, in connection order. */
let accepted: net.Socket[];
/** Client-side sockets dialled by the pools, in dial order. */
let dialed: net.Socket[];
let cleanups: (() => void)[];

beforeEach(async () => {
  accepted = [];
  dialed = [];
  cleanups = [];
  handler = (_req, res) => res.end('ok');
  server = http.createServer((req, res) => handler(req, res));
  server.on('connection', (socket: net.Socket) => accepted.push(socket));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as net.AddressInfo).port;
});

afterEach(async () => {
  for (const cleanup of cleanups) cleanup();
  for (const socket of dialed) socket.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function dialer(to: number): (signal: AbortSignal) => Promise<Duplex> {
  return () =>
    new Promise((resolve, reject) => {
      const socket = net.connect(to, '127.0.0.1');
      dialed.push(socket);
      socket.once('connect', () => resolve(socket));
      socket.once('error', reject);
    });
}

function newPool(to = port): Http1Pool {
  const pool = new Http1Pool(dialer(to));
  cleanups.push(() => pool.close());
  return pool;
}

function send(pool: Http1Pool, path: string, request: Partial<UpstreamRequest> = {}, signal?: AbortSignal): Promise<UpstreamResponse> {
  return pool.exchange({ method: 'GET', path, authority: 'svc.test:8080', headers: {}, ...request }, signal);
}

/** A body the pool streams (it had not all arrived with the head). */
function streamed(body: Readable | Buffer): Readable {
  if (Buffer.isBuffer(body)) throw new Error('expected a streamed body, got a whole one');
  return body;
}

async function readAll(body: Readable | Buffer): Promise<Buffer> {
  if (Buffer.isBuffer(body)) return body;
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const text = async (response: UpstreamResponse): Promise<string> => (await readAll(response.body)).toString();

/** A raw server answering each request head (requests without a body) with `respond`; its connections are counted. */
async function rawServer(respond: (socket: net.Socket, head: string) => void): Promise<{ port: number; connections: () => number }> {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const raw = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      for (let end = received.indexOf('\r\n\r\n'); end >= 0; end = received.indexOf('\r\n\r\n')) {
        const head = received.slice(0, end + 4);
        received = received.slice(end + 4);
        respond(socket, head);
      }
    });
  });
  raw.listen(0, '127.0.0.1');
  await once(raw, 'listening');
  cleanups.push(() => {
    for (const socket of sockets) socket.destroy();
    raw.close();
  });
  return { port: (raw.address() as net.AddressInfo).port, connections: () => connections };
}

/** A handler that holds the requests to `path` (resolving `arrived` with each) and answers the others with "ok". */
function holding(path: string): { held: http.ServerResponse[]; arrived: Promise<http.IncomingMessage> } {
  const held: http.ServerResponse[] = [];
  let arrive: (req: http.IncomingMessage) => void = () => undefined;
  const arrived = new Promise<http.IncomingMessage>((resolve) => (arrive = resolve));
  handler = (req, res) => {
    if (req.url !== path) {
      res.end('ok');
      return;
    }
    held.push(res);
    arrive(req);
  };
  return { held, arrived };
}

describe('Http1Pool', () => {
  it('sends a GET and reads status, headers and body', async () => {
    let seen: http.IncomingMessage | undefined;
    handler = (req, res) => {
      seen = req;
      res.writeHead(203, { 'x-answer': 'yes', 'content-type': 'text/plain' }).end('hello');
    };
    const response = await send(newPool(), '/a?b=c', { headers: { 'x-asked': '1' } });
    expect(response.status).toBe(203);
    expect(response.headers).toMatchObject({ 'x-answer': 'yes', 'content-type': 'text/plain' });
    expect(await text(response)).toBe('hello');
    expect(seen).toMatchObject({ method: 'GET', url: '/a?b=c', headers: { host: 'svc.test:8080', 'x-asked': '1' } });
  });

  it('sends a POST with a Buffer body and a content-length', async () => {
    let seen: http.IncomingHttpHeaders | undefined;
    handler = (req, res) => {
      seen = req.headers;
      void readAll(req).then((body) => res.end(`got ${body.toString()}`));
    };
    const response = await send(newPool(), '/p', { method: 'POST', body: Buffer.from('payload') });
    expect(response.status).toBe(200);
    expect(await text(response)).toBe('got payload');
    expect(seen?.['content-length']).toBe('7');
    expect(seen?.['transfer-encoding']).toBeUndefined();
  });

  it('reuses one tunnel for sequential requests', async () => {
    const pool = newPool();
    const bodies: string[] = [];
    for (const path of ['/1', '/2', '/3']) bodies.push(await text(await send(pool, path)));
    expect(bodies).toEqual(['ok', 'ok', 'ok']);
    expect(dialed).toHaveLength(1);
    expect(accepted).toHaveLength(1);
  });

  it('opens a tunnel per concurrent request', async () => {
    const waiting: http.ServerResponse[] = [];
    handler = (req, res) => {
      waiting.push(res);
      // Both are answered only once both arrived: the pool must not queue one behind the other.
      if (waiting.length === 2) for (const held of waiting) held.end(`answer ${held.req.url}`);
    };
    const pool = newPool();
    const answers = await Promise.all([send(pool, '/a'), send(pool, '/b')]);
    expect(await Promise.all(answers.map(text))).toEqual(['answer /a', 'answer /b']);
    expect(dialed).toHaveLength(2);
    expect(accepted).toHaveLength(2);
  });

  it('does not reuse a tunnel after the server answered Connection: close', async () => {
    // The server keeps its side open: only the pool's reading of the header keeps the tunnel from being reused.
    const raw = await rawServer((socket) => socket.write('HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 4\r\n\r\nlast'));
    const pool = newPool(raw.port);
    expect(await text(await send(pool, '/1'))).toBe('last');
    expect(await text(await send(pool, '/2'))).toBe('last');
    expect(raw.connections()).toBe(2);
    expect(dialed).toHaveLength(2);
    expect(dialed[0]?.destroyed).toBe(true);
  });

  it('sends a streamed body without a length chunked', async () => {
    const sent = Buffer.alloc(200 * 1024);
    for (let i = 0; i < sent.length; i++) sent[i] = (i * 13 + (i >> 9)) & 0xff;
    let received: Buffer | undefined;
    let seen: http.IncomingHttpHeaders | undefined;
    handler = (req, res) => {
      seen = req.headers;
      void readAll(req).then((body) => {
        received = body;
        res.end(`got ${body.length}`);
      });
    };
    const body = new PassThrough();
    const pending = send(newPool(), '/upload', { method: 'PUT', body });
    for (let at = 0; at < sent.length; at += 40 * 1024) {
      body.write(sent.subarray(at, at + 40 * 1024));
      await new Promise((resolve) => setImmediate(resolve));
    }
    body.end();
    expect(await text(await pending)).toBe(`got ${sent.length}`);
    expect(seen?.['transfer-encoding']).toBe('chunked');
    expect(seen?.['content-length']).toBeUndefined();
    expect(received?.equals(sent)).toBe(true);
  });

  it('gives the trailers of a chunked response once its body has ended', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { trailer: 'x-checksum' });
      res.write('abc');
      res.addTrailers({ 'x-checksum': 'c0ffee' });
      res.end('def');
    };
    const pool = newPool();
    const response = await send(pool, '/');
    expect(response.headers['transfer-encoding']).toBe('chunked');
    expect(await text(response)).toBe('abcdef');
    expect(response.trailers()).toEqual({ 'x-checksum': 'c0ffee' });
    await text(await send(pool, '/'));
    expect(dialed).toHaveLength(1);
  });

  it('hands over a body that arrived with its head whole, as a Buffer, and streams one that did not', async () => {
    const raw = await rawServer((socket, head) => {
      if (head.startsWith('GET /whole ')) {
        socket.write('HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nwhole');
        return;
      }
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\n');
      setTimeout(() => socket.write('in two part'), 20);
    });
    const pool = newPool(raw.port);
    const whole = await send(pool, '/whole');
    expect(Buffer.isBuffer(whole.body) ? whole.body.toString() : 'a stream').toBe('whole');
    const later = await send(pool, '/later');
    expect((await readAll(streamed(later.body))).toString()).toBe('in two part');
    // Both complete with keep-alive: one tunnel carried both.
    expect(raw.connections()).toBe(1);
  });

  it('hands over the tunnel of an upgrade the endpoint accepted (101), with the bytes behind its head, and never pools it', async () => {
    const heads: string[] = [];
    const raw = await rawServer((socket, head) => {
      heads.push(head);
      if (head.startsWith('GET /ws ')) socket.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\nhello');
      else socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
    });
    const pool = newPool(raw.port);
    const response = await send(pool, '/ws', { upgrade: 'websocket' });
    expect(heads[0]).toMatch(/\r\nconnection: upgrade\r\nupgrade: websocket\r\n/);
    expect({ status: response.status, head: response.switched?.head?.toString(), upgrade: response.headers['upgrade'] }).toEqual({ status: 101, head: 'hello', upgrade: 'websocket' });
    // The next request does not get the switched tunnel.
    expect(await text(await send(pool, '/after'))).toBe('ok');
    expect(raw.connections()).toBe(2);
    response.switched?.stream.destroy();
  });

  it('fails a 101 to a request that asked for no upgrade', async () => {
    const raw = await rawServer((socket) => socket.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n\r\n'));
    await expect(send(newPool(raw.port), '/')).rejects.toThrow('the endpoint switched protocols');
  });

  it('reads a close-delimited response to its end and does not reuse its tunnel', async () => {
    const raw = await rawServer((socket) => socket.end('HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the end'));
    const pool = newPool(raw.port);
    const first = await send(pool, '/');
    expect(first.status).toBe(200);
    expect(await text(first)).toBe('until the end');
    expect(await text(await send(pool, '/'))).toBe('until the end');
    expect(dialed).toHaveLength(2);
    expect(raw.connections()).toBe(2);
  });

  it('reports a 100 Continue to onContinue and reads the final response after it', async () => {
    handler = (_req, res) => {
      res.writeContinue();
      setImmediate(() => res.end('final'));
    };
    const pool = newPool();
    let continued = 0;
    const response = await send(pool, '/', { method: 'POST', body: Buffer.from('x'), onContinue: () => continued++ });
    expect(continued).toBe(1);
    expect(response.status).toBe(200);
    expect(await text(response)).toBe('final');
    expect(await text(await send(pool, '/'))).toBe('final');
    expect(dialed).toHaveLength(1);
  });

  it('skips interim responses that arrive in one write with the final one', async () => {
    const raw = await rawServer((socket) =>
      socket.write('HTTP/1.1 103 Early Hints\r\nlink: </s.css>\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\ncontent-length: 4\r\n\r\ndone'),
    );
    const interim: string[] = [];
    const response = await send(newPool(raw.port), '/', { onContinue: () => interim.push('100') });
    expect(interim).toEqual(['100']);
    expect(response.status).toBe(202);
    expect(response.headers['link']).toBeUndefined();
    expect(await text(response)).toBe('done');
  });

  // An endpoint's bytes may arrive cut anywhere: in the status line, between CR and LF, in a chunk-size line, in a
  // trailer. Three answers on one tunnel: interim + content-length, chunked with an extension and a trailer, and 204.
  it.each([1, 2, 3])('reads responses cut into small pieces (seed %d) and reuses the tunnel', async (seed) => {
    const answers: Record<string, string> = {
      '/a': 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 11\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\nhello world',
      '/b': 'HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n5\r\ndefgh\r\n0\r\nX-T: 1\r\n\r\n',
      '/c': 'HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n',
    };
    const random = seededRandom(seed);
    const raw = await rawServer((socket, head) => {
      const bytes = answers[head.split(' ')[1] ?? ''] ?? 'HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n';
      socket.setNoDelay(true);
      void writeInPieces(socket, bytes, random);
    });
    const pool = newPool(raw.port);
    const a = await send(pool, '/a');
    expect([a.status, a.headers['set-cookie'], await text(a)]).toEqual([200, ['a=1', 'b=2'], 'hello world']);
    const b = await send(pool, '/b');
    expect([b.status, await text(b), b.trailers()]).toEqual([201, 'abcdefgh', { 'x-t': '1' }]);
    const c = await send(pool, '/c');
    expect([c.status, c.headers['x-a'], await text(c)]).toEqual([204, '1', '']);
    expect(raw.connections()).toBe(1);
  });

  it('rejects on abort before the response head, destroys the tunnel, and keeps working', async () => {
    const { arrived } = holding('/hang');
    const pool = newPool();
    const controller = new AbortController();
    const pending = send(pool, '/hang', {}, controller.signal);
    await arrived;
    const serverSide = once(accepted[0] as net.Socket, 'close');
    controller.abort();
    await expect(pending).rejects.toThrow('aborted');
    await serverSide;
    expect(dialed[0]?.destroyed).toBe(true);
    expect(await text(await send(pool, '/ok'))).toBe('ok');
    expect(dialed).toHaveLength(2);
  });

  it('rejects with a plain Error when the server closes the connection before answering', async () => {
    handler = (req) => req.socket.destroy();
    const failure: unknown = await send(newPool(), '/').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect(failure).not.toBeInstanceOf(UpstreamConnectError);
    expect((failure as Error).message).toMatch(/before the response was complete/);
  });

  it('rejects with UpstreamConnectError when the dial fails', async () => {
    const closed = net.createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const closedPort = (closed.address() as net.AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const failure: unknown = await send(newPool(closedPort), '/').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UpstreamConnectError);
    expect((failure as UpstreamConnectError).code).toBe('ERR_UPSTREAM_CONNECT');
    expect((failure as Error).message).toMatch(/ECONNREFUSED/);
  });

  it('does not reuse an idle tunnel the server closed', async () => {
    const pool = newPool();
    expect(await text(await send(pool, '/1'))).toBe('ok');
    const clientSide = once(dialed[0] as net.Socket, 'close');
    accepted[0]?.destroy();
    await clientSide;
    expect(await text(await send(pool, '/2'))).toBe('ok');
    expect(dialed).toHaveLength(2);
  });

  it('does not reuse a tunnel whose response body the consumer destroyed early', async () => {
    const { held } = holding('/big');
    const pool = newPool();
    const pending = send(pool, '/big');
    await once(server, 'request');
    held[0]?.writeHead(200, { 'content-length': '1000' }).write('first');
    const response = await pending;
    const body = streamed(response.body);
    const [first] = (await once(body, 'data')) as [Buffer];
    expect(first.toString()).toBe('first');
    const serverSide = once(accepted[0] as net.Socket, 'close');
    body.destroy();
    await serverSide;
    expect(await text(await send(pool, '/ok'))).toBe('ok');
    expect(dialed).toHaveLength(2);
  });

  it('close() destroys idle and busy tunnels', async () => {
    const { arrived } = holding('/hang');
    const pool = newPool();
    const busy = send(pool, '/hang');
    const failed = busy.catch((error: unknown) => error);
    await arrived;
    expect(await text(await send(pool, '/idle'))).toBe('ok');
    expect(dialed).toHaveLength(2);
    const serverSides = accepted.map((socket) => once(socket, 'close'));
    pool.close();
    expect(await failed).toBeInstanceOf(Error);
    await Promise.all(serverSides);
    expect(dialed.map((socket) => socket.destroyed)).toEqual([true, true]);
  });
});

describe('Http1Pools', () => {
  it('retain drops the pools whose key is refused and closes their tunnels', async () => {
    const pools = new Http1Pools();
    cleanups.push(() => pools.close());
    const a = pools.pool('a', dialer(port));
    const b = pools.pool('b', dialer(port));
    expect(pools.pool('a', dialer(port))).toBe(a);
    expect(await text(await send(a, '/'))).toBe('ok');
    expect(await text(await send(b, '/'))).toBe('ok');
    const aClosed = once(accepted[0] as net.Socket, 'close');
    pools.retain((key) => key === 'b');
    await aClosed;
    expect(dialed[0]?.destroyed).toBe(true);
    expect(dialed[1]?.destroyed).toBe(false);
    expect(pools.pool('b', dialer(port))).toBe(b);
    expect(pools.pool('a', dialer(port))).not.toBe(a);
    expect(await text(await send(b, '/'))).toBe('ok');
    expect(dialed).toHaveLength(2);
    await expect(send(a, '/')).rejects.toBeInstanceOf(UpstreamConnectError);
  });
});
