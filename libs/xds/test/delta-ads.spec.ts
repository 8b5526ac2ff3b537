// Delta ADS over a real gRPC connection on 127.0.0.1: this library's server and client talking to each other.
import * as grpc from '@grpc/grpc-js';
import { AggregatedDiscoveryServiceClient } from '../src/generated/envoy/service/discovery/v3/discovery';
import { createDeltaAdsClient } from '../src/delta-client';
import type { DeltaAdsClient, DeltaAdsClientOptions } from '../src/delta-client-types';
import { createDeltaAdsServer } from '../src/delta-server';
import type { DeltaAdsServerOptions } from '../src/delta-server-types';
import {
  BYTES_TYPE_URL,
  InMemoryDeltaSource,
  MALFORMED,
  STRING_TYPE_URL,
  recordingType,
  sleep,
  startServer,
  summarize,
  waitFor,
  type RunningServer,
} from './delta-fixtures';

jest.setTimeout(90_000);

const BACKOFF = { initialMs: 50, maxMs: 500 };
/** Short enough to keep the suite quick, long enough that changes made in one tick always coalesce. */
const DEBOUNCE_MS = 50;

const opened: { stop(): Promise<void> }[] = [];

afterEach(async () => {
  // Clients first, so they do not reconnect to a server that is going away.
  const all = opened.splice(0).reverse();
  for (const o of all) await o.stop();
});

async function server(options: Partial<DeltaAdsServerOptions> & { source: InMemoryDeltaSource }, port = 0): Promise<RunningServer> {
  const s = await startServer({ debounceMs: DEBOUNCE_MS, ...options }, port);
  opened.push(s);
  return s;
}

function client<Ts extends readonly unknown[]>(
  port: number,
  types: DeltaAdsClientOptions<Ts>['types'],
  extra: Partial<DeltaAdsClientOptions<Ts>> = {},
): DeltaAdsClient {
  const c = createDeltaAdsClient<Ts>({
    address: `127.0.0.1:${port}`,
    credentials: grpc.credentials.createInsecure(),
    node: { id: 'ztunnel~10.0.0.1~ztunnel-abc.istio-system~istio-system.svc.cluster.local', metadata: { NAME: 'ztunnel-abc' } },
    types,
    backoff: BACKOFF,
    ...extra,
  });
  opened.push({ stop: () => c.close() });
  return c;
}

