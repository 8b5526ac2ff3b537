// The agent's end of the plugin socket: an HTTP server on a unix socket where the chained CNI plugin POSTs
// `/cmdadd` (istio's pluginevent.sock) and `/cmddel`. 200 with the result, 500 with the reason when an ambient
// pod could not be redirected, 400 for a malformed request.

import { chmod, mkdir, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import * as path from 'node:path';

import type { AgentAddReply, AgentAddRequest } from '../plugin/cni-protocol';

export interface PluginServer {
  readonly socketPath: string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024;

function parseRequest(body: string): AgentAddRequest | string {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return 'body is not JSON';
  }
  if (typeof value !== 'object' || value === null) return 'body is not a JSON object';
  const record = value as Record<string, unknown>;
  const strings = ['netns', 'containerId', 'podName', 'podNamespace', 'podUid'] as const;
  for (const key of strings) if (typeof record[key] !== 'string') return `${key} must be a string`;
  if (record['netns'] === '' || record['podName'] === '' || record['podNamespace'] === '') return 'netns, podName and podNamespace are required';
  const ips = record['ips'];
  if (!Array.isArray(ips) || !ips.every((ip): ip is string => typeof ip === 'string')) return 'ips must be a list of strings';
  return {
    netns: record['netns'] as string,
    containerId: record['containerId'] as string,
    podName: record['podName'] as string,
    podNamespace: record['podNamespace'] as string,
    podUid: record['podUid'] as string,
    ips,
  };
}

export interface PluginHandlers {
  add(request: AgentAddRequest): Promise<AgentAddReply>;
  del(request: AgentAddRequest): Promise<void>;
}

export async function startPluginServer(socketPath: string, handlers: PluginHandlers): Promise<PluginServer> {
  await mkdir(path.dirname(socketPath), { recursive: true });
  await rm(socketPath, { force: true });
  const reply = (res: ServerResponse, status: number, body: string, type = 'text/plain'): void => {
    res.writeHead(status, { 'content-type': type }).end(body);
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST' || (req.url !== '/cmdadd' && req.url !== '/cmddel')) return reply(res, 404, 'only POST /cmdadd and /cmddel\n');
    const isAdd = req.url === '/cmdadd';
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) req.destroy();
      else chunks.push(chunk);
    });
    req.on('end', () => {
      const parsed = parseRequest(Buffer.concat(chunks).toString('utf8'));
      if (typeof parsed === 'string') return reply(res, 400, `${parsed}\n`);
      const handled: Promise<unknown> = isAdd ? handlers.add(parsed) : handlers.del(parsed).then(() => ({ deleted: true }));
      handled.then(
        (result) => reply(res, 200, JSON.stringify(result), 'application/json'),
        (cause: unknown) => reply(res, 500, `${cause instanceof Error ? cause.message : String(cause)}\n`),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  // Only root (the runtime's plugin) may talk to the agent.
  await chmod(socketPath, 0o600);
  return {
    socketPath,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
