// createXdsState against a real Delta ADS server from libs/xds on 127.0.0.1:0 (plaintext gRPC; TLS is the channel
// credentials' business and is covered by the controlplane's own tests).

import * as grpc from '@grpc/grpc-js';
import { EMPTY_MATCH, type Authorization, type Workload } from '@weft/mesh-model';
import {
  ADDRESS_TYPE_URL,
  buildMeshSnapshots,
  contentVersion,
  createDeltaAdsServer,
  createSnapshotSource,
  type DeltaAdsServer,
  type MeshResources,
  type SnapshotSource,
} from '@weft/xds';
import { workload as buildWorkload } from '@weft/testing';
import pino from 'pino';

import { createXdsState, type XdsState } from './xds-state';
import { buildXdsNode } from './xds-node';

const workload = (name: string, ip: string): Workload => buildWorkload({ name, addresses: [ip], node: 'node-1' });

const denyAll: Authorization = {
  name: 'deny',
  namespace: 'default',
  scope: 'NAMESPACE',
  action: 'DENY',
  rules: [{ clauses: [{ matches: [{ ...EMPTY_MATCH, destinationPorts: [80] }] }] }],
  dryRun: false,
};

const NODE = buildXdsNode({ instanceIps: ['10.0.0.9'], podName: 'ztunnel-abc', podNamespace: 'istio-system', nodeName: 'node-1' });

interface RunningServer {
  readonly server: grpc.Server;
  readonly ads: DeltaAdsServer;
  readonly source: SnapshotSource;
  readonly port: number;
  readonly seenHeaders: { authorization: string | undefined; clusterid: string | undefined }[];
  stop(): Promise<void>;
}

async function startServer(resources: MeshResources, port = 0, extra?: Parameters<typeof createSnapshotSource>[0]): Promise<RunningServer> {
  const source = createSnapshotSource(extra ?? buildMeshSnapshots(resources));
  const seenHeaders: RunningServer['seenHeaders'] = [];
  const ads = createDeltaAdsServer({
    source,
    debounceMs: 5,
    authenticate: async (metadata) => {
      const header = (key: string): string | undefined => {
        const v = metadata.get(key)[0];
        return typeof v === 'string' ? v : undefined;
      };
      seenHeaders.push({ authorization: header('authorization'), clusterid: header('clusterid') });
      return { ok: true };
    },
  });
  const server = new grpc.Server();
  ads.addTo(server);
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    server,
    ads,
    source,
    port: bound,
    seenHeaders,
    async stop() {
      ads.destroy();
      server.forceShutdown();
    },
  };
}