describe('Delta ADS server ⇄ client', () => {
  it('delivers everything to a wildcard subscriber, then only changes, removals, and debounced bursts', async () => {
    const source = new InMemoryDeltaSource();
    for (const [n, t] of [['a', 'A1'], ['b', 'B1'], ['c', 'C1']] as const) source.setString(n, t);
    const srv = await server({ source });
    const strings = recordingType();
    const bytes = recordingType(BYTES_TYPE_URL);
    const c = client(srv.port, [strings.type, bytes.type]);

    await c.ready();
    expect(Object.fromEntries(strings.store)).toEqual({ a: 'A1', b: 'B1', c: 'C1' });
    expect(summarize(strings.batches[0]).upserts).toEqual(['a=A1', 'b=B1', 'c=C1']);
    expect(summarize(bytes.batches[0])).toEqual({ upserts: [], removals: [], rejected: [] });
    expect(srv.requests[0]?.node?.id).toMatch(/^ztunnel~/);
    expect(srv.requests[0]?.resourceNamesSubscribe).toEqual([]);

    source.setString('b', 'B2');
    await waitFor('update of b', () => strings.store.get('b') === 'B2');
    expect(summarize(strings.batches.at(-1))).toEqual({ upserts: ['b=B2'], removals: [], rejected: [] });

    source.delete('c');
    await waitFor('removal of c', () => !strings.store.has('c'));
    expect(summarize(strings.batches.at(-1))).toEqual({ upserts: [], removals: ['c'], rejected: [] });

    const pushesBefore = srv.ads.stats().pushes;
    const batchesBefore = strings.batches.length;
    source.setString('d', 'D1');
    source.setString('e', 'E1');
    source.setString('a', 'A2');
    await waitFor('burst applied', () => strings.store.get('a') === 'A2' && strings.store.has('d') && strings.store.has('e'));
    expect(strings.batches.length).toBe(batchesBefore + 1);
    expect(summarize(strings.batches.at(-1)).upserts).toEqual(['a=A2', 'd=D1', 'e=E1']);
    expect(srv.ads.stats().pushes).toBe(pushesBefore + 1);

    await waitFor('ACKs recorded', () => srv.ads.connections()[0]?.types.every((t) => t.pendingNonces.length === 0) ?? false);
    const [conn] = srv.ads.connections();
    expect(conn?.nodeId).toMatch(/^ztunnel~/);
    expect(conn?.nodeMetadata).toEqual({ NAME: 'ztunnel-abc' });
    expect(conn?.types.map((t) => [t.typeUrl, t.wildcard, t.lastNack])).toEqual([
      [STRING_TYPE_URL, true, undefined],
      [BYTES_TYPE_URL, true, undefined],
    ]);
    expect(c.status()).toMatchObject({ connected: true, lastError: undefined });
    expect(srv.ads.stats()).toMatchObject({ connected: 1, nacks: 0 });
  });

  it('sends a named subscriber only its names, and answers on-demand subscriptions', async () => {
    const source = new InMemoryDeltaSource();
    source.setString('a', 'A1');
    source.setString('b', 'B1');
    const srv = await server({ source });
    const everything = recordingType();
    const named = recordingType(STRING_TYPE_URL, { wildcard: false, names: ['a'] });
    const wild = client(srv.port, [everything.type]);
    const onDemand = client(srv.port, [named.type]);
    await Promise.all([wild.ready(), onDemand.ready()]);
    expect(Object.fromEntries(named.store)).toEqual({ a: 'A1' });

    const namedConnection = () => srv.ads.connections().find((c) => c.types[0]?.wildcard === false);
    const namedPushes = namedConnection()?.types[0]?.pushes;
    source.setString('b', 'B2');
    await waitFor('wildcard subscriber got b', () => everything.store.get('b') === 'B2');
    // The flush reaches every stream in one pass, so the named stream's push count is final here.
    expect(namedConnection()?.types[0]?.pushes).toBe(namedPushes);
    await sleep(DEBOUNCE_MS * 4);
    expect(named.batches).toHaveLength(1);

    source.setString('a', 'A2');
    await waitFor('named subscriber got a', () => named.store.get('a') === 'A2');

    onDemand.subscribe(STRING_TYPE_URL, ['ghost']);
    await waitFor('"does not exist" answer', () => named.batches.some((b) => b.removals.includes('ghost')));
    source.setString('ghost', 'G1');
    await waitFor('ghost arrives once it exists', () => named.store.get('ghost') === 'G1');
    expect(namedConnection()?.types[0]?.subscribedNames).toEqual(['a', 'ghost']);

    onDemand.unsubscribe(STRING_TYPE_URL, ['ghost']);
    expect(named.store.has('ghost')).toBe(false);
    await waitFor('server saw the unsubscribe', () => namedConnection()?.types[0]?.subscribedNames.length === 1);
  });

  it('applies the good resources of a push, NACKs the malformed one, and the server records the NACK', async () => {
    const source = new InMemoryDeltaSource();
    source.setString('good-1', 'G1');
    const srv = await server({ source });
    const strings = recordingType();
    const c = client(srv.port, [strings.type]);
    await c.ready();

    source.setString('good-2', 'G2');
    source.setBytes(STRING_TYPE_URL, 'bad', MALFORMED);
    source.setString('good-1', 'G1b');
    await waitFor('server recorded the NACK', () => srv.ads.stats().nacks === 1);

    expect(summarize(strings.batches.at(-1))).toEqual({ upserts: ['good-1=G1b', 'good-2=G2'], removals: [], rejected: ['bad'] });
    expect(Object.fromEntries(strings.store)).toEqual({ 'good-1': 'G1b', 'good-2': 'G2' });
    const clientNack = c.status().types[0]?.lastNack;
    expect(clientNack?.message).toMatch(/^rejected 1 of 3 resources of .*StringValue: "bad": not a StringValue/);
    const serverNack = srv.ads.connections()[0]?.types[0]?.lastNack;
    expect(serverNack).toMatchObject({ nonce: clientNack?.nonce, code: 3, message: clientNack?.message });
    expect(srv.ads.connections()[0]?.types[0]?.nacks).toBe(1);

    // Fixing the resource clears the way: the next push is ACKed.
    source.setString('bad', 'fixed');
    await waitFor('fixed resource applied', () => strings.store.get('bad') === 'fixed');
    await waitFor('ACKed', () => srv.ads.connections()[0]?.types[0]?.lastAckedNonce === c.status().types[0]?.lastNonce);
  });

  it('resumes after a server restart with initial_resource_versions, sending only what changed meanwhile', async () => {
    const source = new InMemoryDeltaSource();
    for (const [n, t] of [['a', 'A1'], ['b', 'B1'], ['c', 'C1']] as const) source.setString(n, t);
    const first = await server({ source });
    const strings = recordingType();
    const c = client(first.port, [strings.type]);
    await c.ready();
    const versionsBefore = { a: source.version('a'), b: source.version('b'), c: source.version('c') };

    await first.stop();
    expect(source.listenerCount).toBe(0);
    await waitFor('client noticed', () => !c.status().connected);
    source.setString('b', 'B2');
    source.delete('c');
    source.setString('d', 'D1');
    await waitFor('a failed reconnect attempt', () => c.status().lastError?.code === 'ERR_XDS_STREAM_FAILED');
    // Disconnected, the application keeps its last good state.
    expect(Object.fromEntries(strings.store)).toEqual({ a: 'A1', b: 'B1', c: 'C1' });
    const batchesBefore = strings.batches.length;

    const second = await server({ source }, first.port);
    await waitFor('resynced', () => strings.store.get('b') === 'B2' && !strings.store.has('c') && strings.store.has('d'));
    expect(second.requests[0]?.initialResourceVersions).toEqual(versionsBefore);
    expect(strings.batches.length).toBe(batchesBefore + 1);
    expect(summarize(strings.batches.at(-1))).toEqual({ upserts: ['b=B2', 'd=D1'], removals: ['c'], rejected: [] });
    expect(Object.fromEntries(strings.store)).toEqual({ a: 'A1', b: 'B2', d: 'D1' });
    await waitFor('connected again', () => c.status().connected);
    expect(c.status().connects).toBeGreaterThanOrEqual(2);
  });

  it('ends a stream with a bad bearer token UNAUTHENTICATED; the client reports it, retries, and picks up a new token', async () => {
    const source = new InMemoryDeltaSource();
    source.setString('a', 'A1');
    const seen: string[] = [];
    const srv = await server({
      source,
      authenticate: async (metadata) => {
        const auth = String(metadata.get('authorization')[0] ?? '');
        seen.push(`${auth} ${String(metadata.get('clusterid')[0] ?? '')}`);
        return auth === 'Bearer good-token' && metadata.get('clusterid')[0] === 'Kubernetes'
          ? { ok: true, identity: 'spiffe://cluster.local/ns/istio-system/sa/ztunnel' }
          : { ok: false, message: 'token review failed' };
      },
    });
    let token = 'bad-token';
    const strings = recordingType();
    const c = client(srv.port, [strings.type], { metadata: () => ({ authorization: `Bearer ${token}`, clusterid: 'Kubernetes' }) });

    await waitFor('UNAUTHENTICATED reported', () => c.status().lastError?.code === 'ERR_XDS_UNAUTHENTICATED');
    expect(c.status().lastError?.grpcCode).toBe(grpc.status.UNAUTHENTICATED);
    expect(c.status().lastError?.message).toContain('token review failed');
    await waitFor('retried', () => srv.ads.stats().authFailures >= 2);
    expect(c.status().connected).toBe(false);
    expect(srv.ads.stats().connected).toBe(0);

    token = 'good-token';
    await c.ready();
    expect(strings.store.get('a')).toBe('A1');
    expect(seen.at(-1)).toBe('Bearer good-token Kubernetes');
    expect(srv.ads.connections()[0]?.identity).toBe('spiffe://cluster.local/ns/istio-system/sa/ztunnel');
  });
});

