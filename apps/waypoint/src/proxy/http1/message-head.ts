// The HTTP/1.1 message head, read and written as bytes (RFC 9112). Pure: no sockets, no node:http.
//
// Parsing takes the bytes received so far and says whether they hold a whole head yet: the start line (request line
// §3, status line §4), the field lines (§5) and the empty line that ends them. A complete head is validated strictly
// — CRLF line ends only, no obsolete line folding (§5.2), token field names, no control bytes in values — and
// its body framing is decided as §6.3 does, refusing the ambiguous framings that enable request smuggling (§11.2).
// Field values are latin1 and merged into one record per name by the rules of Node's `IncomingMessage.headers`,
// so code written against node:http sees the same values. Chunked bodies (§7.1) are decoded incrementally by
// `ChunkedDecoder` and encoded with `chunkHeader` and `LAST_CHUNK`.

import type { HeaderMap } from '../upstream-message';

export type { HeaderMap };

/** How a message's body is delimited (RFC 9112 §6.3). */
export type BodyFraming =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; readonly length: number }
  | { readonly kind: 'chunked' }
  | { readonly kind: 'close' }; // response only: read until the connection closes

/** A parsed request head. */
export interface RequestHead {
  /** As sent (a case-sensitive token). */
  readonly method: string;
  /** The request-target as sent, e.g. "/a?b=c". */
  readonly target: string;
  readonly httpVersion: '1.0' | '1.1';
  /** Lower-case names, merged as Node's `IncomingMessage.headers`. */
  readonly headers: HeaderMap;
  /** HTTP/1.1: unless `connection` has the token "close"; HTTP/1.0: only if `connection` has "keep-alive". */
  readonly keepAlive: boolean;
  /** 'none', 'length' or 'chunked' (never 'close'). */
  readonly body: BodyFraming;
  /** `expect: 100-continue` (case-insensitive) on an HTTP/1.1 request. */
  readonly expectContinue: boolean;
}

/** A parsed response head. */
export interface ResponseHead {
  readonly status: number;
  readonly httpVersion: '1.0' | '1.1';
  /** Lower-case names, merged as Node's `IncomingMessage.headers`. */
  readonly headers: HeaderMap;
  /** The same rule as for requests, and false when the body is delimited by the connection closing. */
  readonly keepAlive: boolean;
  readonly body: BodyFraming;
}

/** What the bytes received so far hold. */
export type HeadResult<T> =
  | { readonly kind: 'incomplete' } // need more bytes (and not over the limit yet)
  | { readonly kind: 'invalid'; readonly status: 400 | 431 | 501 | 505; readonly reason: string }
  | { readonly kind: 'head'; readonly head: T; readonly length: number }; // length = bytes consumed including the final CRLFCRLF

/** Envoy's default `max_request_headers_kb` (60 KiB), so heads an Istio waypoint takes (large cookies) pass here too. */
export const MAX_HEAD_BYTES = 60 * 1024;

/** The empty last chunk and an empty trailer section: the end of a chunked body. */
export const LAST_CHUNK = '0\r\n\r\n';

/** Longest chunk-size line (with its extensions and CRLF) the decoder accepts. */
const MAX_CHUNK_SIZE_LINE_BYTES = 4096;
/** Largest trailer section the decoder accepts. */
const MAX_TRAILER_BYTES = 16 * 1024;

const HTAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const COLON = 0x3a;
const SEMICOLON = 0x3b;
const DEL = 0x7f;

/** tchar (RFC 9110 §5.6.2): the bytes of a token — a method or a field name. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TCHAR[c.charCodeAt(0)] = 1;

const HTTP_SLASH = Buffer.from('HTTP/', 'latin1');

/** Fields of which Node keeps only the first occurrence. */
const FIRST_WINS = new Set([
  'age', 'authorization', 'content-length', 'content-type', 'etag', 'expires', 'from', 'host', 'if-modified-since',
  'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'proxy-authorization', 'referer', 'retry-after',
  'server', 'user-agent',
]);

const NO_BODY: BodyFraming = Object.freeze({ kind: 'none' });
const CHUNKED_BODY: BodyFraming = Object.freeze({ kind: 'chunked' });
const CLOSE_DELIMITED_BODY: BodyFraming = Object.freeze({ kind: 'close' });

type Incomplete = Extract<HeadResult<never>, { kind: 'incomplete' }>;
type Invalid = Extract<HeadResult<never>, { kind: 'invalid' }>;

