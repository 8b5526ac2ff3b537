// The cni-node agent wired together, in start order: node probe rules → config source and the agent → ZDS server →
// plugin socket → chained plugin installed into the node's CNI config → health/metrics. `close()` undoes each step
// in reverse (the plugin entry is removed first, so no new pod waits on an agent that is going away), except when
// the agent is being replaced (Kubernetes: its DaemonSet remains, agent/node-removal.ts): then the plugin and the
// node rules stay for the next agent.

import * as path from 'node:path';

import {
  createKubernetesSource,
  createManifestDirectorySource,
  KUBE_RESOURCES,
  loadKubeApi,
  type ConfigSource,
  type KubeApi,
  type KubeResource,
} from '@weft/config-source';
import { renderPrometheus } from '@weft/metrics';
import { CleanupStack } from '@weft/process-lifecycle';
import Fastify from 'fastify';
import type pino from 'pino';

import { createFileNetnsStore } from './agent/netns-store';
import { NodeAgent } from './agent/node-agent';
import { lookUpDaemonSet, shutdownCleanup } from './agent/node-removal';
import { scanPodNetns } from './agent/pod-netns-scan';
import { startPluginServer } from './agent/plugin-server';
import type { CniNodeConfig } from './config';
import { installCniPlugin, uninstallCniPlugin } from './plugin/cni-install';
import { PLUGIN_TYPE } from './plugin/cni-protocol';
import { chooseIptablesBackend, createRedirectionRunner, execCommand, type IptablesBackend } from './redirection/redirection-runner';
import { ZdsServer } from './zds/zds-server';

export interface CniNodeOptions {
  readonly config: CniNodeConfig;
  readonly logger: pino.Logger;
  /** A ready-made source (tests). */
  readonly source?: ConfigSource;
  /** Run host-side commands (probe rules) in this netns instead of the agent's own (tests). */
  readonly hostNetnsPath?: string;
  /** The built plugin entry point the launcher runs (or the bundle copies); default next to this file. */
  readonly pluginScript?: string;
}

export interface CniNode {
  readonly agent: NodeAgent;
  readonly zds: ZdsServer;
  readonly healthPort: number;
  readonly pluginSocket: string;
  close(): Promise<void>;
}

async function detectBackend(config: CniNodeConfig): Promise<IptablesBackend> {
  if (config.WEFT_IPTABLES_BACKEND !== 'auto') return config.WEFT_IPTABLES_BACKEND;
  const save = (file: string): Promise<string> => execCommand(file, []).then((r) => r.stdout, () => '');
  return chooseIptablesBackend(await save('iptables-legacy-save'), await save('iptables-nft-save'));
}

/**
 * What the agent watches in Kubernetes: Namespaces (their dataplane-mode label) and only the Pods scheduled on its
 * node, selected by the API server as istio-cni does, so every node does not cache every pod of the cluster. The
 * chart's RBAC grants exactly these.
 */
export function cniNodeResources(nodeName: string): KubeResource[] {
  const resource = (kind: KubeResource['kind']): KubeResource => {
    const found = KUBE_RESOURCES.find((r) => r.kind === kind);
    if (found === undefined) throw new Error(`no API resource for ${kind}`);
    return found;
  };
  return [resource('Namespace'), { ...resource('Pod'), fieldSelector: `spec.nodeName=${nodeName}` }];
}

async function createSource(config: CniNodeConfig, logger: pino.Logger): Promise<{ source: ConfigSource; api?: KubeApi }> {
  const sourceLogger = {
    debug: (message: string, fields?: Readonly<Record<string, unknown>>) => logger.debug({ ...fields }, message),
    info: (message: string, fields?: Readonly<Record<string, unknown>>) => logger.info({ ...fields }, message),
    warn: (message: string, fields?: Readonly<Record<string, unknown>>) => logger.warn({ ...fields }, message),
    error: (message: string, fields?: Readonly<Record<string, unknown>>) => logger.error({ ...fields }, message),
  };
  if (config.WEFT_CONFIG_SOURCE === 'kubernetes') {
    const api = await loadKubeApi();
    return { api, source: createKubernetesSource({ api, resources: cniNodeResources(config.NODE_NAME), logger: sourceLogger }) };
  }
  const statusFile = config.WEFT_STATUS_FILE !== '' ? config.WEFT_STATUS_FILE : path.join(config.WEFT_MANIFEST_DIR, '.weft', `cni-${config.NODE_NAME}.json`);
  return { source: createManifestDirectorySource({ directory: config.WEFT_MANIFEST_DIR, statusFile, logger: sourceLogger }) };
}

