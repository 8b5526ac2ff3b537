// What every scenario shares: one cluster per test file (up before, down after — also when a test fails), the
// project's copies of the guides' manifests, and curl run from inside a pod.

import * as path from 'node:path';

import type { ClusterDriver, ExecResult } from './driver';
import { KindDriver } from './kind-driver';
import { LocalDriver } from './local-driver';

/** The guides' YAML as copied into the project (see manifests/GUIDES.md). */
export const MANIFESTS = path.resolve(__dirname, '..', 'manifests');

export const manifest = (file: string): string => path.join(MANIFESTS, file);

/** Namespace `name` labelled for ambient mode (or not), as YAML for `apply`. */
export function namespaceYaml(name: string, labels: Readonly<Record<string, string>> = {}): { yaml: string } {
  const lines = Object.entries(labels).map(([k, v]) => `    ${k}: "${v}"`);
  return { yaml: `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n${lines.length > 0 ? `  labels:\n${lines.join('\n')}\n` : ''}` };
}

export const AMBIENT = { 'istio.io/dataplane-mode': 'ambient' } as const;

/** Which driver runs the scenarios: `WEFT_E2E_DRIVER=kind` for a kind cluster, else (default) the local cluster. */
export type DriverChoice = 'local' | 'kind';

export function driverChoice(env: Readonly<Record<string, string | undefined>>): DriverChoice {
  const value = env['WEFT_E2E_DRIVER'] ?? '';
  if (value === '' || value === 'local') return 'local';
  if (value === 'kind') return 'kind';
  throw new Error(`WEFT_E2E_DRIVER must be local or kind, not ${JSON.stringify(value)}`);
}

/** kind builds images, creates a cluster and installs the chart: minutes, not seconds. */
const UP_TIMEOUT_MS: Readonly<Record<DriverChoice, number>> = { local: 120_000, kind: 20 * 60_000 };
const DOWN_TIMEOUT_MS: Readonly<Record<DriverChoice, number>> = { local: 60_000, kind: 5 * 60_000 };

/**
 * Registers beforeAll/afterAll that bring a cluster up and down; the returned getter is the driver. The local
 * cluster needs root and the CNI plugins, the kind cluster Docker, kind, kubectl and helm: without them the suite
 * fails saying what is missing.
 */
export function useCluster(nodes = 2): () => ClusterDriver {
  const choice = driverChoice(process.env);
  let driver: LocalDriver | KindDriver | undefined;
  beforeAll(async () => {
    driver = choice === 'kind' ? await KindDriver.up(nodes) : await LocalDriver.up(nodes);
  }, UP_TIMEOUT_MS[choice]);
  afterAll(async () => {
    await driver?.down();
  }, DOWN_TIMEOUT_MS[choice]);
  return () => {
    if (driver === undefined) throw new Error('the cluster did not come up (see the beforeAll failure)');
    return driver;
  };
}

export interface CurlResult extends ExecResult {
  /** The HTTP status, 0 when there was no response (curl's exit code says why). */
  readonly status: number;
  readonly body: string;
}

/** `curl` from inside a pod: status and body; a connection that fails is status 0 with curl's exit code. */
export async function curl(driver: ClusterDriver, namespace: string, pod: string, url: string, extra: readonly string[] = []): Promise<CurlResult> {
  const marker = '\n__WEFT_HTTP_STATUS__';
  const result = await driver.exec(namespace, pod, ['curl', '-sS', '-m', '5', '-w', `${marker}%{http_code}`, ...extra, url]);
  const at = result.stdout.lastIndexOf(marker);
  const status = at >= 0 ? Number(result.stdout.slice(at + marker.length)) : 0;
  const body = at >= 0 ? result.stdout.slice(0, at) : result.stdout;
  return { ...result, status: Number.isFinite(status) ? status : 0, body };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Retries `probe` until `done` holds (config propagation is asynchronous); returns the last result. */
export async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > deadline) return value;
    await sleep(250);
  }
}
