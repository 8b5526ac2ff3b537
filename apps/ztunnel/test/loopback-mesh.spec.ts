// client → ztunnel A (15001) → HBONE → ztunnel B (15008) → server, with the real controlplane as the source of
// configuration and certificates; ztunnels in loopback mode (listeners on 127.0.0.x instead of pod netns).

import { createHash, randomBytes } from 'node:crypto';
import * as net from 'node:net';

import { EchoApp, LoopbackMesh, dialOutbound, eventually, exchange, podObject, type LoopbackPod } from './mesh-harness';

jest.setTimeout(120_000);

const ECHO_VIP = '10.96.0.50';
const sleep: LoopbackPod = { uid: 'uid-sleep', name: 'sleep', serviceAccount: 'sleep', address: '127.0.0.2', node: 'node-a', outbound: { address: ECHO_VIP, port: 80 } };
const other: LoopbackPod = { uid: 'uid-other', name: 'other', serviceAccount: 'other', address: '127.0.0.4', node: 'node-a', outbound: { address: ECHO_VIP, port: 80 } };
// The server pod; its 15006 stands for plaintext to its app port.
const echo: LoopbackPod = { uid: 'uid-echo', name: 'echo', serviceAccount: 'echo', address: '127.0.0.3', node: 'node-b', labels: { app: 'echo' }, outbound: { address: '127.0.0.3', port: 8080 } };

const base = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default', labels: { 'istio.io/dataplane-mode': 'ambient' } } },
  podObject(sleep),
  podObject(other),
  podObject(echo),
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'echo', namespace: 'default' }, spec: { clusterIP: ECHO_VIP, clusterIPs: [ECHO_VIP], selector: { app: 'echo' }, ports: [{ name: 'tcp-echo', port: 80, targetPort: 8080 }] } },
];

const allowOnly = (principal: string): object => ({
  apiVersion: 'security.istio.io/v1',
  kind: 'AuthorizationPolicy',
  metadata: { name: 'echo-allow', namespace: 'default' },
  spec: { selector: { matchLabels: { app: 'echo' } }, action: 'ALLOW', rules: [{ from: [{ source: { principals: [principal] } }] }] },
});

const strict = {
  apiVersion: 'security.istio.io/v1',
  kind: 'PeerAuthentication',
  metadata: { name: 'strict', namespace: 'default' },
  spec: { mtls: { mode: 'STRICT' } },
};