export async function startCniNode(options: CniNodeOptions): Promise<CniNode> {
  const { config, logger } = options;
  const cleanups = new CleanupStack(logger);
  const closeAll = (): Promise<void> => cleanups.closeAll();
  try {
    const backend = await detectBackend(config);
    const runner = createRedirectionRunner({ backend, ...(options.hostNetnsPath === undefined ? {} : { hostNetnsPath: options.hostNetnsPath }) });
    const created = options.source === undefined ? await createSource(config, logger) : { source: options.source };
    const source = created.source;
    // Decided once, when shutdown reaches the first node-level cleanup: removal from the node, or a replacement.
    let cleanup: Promise<boolean> | undefined;
    const cleanUpNode = (): Promise<boolean> => {
      cleanup ??= (async () => {
        const api = created.api;
        const lookup = api === undefined || config.WEFT_CNI_DAEMONSET === '' ? undefined : await lookUpDaemonSet(api, config.POD_NAMESPACE, config.WEFT_CNI_DAEMONSET);
        const decision = shutdownCleanup(config.WEFT_CNI_DAEMONSET, lookup);
        logger.info({ clean: decision.clean }, decision.reason);
        return decision.clean;
      })();
      return cleanup;
    };
    if (config.WEFT_HOST_PROBE_RULES) {
      await runner.installHostRules([4, 6]);
      cleanups.push(async () => {
        if (await cleanUpNode()) await runner.removeHostRules([4, 6]);
      });
    }
    cleanups.push(() => source.close());
    // The ZDS server reports acks to the agent, which is built with the server: a late-bound reference.
    const acks: { agent?: NodeAgent } = {};
    const zds = await ZdsServer.start({
      socketPath: config.WEFT_ZDS_SOCKET,
      logger: logger.child({ scope: 'zds' }),
      onAck: (request, error) => {
        if (request.kind === 'add') acks.agent?.acknowledged(request.uid, error);
      },
    });
    cleanups.push(() => zds.close());
    const agent = new NodeAgent({
      node: config.NODE_NAME,
      enrollment: { systemNamespace: config.POD_NAMESPACE, excludeNamespaces: config.EXCLUDE_NAMESPACES, dnsCapture: config.AMBIENT_DNS_CAPTURE },
      source,
      runner,
      zds,
      netnsStore: createFileNetnsStore(path.join(config.WEFT_CNI_RUN_DIR, 'pods.json')),
      logger: logger.child({ scope: 'agent' }),
      probeRules: config.WEFT_HOST_PROBE_RULES,
      ...(config.WEFT_HOST_PROC === '' ? {} : { findNetns: (uids: ReadonlySet<string>) => scanPodNetns(config.WEFT_HOST_PROC, uids) }),
    });
    acks.agent = agent;
    const started = agent;
    cleanups.push(() => started.close());
    await agent.start();

    const pluginSocket = path.join(config.WEFT_CNI_RUN_DIR, 'pluginevent.sock');
    const plugin = await startPluginServer(pluginSocket, {
      add: (request) => started.handleCniAdd(request),
      del: (request) => started.handleCniDel(request),
    });
    cleanups.push(() => plugin.close());

    if (config.WEFT_CNI_INSTALL) {
      const installed = await installCniPlugin({
        binDir: config.WEFT_CNI_BIN_DIR,
        netDir: config.WEFT_CNI_NET_DIR,
        runtime: config.WEFT_CNI_PLUGIN_RUNTIME,
        nodePath: process.execPath,
        pluginScript: options.pluginScript ?? path.join(__dirname, 'plugin', 'plugin-main.js'),
        entry: { type: PLUGIN_TYPE, agentSocket: pluginSocket, excludeNamespaces: config.EXCLUDE_NAMESPACES },
      });
      logger.info(installed, 'chained CNI plugin installed');
      cleanups.push(async () => {
        if (await cleanUpNode()) await uninstallCniPlugin({ binDir: config.WEFT_CNI_BIN_DIR, netDir: config.WEFT_CNI_NET_DIR });
      });
    }

    const health = Fastify({ logger: false });
    health.get('/healthz', async () => 'ok\n');
    health.get('/readyz', async (_request, reply) => (started.ready ? reply.send('ready\n') : reply.code(503).send('not ready\n')));
    health.get('/debug/pods', async () => ({ pods: started.pods(), ztunnels: zds.connections() }));
    health.get('/metrics', async (_request, reply) =>
      reply.type('text/plain; version=0.0.4').send(
        renderPrometheus([
          { name: 'ztunnel_connected', help: 'ztunnels connected to this agent over ZDS.', type: 'gauge', samples: [{ value: zds.connected }] },
          { name: 'weft_cni_enrolled_pods', help: 'Pods on this node with redirection installed.', type: 'gauge', samples: [{ value: started.stats.enrolled }] },
          { name: 'weft_cni_enroll_failures_total', help: 'Redirection attempts that failed.', type: 'counter', samples: [{ value: started.stats.enrollFailures }] },
          { name: 'weft_cni_unenroll_failures_total', help: 'Redirection removals that failed.', type: 'counter', samples: [{ value: started.stats.unenrollFailures }] },
          { name: 'weft_cni_plugin_requests_total', help: 'Requests from the chained CNI plugin.', type: 'counter', samples: [{ value: started.stats.pluginRequests }] },
        ]),
      ),
    );
    await health.listen({ port: config.WEFT_HEALTH_PORT, host: config.WEFT_LISTEN_ADDRESS });
    cleanups.pushClosedLast(() => health.close());
    const address = health.server.address();
    const healthPort = typeof address === 'object' && address !== null ? address.port : config.WEFT_HEALTH_PORT;
    logger.info({ node: config.NODE_NAME, backend, healthPort, zds: config.WEFT_ZDS_SOCKET, pluginSocket }, 'cni-node agent serving');

    let closing: Promise<void> | undefined;
    return {
      agent,
      zds,
      healthPort,
      pluginSocket,
      close() {
        closing ??= closeAll();
        return closing;
      },
    };
  } catch (cause) {
    await closeAll();
    throw cause;
  }
}
