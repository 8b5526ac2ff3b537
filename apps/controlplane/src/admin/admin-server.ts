// The controlplane's monitoring port (istiod's 15014): readiness, metrics and the debug views an operator reads
// when a proxy does not get the config they expect. Read-only; every view comes from an injected provider.

import Fastify, { type FastifyInstance } from 'fastify';
import { renderPrometheus, type MetricFamily } from '@weft/metrics';

export interface AdminProviders {
  /** Ready once config has been read and the xDS/CA listeners are serving. */
  ready(): boolean;
  metrics(): readonly MetricFamily[];
  /** Computed resources per type URL, and the frozen config. */
  configDump(): unknown;
  /** Connected xDS streams with their ACK/NACK state. */
  connections(): unknown;
  /** Rejected or warned-about objects, with the field and message. */
  configErrors(): unknown;
}

export interface AdminServer {
  readonly port: number;
  close(): Promise<void>;
}

export function buildAdminApp(providers: AdminProviders): FastifyInstance {
  const app = Fastify({ logger: false });
  app.get('/ready', async (_request, reply) => {
    if (providers.ready()) return reply.code(200).type('text/plain').send('ready\n');
    return reply.code(503).type('text/plain').send('not ready\n');
  });
  app.get('/metrics', async (_request, reply) =>
    reply.type('text/plain; version=0.0.4').send(renderPrometheus(providers.metrics())),
  );
  app.get('/debug/config_dump', async () => providers.configDump());
  app.get('/debug/connections', async () => providers.connections());
  app.get('/debug/config_errors', async () => providers.configErrors());
  return app;
}

export async function startAdminServer(providers: AdminProviders, port: number, host: string): Promise<AdminServer> {
  const app = buildAdminApp(providers);
  await app.listen({ port, host });
  const address = app.server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  return { port: bound, close: () => app.close() };
}
