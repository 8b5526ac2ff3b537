// Listening for the admin, stats and readiness servers every component has.

import type { FastifyInstance } from 'fastify';

/** Listens and returns the bound port (the one asked for, or the one the kernel chose for 0). */
export async function listenFastify(app: FastifyInstance, host: string, port: number): Promise<number> {
  await app.listen({ host, port });
  const address = app.server.address();
  return typeof address === 'object' && address !== null ? address.port : port;
}
