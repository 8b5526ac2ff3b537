// The Helm chart under test: rendering deploy/helm/weft with the helm binary tools/install-helm.sh puts in
// node_modules/.cache/weft (setup.sh runs it), and reading the rendered objects the way a cluster would get them.

import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import * as path from 'node:path';

import { parseAllDocuments } from 'yaml';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
export const CHART_DIR = path.join(REPO_ROOT, 'deploy', 'helm', 'weft');
const HELM = path.join(REPO_ROOT, 'node_modules', '.cache', 'weft', 'helm');

/** A rendered Kubernetes object, loosely typed: tests read the fields they check. */
export interface RenderedObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Record<string, string>; readonly annotations?: Record<string, string> };
  readonly [field: string]: unknown;
}

export interface HelmResult {
  readonly ok: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

/** The helm binary; a missing one fails with what to run. */
export async function helmBinary(): Promise<string> {
  try {
    await access(HELM, constants.X_OK);
    return HELM;
  } catch {
    throw new Error(`helm is not installed at ${HELM}: run \`bash tools/install-helm.sh\` (tools/setup.sh runs it)`);
  }
}

export async function runHelm(args: readonly string[]): Promise<HelmResult> {
  const helm = await helmBinary();
  return new Promise((resolve) => {
    execFile(helm, [...args], { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, HELM_CACHE_HOME: path.join(path.dirname(HELM), 'helm-home') } }, (error, stdout, stderr) => {
      resolve({ ok: error === null, stdout, stderr });
    });
  });
}

export interface RenderOptions {
  readonly namespace?: string;
  /** `--set` pairs, applied in order. */
  readonly set?: Readonly<Record<string, string>>;
  /** Extra API versions the pretend cluster serves (`--api-versions`), e.g. `gateway.networking.k8s.io/v1/GatewayClass`. */
  readonly apiVersions?: readonly string[];
}

function templateArgs(options: RenderOptions): string[] {
  const args = ['template', 'weft', CHART_DIR, '--namespace', options.namespace ?? 'istio-system'];
  for (const [key, value] of Object.entries(options.set ?? {})) args.push('--set', `${key}=${value}`);
  for (const version of options.apiVersions ?? []) args.push('--api-versions', version);
  return args;
}

/** `helm template` as a result, for tests of refusals. */
export function templateChart(options: RenderOptions = {}): Promise<HelmResult> {
  return runHelm(templateArgs(options));
}

/** The chart's objects as `helm install` would create them; a render error throws with helm's message. */
export async function renderChart(options: RenderOptions = {}): Promise<RenderedObject[]> {
  const result = await templateChart(options);
  if (!result.ok) throw new Error(`helm template failed: ${result.stderr.trim()}`);
  const objects: RenderedObject[] = [];
  for (const document of parseAllDocuments(result.stdout)) {
    if (document.errors.length > 0) throw new Error(`rendered YAML does not parse: ${document.errors.map((e) => e.message).join('; ')}`);
    const value: unknown = document.toJS();
    if (value === null || value === undefined) continue;
    objects.push(value as RenderedObject);
  }
  return objects;
}

/** The one object of a kind and name; throws naming what is there otherwise. */
export function findObject(objects: readonly RenderedObject[], kind: string, name: string): RenderedObject {
  const found = objects.filter((object) => object.kind === kind && object.metadata.name === name);
  if (found.length !== 1) {
    const present = objects.map((object) => `${object.kind}/${object.metadata.name}`).join(', ');
    throw new Error(`expected one ${kind}/${name}, found ${found.length} among: ${present}`);
  }
  return found[0] as RenderedObject;
}

export interface PodContainer {
  readonly name: string;
  readonly image?: string;
  readonly env?: readonly { readonly name: string; readonly value?: string; readonly valueFrom?: { readonly fieldRef?: { readonly fieldPath: string } } }[];
  readonly ports?: readonly { readonly name?: string; readonly containerPort: number; readonly protocol?: string }[];
  readonly volumeMounts?: readonly { readonly name: string; readonly mountPath: string; readonly readOnly?: boolean }[];
  readonly readinessProbe?: { readonly httpGet?: { readonly path: string; readonly port: number | string } };
  readonly securityContext?: Record<string, unknown>;
}

export interface PodVolume {
  readonly name: string;
  readonly hostPath?: { readonly path: string; readonly type?: string };
  readonly configMap?: { readonly name: string };
  readonly secret?: { readonly secretName: string; readonly optional?: boolean };
  readonly projected?: { readonly sources: readonly { readonly serviceAccountToken?: { readonly path: string; readonly audience?: string; readonly expirationSeconds?: number } }[] };
  readonly emptyDir?: Record<string, unknown>;
}

export interface PodSpec {
  readonly serviceAccountName?: string;
  readonly hostNetwork?: boolean;
  readonly containers: readonly PodContainer[];
  readonly volumes?: readonly PodVolume[];
}

/** The pod template of a Deployment or DaemonSet. */
export function podSpec(workload: RenderedObject): PodSpec {
  const spec = workload['spec'] as { template?: { spec?: PodSpec } } | undefined;
  const pod = spec?.template?.spec;
  if (pod === undefined) throw new Error(`${workload.kind}/${workload.metadata.name} has no pod template`);
  return pod;
}

/** A container's environment as the process sees it: downward-API fields resolved from `fields`. */
export function containerEnv(container: PodContainer, fields: Readonly<Record<string, string>>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const variable of container.env ?? []) {
    const fieldPath = variable.valueFrom?.fieldRef?.fieldPath;
    if (fieldPath !== undefined) {
      const value = fields[fieldPath];
      if (value === undefined) throw new Error(`${container.name}: env ${variable.name} reads ${fieldPath}, which the test gives no value`);
      env[variable.name] = value;
    } else {
      env[variable.name] = variable.value ?? '';
    }
  }
  return env;
}

/** The volume mounted at the directory holding `file` in `container`, or undefined. */
export function volumeForFile(pod: PodSpec, container: PodContainer, file: string): PodVolume | undefined {
  const mount = (container.volumeMounts ?? []).find((m) => path.dirname(file) === m.mountPath.replace(/\/$/, ''));
  return mount === undefined ? undefined : (pod.volumes ?? []).find((volume) => volume.name === mount.name);
}

/**
 * Fields the API server would refuse (unknown on their type, or of the wrong JSON type), per object. Runs the
 * built `kube-structure-cli.js` with node, since the Kubernetes client's type tables are ESM-only. Kinds the
 * client has no types for (custom resources) must be left out by the caller.
 */
export async function structureProblems(objects: readonly RenderedObject[]): Promise<string[]> {
  const cli = path.join(REPO_ROOT, 'libs', 'testing', 'dist', 'kube-structure-cli.js');
  try {
    await access(cli, constants.R_OK);
  } catch {
    throw new Error(`${cli} is missing: build first (npx nx run testing:build)`);
  }
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [cli], { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`structure check failed: ${stderr.trim() || error.message}`));
      else resolve(JSON.parse(stdout) as string[]);
    });
    child.stdin?.end(JSON.stringify(objects));
  });
}
