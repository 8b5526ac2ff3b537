import { startAdminServer, type AdminProviders, type AdminServer } from './admin-server';

function providers(state: { ready: boolean }): AdminProviders {
  return {
    ready: () => state.ready,
    metrics: () => [
      { name: 'pilot_xds', help: 'Connected xDS clients.', type: 'gauge', samples: [{ value: 2 }] },
      {
        name: 'citadel_server_csr_count',
        help: 'CSRs by outcome.',
        type: 'counter',
        samples: [{ labels: { outcome: 'issued' }, value: 3 }, { labels: { outcome: 'say "no"' }, value: 1 }],
      },
    ],
    configDump: () => ({ resources: { a: 1 } }),
    connections: () => [{ nodeId: 'ztunnel~10.0.0.1~z.istio-system~istio-system.svc.cluster.local' }],
    configErrors: () => [{ object: 'VirtualService default/reviews', field: 'spec.http[0].retries.retryOn' }],
  };
}

describe('controlplane admin endpoints (real listener on 127.0.0.1:0)', () => {
  const state = { ready: false };
  let server: AdminServer;
  const get = (path: string) => fetch(`http://127.0.0.1:${server.port}${path}`);

  beforeAll(async () => {
    server = await startAdminServer(providers(state), 0, '127.0.0.1');
  });
  afterAll(() => server.close());

  it('answers /ready with 503 until ready, then 200', async () => {
    expect((await get('/ready')).status).toBe(503);
    state.ready = true;
    expect((await get('/ready')).status).toBe(200);
  });

  it('renders Prometheus text with HELP/TYPE lines and escaped label values', async () => {
    const response = await get('/metrics');
    expect(response.headers.get('content-type')).toContain('text/plain');
    expect(await response.text()).toBe(
      [
        '# HELP pilot_xds Connected xDS clients.',
        '# TYPE pilot_xds gauge',
        'pilot_xds 2',
        '# HELP citadel_server_csr_count CSRs by outcome.',
        '# TYPE citadel_server_csr_count counter',
        'citadel_server_csr_count{outcome="issued"} 3',
        'citadel_server_csr_count{outcome="say \\"no\\""} 1',
        '',
      ].join('\n'),
    );
  });

  it('serves the debug views as JSON', async () => {
    expect(await (await get('/debug/config_dump')).json()).toEqual({ resources: { a: 1 } });
    expect(await (await get('/debug/connections')).json()).toHaveLength(1);
    expect(await (await get('/debug/config_errors')).json()).toEqual([
      { object: 'VirtualService default/reviews', field: 'spec.http[0].retries.retryOn' },
    ]);
  });
});