describe('lifecycle', () => {
  it('close and destroy are idempotent, stop reconnecting, and reject a pending ready()', async () => {
    const source = new InMemoryDeltaSource();
    const srv = await server({ source });
    await srv.stop();
    const c = client(srv.port, [recordingType().type]);
    const ready = c.ready().then(
      () => undefined,
      (err: unknown) => err,
    );
    await waitFor('a failed attempt', () => c.status().lastError !== undefined);
    await Promise.all([c.close(), c.close()]);
    c.destroy();
    expect(await ready).toMatchObject({ code: 'ERR_XDS_CLIENT_CLOSED' });
    await expect(c.ready()).rejects.toMatchObject({ code: 'ERR_XDS_CLIENT_CLOSED' });
    expect(c.status()).toMatchObject({ closed: true, nextRetryAt: undefined });
  });

  it('server close() ends live streams; destroy() after it is harmless; a closed server refuses new streams', async () => {
    const source = new InMemoryDeltaSource();
    source.setString('a', 'A1');
    const srv = await server({ source });
    const strings = recordingType();
    const c = client(srv.port, [strings.type]);
    await c.ready();
    await Promise.all([srv.ads.close(), srv.ads.close()]);
    srv.ads.destroy();
    expect(source.listenerCount).toBe(0);
    await waitFor('stream gone', () => srv.ads.stats().connected === 0);
    // The client keeps retrying against the still-bound grpc.Server and is turned away UNAVAILABLE.
    await waitFor('turned away', () => c.status().lastError?.grpcCode === grpc.status.UNAVAILABLE);
    expect(strings.store.get('a')).toBe('A1');
  });

  it('addTo() registers the service on a plain grpc.Server', async () => {
    const source = new InMemoryDeltaSource();
    source.setString('a', 'A1');
    const ads = createDeltaAdsServer({ source });
    const grpcServer = new grpc.Server();
    ads.addTo(grpcServer);
    const port = await new Promise<number>((resolve, reject) =>
      grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    opened.push({
      stop: async () => {
        await ads.close();
        grpcServer.forceShutdown();
      },
    });
    const strings = recordingType();
    await client(port, [strings.type]).ready();
    expect(strings.store.get('a')).toBe('A1');
  });

  it('client destroy() cancels its stream at once', async () => {
    const source = new InMemoryDeltaSource();
    const srv = await server({ source });
    const c = client(srv.port, [recordingType().type]);
    await c.ready();
    c.destroy();
    c.destroy();
    await waitFor('server saw the stream go', () => srv.ads.stats().connected === 0);
    await c.close();
  });
});

describe('protocol errors', () => {
  function rawClient(port: number): AggregatedDiscoveryServiceClient {
    const raw = new AggregatedDiscoveryServiceClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    opened.push({ stop: async () => raw.close() });
    return raw;
  }

  function statusOf<Req, Res>(call: grpc.ClientDuplexStream<Req, Res>): Promise<grpc.StatusObject> {
    call.on('error', () => undefined);
    call.on('data', () => undefined);
    return new Promise((resolve) => call.once('status', resolve));
  }

  it('ends a stream INVALID_ARGUMENT on a request without type_url, and refuses state-of-the-world ADS', async () => {
    const srv = await server({ source: new InMemoryDeltaSource() });
    const raw = rawClient(srv.port);

    const delta = raw.deltaAggregatedResources();
    const deltaStatus = statusOf(delta);
    delta.write({
      typeUrl: '',
      resourceNamesSubscribe: [],
      resourceNamesUnsubscribe: [],
      resourceLocatorsSubscribe: [],
      resourceLocatorsUnsubscribe: [],
      initialResourceVersions: {},
      responseNonce: '',
    });
    expect(await deltaStatus).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringContaining('type_url') });

    const sotw = raw.streamAggregatedResources();
    const sotwStatus = statusOf(sotw);
    sotw.end();
    expect((await sotwStatus).code).toBe(grpc.status.UNIMPLEMENTED);
  });

  it('rejects unusable client options before opening anything', () => {
    const base = {
      address: '127.0.0.1:1',
      credentials: grpc.credentials.createInsecure(),
      node: { id: 'n' },
      backoff: BACKOFF,
    };
    const t = recordingType().type;
    expect(() => createDeltaAdsClient({ ...base, types: [t, t] })).toThrow(expect.objectContaining({ code: 'ERR_XDS_CONFIG_INVALID' }));
    expect(() => createDeltaAdsClient({ ...base, types: [t], backoff: { initialMs: 0, maxMs: 10 } })).toThrow(
      expect.objectContaining({ code: 'ERR_XDS_CONFIG_INVALID' }),
    );
  });
});