async function waitFor(predicate: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('createXdsState (real Delta ADS server on 127.0.0.1:0)', () => {
  let server: RunningServer | undefined;
  let state: XdsState | undefined;
  let tokenReads = 0;

  const connect = (port: number): XdsState =>
    createXdsState({
      address: `127.0.0.1:${port}`,
      credentials: grpc.credentials.createInsecure(),
      nodeId: NODE.id,
      nodeMetadata: NODE.metadata,
      token: () => `token-${++tokenReads}`,
      clusterId: 'Kubernetes',
      logger: pino({ level: 'silent' }),
      backoff: { initialMs: 20, maxMs: 100 },
    });

  afterEach(async () => {
    await state?.close(200);
    state = undefined;
    await server?.stop();
    server = undefined;
    tokenReads = 0;
  });

  it('syncs workloads, services and policies into the store, presenting node id, metadata, token and clusterid', async () => {
    server = await startServer({
      workloads: [workload('a', '10.0.0.1'), workload('b', '10.0.0.2')],
      services: [],
      authorizations: [denyAll],
    });
    state = connect(server.port);
    await state.ready();

    expect(state.store.workloadByUid('Kubernetes//Pod/default/a')?.addresses).toEqual(['10.0.0.1']);
    expect(state.store.workloadByAddress('', '10.0.0.2')?.name).toBe('b');
    expect(state.store.authorizationByKey('default/deny')?.action).toBe('DENY');
    const status = state.status();
    expect(status).toMatchObject({ ready: true, connected: true, closed: false, connects: 1, storeRejections: 0 });
    expect(status.types.map((t) => [t.typeUrl, t.wildcard, t.resources])).toEqual([
      [ADDRESS_TYPE_URL, true, 2],
      ['type.googleapis.com/istio.security.Authorization', true, 1],
    ]);
    const [peer] = server.ads.connections();
    expect(peer?.nodeId).toBe('ztunnel~10.0.0.9~ztunnel-abc.istio-system~istio-system.svc.cluster.local');
    expect(peer?.nodeMetadata).toMatchObject({ NAME: 'ztunnel-abc', NAMESPACE: 'istio-system', NODE_NAME: 'node-1' });
    expect(server.seenHeaders).toEqual([{ authorization: 'Bearer token-1', clusterid: 'Kubernetes' }]);
  });

  it('NACKs a resource that does not decode and still applies the rest of the response', async () => {
    const good = buildMeshSnapshots({ workloads: [workload('a', '10.0.0.1')], services: [], authorizations: [] });
    const garbage = Buffer.from([0x0a, 0xff, 0xff]); // field 1, length 0x7fff…: truncated protobuf
    const addresses = new Map(good.get(ADDRESS_TYPE_URL));
    addresses.set('Kubernetes//Pod/default/broken', {
      version: contentVersion(garbage),
      resource: { typeUrl: ADDRESS_TYPE_URL, value: garbage },
    });
    server = await startServer({ workloads: [], services: [], authorizations: [] }, 0, new Map([...good, [ADDRESS_TYPE_URL, addresses]]));
    state = connect(server.port);
    await state.ready();

    expect(state.store.workloadByUid('Kubernetes//Pod/default/a')).toBeDefined();
    expect(state.store.workloadByUid('Kubernetes//Pod/default/broken')).toBeUndefined();
    const address = state.status().types.find((t) => t.typeUrl === ADDRESS_TYPE_URL);
    expect(address?.lastNack?.message).toContain('Kubernetes//Pod/default/broken');
    expect(address?.lastAckedNonce).toBeUndefined();
    await waitFor(() => server?.ads.stats().nacks === 1, 'the server to record the NACK');
    const [peer] = server.ads.connections();
    expect(peer?.types.find((t) => t.typeUrl === ADDRESS_TYPE_URL)?.lastNack?.message).toContain('broken');
  });

  it('keeps the last state while the controlplane is down, then reconnects and applies what changed meanwhile', async () => {
    const first = await startServer({
      workloads: [workload('a', '10.0.0.1'), workload('b', '10.0.0.2')],
      services: [],
      authorizations: [denyAll],
    });
    server = first;
    state = connect(first.port);
    await state.ready();
    const versionBefore = state.store.version;

    await first.stop();
    server = undefined;
    await waitFor(() => state?.status().connected === false && state.status().lastError !== undefined, 'the disconnect');
    // Down: routing state is untouched.
    expect(state.store.workloadByUid('Kubernetes//Pod/default/b')).toBeDefined();
    expect(state.store.authorizationByKey('default/deny')).toBeDefined();
    expect(state.store.version).toBe(versionBefore);
    expect(state.status().ready).toBe(true);

    // Back, with b and the policy deleted and c added while it was away.
    server = await startServer(
      { workloads: [workload('a', '10.0.0.1'), workload('c', '10.0.0.3')], services: [], authorizations: [] },
      first.port,
    );
    await waitFor(() => state?.store.workloadByUid('Kubernetes//Pod/default/c') !== undefined, 'the resync', 10_000);
    await waitFor(() => state?.store.authorizationByKey('default/deny') === undefined, 'the policy removal');
    expect(state.store.workloadByUid('Kubernetes//Pod/default/b')).toBeUndefined();
    expect(state.store.workloadByUid('Kubernetes//Pod/default/a')).toBeDefined();
    expect(state.status()).toMatchObject({ connected: true });
    expect(state.status().connects).toBeGreaterThanOrEqual(2);
    // The token is read again for the new stream.
    expect(server.seenHeaders.at(-1)?.authorization).toMatch(/^Bearer token-([2-9]|\d{2,})$/);
  });

  it('ready() rejects when closed before the first sync', async () => {
    server = await startServer({ workloads: [], services: [], authorizations: [] });
    const port = server.port;
    await server.stop();
    server = undefined;
    state = connect(port);
    const ready = state.ready();
    await state.close(50);
    await expect(ready).rejects.toMatchObject({ code: 'ERR_XDS_CLIENT_CLOSED' });
    expect(state.status()).toMatchObject({ ready: false, closed: true });
  });
});
