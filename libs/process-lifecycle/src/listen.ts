// Small facts about addresses and listeners that every component needs.

import type { FastifyInstance } from 'fastify';

/** The host of `host:port` or `[v6]:port`, without brackets: the TLS server name of a gRPC target. */
export function hostOfAddress(address: string): string {
  const at = address.lastIndexOf(':');
  return (at > 0 ? address.slice(0, at) : address).replace(/^\[|\]$/g, '');
}

/** Listens and returns the bound port (the one asked for, or the one the kernel chose for 0). */
export async function listenFastify(app: FastifyInstance, host: string, port: number): Promise<number> {
  await app.listen({ host, port });
  const address = app.server.address();
  return typeof address === 'object' && address !== null ? address.port : port;
}