const INCOMPLETE: Incomplete = Object.freeze({ kind: 'incomplete' });

/** What the field lines say about framing beyond the merged record, which keeps only the first content-length. */
interface FramingFields {
  /** The content-length all occurrences agree on; -1 when there is none. */
  contentLength: number;
}

/**
 * Parses the request head at the start of `buffer`, skipping empty lines before the request line (RFC 9112 §2.2).
 * Bytes after the head (a body, a pipelined request) are left alone: `length` says where the head ends.
 */
export function parseRequestHead(buffer: Buffer, maxHeadBytes: number = MAX_HEAD_BYTES): HeadResult<RequestHead> {
  let start = 0;
  while (buffer[start] === CR && buffer[start + 1] === LF) start += 2;
  const end = findHeadEnd(buffer, start, maxHeadBytes);
  if (typeof end !== 'number') return end;

  // request-line = method SP request-target SP HTTP-version (§3)
  const lineEnd = buffer.indexOf(LF, start) - 1;
  let i = start;
  while (i < lineEnd && isTchar(buffer[i])) i++;
  if (i === start || buffer[i] !== SP) return invalid(400, 'malformed request line');
  const method = buffer.toString('latin1', start, i);
  const targetStart = ++i;
  while (i < lineEnd && isTargetByte(buffer[i])) i++;
  if (i === targetStart || buffer[i] !== SP) return invalid(400, 'malformed request line');
  const target = buffer.toString('latin1', targetStart, i);
  const httpVersion = readVersion(buffer, i + 1, lineEnd);
  if (httpVersion === undefined) return invalid(400, 'malformed request line');
  if (method === 'CONNECT' || method === 'PRI') return invalid(501, `method ${method} is not supported`);
  if (httpVersion === 'other') return invalid(505, 'HTTP version not supported');

  const fields = fieldSection(buffer, lineEnd + 2, end - 2);
  if (typeof fields === 'string') return invalid(400, fields);
  const { headers, contentLength, transferEncoding } = fields;

  // §6.3: a transfer coding other than a final chunked cannot delimit a request, and a request with both
  // Transfer-Encoding and Content-Length, or an HTTP/1.0 request with Transfer-Encoding, is refused rather than
  // guessed at (§6.1). Chunked is the only coding implemented here; others get 501, as from Envoy (§6.1).
  let body: BodyFraming;
  if (transferEncoding !== undefined) {
    if (contentLength !== -1) return invalid(400, 'both transfer-encoding and content-length');
    if (httpVersion === '1.0') return invalid(400, 'transfer-encoding in an HTTP/1.0 request');
    const coding = transferCoding(transferEncoding);
    if (coding === 'not-final') return invalid(400, 'transfer-encoding does not end with chunked');
    if (coding === 'repeated') return invalid(400, 'transfer-encoding applies chunked more than once');
    if (coding === 'unsupported') return invalid(501, `transfer-encoding ${JSON.stringify(transferEncoding)} is not supported`);
    body = CHUNKED_BODY;
  } else {
    body = contentLength > 0 ? { kind: 'length', length: contentLength } : NO_BODY;
  }

  const expect = fieldValue(headers, 'expect');
  const head: RequestHead = {
    method,
    target,
    httpVersion,
    headers,
    keepAlive: isKeepAlive(httpVersion, fieldValue(headers, 'connection')),
    body,
    expectContinue: httpVersion === '1.1' && expect !== undefined && hasListToken(expect, '100-continue'),
  };
  return { kind: 'head', head, length: end };
}

/**
 * Parses the response head at the start of `buffer`. `requestMethod` decides HEAD responses (no body); `status`
 * 1xx/204/304 have no body either. A response that both chunks and declares a content-length is read as chunked,
 * and its `content-length` is dropped from `headers`. A transfer coding other than chunked alone is invalid here:
 * the body is passed on re-framed, without the endpoint's Transfer-Encoding, so another coding would reach the
 * client undeclared.
 */
