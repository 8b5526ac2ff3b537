// Bring-up and tear-down of the kind cluster behind the kind driver: the settings read once from the environment,
// the prerequisites checked together before anything starts, then images, cluster, Gateway API CRDs and the Helm
// chart. The cluster carries a per-run name, has its own kubeconfig file, and is the only thing `down` deletes.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { kindConfig, parseNodes, workerNodeNames } from './kind-objects';
import { NOT_FOUND, type RunOptions, type Runner } from './kind-runner';
import type { ExecResult } from './driver';

/** The repository root (this file is e2e/src/kind-cluster.ts). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** The images build-images.sh makes and the chart runs: `<registry>/<component>:<tag>`. */
export const IMAGE_REGISTRY = 'weft';
export const IMAGE_TAG = 'e2e';
export const COMPONENTS = ['controlplane', 'ztunnel', 'waypoint', 'cni-node'] as const;
export const IMAGES = COMPONENTS.map((c) => `${IMAGE_REGISTRY}/${c}:${IMAGE_TAG}`);

/** The Gateway API standard-channel CRDs, as Istio's ambient guides install them. */
export const GATEWAY_API_CRDS = 'https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.2.1/standard-install.yaml';

/** Where tools/install-helm.sh puts helm, relative to the repository root. */
export const CACHED_HELM = path.join('node_modules', '.cache', 'weft', 'helm');

const BUILD_TIMEOUT_MS = 30 * 60_000;
const CREATE_TIMEOUT_MS = 10 * 60_000;
const LOAD_TIMEOUT_MS = 10 * 60_000;
const HELM_TIMEOUT_MS = 6 * 60_000;
const COMMAND_TIMEOUT_MS = 2 * 60_000;

/** The kind driver's settings: every environment variable it reads, parsed once. */
export interface KindSettings {
  readonly repoRoot: string;
  /** `WEFT_E2E_KIND_SKIP_BUILD=1`: use the weft/*:e2e images already in the Docker engine. */
  readonly skipBuild: boolean;
  /** `WEFT_E2E_KEEP_LOGS=DIR`: `kind export logs` into DIR/<cluster> before the cluster is deleted. */
  readonly keepLogs: string | undefined;
  /** The Docker network kind puts its nodes on (`KIND_EXPERIMENTAL_DOCKER_NETWORK`, which kind itself reads; default kind). */
  readonly network: string;
}

export function kindSettings(env: Readonly<Record<string, string | undefined>>, repoRoot = REPO_ROOT): KindSettings {
  const skip = env['WEFT_E2E_KIND_SKIP_BUILD'] ?? '';
  if (!['', '0', '1', 'false', 'true'].includes(skip)) throw new KindPrerequisiteError(`WEFT_E2E_KIND_SKIP_BUILD must be 1 or 0, not ${JSON.stringify(skip)}`);
  const keep = env['WEFT_E2E_KEEP_LOGS'];
  const network = env['KIND_EXPERIMENTAL_DOCKER_NETWORK'];
  return Object.freeze({
    repoRoot,
    skipBuild: skip === '1' || skip === 'true',
    keepLogs: keep === undefined || keep === '' ? undefined : keep,
    network: network === undefined || network === '' ? 'kind' : network,
  });
}

/** A tool or the Docker engine is missing: says what, all at once. */
export class KindPrerequisiteError extends Error {
  readonly code = 'ERR_E2E_KIND_PREREQUISITE';
}

/** A command of the bring-up or of a driver call failed. */
export class KindCommandError extends Error {
  readonly code = 'ERR_E2E_KIND_COMMAND';
  constructor(
    readonly argv: readonly string[],
    readonly result: ExecResult,
  ) {
    super(`\`${argv.join(' ')}\` exited with ${result.code}${result.code === 124 ? ' (timed out)' : ''}: ${(result.stderr.trim() || result.stdout.trim()).slice(-2_000)}`);
  }
}

/** Runs a command that must succeed; its stdout. */
export async function must(run: Runner, argv: readonly string[], options?: RunOptions): Promise<string> {
  const result = await run(argv, { timeoutMs: COMMAND_TIMEOUT_MS, ...options });
  if (result.code !== 0) throw new KindCommandError(argv, result);
  return result.stdout;
}

const firstLine = (text: string): string => text.trim().split('\n')[0] ?? '';

