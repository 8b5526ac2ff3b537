// Differential test of the waypoint's HTTP/1.1 parser against Node's llhttp (node:http's strict server and client
// parsers), over seeded generated messages: mostly well-formed, with the mutations request smuggling is made of —
// duplicated and malformed Content-Length, Transfer-Encoding variants, bad chunk sizes, bare CR/LF, folding, control
// bytes, pipelined requests.
//
// The property checked is the one that matters for a proxy: wherever both parsers read requests (or a response),
// they read the same ones — the same boundaries, fields and bodies. A message that one parser takes and the other
// refuses is allowed: the waypoint re-frames what it forwards, and it is stricter than llhttp in some places (HTTP
// versions, transfer codings it does not implement, Transfer-Encoding in HTTP/1.0) and more lenient in others
// (extension methods, identical duplicate Content-Lengths, empty list elements), each as RFC 9110/9112 allow.

import * as http from 'node:http';
import * as net from 'node:net';

import { seededRandom } from '@weft/testing';

import { ChunkedDecoder, parseRequestHead, parseResponseHead, type BodyFraming, type HeaderMap } from '../src/proxy/http1/message-head';

/** What a parser read from one connection's bytes: the messages, then whether it took the rest of the bytes. */
interface Reading {
  readonly messages: string[];
  readonly refused: boolean;
}

const CASES = 1200;

class Generator {
  private readonly random: () => number;
  /** Whether the message being made may be mutated: about 60% are left well-formed. */
  private mutating = false;

  constructor(seed: number) {
    this.random = seededRandom(seed);
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)] as T;
  }

  chance(p: number): boolean {
    return this.random() < p;
  }

  count(below: number): number {
    return Math.floor(this.random() * below);
  }

  /** `clean`, or in a mutated message with probability `p` one of `variants`. */
  mutated<T>(p: number, clean: T, variants: readonly T[]): T {
    return this.mutating && this.chance(p) ? this.pick(variants) : clean;
  }

  eol(): string {
    return this.mutated(0.04, '\r\n', ['\n', '\r', '\r\r\n']);
  }

  /** A Content-Length or chunked body with its framing field lines. */
  body(lines: [string, string][]): string {
    if (this.chance(0.45)) {
      const data = 'x'.repeat(this.count(12));
      const length = this.mutated(0.3, String(data.length), ['+5', '-1', `${data.length}, ${data.length}`, ` ${data.length}`, `0${data.length}`, '1e3', '', `${data.length + 3}`]);
      lines.push([this.pick(['Content-Length', 'content-length']), length]);
      if (this.mutating && this.chance(0.2)) lines.push(['Content-Length', this.chance(0.5) ? length : String(data.length + 1)]);
      return data;
    }
    if (this.chance(0.5)) {
      const codings = ['Chunked', 'gzip, chunked', 'chunked, gzip', 'identity', ',chunked', 'chunked,', 'gzip', ' chunked\t', 'xchunked'];
      lines.push([this.pick(['Transfer-Encoding', 'transfer-encoding']), this.mutated(0.4, 'chunked', codings)]);
      if (this.mutating && this.chance(0.15)) lines.push([this.pick(['Content-Length', 'Transfer-Encoding']), this.pick(['3', 'chunked'])]);
      let body = '';
      for (let i = this.count(3); i > 0; i--) {
        const data = 'y'.repeat(1 + this.count(20));
        const hex = data.length.toString(16);
        const size = this.mutated(0.3, hex, [hex.toUpperCase(), `0${hex}`, `${hex};e=1`, `${hex} ;e`, `${hex} `, `0x${hex}`, `-${hex}`, 'g']);
        body += `${size}${this.eol()}${data}${this.mutated(0.05, '\r\n', ['\n', '', 'zz\r\n'])}`;
      }
      const trailer = this.mutated(0.2, '', ['Trailer-A: 1\r\n', 'bad trailer\r\n']);
      return body + this.mutated(0.05, `0\r\n${trailer}\r\n`, ['']);
    }
    return '';
  }

  /** The field lines (`lines` and up to three more) and the empty line that ends a head. */
  fields(lines: [string, string][]): string {
    for (let i = this.count(4); i > 0; i--) {
      const name = this.mutated(0.15, this.pick(['X-A', 'x-a', 'Cookie', 'Set-Cookie', 'Connection', 'Accept', 'User-Agent', 'constructor']), ['bad name', 'x\x01', '', 'x(y)']);
      const value = this.mutated(0.15, this.pick(['1', 'a=b', 'close', 'keep-alive', '', 'v\xe9', 'a\tb']), ['v\x00', 'v\x7f', 'v\rx']);
      lines.push([name, value]);
    }
    let text = '';
    for (const [name, value] of lines) {
      text += `${name}${this.mutated(0.1, ': ', [':', ' : ', ':\t'])}${value}${this.eol()}`;
      text += this.mutated(0.03, '', [` folded${this.eol()}`]);
    }
    return text + this.eol();
  }

  request(): string {
    this.mutating = this.chance(0.4);
    const method = this.mutated(0.15, this.pick(['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH']), ['get', 'G ET', 'GET\t', '']);
    const target = this.mutated(0.15, this.pick(['/', '/a?b=c', '/%20x', '*', 'http://h/x']), ['/a b', '/a\x7f', '/\xe9', '', '/a\x00']);
    const version = this.mutated(0.15, this.pick(['HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0']), ['HTTP/2.0', 'HTTP/0.9', 'http/1.1', 'HTTP/1.1 ', 'HTTP/1.']);
    const lines: [string, string][] = this.mutated(0.1, [['Host', this.pick(['h', 'h:80'])]], [[]]);
    const body = this.body(lines);
    return `${method} ${target} ${version}${this.eol()}${this.fields(lines)}${body}`;
  }

  /** A response to a GET or HEAD; one that has no body (HEAD, 1xx, 204, 304) gets none unless mutated. */
  response(): { text: string; method: string } {
    this.mutating = this.chance(0.4);
    const method = this.chance(0.85) ? 'GET' : 'HEAD';
    const version = this.mutated(0.15, this.pick(['HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0']), ['HTTP/2.0', 'http/1.1', 'HTTP/1.']);
    const status = this.mutated(0.15, this.pick(['200', '201', '204', '304', '404', '503', '100']), ['2000', '20', '099', 'abc']);
    let head = `${version} ${status}${this.mutated(0.1, this.pick([' OK', ' ', '']), [' a\x01b'])}${this.eol()}`;
    if (status === '100') head += `${this.eol()}HTTP/1.1 200 OK${this.eol()}`;
    const lines: [string, string][] = [];
    const body = this.body(lines);
    const bodiless = method === 'HEAD' || status === '204' || status === '304';
    // Without framing fields the body runs to the close.
    const sent = body === '' && this.chance(0.5) ? 'close-delimited body' : body;
    return { text: head + this.fields(lines) + this.mutated(0.3, bodiless ? '' : sent, [sent]), method };
  }
}