export function parseResponseHead(buffer: Buffer, requestMethod: string, maxHeadBytes: number = MAX_HEAD_BYTES): HeadResult<ResponseHead> {
  const end = findHeadEnd(buffer, 0, maxHeadBytes);
  if (typeof end !== 'number') return end;

  // status-line = HTTP-version SP status-code SP [ reason-phrase ] (§4); "HTTP/1.1 200" without the SP is accepted.
  const lineEnd = buffer.indexOf(LF) - 1;
  const httpVersion = lineEnd >= 12 ? readVersion(buffer, 0, 8) : undefined;
  const hundreds = digitAt(buffer, 9);
  const tens = digitAt(buffer, 10);
  const units = digitAt(buffer, 11);
  if (httpVersion === undefined || buffer[8] !== SP || hundreds < 1 || tens < 0 || units < 0) return invalid(400, 'malformed status line');
  if (lineEnd > 12 && (buffer[12] !== SP || !isFieldValue(buffer, 13, lineEnd))) return invalid(400, 'malformed status line');
  if (httpVersion === 'other') return invalid(505, 'HTTP version not supported');
  const status = hundreds * 100 + tens * 10 + units;

  const fields = fieldSection(buffer, lineEnd + 2, end - 2);
  if (typeof fields === 'string') return invalid(400, fields);
  const { headers, contentLength, transferEncoding } = fields;

  // §6.3 items 1–7, with Transfer-Encoding overriding Content-Length (item 3).
  let body: BodyFraming;
  if (requestMethod === 'HEAD' || status < 200 || status === 204 || status === 304) {
    body = NO_BODY;
  } else if (transferEncoding !== undefined) {
    if (httpVersion === '1.0') return invalid(400, 'transfer-encoding in an HTTP/1.0 response');
    if (transferCoding(transferEncoding) !== 'chunked') return invalid(501, `transfer-encoding ${JSON.stringify(transferEncoding)} is not supported`);
    body = CHUNKED_BODY;
    if (contentLength !== -1) delete headers['content-length'];
  } else if (contentLength !== -1) {
    body = contentLength > 0 ? { kind: 'length', length: contentLength } : NO_BODY;
  } else {
    body = CLOSE_DELIMITED_BODY;
  }

  const head: ResponseHead = {
    status,
    httpVersion,
    headers,
    keepAlive: body.kind !== 'close' && isKeepAlive(httpVersion, fieldValue(headers, 'connection')),
    body,
  };
  return { kind: 'head', head, length: end };
}

/** "METHOD path HTTP/1.1\r\n" + header lines + "\r\n". Array values become one line each. Names written as given. */
export function serializeRequestHead(method: string, path: string, headers: HeaderMap): string {
  if (!FIELD_NAME.test(method)) throw new TypeError(`invalid method ${JSON.stringify(method)}`);
  if (path === '' || !isTargetText(path)) throw new TypeError(`invalid request target ${JSON.stringify(path)}`);
  return `${method} ${path} HTTP/1.1\r\n${serializeFields(headers)}\r\n`;
}

/** "HTTP/1.1 <status> <reason>\r\n" + header lines + "\r\n", with the standard reason phrase or "Unknown". */
export function serializeResponseHead(status: number, headers: HeaderMap): string {
  return `HTTP/1.1 ${status} ${REASON_PHRASES.get(status) ?? 'Unknown'}\r\n${serializeFields(headers)}\r\n`;
}

/** Head text (latin1, as header bytes are) and body bytes as one buffer: one write, one DATA frame on the tunnel. */
export function messageBytes(parts: readonly (string | Buffer)[]): Buffer {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = Buffer.allocUnsafe(length);
  let at = 0;
  for (const part of parts) at += typeof part === 'string' ? out.write(part, at, 'latin1') : part.copy(out, at);
  return out;
}

/**
 * Frames one chunk: `<hex size>\r\n<data>\r\n` — this is the head string to write before the data, "\r\n" goes
 * after it. `size` must be a positive integer: a zero-size chunk would end the body, which is `LAST_CHUNK`'s job.
 */
export function chunkHeader(size: number): string {
  if (!Number.isSafeInteger(size) || size <= 0) throw new RangeError(`chunk size must be a positive integer, got ${size}`);
  return `${size.toString(16)}\r\n`;
}

/** Incremental chunked-body decoder (RFC 9112 §7.1), one per message. */
export class ChunkedDecoder {
  /** What the next bytes are: a chunk-size line, chunk data, the CRLF after the data, a trailer line, or nothing. */
  private state: 'size' | 'data' | 'data-end' | 'trailers' | 'done' = 'size';
  /** Data bytes of the current chunk not seen yet. */
  private remaining = 0;
  private trailerBytes = 0;
  private readonly trailers = emptyHeaderMap();