const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe('two ztunnels in loopback mode with the real controlplane', () => {
  let mesh: LoopbackMesh;
  let app: EchoApp;

  beforeAll(async () => {
    mesh = await LoopbackMesh.create();
    await mesh.write('base.yaml', base);
    await mesh.startControlplane();
    app = await EchoApp.start(echo.address, 8080);
    const a = await mesh.startZtunnel('node-a', [sleep, other]);
    const b = await mesh.startZtunnel('node-b', [echo]);
    await eventually(() => a.ready() && b.ready(), 'both ztunnels ready');
  });

  afterAll(async () => {
    await app?.close();
    await mesh?.close();
  });

  /** The first access-log line (of either ztunnel) that `match` accepts, once one is written. */
  const logged = async (match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown> | undefined> => {
    const find = (): Record<string, unknown> | undefined => mesh.accessLog.map((l) => JSON.parse(l) as Record<string, unknown>).find(match);
    await eventually(() => find() !== undefined, 'the access-log line');
    return find();
  };

  it.each([1, 64 * 1024])('echoes %i bytes exactly through HBONE', async (size) => {
    const payload = randomBytes(size);
    const reply = await exchange(await dialOutbound(sleep.address), payload);
    expect(reply.length).toBe(size);
    expect(sha(reply)).toBe(sha(payload));
  });

  it('echoes 100 MiB exactly, streaming', async () => {
    const socket = await dialOutbound(sleep.address);
    const total = 100 * 1024 * 1024;
    const sent = createHash('sha256');
    const received = createHash('sha256');
    let receivedBytes = 0;
    const done = new Promise<void>((resolve, reject) => {
      socket.on('data', (chunk: Buffer) => {
        received.update(chunk);
        receivedBytes += chunk.length;
      });
      socket.once('end', () => resolve());
      socket.once('error', reject);
    });
    const chunk = randomBytes(1024 * 1024);
    for (let i = 0; i < total / chunk.length; i++) {
      sent.update(chunk);
      if (!socket.write(chunk)) await new Promise((resolve) => socket.once('drain', resolve));
    }
    socket.end();
    await done;
    expect(receivedBytes).toBe(total);
    expect(received.digest('hex')).toBe(sent.digest('hex'));
  });

  it('half-close: the client ends its side, still gets the reply, then EOF', async () => {
    const reply = await exchange(await dialOutbound(sleep.address), Buffer.from('ping'));
    expect(reply.toString()).toBe('ping');
  });

  it('the workload is served over HBONE with the source and destination identities in the metrics', async () => {
    const a = mesh.ztunnels.get('node-a');
    const b = mesh.ztunnels.get('node-b');
    const text = async (port: number | undefined): Promise<string> => (await fetch(`http://127.0.0.1:${port ?? 0}/metrics`)).text();
    const source = await text(a?.ports.stats);
    const destination = await text(b?.ports.stats);
    expect(source).toMatch(/istio_tcp_connections_opened_total\{reporter="source".*source_principal="spiffe:\/\/cluster\.local\/ns\/default\/sa\/sleep".*connection_security_policy="mutual_tls"/);
    expect(destination).toMatch(/istio_tcp_connections_opened_total\{reporter="destination".*destination_principal="spiffe:\/\/cluster\.local\/ns\/default\/sa\/echo"/);
  });

  it('ALLOW by principal: sleep passes; another principal is refused and the app never sees the connection', async () => {
    await mesh.write('policy.yaml', [allowOnly('cluster.local/ns/default/sa/sleep')]);
    const b = mesh.ztunnels.get('node-b');
    await eventually(() => (b?.store.authorizations().length ?? 0) > 0, 'policy at ztunnel B');
    expect((await exchange(await dialOutbound(sleep.address), Buffer.from('ok'))).toString()).toBe('ok');

    const before = app.connections;
    const denied = await exchange(await dialOutbound(other.address), Buffer.from('nope')).then(
      (reply) => reply.length,
      () => -1,
    );
    expect(denied <= 0).toBe(true);
    expect(app.connections).toBe(before);
    // One "connection complete" at error level, as Istio's ztunnel logs a denial (and its guides grep for it).
    const line = await logged((l) => l['direction'] === 'inbound' && String(l['error']).includes('policy rejection'));
    expect(line).toMatchObject({
      level: 'error',
      message: 'connection complete',
      'src.identity': 'spiffe://cluster.local/ns/default/sa/other',
      'dst.identity': 'spiffe://cluster.local/ns/default/sa/echo',
      bytes_sent: 0,
      bytes_recv: 0,
      error: 'connection closed due to policy rejection: allow policies exist, but none allowed',
    });
  });

  it('a policy change closes a live connection it no longer allows', async () => {
    const socket = await dialOutbound(sleep.address);
    socket.write('hello');
    await new Promise<void>((resolve) => socket.once('data', () => resolve()));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    await mesh.write('policy.yaml', [allowOnly('cluster.local/ns/default/sa/other')]);
    await closed;
    await mesh.write('policy.yaml', [allowOnly('cluster.local/ns/default/sa/sleep')]);
  });

  it('STRICT denies plaintext to the pod; without it plaintext passes', async () => {
    await mesh.write('policy.yaml', []);
    const b = mesh.ztunnels.get('node-b');
    await eventually(() => (b?.store.authorizations().length ?? 1) === 0, 'policies gone');
    const plaintext = (): Promise<number> =>
      new Promise((resolve) => {
        const socket = net.connect({ host: echo.address, port: 15006 }, () => socket.end('x'));
        let bytes = 0;
        socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
        socket.on('close', () => resolve(bytes));
        socket.on('error', () => undefined);
      });
    expect(await plaintext()).toBe(1);
    await mesh.write('strict.yaml', [strict]);
    await eventually(() => (b?.store.authorizations().length ?? 0) > 0, 'STRICT policy at ztunnel B');
    expect(await plaintext()).toBe(0);
    const line = await logged((l) => String(l['error']).includes('istio_converted_static_strict'));
    expect(line).toMatchObject({ level: 'error', message: 'connection complete', direction: 'inbound', error: 'connection closed due to policy rejection: explicitly denied by: istio-system/istio_converted_static_strict' });
    // mTLS still works under STRICT.
    expect((await exchange(await dialOutbound(sleep.address), Buffer.from('mtls'))).toString()).toBe('mtls');
  });

  it('keeps serving known services while the controlplane is down, and resyncs when it is back', async () => {
    await mesh.stopControlplane();
    expect((await exchange(await dialOutbound(sleep.address), Buffer.from('cp down'))).toString()).toBe('cp down');
    await mesh.write('strict.yaml', []);
    await mesh.startControlplane();
    const b = mesh.ztunnels.get('node-b');
    await eventually(() => (b?.store.authorizations().length ?? 1) === 0, 'resynced without the STRICT policy');
  });
});