/** A message as compared: fields without `__proto__` (Node's header record cannot hold it; the waypoint's does). */
function summary(start: string, headers: HeaderMap | http.IncomingHttpHeaders, body: Buffer): string {
  const fields = Object.entries(headers).filter(([name]) => name !== '__proto__');
  return JSON.stringify([start, fields, body.toString('latin1')]);
}

/** The waypoint's parser over one connection's bytes, reading requests as its server connection does. */
function waypointRequests(bytes: Buffer): Reading {
  const messages: string[] = [];
  let rest = bytes;
  while (rest.length > 0) {
    const parsed = parseRequestHead(rest);
    if (parsed.kind !== 'head') return { messages, refused: true };
    const { head } = parsed;
    rest = rest.subarray(parsed.length);
    const body = readBody(head.body, rest);
    if (body === undefined) return { messages, refused: true };
    rest = rest.subarray(body.consumed);
    messages.push(summary(`${head.method} ${head.target} ${head.httpVersion}`, head.headers, body.data));
    // After a request that does not keep the connection, the server answers and closes: the rest is never read.
    if (!head.keepAlive) return { messages, refused: false };
  }
  return { messages, refused: false };
}

function waypointResponse(bytes: Buffer, method: string): Reading {
  let rest = bytes;
  for (;;) {
    const parsed = parseResponseHead(rest, method);
    if (parsed.kind !== 'head') return { messages: [], refused: true };
    rest = rest.subarray(parsed.length);
    const { head } = parsed;
    if (head.status >= 200) {
      const body = head.body.kind === 'close' ? { data: rest, consumed: rest.length } : readBody(head.body, rest);
      if (body === undefined) return { messages: [], refused: true };
      return { messages: [summary(`${head.status}`, head.headers, body.data)], refused: false };
    }
  }
}

/** A whole length- or chunk-delimited body at the start of `bytes`, or undefined when it is invalid or cut short. */
function readBody(framing: BodyFraming, bytes: Buffer): { data: Buffer; consumed: number } | undefined {
  if (framing.kind === 'none') return { data: Buffer.alloc(0), consumed: 0 };
  if (framing.kind === 'length') return bytes.length < framing.length ? undefined : { data: bytes.subarray(0, framing.length), consumed: framing.length };
  if (framing.kind === 'close') return undefined;
  const decoded = new ChunkedDecoder().decode(bytes, 0);
  if (decoded.kind === 'invalid' || !decoded.done) return undefined;
  return { data: Buffer.concat(decoded.chunks), consumed: decoded.consumed };
}

/** node:http's server over one connection's bytes: the requests it emitted, and whether it refused anything. */
class NodeServer {
  private readonly server = http.createServer({ requireHostHeader: false });
  private readonly readings = new Map<number, { messages: string[]; refused: boolean }>();