/** Checks docker (with a running engine), kind, kubectl and helm; the helm to use. Throws naming everything missing. */
export async function requireKindTools(run: Runner, repoRoot: string): Promise<{ helm: string }> {
  const [docker, kind, kubectl, helm] = await Promise.all([
    run(['docker', 'info', '--format', '{{.ServerVersion}}'], { timeoutMs: COMMAND_TIMEOUT_MS }),
    run(['kind', 'version'], { timeoutMs: COMMAND_TIMEOUT_MS }),
    run(['kubectl', 'version', '--client'], { timeoutMs: COMMAND_TIMEOUT_MS }),
    run(['helm', 'version', '--short'], { timeoutMs: COMMAND_TIMEOUT_MS }),
  ]);
  const problems: string[] = [];
  if (docker.code === NOT_FOUND) problems.push('docker is not on PATH (the kind driver needs the docker CLI and a running Docker engine)');
  else if (docker.code !== 0) problems.push(`the kind driver needs a running Docker engine: \`docker info\` failed: ${firstLine(docker.stderr)}`);
  if (kind.code !== 0) problems.push(`kind is not on PATH (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)${kind.code === NOT_FOUND ? '' : `: ${firstLine(kind.stderr)}`}`);
  if (kubectl.code !== 0) problems.push(`kubectl is not on PATH${kubectl.code === NOT_FOUND ? '' : `: ${firstLine(kubectl.stderr)}`}`);
  let helmPath = 'helm';
  if (helm.code !== 0) {
    helmPath = path.join(repoRoot, CACHED_HELM);
    const cached = await run([helmPath, 'version', '--short'], { timeoutMs: COMMAND_TIMEOUT_MS });
    if (cached.code !== 0) problems.push(`helm is not on PATH nor at ${CACHED_HELM} (bash tools/install-helm.sh puts it there)`);
  }
  if (problems.length > 0) throw new KindPrerequisiteError(`the kind e2e driver cannot start:\n  - ${problems.join('\n  - ')}`);
  return { helm: helmPath };
}

/** A kind cluster this run created. */
export interface KindCluster {
  /** `weft-e2e-<random>`; kind's node containers are `<name>-control-plane`, `<name>-worker`, `<name>-worker2`… */
  readonly name: string;
  /** The cluster's own kubeconfig (the user's ~/.kube/config is never touched). */
  readonly kubeconfig: string;
  /** Temporary directory of the run (holds the kubeconfig). */
  readonly scratch: string;
  /** The worker nodes, as pods' spec.nodeName names them. */
  readonly nodes: readonly string[];
}

export const newClusterName = (): string => `weft-e2e-${randomBytes(3).toString('hex')}`;

/**
 * Builds the images (unless skipped), creates the cluster (one control plane, `workers` workers), loads the images,
 * installs the Gateway API CRDs and the chart. A failure after the cluster exists deletes it before rethrowing.
 */
export async function createKindCluster(run: Runner, settings: KindSettings, workers: number, name = newClusterName()): Promise<KindCluster> {
  if (!Number.isInteger(workers) || workers < 1) throw new KindPrerequisiteError(`the kind driver needs at least one worker node, not ${workers}`);
  const { helm } = await requireKindTools(run, settings.repoRoot);
  if (!settings.skipBuild) {
    await must(run, ['bash', path.join(settings.repoRoot, 'deploy', 'docker', 'build-images.sh'), '--registry', IMAGE_REGISTRY, '--tag', IMAGE_TAG], { timeoutMs: BUILD_TIMEOUT_MS });
  }
  const scratch = mkdtempSync(path.join(tmpdir(), 'weft-e2e-kind-'));
  const cluster: KindCluster = { name, kubeconfig: path.join(scratch, 'kubeconfig'), scratch, nodes: workerNodeNames(name, workers) };
  try {
    await must(run, ['kind', 'create', 'cluster', '--name', name, '--config', '-', '--kubeconfig', cluster.kubeconfig, '--wait', '120s'], {
      input: kindConfig(workers),
      timeoutMs: CREATE_TIMEOUT_MS,
    });
    await must(run, ['kind', 'load', 'docker-image', ...IMAGES, '--name', name], { timeoutMs: LOAD_TIMEOUT_MS });
    await must(run, ['kubectl', '--kubeconfig', cluster.kubeconfig, 'apply', '-f', GATEWAY_API_CRDS]);
    await must(
      run,
      [
        helm,
        'install',
        'weft',
        path.join(settings.repoRoot, 'deploy', 'helm', 'weft'),
        '--kubeconfig',
        cluster.kubeconfig,
        '-n',
        'istio-system',
        '--create-namespace',
        '--set',
        `image.registry=${IMAGE_REGISTRY}`,
        '--set',
        `image.tag=${IMAGE_TAG}`,
        '--set',
        'image.pullPolicy=Never',
        '--wait',
        '--timeout',
        '5m',
      ],
      { timeoutMs: HELM_TIMEOUT_MS },
    );
    const nodes = parseNodes(await must(run, ['kubectl', '--kubeconfig', cluster.kubeconfig, 'get', 'nodes', '-o', 'json']));
    const missing = cluster.nodes.filter((n) => !nodes.some((x) => x.name === n && x.ready));
    if (missing.length > 0) throw new KindPrerequisiteError(`kind cluster ${name}: worker node(s) ${missing.join(', ')} missing or not Ready; nodes: ${JSON.stringify(nodes)}`);
    return cluster;
  } catch (error) {
    await deleteKindCluster(run, settings, cluster);
    throw error;
  }
}

/** Keeps the logs when asked (`kind export logs`), deletes this cluster — only it — and the run's directory. */
export async function deleteKindCluster(run: Runner, settings: KindSettings, cluster: KindCluster): Promise<void> {
  try {
    if (settings.keepLogs !== undefined) await run(['kind', 'export', 'logs', path.join(settings.keepLogs, cluster.name), '--name', cluster.name], { timeoutMs: COMMAND_TIMEOUT_MS });
    await must(run, ['kind', 'delete', 'cluster', '--name', cluster.name, '--kubeconfig', cluster.kubeconfig], { timeoutMs: CREATE_TIMEOUT_MS });
  } finally {
    rmSync(cluster.scratch, { recursive: true, force: true });
  }
}
