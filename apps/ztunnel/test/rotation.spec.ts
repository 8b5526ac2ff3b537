// Workload certificate rotation under live traffic: both ztunnels ask the real controlplane's CA for 4-second
// certificates (renewed at half-life, so every ~2 s), a connection through 15001 → HBONE → 15008 keeps exchanging
// bytes across several rotations of both the source and the destination certificate, and connections opened after
// a rotation dial a new HBONE connection with the new certificate while the old one keeps serving its stream. Pod
// addresses differ from loopback-mesh.spec.ts' so the two files can run in parallel jest workers.

import { randomBytes } from 'node:crypto';
import type * as net from 'node:net';

import type { HboneServerStats, PoolConnectionInfo } from '@weft/hbone';

import type { Ztunnel } from '../src/app';
import { EchoApp, LoopbackMesh, dialOutbound, eventually, exchange, podObject, type LoopbackPod } from './mesh-harness';

jest.setTimeout(120_000);

const TTL_SECONDS = 4;
const ECHO_VIP = '10.96.0.60';
const SLEEP_ID = 'spiffe://cluster.local/ns/default/sa/sleep';
const ECHO_ID = 'spiffe://cluster.local/ns/default/sa/echo';
const sleep: LoopbackPod = { uid: 'uid-sleep', name: 'sleep', serviceAccount: 'sleep', address: '127.0.0.22', node: 'node-a', outbound: { address: ECHO_VIP, port: 80 } };
const echo: LoopbackPod = { uid: 'uid-echo', name: 'echo', serviceAccount: 'echo', address: '127.0.0.23', node: 'node-b', labels: { app: 'echo' }, outbound: { address: '127.0.0.23', port: 8080 } };

const manifests = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default', labels: { 'istio.io/dataplane-mode': 'ambient' } } },
  podObject(sleep),
  podObject(echo),
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'echo', namespace: 'default' }, spec: { clusterIP: ECHO_VIP, clusterIPs: [ECHO_VIP], selector: { app: 'echo' }, ports: [{ name: 'tcp-echo', port: 80, targetPort: 8080 }] } },
];

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The leaf serial and validity of `identity` as the ztunnel's certificate manager holds it (/config_dump's rows). */
function leafOf(ztunnel: Ztunnel, identity: string): { serial: string; validFrom: number; expires: number } | undefined {
  const row = ztunnel.certificates.snapshot().find((r) => r.identity === identity);
  const leaf = row?.state === 'Available' ? row.certChain[0] : undefined;
  return leaf === undefined ? undefined : { serial: leaf.serialNumber, validFrom: Date.parse(leaf.validFrom), expires: Date.parse(leaf.expirationTime) };
}

interface DebugConnections {
  readonly pool: PoolConnectionInfo[];
  readonly hbone: HboneServerStats;
}

async function debugConnections(ztunnel: Ztunnel): Promise<DebugConnections> {
  const response = await fetch(`http://127.0.0.1:${ztunnel.ports.admin}/debug/connections`);
  return (await response.json()) as DebugConnections;
}

async function poolConnections(ztunnel: Ztunnel): Promise<PoolConnectionInfo[]> {
  return (await debugConnections(ztunnel)).pool;
}

/** Writes `payload` and resolves once exactly as many bytes came back; they must be the same bytes. */
function roundTrip(socket: net.Socket, payload: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      received += chunk.length;
      if (received >= payload.length) done(undefined);
    };
    const onClose = (): void => done(new Error(`the connection closed after ${received} of ${payload.length} bytes`));
    const done = (error: Error | undefined): void => {
      socket.off('data', onData);
      socket.off('close', onClose);
      if (error === undefined) resolve(Buffer.concat(chunks));
      else reject(error);
    };
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.write(payload);
  });
}

