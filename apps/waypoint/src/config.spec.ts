import { parseWaypointConfig } from './config';

const base = { POD_NAME: 'waypoint-7d9-0', POD_NAMESPACE: 'default', SERVICE_ACCOUNT: 'waypoint' };

describe('parseWaypointConfig', () => {
  it("applies Istio's defaults: ports, trust domain, gateway name from the service account, no tracing", () => {
    const r = parseWaypointConfig(base);
    if (!r.ok) throw new Error(r.errors.join('; '));
    expect(r.config).toMatchObject({ HBONE_PORT: 15008, STATS_PORT: 15020, READINESS_PORT: 15021, ADMIN_PORT: 15000, TRUST_DOMAIN: 'cluster.local', gatewayName: 'waypoint', tracesEndpoint: undefined });
  });

  it.each<[Record<string, string>, string | undefined]>([
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }, 'http://collector:4318/v1/traces'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://other:4318/traces' }, 'http://other:4318/traces'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: '' }, undefined],
  ])('traces endpoint from %j', (env, endpoint) => {
    const r = parseWaypointConfig({ ...base, ...env });
    if (!r.ok) throw new Error(r.errors.join('; '));
    expect(r.config.tracesEndpoint).toBe(endpoint);
  });

  it('reports every missing or bad setting by name', () => {
    const r = parseWaypointConfig({ HBONE_PORT: '70000' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.split(':')[0]).sort()).toEqual(['HBONE_PORT', 'POD_NAME', 'POD_NAMESPACE', 'SERVICE_ACCOUNT']);
  });
});
