// The application side of the ztunnel datapath benchmark, run as its own process (`node dist/datapath-server.js
// <host> <port>`) so its CPU is not the bench client's. The first byte a connection sends picks what it does:
//   B  bulk sink: counts every byte that follows; when the client half-closes, answers the count (8 bytes, BE) and ends
//   R  request/response: for every REQUEST_BYTES received, writes RESPONSE_BYTES back
//   E  echo: writes back what it reads, ends when the client ends
// It prints "listening" once bound and exits on SIGTERM/SIGINT.
// With `http` as third argument (`node dist/datapath-server.js <host> <port> http`) it is an HTTP/1.1 server instead
// (keep-alive): every request, whatever its method and path, is read to its end and answered 200 with RESPONSE_BYTES
// of body and a Content-Length.

import * as http from 'node:http';
import * as net from 'node:net';

export const MODE_BULK = 0x42; // 'B'
export const MODE_REQUEST_RESPONSE = 0x52; // 'R'
export const MODE_ECHO = 0x45; // 'E'
export const REQUEST_BYTES = 1024;
export const RESPONSE_BYTES = 1024;

function serve(host: string, port: number): void {
  const response = Buffer.alloc(RESPONSE_BYTES, 0x72);
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let mode: number | undefined;
    let count = 0;
    socket.on('data', (chunk: Buffer) => {
      let data = chunk;
      if (mode === undefined) {
        mode = data[0];
        data = data.subarray(1);
      }
      if (mode === MODE_BULK) {
        count += data.length;
      } else if (mode === MODE_REQUEST_RESPONSE) {
        count += data.length;
        while (count >= REQUEST_BYTES) {
          count -= REQUEST_BYTES;
          socket.write(response);
        }
      } else if (data.length > 0) {
        socket.write(data);
      }
    });
    socket.on('end', () => {
      if (mode === MODE_BULK) {
        const ack = Buffer.alloc(8);
        ack.writeBigUInt64BE(BigInt(count));
        socket.end(ack);
      } else {
        socket.end();
      }
    });
  });
  const stop = (): void => {
    for (const socket of sockets) socket.destroy();
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1_000).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  server.on('error', (err) => {
    process.stderr.write(`datapath-server: ${err.message}\n`);
    process.exit(1);
  });
  server.listen({ host, port }, () => process.stdout.write(`listening ${host}:${port}\n`));
}

function serveHttp(host: string, port: number): void {
  const body = Buffer.alloc(RESPONSE_BYTES, 0x72);
  const server = http.createServer({ keepAliveTimeout: 120_000, noDelay: true }, (req, res) => {
    req.on('data', () => undefined);
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.length) });
      res.end(body);
    });
    req.on('error', () => undefined);
  });
  server.headersTimeout = 0;
  server.requestTimeout = 0;
  const stop = (): void => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1_000).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  server.on('error', (err) => {
    process.stderr.write(`datapath-server: ${err.message}\n`);
    process.exit(1);
  });
  server.listen({ host, port }, () => process.stdout.write(`listening ${host}:${port} (http)\n`));
}

if (require.main === module) {
  const [host = '127.0.0.1', portText = '8080', kind] = process.argv.slice(2);
  if (kind === 'http') serveHttp(host, Number(portText));
  else serve(host, Number(portText));
}