  /**
   * Consumes bytes of `buffer` from `offset`. Returns the data slices found (subarrays of `buffer`, no copies),
   * how many bytes were consumed (the caller keeps the unconsumed rest and calls again with it prepended to the next
   * bytes), and whether the message ended (last chunk + trailer section + CRLF consumed; `trailers` then holds the
   * trailer fields, lower-case, same merge rules). An invalid chunk framing gives { kind: 'invalid', reason }.
   * Chunk extensions are ignored. A chunk-size line longer than 4096 bytes, or a trailer section over 16 KiB, is invalid.
   */
  decode(buffer: Buffer, offset: number):
    | { readonly kind: 'data'; readonly chunks: Buffer[]; readonly consumed: number; readonly done: boolean; readonly trailers: HeaderMap }
    | { readonly kind: 'invalid'; readonly reason: string } {
    const chunks: Buffer[] = [];
    let pos = offset;
    while (pos < buffer.length && this.state !== 'done') {
      if (this.state === 'size') {
        // chunk-size [ chunk-ext ] CRLF
        const lf = buffer.indexOf(LF, pos);
        if (lf === -1) {
          if (buffer.length - pos >= MAX_CHUNK_SIZE_LINE_BYTES) return { kind: 'invalid', reason: 'chunk-size line too long' };
          break;
        }
        if (lf + 1 - pos > MAX_CHUNK_SIZE_LINE_BYTES) return { kind: 'invalid', reason: 'chunk-size line too long' };
        if (lf === pos || buffer[lf - 1] !== CR) return { kind: 'invalid', reason: 'chunk-size line ends with a bare LF' };
        const size = readChunkSize(buffer, pos, lf - 1);
        if (size < 0) return { kind: 'invalid', reason: 'invalid chunk size' };
        pos = lf + 1;
        this.remaining = size;
        this.state = size === 0 ? 'trailers' : 'data';
      } else if (this.state === 'data') {
        const take = Math.min(this.remaining, buffer.length - pos);
        chunks.push(buffer.subarray(pos, pos + take));
        pos += take;
        this.remaining -= take;
        if (this.remaining === 0) this.state = 'data-end';
      } else if (this.state === 'data-end') {
        if (buffer[pos] !== CR) return { kind: 'invalid', reason: 'missing CRLF after chunk data' };
        if (pos + 1 === buffer.length) break; // the LF has not arrived yet
        if (buffer[pos + 1] !== LF) return { kind: 'invalid', reason: 'missing CRLF after chunk data' };
        pos += 2;
        this.state = 'size';
      } else {
        // trailer-section = *( field-line CRLF ), then CRLF
        const lf = buffer.indexOf(LF, pos);
        const lineBytes = lf === -1 ? buffer.length - pos : lf + 1 - pos;
        if (this.trailerBytes + lineBytes > MAX_TRAILER_BYTES) return { kind: 'invalid', reason: 'trailer section too large' };
        if (lf === -1) break;
        if (lf === pos || buffer[lf - 1] !== CR) return { kind: 'invalid', reason: 'trailer line ends with a bare LF' };
        if (lf - 1 > pos) {
          const error = parseFieldLine(buffer, pos, lf - 1, this.trailers, undefined);
          if (error !== undefined) return { kind: 'invalid', reason: error };
        } else {
          this.state = 'done';
        }
        this.trailerBytes += lineBytes;
        pos = lf + 1;
      }
    }
    return { kind: 'data', chunks, consumed: pos - offset, done: this.state === 'done', trailers: this.trailers };
  }
}

function invalid(status: Invalid['status'], reason: string): Invalid {
  return { kind: 'invalid', status, reason };
}

/**
 * A plain object, as Node's `IncomingMessage.headers`: V8 keeps it a fast object, where a prototype-less one would be a
 * dictionary, slow to read and to copy on every request. Field names that are also Object.prototype's are handled by
 * addField.
 */
function emptyHeaderMap(): HeaderMap {
  return {};
}

/**
 * The index just past the empty line that ends the head starting at `start`, or why there is none: the bytes so
 * far are a proper prefix of a head within the limit, a line ends with a bare LF, or the head is over the limit.
 */
