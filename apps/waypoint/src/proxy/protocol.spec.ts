import { encodeGrpcMessage, grpcLocalReply, grpcStatusOfHttp, HTTP2_PREFACE, isGrpcRequest, sniffCodec, upstreamCodec, type HttpCodec } from './protocol';

describe('sniffCodec', () => {
  it.each<[string, Buffer, HttpCodec | 'undecided']>([
    ['the whole preface', HTTP2_PREFACE, 'http2'],
    ['the preface and a SETTINGS frame', Buffer.concat([HTTP2_PREFACE, Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]), 'http2'],
    ['a prefix of the preface', Buffer.from('PRI * HTTP/2'), 'undecided'],
    ['nothing yet', Buffer.alloc(0), 'undecided'],
    ['an HTTP/1.1 request line', Buffer.from('GET / HTTP/1.1\r\nhost: a\r\n\r\n'), 'http1'],
    ['a PRI-like HTTP/1.1 method', Buffer.from('PRINT / HTTP/1.1\r\n'), 'http1'],
    ['a short non-matching start', Buffer.from('P0'), 'http1'],
  ])('%s', (_name, head, expected) => {
    expect(sniffCodec(head)).toBe(expected);
  });
});

describe('upstreamCodec', () => {
  it.each<[Parameters<typeof upstreamCodec>[0], HttpCodec, HttpCodec]>([
    ['HTTP2', 'http1', 'http2'],
    ['GRPC', 'http1', 'http2'],
    ['HTTP', 'http2', 'http1'],
    ['UNKNOWN', 'http2', 'http2'],
    ['UNKNOWN', 'http1', 'http1'],
  ])('port %s, downstream %s → %s', (protocol, downstream, expected) => {
    expect(upstreamCodec(protocol, downstream)).toBe(expected);
  });
});

describe('isGrpcRequest', () => {
  it.each<[string | string[] | undefined, boolean]>([
    ['application/grpc', true],
    ['application/grpc+proto', true],
    ['Application/GRPC;charset=utf-8', true],
    [['application/grpc'], true],
    ['application/grpc-web', false],
    ['application/json', false],
    [undefined, false],
  ])('%j → %s', (contentType, expected) => {
    expect(isGrpcRequest(contentType)).toBe(expected);
  });
});

describe('grpcStatusOfHttp', () => {
  it.each([
    [400, 13],
    [401, 16],
    [403, 7],
    [404, 12],
    [429, 14],
    [502, 14],
    [503, 14],
    [504, 14],
    [500, 2],
    [413, 2],
  ])('HTTP %i → gRPC %i', (http, grpc) => {
    expect(grpcStatusOfHttp(http)).toBe(grpc);
  });
});

describe('grpcLocalReply', () => {
  it('turns a local 403 into a trailers-only gRPC answer with PERMISSION_DENIED', () => {
    expect(grpcLocalReply(403, { 'content-type': 'text/plain' }, 'RBAC: access denied')).toEqual({
      status: 200,
      headers: { 'content-type': 'application/grpc', 'grpc-status': '7', 'grpc-message': 'RBAC: access denied' },
    });
  });

  it('keeps an answer that already carries grpc-status (a gRPC fault abort)', () => {
    expect(grpcLocalReply(200, { 'grpc-status': '14', 'content-type': 'text/plain' }, 'fault filter abort')).toEqual({ status: 200, headers: { 'grpc-status': '14', 'content-type': 'application/grpc' } });
  });
});

describe('encodeGrpcMessage', () => {
  it.each([
    ['plain text', 'plain text'],
    ['100%', '100%25'],
    ['tab\there', 'tab%09here'],
    ['é', '%C3%A9'],
  ])('%j → %j', (message, encoded) => {
    expect(encodeGrpcMessage(message)).toBe(encoded);
  });
});
