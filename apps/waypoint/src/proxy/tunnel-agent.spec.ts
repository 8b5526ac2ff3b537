import * as http from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

import { copyingDuplex } from './copying-duplex';
import { TunnelAgents } from './tunnel-agent';

// The tunnels here are TCP connections to a local HTTP server wrapped as the proxy wraps HBONE streams; the
// HBONE path itself is covered by http-proxy.spec.ts.
describe('TunnelAgents over TCP stand-ins for tunnels', () => {
  let server: http.Server;
  let port: number;
  const agents = new TunnelAgents();

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    agents.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('reuses one idle tunnel for sequential requests without gathering a timeout listener per request', async () => {
    const opened: Duplex[] = [];
    const dial = async (): Promise<Duplex> => {
      const socket = connect({ host: '127.0.0.1', port });
      await new Promise((resolve) => socket.once('connect', resolve));
      const tunnel = copyingDuplex(socket);
      opened.push(tunnel);
      return tunnel;
    };
    const agent = agents.agent('a', dial);
    for (let i = 0; i < 20; i++) {
      const body = await new Promise<string>((resolve, reject) => {
        const req = http.request({ agent, method: 'POST', path: '/', headers: { 'content-length': '2' } }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve(text));
        });
        req.on('error', reject);
        req.end('hi');
      });
      expect(body).toBe('ok');
      // The Agent pools the tunnel on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(opened).toHaveLength(1);
    expect(opened[0]?.listenerCount('timeout')).toBeLessThanOrEqual(1);
  });
});