function findHeadEnd(buffer: Buffer, start: number, maxHeadBytes: number): number | Incomplete | Invalid {
  let lineStart = start;
  for (;;) {
    const lf = buffer.indexOf(LF, lineStart);
    if (lf === -1 || lf >= maxHeadBytes) {
      return buffer.length > maxHeadBytes ? invalid(431, `message head exceeds ${maxHeadBytes} bytes`) : INCOMPLETE;
    }
    if (lf === lineStart || buffer[lf - 1] !== CR) return invalid(400, 'line ends with a bare LF');
    if (lf - 1 === lineStart) return lf + 1;
    lineStart = lf + 1;
  }
}

/** The version of "HTTP/x.y" in `buffer[start, end)`: 'other' for a well-formed version that is not 1.0 or 1.1. */
function readVersion(buffer: Buffer, start: number, end: number): '1.0' | '1.1' | 'other' | undefined {
  if (end - start !== 8 || HTTP_SLASH.compare(buffer, start, start + 5) !== 0 || buffer[start + 6] !== 0x2e) return undefined;
  const major = digitAt(buffer, start + 5);
  const minor = digitAt(buffer, start + 7);
  if (major < 0 || minor < 0) return undefined;
  if (major === 1 && minor === 1) return '1.1';
  if (major === 1 && minor === 0) return '1.0';
  return 'other';
}

/** A head's field section, `buffer[start, end)`: its fields and what they say about framing, or what is wrong with it. */
function fieldSection(buffer: Buffer, start: number, end: number): { headers: HeaderMap; contentLength: number; transferEncoding: string | undefined } | string {
  const headers = emptyHeaderMap();
  const framing: FramingFields = { contentLength: -1 };
  const error = parseFieldLines(buffer, start, end, headers, framing);
  if (error !== undefined) return error;
  return { headers, contentLength: framing.contentLength, transferEncoding: fieldValue(headers, 'transfer-encoding') };
}

/** Parses the field lines in `buffer[start, end)` into `fields`; the reason on the first invalid line. */
function parseFieldLines(buffer: Buffer, start: number, end: number, fields: HeaderMap, framing: FramingFields): string | undefined {
  for (let pos = start; pos < end; ) {
    const lf = buffer.indexOf(LF, pos);
    const error = parseFieldLine(buffer, pos, lf - 1, fields, framing);
    if (error !== undefined) return error;
    pos = lf + 1;
  }
  return undefined;
}

/**
 * Parses one field line, `buffer[start, end)` without its CRLF, into `fields`: field-name ":" OWS field-value OWS
 * (§5). Content-Length occurrences are checked into `framing` when given. The reason when the line is invalid.
 */
function parseFieldLine(buffer: Buffer, start: number, end: number, fields: HeaderMap, framing: FramingFields | undefined): string | undefined {
  if (isOws(buffer[start])) return 'obsolete line folding';
  let colon = start;
  let upperCase = false;
  for (; colon < end; colon++) {
    const c = buffer[colon];
    if (c === COLON) break;
    if (!isTchar(c)) return 'invalid header name';
    if (c <= 0x5a && c >= 0x41) upperCase = true;
  }
  if (colon === start || colon === end) return 'malformed header line';

  let valueStart = colon + 1;
  let valueEnd = end;
  while (valueStart < valueEnd && isOws(buffer[valueStart])) valueStart++;
  while (valueEnd > valueStart && isOws(buffer[valueEnd - 1])) valueEnd--;
  if (!isFieldValue(buffer, valueStart, valueEnd)) return 'invalid character in header value';

  const name = upperCase ? buffer.toString('latin1', start, colon).toLowerCase() : buffer.toString('latin1', start, colon);
  if (framing !== undefined && name === 'content-length') {
    const length = readDecimal(buffer, valueStart, valueEnd);
    if (length < 0) return 'invalid content-length';
    if (framing.contentLength !== -1 && framing.contentLength !== length) return 'conflicting content-length values';
    framing.contentLength = length;
  }
  addField(fields, name, buffer.toString('latin1', valueStart, valueEnd));
  return undefined;
}

