// pipeTunnel between two plain TCP socket pairs on loopback: byte counts, half-close in each direction, and an
// abort on one side closing the other with the error reported.

import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { pipeTunnel } from './tunnel-pipe';

/** A connected loopback socket pair: [client end, server end]. */
async function socketPair(server: Server): Promise<[Socket, Socket]> {
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const client = connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, allowHalfOpen: true });
  await new Promise((resolve) => client.once('connect', resolve));
  return [client, await accepted];
}

function readAll(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.once('end', () => resolve(text));
  });
}

let server: Server;

beforeAll(async () => {
  server = createServer({ allowHalfOpen: true });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

it('copies both ways, propagates each FIN separately and counts bytes', async () => {
  const [app, downstream] = await socketPair(server);
  const [upstream, peer] = await socketPair(server);
  const result = pipeTunnel(downstream, upstream);

  const peerGot = readAll(peer);
  app.end('request');
  expect(await peerGot).toBe('request');
  // The other direction is still open after the first FIN.
  const appGot = readAll(app);
  peer.end('a longer response');
  expect(await appGot).toBe('a longer response');
  expect(await result).toEqual({ bytesSent: 7, bytesReceived: 17 });
});

it('closes both sides and reports an error when one side is reset', async () => {
  const [app, downstream] = await socketPair(server);
  const [upstream, peer] = await socketPair(server);
  app.on('error', () => undefined);
  const result = pipeTunnel(downstream, upstream);
  app.write('x');
  await new Promise((resolve) => peer.once('data', resolve));
  const appClosed = new Promise((resolve) => app.once('close', resolve));
  peer.resetAndDestroy();
  const outcome = await result;
  expect(outcome.bytesSent).toBe(1);
  expect(outcome.error?.code).toBe('ERR_HBONE_TUNNEL_IO');
  await appClosed;
  expect(downstream.destroyed).toBe(true);
});

it('settles at once when a side is already closed', async () => {
  const [app, downstream] = await socketPair(server);
  const [upstream, peer] = await socketPair(server);
  upstream.destroy();
  await new Promise((resolve) => upstream.once('close', resolve));
  const outcome = await pipeTunnel(downstream, upstream);
  expect(outcome.error?.code).toBe('ERR_HBONE_TUNNEL_IO');
  app.destroy();
  peer.destroy();
});