  async start(): Promise<void> {
    const reading = (socket: net.Socket): { messages: string[]; refused: boolean } => {
      const found = this.readings.get(socket.remotePort ?? -1);
      if (found === undefined) throw new Error('a connection the test did not open');
      return found;
    };
    const onRequest = (request: http.IncomingMessage, response: http.ServerResponse): void => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        reading(request.socket).messages.push(summary(`${request.method} ${request.url} ${request.httpVersion}`, request.headers, Buffer.concat(chunks)));
        response.end();
      });
      request.on('error', () => (reading(request.socket).refused = true));
    };
    this.server.on('request', onRequest);
    // Expectations and CONNECT are answered by the application in node:http; here they are requests like others.
    this.server.on('checkExpectation', onRequest);
    this.server.on('connect', (_request: http.IncomingMessage, socket: net.Socket) => {
      reading(socket).refused = true;
      socket.destroy();
    });
    this.server.on('clientError', (_error: Error, socket: net.Socket) => {
      reading(socket).refused = true;
      socket.destroy();
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  read(bytes: Buffer): Promise<Reading> {
    const { port } = this.server.address() as net.AddressInfo;
    return new Promise((resolve) => {
      const client = net.connect(port, '127.0.0.1', () => {
        const entry = { messages: [] as string[], refused: false };
        this.readings.set(client.localPort ?? -1, entry);
        client.on('data', () => undefined);
        client.on('close', () => resolve(entry));
        client.end(bytes);
      });
      client.on('error', () => undefined);
    });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A raw TCP server that answers every connection with the next response's bytes, read by node:http's client. */
class NodeClient {
  private readonly server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    socket.once('data', () => socket.end(this.answer));
  });
  private answer: Buffer = Buffer.alloc(0);

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  read(bytes: Buffer, method: string): Promise<Reading> {
    this.answer = bytes;
    const { port } = this.server.address() as net.AddressInfo;
    return new Promise((resolve) => {
      let settled = false;
      const settle = (reading: Reading): void => {
        if (!settled) resolve(reading);
        settled = true;
      };
      const request = http.request({ host: '127.0.0.1', port, method, path: '/', agent: false }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => settle({ messages: [summary(`${response.statusCode ?? 0}`, response.headers, Buffer.concat(chunks))], refused: false }));
        response.on('error', () => settle({ messages: [], refused: true }));
        response.on('aborted', () => settle({ messages: [], refused: true }));
      });
      request.on('error', () => settle({ messages: [], refused: true }));
      request.end();
    });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** The messages both parsers read, before either stopped: these must be the same. */
function commonPrefix(a: Reading, b: Reading): [string[], string[]] {
  const length = Math.min(a.messages.length, b.messages.length);
  return [a.messages.slice(0, length), b.messages.slice(0, length)];
}

describe('HTTP/1.1 parsing: the waypoint and llhttp read the same messages', () => {
  jest.setTimeout(60_000);

  it(`requests: ${CASES} generated connections, some with pipelined requests`, async () => {
    const node = new NodeServer();
    await node.start();
    const generate = new Generator(20261201);
    let bothRead = 0;
    try {
      for (let i = 0; i < CASES; i++) {
        const bytes = Buffer.from(generate.chance(0.15) ? generate.request() + generate.request() : generate.request(), 'latin1');
        const ours = waypointRequests(bytes);
        const theirs = await node.read(bytes);
        const [a, b] = commonPrefix(ours, theirs);
        if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`the parsers read different requests from ${JSON.stringify(bytes.toString('latin1'))}:\n  waypoint ${JSON.stringify(ours)}\n  llhttp   ${JSON.stringify(theirs)}`);
        // Where both read everything, they read the same number of requests too.
        if (!ours.refused && !theirs.refused && ours.messages.length !== theirs.messages.length) {
          throw new Error(`the parsers read ${ours.messages.length} and ${theirs.messages.length} requests from ${JSON.stringify(bytes.toString('latin1'))}`);
        }
        if (!ours.refused && !theirs.refused) bothRead++;
      }
    } finally {
      await node.stop();
    }
    // The generator must mostly produce messages both take, or the comparison says little.
    expect(bothRead).toBeGreaterThan(CASES * 0.4);
  });

  it(`responses: ${CASES} generated answers to GET and HEAD`, async () => {
    const node = new NodeClient();
    await node.start();
    const generate = new Generator(20261202);
    let bothRead = 0;
    try {
      for (let i = 0; i < CASES; i++) {
        const { text, method } = generate.response();
        const bytes = Buffer.from(text, 'latin1');
        const ours = waypointResponse(bytes, method);
        const theirs = await node.read(bytes, method);
        if (!ours.refused && !theirs.refused) {
          bothRead++;
          expect({ method, bytes: bytes.toString('latin1'), read: ours.messages }).toEqual({ method, bytes: bytes.toString('latin1'), read: theirs.messages });
        }
      }
    } finally {
      await node.stop();
    }
    expect(bothRead).toBeGreaterThan(CASES * 0.4);
  });
});