/** Adds a field as Node's `IncomingMessage.headers` does: set-cookie a list, some first-wins, cookie "; ", others ", ". */
function addField(fields: HeaderMap, name: string, value: string): void {
  const existing: unknown = fields[name];
  // Neither a string nor an array: absent, or inherited from Object.prototype (`constructor`, `__proto__`, …).
  if (typeof existing !== 'string' && !Array.isArray(existing)) {
    const first = name === 'set-cookie' ? [value] : value;
    // Assigning `__proto__` would set the prototype (or be ignored), not add a field.
    if (name === '__proto__') Object.defineProperty(fields, name, { value: first, enumerable: true, writable: true, configurable: true });
    else fields[name] = first;
  } else if (Array.isArray(existing)) {
    existing.push(value);
  } else if (!FIRST_WINS.has(name)) {
    fields[name] = existing + (name === 'cookie' ? '; ' : ', ') + value;
  }
}

/** A field as one string (a list field's values joined). */
function fieldValue(fields: HeaderMap, name: string): string | undefined {
  const value = fields[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function isKeepAlive(httpVersion: '1.0' | '1.1', connection: string | undefined): boolean {
  if (connection === undefined) return httpVersion === '1.1';
  if (hasListToken(connection, 'close')) return false;
  return httpVersion === '1.1' || hasListToken(connection, 'keep-alive');
}

/** Whether the comma-separated `list` has an element equal to the lower-case `token`, ignoring case. */
export function hasListToken(list: string, token: string): boolean {
  let start = 0;
  while (start <= list.length) {
    let end = list.indexOf(',', start);
    if (end === -1) end = list.length;
    let a = start;
    let b = end;
    while (a < b && isOws(list.charCodeAt(a))) a++;
    while (b > a && isOws(list.charCodeAt(b - 1))) b--;
    if (b - a === token.length && equalsLowerCase(list, a, token)) return true;
    start = end + 1;
  }
  return false;
}

/** Whether `text` from `start` spells the lower-case `token`, ignoring ASCII case. */
function equalsLowerCase(text: string, start: number, token: string): boolean {
  for (let i = 0; i < token.length; i++) {
    const c = text.charCodeAt(start + i);
    if ((c >= 0x41 && c <= 0x5a ? c + 0x20 : c) !== token.charCodeAt(i)) return false;
  }
  return true;
}

const OWS_AROUND = /^[ \t]+|[ \t]+$/g;

/**
 * What a Transfer-Encoding list says: chunked alone; codings that do not end with chunked; chunked more than once
 * (§6.1 forbids it); or other codings before a final chunked. Empty list elements are not skipped (RFC 9110 §5.6.1
 * would allow it): llhttp reads "chunked," as not chunked, and a framing two parsers read differently is refused.
 */
function transferCoding(list: string): 'chunked' | 'not-final' | 'repeated' | 'unsupported' {
  if (list === 'chunked') return 'chunked'; // nearly always
  const codings = list.split(',').map((element) => element.replace(OWS_AROUND, '').toLowerCase());
  if (codings[codings.length - 1] !== 'chunked') return 'not-final';
  if (codings.length === 1) return 'chunked';
  return codings.indexOf('chunked') < codings.length - 1 ? 'repeated' : 'unsupported';
}

/** The chunk size of a chunk-size line `buffer[start, end)`, extensions ignored; -1 when it is not valid. */
function readChunkSize(buffer: Buffer, start: number, end: number): number {
  let size = 0;
  let i = start;
  for (; i < end; i++) {
    const digit = hexDigitAt(buffer, i);
    if (digit < 0) break;
    size = size * 16 + digit;
    if (size > Number.MAX_SAFE_INTEGER) return -1;
  }
  if (i === start) return -1;
  if (i === end) return size;
  while (i < end && isOws(buffer[i])) i++;
  // chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ): skipped, but it must not hide control bytes.
  // Whitespace is allowed only before a ";".
  if (buffer[i] !== SEMICOLON) return -1;
  return isFieldValue(buffer, i, end) ? size : -1;
}

/** The value of 1*DIGIT in `buffer[start, end)`; -1 when it is empty, not all digits, or not a safe integer. */
function readDecimal(buffer: Buffer, start: number, end: number): number {
  if (start === end) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = digitAt(buffer, i);
    if (digit < 0) return -1;
    value = value * 10 + digit;
    if (value > Number.MAX_SAFE_INTEGER) return -1;
  }
  return value;
}

function digitAt(buffer: Buffer, index: number): number {
  const c = buffer[index];
  return c !== undefined && c >= 0x30 && c <= 0x39 ? c - 0x30 : -1;
}

function hexDigitAt(buffer: Buffer, index: number): number {
  const c = buffer[index];
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

function isTchar(c: number | undefined): c is number {
  return c !== undefined && TCHAR[c] === 1;
}

function isOws(c: number | undefined): boolean {
  return c === SP || c === HTAB;
}

/**
 * A request-target byte: visible ASCII. A URI has no other bytes (RFC 3986 §2: others are percent-encoded), and Envoy
 * and Node's parser both answer 400 to raw UTF-8 in a target.
 */
function isTargetByte(c: number | undefined): boolean {
  return c !== undefined && c > SP && c < DEL;
}

/** Whether a request target to be written is made of request-target bytes only. */
function isTargetText(path: string): boolean {
  for (let i = 0; i < path.length; i++) if (!isTargetByte(path.charCodeAt(i))) return false;
  return true;
}

/** Whether `buffer[start, end)` is field-value text: HTAB, SP, VCHAR and obs-text (RFC 9110 §5.5). */
function isFieldValue(buffer: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = buffer[i];
    if (c === undefined || (c < SP && c !== HTAB) || c === DEL) return false;
  }
  return true;
}

const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** What a field value may not hold (Node's check): controls other than HTAB, and DEL. */
const INVALID_FIELD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/** One field line; a name or value that would break the framing (a CR or LF from config, say) throws. */
function fieldLine(name: string, value: string): string {
  if (!FIELD_NAME.test(name)) throw new TypeError(`invalid header name ${JSON.stringify(name)}`);
  if (INVALID_FIELD_VALUE.test(value)) throw new TypeError(`invalid character in the value of header ${name}`);
  return `${name}: ${value}\r\n`;
}

function serializeFields(headers: HeaderMap): string {
  let lines = '';
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (typeof value === 'string') {
      lines += fieldLine(name, value);
    } else {
      for (const item of value) lines += fieldLine(name, item);
    }
  }
  return lines;
}

/** Standard reason phrases, as node:http sends them. */
const REASON_PHRASES: ReadonlyMap<number, string> = new Map([
  [100, 'Continue'],
  [101, 'Switching Protocols'],
  [102, 'Processing'],
  [103, 'Early Hints'],
  [200, 'OK'],
  [201, 'Created'],
  [202, 'Accepted'],
  [203, 'Non-Authoritative Information'],
  [204, 'No Content'],
  [205, 'Reset Content'],
  [206, 'Partial Content'],
  [207, 'Multi-Status'],
  [208, 'Already Reported'],
  [226, 'IM Used'],
  [300, 'Multiple Choices'],
  [301, 'Moved Permanently'],
  [302, 'Found'],
  [303, 'See Other'],
  [304, 'Not Modified'],
  [305, 'Use Proxy'],
  [307, 'Temporary Redirect'],
  [308, 'Permanent Redirect'],
  [400, 'Bad Request'],
  [401, 'Unauthorized'],
  [402, 'Payment Required'],
  [403, 'Forbidden'],
  [404, 'Not Found'],
  [405, 'Method Not Allowed'],
  [406, 'Not Acceptable'],
  [407, 'Proxy Authentication Required'],
  [408, 'Request Timeout'],
  [409, 'Conflict'],
  [410, 'Gone'],
  [411, 'Length Required'],
  [412, 'Precondition Failed'],
  [413, 'Payload Too Large'],
  [414, 'URI Too Long'],
  [415, 'Unsupported Media Type'],
  [416, 'Range Not Satisfiable'],
  [417, 'Expectation Failed'],
  [418, "I'm a Teapot"],
  [421, 'Misdirected Request'],
  [422, 'Unprocessable Entity'],
  [423, 'Locked'],
  [424, 'Failed Dependency'],
  [425, 'Too Early'],
  [426, 'Upgrade Required'],
  [428, 'Precondition Required'],
  [429, 'Too Many Requests'],
  [431, 'Request Header Fields Too Large'],
  [451, 'Unavailable For Legal Reasons'],
  [500, 'Internal Server Error'],
  [501, 'Not Implemented'],
  [502, 'Bad Gateway'],
  [503, 'Service Unavailable'],
  [504, 'Gateway Timeout'],
  [505, 'HTTP Version Not Supported'],
  [506, 'Variant Also Negotiates'],
  [507, 'Insufficient Storage'],
  [508, 'Loop Detected'],
  [509, 'Bandwidth Limit Exceeded'],
  [510, 'Not Extended'],
  [511, 'Network Authentication Required'],
]);