describe('workload certificate rotation with live connections', () => {
  let mesh: LoopbackMesh;
  let app: EchoApp;
  let a: Ztunnel;
  let b: Ztunnel;

  beforeAll(async () => {
    mesh = await LoopbackMesh.create();
    await mesh.write('base.yaml', manifests);
    await mesh.startControlplane();
    app = await EchoApp.start(echo.address, 8080);
    const ttl = { WORKLOAD_CERT_TTL_SECONDS: String(TTL_SECONDS) };
    a = await mesh.startZtunnel('node-a', [sleep], ttl);
    b = await mesh.startZtunnel('node-b', [echo], ttl);
    await eventually(() => a.ready() && b.ready(), 'both ztunnels ready');
    await eventually(() => leafOf(a, SLEEP_ID) !== undefined && leafOf(b, ECHO_ID) !== undefined, 'both workload certificates');
  });

  afterAll(async () => {
    await app?.close();
    await mesh?.close();
  });

  it('the CA honours the short TTL ztunnel asks for', () => {
    for (const leaf of [leafOf(a, SLEEP_ID), leafOf(b, ECHO_ID)]) {
      expect(leaf).toBeDefined();
      expect(((leaf?.expires ?? 0) - (leaf?.validFrom ?? 0)) / 1000).toBe(TTL_SECONDS);
    }
  });

  it('a long-lived connection keeps echoing exactly across rotations; new connections use the new certificate', async () => {
    const socket = await dialOutbound(sleep.address);
    const events: string[] = [];
    socket.on('error', (err) => events.push(`error: ${err.message}`));
    socket.on('end', () => events.push('end'));
    socket.on('close', () => events.push('close'));

    // The first exchange establishes the tunnel; note the HBONE connection (and certificate generation) it rides on.
    const first = randomBytes(4096);
    expect((await roundTrip(socket, first)).equals(first)).toBe(true);
    const [longLived, ...others] = await poolConnections(a);
    expect(others).toHaveLength(0);
    expect(longLived?.streams).toBe(1);

    const sourceSerials = new Set([leafOf(a, SLEEP_ID)?.serial]);
    const destinationSerials = new Set([leafOf(b, ECHO_ID)?.serial]);
    let exchanges = 1;
    let bytes = first.length;
    // Three distinct serials on each side: at least two rotations of each, with traffic flowing throughout.
    const deadline = Date.now() + 60_000;
    while (sourceSerials.size < 3 || destinationSerials.size < 3) {
      if (Date.now() > deadline) throw new Error(`too few rotations: source ${sourceSerials.size}, destination ${destinationSerials.size} serials`);
      const payload = randomBytes(1 + Math.floor(Math.random() * 32 * 1024));
      const reply = await roundTrip(socket, payload);
      expect(reply.length).toBe(payload.length);
      expect(reply.equals(payload)).toBe(true);
      exchanges += 1;
      bytes += payload.length;
      sourceSerials.add(leafOf(a, SLEEP_ID)?.serial);
      destinationSerials.add(leafOf(b, ECHO_ID)?.serial);
      await pause(25);
    }
    expect(sourceSerials.has(undefined)).toBe(false);
    expect(destinationSerials.has(undefined)).toBe(false);
    expect(events).toEqual([]);
    expect(exchanges).toBeGreaterThan(10);
    expect(bytes).toBeGreaterThan(0);

    // The long-lived tunnel still rides on the HBONE connection made with the first certificate.
    const during = await poolConnections(a);
    expect(during.find((c) => c.id === longLived?.id)).toMatchObject({ streams: 1, credentialGeneration: longLived?.credentialGeneration });

    // A new connection after the rotations: a new HBONE connection with a later certificate generation, and a new
    // TLS handshake at the destination, served with its current (rotated) certificate and verified by the source.
    const acceptedBefore = (await debugConnections(b)).hbone;
    const fresh = await dialOutbound(sleep.address);
    const freshPayload = randomBytes(16 * 1024);
    expect((await roundTrip(fresh, freshPayload)).equals(freshPayload)).toBe(true);
    const after = await poolConnections(a);
    const added = after.filter((c) => c.id !== longLived?.id);
    expect(added).toHaveLength(1);
    expect(added[0]?.credentialGeneration).toBeGreaterThanOrEqual((longLived?.credentialGeneration ?? 0) + 2);
    expect(added[0]?.streams).toBe(1);
    const acceptedAfter = (await debugConnections(b)).hbone;
    expect(acceptedAfter.connectionsAccepted).toBe(acceptedBefore.connectionsAccepted + 1);
    expect(acceptedAfter.handshakeFailures).toBe(0);
    expect((await exchange(fresh, Buffer.from('bye'))).toString()).toBe('bye');

    // The long-lived connection is still good after all that, and ends cleanly.
    const last = randomBytes(8192);
    expect((await roundTrip(socket, last)).equals(last)).toBe(true);
    expect(events).toEqual([]);
    expect((await exchange(socket, Buffer.from('done'))).toString()).toBe('done');

    // With its last stream gone, the HBONE connection of a rotated-out certificate is retired, not kept for reuse.
    await eventually(async () => (await poolConnections(a)).every((c) => c.id !== longLived?.id), 'the stale HBONE connection retired');
  });

  it('keeps rotating: connections opened at different generations all succeed', async () => {
    const generations = new Set<number>();
    const deadline = Date.now() + 30_000;
    while (generations.size < 3) {
      if (Date.now() > deadline) throw new Error(`saw only generations ${[...generations].join(', ')}`);
      const payload = randomBytes(1024);
      const socket = await dialOutbound(sleep.address);
      const reply = roundTrip(socket, payload);
      await expect(reply).resolves.toEqual(payload);
      for (const c of await poolConnections(a)) generations.add(c.credentialGeneration);
      expect((await exchange(socket, Buffer.alloc(0))).length).toBe(0);
      await pause(400);
    }
  });
});
