// A small mesh on loopback for component tests: the real controlplane (built, run as a child process) on a temp
// manifest directory, and two ztunnels in loopback mode in this process — node-a serving client pods on
// 127.0.0.x, node-b serving server pods — with echo apps behind them. Tests change manifests and dial pods' 15001.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import pino from 'pino';
import { stringify } from 'yaml';

import { startZtunnel, type Ztunnel } from '../src/app';
import { parseZtunnelConfig } from '../src/config';

export const CONTROLPLANE_MAIN = path.resolve(__dirname, '../../controlplane/dist/main.js');

const TOKENS = { 'node-a': 'ztunnel-node-a-bootstrap-token-0123456789abcdef', 'node-b': 'ztunnel-node-b-bootstrap-token-0123456789abcdef' } as const;

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

export interface LoopbackPod {
  readonly uid: string;
  readonly name: string;
  readonly serviceAccount: string;
  readonly address: string;
  readonly node: 'node-a' | 'node-b';
  readonly labels?: Record<string, string>;
  /** For client pods: where their 15001 "connects" (loopback mode has no redirection). */
  readonly outbound?: { readonly address: string; readonly port: number };
}

export function podObject(pod: LoopbackPod): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: pod.name, namespace: 'default', uid: pod.uid, labels: pod.labels ?? {}, annotations: { 'ambient.istio.io/redirection': 'enabled' } },
    spec: { nodeName: pod.node, serviceAccountName: pod.serviceAccount, containers: [{ name: 'app', ports: [{ name: 'tcp-echo', containerPort: 8080 }] }] },
    status: { phase: 'Running', podIP: pod.address, podIPs: [{ ip: pod.address }], conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

/** An echo app on a pod address: writes back what it reads; ends when the client ends. Counts connections. */
export class EchoApp {
  connections = 0;
  readonly sockets = new Set<net.Socket>();
  private constructor(readonly server: net.Server) {}

  static async start(host: string, port: number): Promise<EchoApp> {
    const server = net.createServer();
    const app = new EchoApp(server);
    server.on('connection', (socket) => {
      app.connections += 1;
      app.sockets.add(socket);
      socket.on('close', () => app.sockets.delete(socket));
      socket.on('error', () => undefined);
      socket.pipe(socket);
    });
    await new Promise<void>((resolve) => server.listen(port, host, resolve));
    return app;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export class LoopbackMesh {
  readonly ztunnels = new Map<'node-a' | 'node-b', Ztunnel>();
  readonly accessLog: string[] = [];
  private controlplane: ChildProcess | undefined;
  cpLog = '';

  private constructor(
    readonly dir: string,
    readonly ports: { xds: number; tls: number; monitoring: number },
  ) {}

  static async create(): Promise<LoopbackMesh> {
    if (!existsSync(CONTROLPLANE_MAIN)) throw new Error(`missing ${CONTROLPLANE_MAIN}: run npx nx run controlplane:build`);
    const dir = await mkdtemp(path.join(tmpdir(), 'weft-ztunnel-'));
    await mkdir(path.join(dir, 'manifests'));
    await writeFile(path.join(dir, 'tokens.yaml'), stringify({ tokens: Object.entries(TOKENS).map(([node, token]) => ({ token, node })) }));
    for (const [node, token] of Object.entries(TOKENS)) await writeFile(path.join(dir, `${node}.token`), token);
    return new LoopbackMesh(dir, { xds: await freePort(), tls: await freePort(), monitoring: await freePort() });
  }

  get manifests(): string {
    return path.join(this.dir, 'manifests');
  }

  async write(file: string, objects: readonly object[]): Promise<void> {
    const temp = path.join(this.manifests, `.${file}.tmp`);
    await writeFile(temp, objects.map((o) => stringify(o)).join('---\n'));
    await rename(temp, path.join(this.manifests, file));
  }

  async startControlplane(): Promise<void> {
    const child = spawn(process.execPath, [CONTROLPLANE_MAIN], {
      env: {
        ...process.env,
        WEFT_MANIFEST_DIR: this.manifests,
        WEFT_CA_DIR: path.join(this.dir, 'ca'),
        WEFT_BOOTSTRAP_TOKENS_FILE: path.join(this.dir, 'tokens.yaml'),
        WEFT_XDS_PLAINTEXT_PORT: String(this.ports.xds),
        WEFT_XDS_TLS_PORT: String(this.ports.tls),
        WEFT_MONITORING_PORT: String(this.ports.monitoring),
        WEFT_LISTEN_ADDRESS: '127.0.0.1',
        PILOT_DEBOUNCE_AFTER_MS: '10',
        WEFT_DRAIN_DEADLINE_MS: '500',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) => (this.cpLog += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.cpLog += chunk.toString()));
    this.controlplane = child;
    const deadline = Date.now() + 20_000;
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${this.ports.monitoring}/ready`).then((r) => r.ok, () => false);
      if (ok) return;
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`controlplane did not become ready:\n${this.cpLog}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async stopControlplane(): Promise<void> {
    const child = this.controlplane;
    if (child === undefined || child.exitCode !== null) return;
    this.controlplane = undefined;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }

  async startZtunnel(node: 'node-a' | 'node-b', pods: readonly LoopbackPod[], extra: Record<string, string> = {}): Promise<Ztunnel> {
    const spec = pods
      .map((p) => `${p.uid}=default/${p.name}/${p.serviceAccount}@${p.address}${p.outbound === undefined ? '' : `>${p.outbound.address}:${p.outbound.port}`}`)
      .join(';');
    const parsed = parseZtunnelConfig({
      WEFT_ZTUNNEL_MODE: 'loopback',
      NODE_NAME: node,
      POD_NAME: `ztunnel-${node}`,
      XDS_ADDRESS: `127.0.0.1:${this.ports.tls}`,
      XDS_SERVER_NAME: 'istiod.istio-system.svc',
      XDS_ROOT_CA: path.join(this.dir, 'ca', 'self-signed-ca-cert.pem'),
      WEFT_TOKEN_FILE: path.join(this.dir, `${node}.token`),
      WEFT_LOOPBACK_PODS: spec,
      ADMIN_PORT: '0',
      STATS_PORT: '0',
      READINESS_PORT: '0',
      WEFT_LISTEN_ADDRESS: '127.0.0.1',
      WEFT_DRAIN_DEADLINE_MS: '500',
      ...extra,
    });
    if (!parsed.ok) throw new Error(parsed.errors.join('; '));
    const ztunnel = await startZtunnel({ config: parsed.config, logger: pino({ level: 'silent' }), accessLog: (line) => this.accessLog.push(line) });
    this.ztunnels.set(node, ztunnel);
    return ztunnel;
  }

  async close(): Promise<void> {
    for (const ztunnel of this.ztunnels.values()) await ztunnel.close();
    await this.stopControlplane();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Connects to a pod's 15001 as the app would (loopback mode: the listener stands for the configured target). */
export function dialOutbound(podAddress: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: podAddress, port: 15001 }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Sends `payload`, half-closes, and collects everything until the peer ends. */
export function exchange(socket: net.Socket, payload: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('error', reject);
    socket.end(payload);
  });
}

export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
