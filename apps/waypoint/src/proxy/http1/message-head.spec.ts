import {
  ChunkedDecoder,
  chunkHeader,
  LAST_CHUNK,
  MAX_HEAD_BYTES,
  parseRequestHead,
  parseResponseHead,
  serializeRequestHead,
  serializeResponseHead,
  type BodyFraming,
  type HeaderMap,
  type HeadResult,
  type RequestHead,
} from './message-head';

const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');

/** The head of a result that must be one. */
function headOf<T>(result: HeadResult<T>): { head: T; length: number } {
  if (result.kind !== 'head') throw new Error(`expected a head, got ${JSON.stringify(result)}`);
  return result;
}

describe('parseRequestHead', () => {
  it.each<[string, string, Partial<RequestHead>, number]>([
    [
      'a simple GET',
      'GET /a?b=c HTTP/1.1\r\nHost: example.com\r\n\r\n',
      { method: 'GET', target: '/a?b=c', httpVersion: '1.1', headers: { host: 'example.com' }, keepAlive: true, body: { kind: 'none' }, expectContinue: false },
      42,
    ],
    ['a POST with a content-length (the body is not counted)', 'POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello', { method: 'POST', body: { kind: 'length', length: 5 } }, 39],
    ['a zero content-length', 'POST /p HTTP/1.1\r\ncontent-length: 0\r\n\r\n', { body: { kind: 'none' } }, 39],
    ['a chunked request', 'POST /p HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n5\r\n', { body: { kind: 'chunked' } }, 48],
    ['chunked between OWS', 'POST /p HTTP/1.1\r\nTransfer-Encoding: \t chunked\t\r\n\r\n', { body: { kind: 'chunked' } }, 51],
    ['leading empty lines', '\r\n\r\nGET / HTTP/1.1\r\n\r\n', { method: 'GET', target: '/', headers: {} }, 22],
    ['an HTTP/1.0 request', 'GET / HTTP/1.0\r\n\r\n', { httpVersion: '1.0', keepAlive: false }, 18],
    ['an absolute-form target and a lower-case method', 'get http://a.example/x HTTP/1.1\r\n\r\n', { method: 'get', target: 'http://a.example/x' }, 35],
    ['values trimmed of OWS', 'GET / HTTP/1.1\r\nX-A: \t v  w \t\r\nX-B:\r\n\r\n', { headers: { 'x-a': 'v  w', 'x-b': '' } }, 39],
    ['expect 100-continue on HTTP/1.1', 'PUT / HTTP/1.1\r\nExpect: 100-Continue\r\n\r\n', { expectContinue: true }, 40],
    ['expect 100-continue on HTTP/1.0', 'PUT / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n', { expectContinue: false }, 40],
    ['other expectations', 'PUT / HTTP/1.1\r\nExpect: 200-ok\r\n\r\n', { expectContinue: false }, 34],
  ])('%s', (_name, raw, expected, length) => {
    const result = headOf(parseRequestHead(bytes(raw)));
    expect(result.head).toMatchObject(expected);
    expect(result.length).toBe(length);
  });

  it('parses pipelined requests one after the other', () => {
    const first = 'GET /1 HTTP/1.1\r\nHost: a\r\n\r\n';
    const buffer = bytes(`${first}GET /2 HTTP/1.1\r\nHost: b\r\n\r\n`);
    const one = headOf(parseRequestHead(buffer));
    expect(one.length).toBe(first.length);
    expect(one.head.target).toBe('/1');
    const two = headOf(parseRequestHead(buffer.subarray(one.length)));
    expect(two.head).toMatchObject({ target: '/2', headers: { host: 'b' } });
    expect(one.length + two.length).toBe(buffer.length);
  });

  it.each([
    'GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nX-Foo: 1\r\n\r\n',
    '\r\nPOST / HTTP/1.0\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\n',
  ])('is incomplete at every split point of %j', (raw) => {
    const buffer = bytes(raw);
    for (let end = 0; end < buffer.length; end++) {
      expect([end, parseRequestHead(buffer.subarray(0, end))]).toEqual([end, { kind: 'incomplete' }]);
    }
    expect(headOf(parseRequestHead(buffer)).length).toBe(buffer.length);
  });

  it.each<[string, string, HeaderMap]>([
    ['set-cookie is always a list', 'Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n', { 'set-cookie': ['a=1', 'b=2'] }],
    ['a single set-cookie is a list', 'set-cookie: a=1\r\n', { 'set-cookie': ['a=1'] }],
    ['a duplicate host keeps the first', 'Host: a\r\nHost: b\r\n', { host: 'a' }],
    ['a duplicate content-type keeps the first', 'Content-Type: text/plain\r\ncontent-type: text/html\r\n', { 'content-type': 'text/plain' }],
    ['cookie joins with "; "', 'Cookie: a=1\r\nCookie: b=2\r\n', { cookie: 'a=1; b=2' }],
    ['other fields join with ", "', 'X-Foo: 1\r\nx-foo: 2\r\nX-FOO: 3\r\n', { 'x-foo': '1, 2, 3' }],
    ['names are lower-cased', 'X-Mixed-Case: V\r\n', { 'x-mixed-case': 'V' }],
    ['latin1 values', 'X-Latin: caf\xe9\r\n', { 'x-latin': 'caf\xe9' }],
    ['prototype names are plain fields', 'constructor: a\r\n__proto__: b\r\n', { constructor: 'a', ['__proto__']: 'b' }],
  ])('merges fields: %s', (_name, lines, expected) => {
    const { head } = headOf(parseRequestHead(bytes(`GET / HTTP/1.1\r\n${lines}\r\n`)));
    expect(head.headers).toEqual(expected);
    expect(Object.keys(head.headers)).toEqual(Object.keys(expected));
  });

  it.each<['1.0' | '1.1', string | undefined, boolean]>([
    ['1.1', undefined, true],
    ['1.1', 'close', false],
    ['1.1', 'Upgrade, CLOSE', false],
    ['1.1', 'keep-alive', true],
    ['1.1', 'closed', true],
    ['1.0', undefined, false],
    ['1.0', 'Keep-Alive', true],
    ['1.0', 'te, keep-alive', true],
    ['1.0', 'keep-alive, close', false],
    ['1.0', 'close', false],
  ])('HTTP/%s with connection %j: keepAlive %s', (version, connection, keepAlive) => {
    const field = connection === undefined ? '' : `Connection: ${connection}\r\n`;
    expect(headOf(parseRequestHead(bytes(`GET / HTTP/${version}\r\n${field}\r\n`))).head.keepAlive).toBe(keepAlive);
  });

  it.each<[string, string, 400 | 431 | 501 | 505]>([
    ['a bare LF ending a header line', 'GET / HTTP/1.1\r\nHost: a\n\r\n', 400],
    ['a bare LF ending the request line', 'GET / HTTP/1.1\n', 400],
    ['a bare LF ending the head', 'GET / HTTP/1.1\r\nHost: a\r\n\n', 400],
    ['obsolete line folding', 'GET / HTTP/1.1\r\nX-A: 1\r\n  2\r\n\r\n', 400],
    ['a header line starting with a tab', 'GET / HTTP/1.1\r\n\tX-A: 1\r\n\r\n', 400],
    ['a space before the colon', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n', 400],
    ['an empty header name', 'GET / HTTP/1.1\r\n: a\r\n\r\n', 400],
    ['a header line without a colon', 'GET / HTTP/1.1\r\nHost\r\n\r\n', 400],
    ['a non-token header name', 'GET / HTTP/1.1\r\nX(a): 1\r\n\r\n', 400],
    ['a non-numeric content-length', 'POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n', 400],
    ['a negative content-length', 'POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n', 400],
    ['an empty content-length', 'POST / HTTP/1.1\r\nContent-Length:\r\n\r\n', 400],
    ['a content-length list', 'POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n', 400],
    ['a content-length beyond a safe integer', 'POST / HTTP/1.1\r\nContent-Length: 9007199254740992\r\n\r\n', 400],
    ['differing content-lengths', 'POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n', 400],
    ['transfer-encoding with content-length', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n', 400],
    ['transfer-encoding gzip only', 'POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n', 400],
    ['another coding before chunked (not implemented, as in Envoy)', 'POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', 501],
    ['the same in two field lines', 'POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n\r\n', 501],
    ['chunked twice', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n', 400],
    ['chunked and then an empty element (llhttp: not chunked)', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked,\r\n\r\n', 400],
    ['an empty element and then chunked', 'POST / HTTP/1.1\r\nTransfer-Encoding: , chunked\r\n\r\n', 501],
    ['transfer-encoding on HTTP/1.0', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', 400],
    ['transfer-encoding not ending with chunked', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n', 400],
    ['an empty transfer-encoding', 'POST / HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n', 400],
    ['HTTP/2.0', 'GET / HTTP/2.0\r\n\r\n', 505],
    ['HTTP/1.2', 'GET / HTTP/1.2\r\n\r\n', 505],
    ['a garbage version', 'GET / HTTX/1.1\r\n\r\n', 400],
    ['a lower-case version', 'GET / http/1.1\r\n\r\n', 400],
    ['a missing version', 'GET /\r\n\r\n', 400],
    ['a trailing space after the version', 'GET / HTTP/1.1 \r\n\r\n', 400],
    ['two spaces before the target', 'GET  / HTTP/1.1\r\n\r\n', 400],
    ['a non-token method', 'G(T / HTTP/1.1\r\n\r\n', 400],
    ['a control byte in the target', 'GET /a\x01b HTTP/1.1\r\n\r\n', 400],
    ['raw UTF-8 in the target (as from Envoy)', 'GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n', 400],
    ['DEL in the target', 'GET /a\x7f HTTP/1.1\r\n\r\n', 400],
    ['CONNECT', 'CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n', 501],
    ['the HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 501],
    ['a control byte in a value', 'GET / HTTP/1.1\r\nX-A: a\x01b\r\n\r\n', 400],
    ['a bare CR in a value', 'GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n', 400],
    ['DEL in a value', 'GET / HTTP/1.1\r\nX-A: a\x7fb\r\n\r\n', 400],
    ['a head over the limit', `GET / HTTP/1.1\r\nX-A: ${'a'.repeat(MAX_HEAD_BYTES)}`, 431],
    ['a complete head over the limit', `GET / HTTP/1.1\r\nX-A: ${'a'.repeat(MAX_HEAD_BYTES)}\r\n\r\n`, 431],
  ])('rejects %s', (_name, raw, status) => {
    expect(parseRequestHead(bytes(raw))).toMatchObject({ kind: 'invalid', status });
  });

  it("takes a 40 KiB cookie (past Node's 16 KiB limit, within Envoy's 60 KiB)", () => {
    const cookie = `session=${'c'.repeat(40 * 1024)}`;
    const { head } = headOf(parseRequestHead(bytes(`GET / HTTP/1.1\r\nHost: a\r\nCookie: ${cookie}\r\n\r\n`)));
    expect(head.headers['cookie']).toBe(cookie);
  });

  it.each<[string, number, HeadResult<RequestHead>['kind']]>([
    ['GET / HTTP/1.1\r\n\r\n', 18, 'head'],
    ['GET / HTTP/1.1\r\n\r\n', 17, 'invalid'],
    ['GET / HTTP/1.1\r\n\r', 17, 'incomplete'],
    ['GET / HTTP/1.1\r\nX', 16, 'invalid'],
  ])('with %j and a limit of %d bytes: %s', (raw, limit, kind) => {
    expect(parseRequestHead(bytes(raw), limit).kind).toBe(kind);
  });

  it('answers 431 with the limit in the reason', () => {
    expect(parseRequestHead(bytes('GET / HTTP/1.1\r\nX-A: aaaa'), 8)).toEqual({ kind: 'invalid', status: 431, reason: 'message head exceeds 8 bytes' });
  });
});

describe('parseResponseHead', () => {
  it.each<[string, string, string, BodyFraming, boolean]>([
    ['a response to HEAD', 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n', 'HEAD', { kind: 'none' }, true],
    ['204', 'HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n', 'GET', { kind: 'none' }, true],
    ['304', 'HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n', 'GET', { kind: 'none' }, true],
    ['101', 'HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n', 'GET', { kind: 'none' }, true],
    ['100', 'HTTP/1.1 100 Continue\r\n\r\n', 'POST', { kind: 'none' }, true],
    ['chunked', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', 'GET', { kind: 'chunked' }, true],
    ['a content-length', 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n', 'GET', { kind: 'length', length: 10 }, true],
    ['a zero content-length', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', 'GET', { kind: 'none' }, true],
    ['neither: close-delimited', 'HTTP/1.1 200 OK\r\n\r\n', 'GET', { kind: 'close' }, false],
    ['transfer-encoding and content-length', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 10\r\n\r\n', 'GET', { kind: 'chunked' }, true],
    ['HTTP/1.0 with a content-length', 'HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n', 'GET', { kind: 'length', length: 1 }, false],
    ['HTTP/1.0 keep-alive', 'HTTP/1.0 200 OK\r\nContent-Length: 1\r\nConnection: keep-alive\r\n\r\n', 'GET', { kind: 'length', length: 1 }, true],
    ['connection close', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\n', 'GET', { kind: 'length', length: 1 }, false],
  ])('frames %s', (_name, raw, method, body, keepAlive) => {
    const { head, length } = headOf(parseResponseHead(bytes(raw), method));
    expect(head.body).toEqual(body);
    expect(head.keepAlive).toBe(keepAlive);
    expect(length).toBe(raw.length);
  });

  // The body is passed on re-framed, without the endpoint's Transfer-Encoding: another coding would reach the client
  // undeclared, so such a response is refused (the request then fails as an upstream protocol error).
  it.each<[string, string]>([
    ['gzip then chunked', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n'],
    ['gzip, delimited by the close', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n'],
    ['chunked twice', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n'],
    ['chunked and then an empty element (llhttp: delimited by the close)', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked,\r\n\r\n'],
    ['transfer-encoding on HTTP/1.0', 'HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'],
  ])('refuses a response with %s', (_name, raw) => {
    expect(parseResponseHead(bytes(raw), 'GET')).toMatchObject({ kind: 'invalid' });
  });

  it('drops content-length when transfer-encoding is present', () => {
    const raw = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 10\r\nX-A: 1\r\n\r\n';
    expect(headOf(parseResponseHead(bytes(raw), 'GET')).head.headers).toEqual({ 'transfer-encoding': 'chunked', 'x-a': '1' });
  });

  it.each<[string, number, '1.0' | '1.1']>([
    ['HTTP/1.1 200 OK\r\n\r\n', 200, '1.1'],
    ['HTTP/1.1 200\r\n\r\n', 200, '1.1'],
    ['HTTP/1.1 404 \r\n\r\n', 404, '1.1'],
    ['HTTP/1.0 503 Service\tUnavailable\r\n\r\n', 503, '1.0'],
    ['HTTP/1.1 599 Whatever It Is\r\n\r\n', 599, '1.1'],
  ])('reads the status line %j', (raw, status, httpVersion) => {
    expect(headOf(parseResponseHead(bytes(raw), 'GET')).head).toMatchObject({ status, httpVersion });
  });

  it.each<[string, string, 400 | 431 | 505]>([
    ['a four-digit status', 'HTTP/1.1 2000 OK\r\n\r\n', 400],
    ['a two-digit status', 'HTTP/1.1 20 OK\r\n\r\n', 400],
    ['a status below 100', 'HTTP/1.1 099 Odd\r\n\r\n', 400],
    ['no status', 'HTTP/1.1\r\n\r\n', 400],
    ['a control byte in the reason', 'HTTP/1.1 200 O\x00K\r\n\r\n', 400],
    ['HTTP/2.0', 'HTTP/2.0 200 OK\r\n\r\n', 505],
    ['garbage', 'ICY 200 OK\r\n\r\n', 400],
    ['an empty status line', '\r\n\r\n', 400],
    ['a bare LF', 'HTTP/1.1 200 OK\n\n', 400],
    ['differing content-lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', 400],
    ['obsolete line folding', 'HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\n\r\n', 400],
    ['a head over the limit', `HTTP/1.1 200 OK\r\nX-A: ${'a'.repeat(MAX_HEAD_BYTES)}`, 431],
  ])('rejects %s', (_name, raw, status) => {
    expect(parseResponseHead(bytes(raw), 'GET')).toMatchObject({ kind: 'invalid', status });
  });

  it('is incomplete at every split point', () => {
    const buffer = bytes('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n');
    for (let end = 0; end < buffer.length; end++) {
      expect([end, parseResponseHead(buffer.subarray(0, end), 'GET')]).toEqual([end, { kind: 'incomplete' }]);
    }
  });
});

describe('serializers', () => {
  it.each<[string, string, string, HeaderMap, string]>([
    ['no headers', 'GET', '/', {}, 'GET / HTTP/1.1\r\n\r\n'],
    ['headers as given', 'POST', '/a?b=c', { Host: 'a.example', 'content-length': '3' }, 'POST /a?b=c HTTP/1.1\r\nHost: a.example\r\ncontent-length: 3\r\n\r\n'],
    ['a list value as several lines', 'GET', '/', { 'x-a': ['1', '2'], 'x-b': 'c' }, 'GET / HTTP/1.1\r\nx-a: 1\r\nx-a: 2\r\nx-b: c\r\n\r\n'],
  ])('serializeRequestHead: %s', (_name, method, path, headers, expected) => {
    expect(serializeRequestHead(method, path, headers)).toBe(expected);
  });

  it.each<[number, HeaderMap, string]>([
    [200, { 'content-length': '0' }, 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'],
    [404, {}, 'HTTP/1.1 404 Not Found\r\n\r\n'],
    [431, {}, 'HTTP/1.1 431 Request Header Fields Too Large\r\n\r\n'],
    [503, { 'set-cookie': ['a=1', 'b=2'] }, 'HTTP/1.1 503 Service Unavailable\r\nset-cookie: a=1\r\nset-cookie: b=2\r\n\r\n'],
    [299, {}, 'HTTP/1.1 299 Unknown\r\n\r\n'],
  ])('serializeResponseHead(%d)', (status, headers, expected) => {
    expect(serializeResponseHead(status, headers)).toBe(expected);
  });

  it.each<[string, () => string]>([
    ['a CR LF in a value (header injection)', () => serializeResponseHead(200, { 'x-a': 'ok\r\nset-cookie: evil=1' })],
    ['a NUL in a value', () => serializeRequestHead('GET', '/', { 'x-a': 'a\u0000b' })],
    ['a space in a name', () => serializeRequestHead('GET', '/', { 'x a': 'b' })],
    ['an empty name', () => serializeResponseHead(200, { '': 'b' })],
    ['a space in the request target', () => serializeRequestHead('GET', '/a b', {})],
    ['an empty request target', () => serializeRequestHead('GET', '', {})],
    ['a non-ASCII request target', () => serializeRequestHead('GET', '/caf\u00e9', {})],
    ['a method that is not a token', () => serializeRequestHead('GE T', '/', {})],
  ])('refuses to serialize %s', (_name, serialize) => {
    expect(serialize).toThrow(TypeError);
  });

  it('serializes a parsed head back to the same fields', () => {
    const headers: HeaderMap = { host: 'a', 'set-cookie': ['x=1', 'y=2'], 'x-a': 'b, c' };
    const { head } = headOf(parseRequestHead(bytes(serializeRequestHead('GET', '/', headers))));
    expect(head.headers).toEqual(headers);
  });

  it.each<[number, string]>([
    [0x1a, '1a\r\n'],
    [1, '1\r\n'],
    [65536, '10000\r\n'],
  ])('chunkHeader(%d)', (size, expected) => {
    expect(chunkHeader(size)).toBe(expected);
  });

  it.each([0, -1, 1.5, Number.NaN])('chunkHeader(%d) throws', (size) => {
    expect(() => chunkHeader(size)).toThrow(RangeError);
  });

  it('has the last chunk', () => {
    expect(LAST_CHUNK).toBe('0\r\n\r\n');
  });
});

describe('ChunkedDecoder', () => {
  const body = 'hello, world and more';
  const encoded = `5\r\nhello\r\n${chunkHeader(16)}, world and more\r\n${LAST_CHUNK}`;

  /** Feeds `input` in pieces of `step` bytes, keeping the unconsumed rest as a caller would. */
  function decodeInSteps(input: Buffer, step: number): { data: Buffer; done: boolean; trailers: HeaderMap; rest: Buffer } {
    const decoder = new ChunkedDecoder();
    const data: Buffer[] = [];
    let pending = Buffer.alloc(0);
    let done = false;
    let trailers: HeaderMap = {};
    for (let at = 0; at < input.length && !done; at += step) {
      pending = Buffer.concat([pending, input.subarray(at, at + step)]);
      const result = decoder.decode(pending, 0);
      if (result.kind === 'invalid') throw new Error(result.reason);
      data.push(...result.chunks);
      pending = pending.subarray(result.consumed);
      done = result.done;
      trailers = result.trailers;
    }
    return { data: Buffer.concat(data), done, trailers, rest: pending };
  }

  it.each([1, 2, 3, 7, 1000])('decodes a body fed %d bytes at a time', (step) => {
    const result = decodeInSteps(bytes(encoded), step);
    expect(result.data.toString('latin1')).toBe(body);
    expect(result.done).toBe(true);
    expect(result.trailers).toEqual({});
  });

  it('decodes a whole body at once, from an offset, leaving what follows', () => {
    const buffer = bytes(`HEAD${encoded}GET / HTTP/1.1\r\n`);
    const result = new ChunkedDecoder().decode(buffer, 4);
    expect(result).toMatchObject({ kind: 'data', consumed: encoded.length, done: true });
    if (result.kind !== 'data') throw new Error('expected data');
    expect(result.chunks.map((chunk) => chunk.toString('latin1'))).toEqual(['hello', ', world and more']);
    expect(result.chunks[0]?.buffer).toBe(buffer.buffer);
  });

  it('is not done before the final CRLF', () => {
    const buffer = bytes('3\r\nabc\r\n0\r\n');
    const result = new ChunkedDecoder().decode(buffer, 0);
    expect(result).toMatchObject({ kind: 'data', consumed: buffer.length, done: false });
  });

  it.each<[string, string, string, HeaderMap]>([
    ['extensions are ignored', '3;name=value\r\nabc\r\n2 ; a ; b="q;x"\r\nde\r\n0;last\r\n\r\n', 'abcde', {}],
    ['upper-case hex', 'A\r\n0123456789\r\n0\r\n\r\n', '0123456789', {}],
    ['trailers are returned', '1\r\nx\r\n0\r\nGrpc-Status: 0\r\nX-T: a\r\nx-t: b\r\n\r\n', 'x', { 'grpc-status': '0', 'x-t': 'a, b' }],
    ['an empty body', '0\r\n\r\n', '', {}],
  ])('%s', (_name, raw, data, trailers) => {
    for (const step of [1, raw.length]) {
      const result = decodeInSteps(bytes(raw), step);
      expect(result).toEqual({ data: bytes(data), done: true, trailers, rest: Buffer.alloc(0) });
    }
  });

  it.each<[string, string]>([
    ['an invalid hex size', 'g\r\nabc\r\n'],
    ['an empty size', '\r\nabc\r\n'],
    ['a size with trailing garbage', '3x\r\nabc\r\n'],
    ['whitespace after the size without an extension', '3 \r\nabc\r\n'],
    ['a tab after the size without an extension', '3\t\r\nabc\r\n'],
    ['a size beyond a safe integer', 'fffffffffffffffff\r\n'],
    ['a bare LF after the size', '3\nabc\r\n'],
    ['missing CRLF after data', '3\r\nabcd\r\n'],
    ['a bare LF after data', '3\r\nabc\n0\r\n\r\n'],
    ['a control byte in an extension', '3;a\x00\r\nabc\r\n'],
    ['an invalid trailer', '0\r\nbad trailer\r\n\r\n'],
    ['obsolete folding in a trailer', '0\r\nx-a: 1\r\n 2\r\n\r\n'],
    ['a chunk-size line over 4096 bytes', `1;${'a'.repeat(4096)}\r\nx\r\n`],
    ['an unterminated chunk-size line of 4096 bytes', `1;${'a'.repeat(4094)}`],
    ['a trailer section over 16 KiB', `0\r\nx-a: ${'a'.repeat(16 * 1024)}\r\n\r\n`],
  ])('rejects %s', (_name, raw) => {
    expect(new ChunkedDecoder().decode(bytes(raw), 0)).toMatchObject({ kind: 'invalid' });
  });

  it('rejects invalid framing found across calls', () => {
    const decoder = new ChunkedDecoder();
    expect(decoder.decode(bytes('3\r\nab'), 0)).toMatchObject({ kind: 'data', consumed: 5, done: false });
    expect(decoder.decode(bytes('cX'), 0)).toMatchObject({ kind: 'invalid' });
  });

  it('keeps a partial line unconsumed', () => {
    const decoder = new ChunkedDecoder();
    expect(decoder.decode(bytes('1'), 0)).toMatchObject({ kind: 'data', chunks: [], consumed: 0, done: false });
    expect(decoder.decode(bytes('1a\r'), 0)).toMatchObject({ kind: 'data', chunks: [], consumed: 0, done: false });
  });
});
