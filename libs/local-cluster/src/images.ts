// The image table of the local cluster (DESIGN.md §5): a pod there runs no container image, so each supported image
// maps to a local program that behaves like it — the sample servers under ./sample-apps, or Debian's own binaries
// for the curl client. Pure: the launcher turns a LaunchPlan into a process inside the pod's netns.
//
// The table is documented for users in libs/local-cluster/README.md ("Images"); keep both in step.

import * as path from 'node:path';

/** The sample programs shipped in ./sample-apps (`dist/sample-apps/<app>.js`). */
export type SampleApp = 'httpbin' | 'echo-server' | 'hello';

/** What kind of local program stands in for an image. */
export type ProgramKind = 'httpbin' | 'echo' | 'hello' | 'client' | 'waypoint';

/** The part of a Kubernetes container spec an image mapping reads. */
export interface ContainerSpec {
  readonly name: string;
  readonly image: string;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly ports?: readonly { readonly containerPort: number; readonly protocol?: string }[];
  readonly env?: readonly { readonly name: string; readonly value?: string; readonly valueFrom?: { readonly fieldRef?: { readonly fieldPath?: string } } }[];
}

/** The pod a container belongs to: errors name it, and it is the container's hostname. */
export interface PodRef {
  readonly namespace: string;
  readonly name: string;
}

/** A sample app run as `node <dist>/sample-apps/<app>.js ...args`, or a system binary run as `file ...args`. */
export type Launch =
  | { readonly kind: 'sample-app'; readonly app: SampleApp; readonly args: readonly string[] }
  | { readonly kind: 'binary'; readonly file: string; readonly args: readonly string[] }
  /** A component of the mesh itself (the waypoint): the cluster runs its built program with the cluster's settings. */
  | { readonly kind: 'mesh'; readonly component: 'waypoint' };

/** How to start one container of a pod. */
export interface LaunchPlan {
  readonly image: string;
  /** The table's key for the image (`kennethreitz/httpbin`). */
  readonly repository: string;
  readonly program: ProgramKind;
  readonly launch: Launch;
  /** The container's env plus `HOSTNAME` (the pod name, as in a real pod). */
  readonly env: Readonly<Record<string, string>>;
  /** Ports the program listens on (empty for the client). */
  readonly listenPorts: readonly number[];
  /** Things that work differently than the manifest suggests, said as they would be in a real cluster. */
  readonly warnings: readonly string[];
}

/** Debian's binaries that stand in for the client image's tools (coreutils `sleep`, package `curl`). */
export const CLIENT_TOOLS: Readonly<Record<string, string>> = { sleep: '/usr/bin/sleep', curl: '/usr/bin/curl' };

/** Where the supported images are listed for users. */
export const IMAGE_TABLE_DOC = 'libs/local-cluster/README.md#images';

interface BuildInput {
  readonly container: ContainerSpec;
  readonly pod: PodRef;
  readonly env: Readonly<Record<string, string>>;
}

interface ImageEntry {
  readonly program: ProgramKind;
  /** One line for the error that lists supported images. */
  readonly summary: string;
  build(input: BuildInput): { launch: Launch; listenPorts: number[] };
}

export class UnsupportedImageError extends Error {
  readonly code = 'ERR_LOCAL_IMAGE_UNSUPPORTED';
}

export class UnsupportedContainerError extends Error {
  readonly code = 'ERR_LOCAL_CONTAINER_UNSUPPORTED';
}

function parsePort(value: string | undefined, what: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UnsupportedContainerError(`${what} is not a port: ${JSON.stringify(value)}`);
  return port;
}

/** Value of `-flag=v`, `--flag=v`, `-flag v` or `--flag v` in argv. */
function flagValue(argv: readonly string[], flag: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    for (const dashes of ['-', '--']) {
      if (arg === `${dashes}${flag}`) return argv[i + 1];
      if (arg.startsWith(`${dashes}${flag}=`)) return arg.slice(dashes.length + flag.length + 1);
    }
  }
  return undefined;
}

function refuseCommand(input: BuildInput, image: string, hint: string): void {
  if ((input.container.command?.length ?? 0) > 0 || (input.container.args?.length ?? 0) > 0) {
    throw new UnsupportedContainerError(`the local ${image} takes no command or args (${hint})`);
  }
}

/** kennethreitz/httpbin runs `gunicorn -b 0.0.0.0:80 httpbin:app`; a command may rebind it with `-b`/`--bind`. */
function buildKennethreitzHttpbin(input: BuildInput): { launch: Launch; listenPorts: number[] } {
  const argv = [...(input.container.command ?? []), ...(input.container.args ?? [])];
  let port = 80;
  if (argv.length > 0) {
    const bind = flagValue(argv, 'b') ?? flagValue(argv, 'bind');
    if (!argv.some((a) => path.basename(a) === 'gunicorn') || bind === undefined) {
      throw new UnsupportedContainerError(`the local kennethreitz/httpbin understands only a gunicorn command with -b HOST:PORT, not ${JSON.stringify(argv)}`);
    }
    port = parsePort(bind.slice(bind.lastIndexOf(':') + 1), `gunicorn -b ${bind}`) ?? 80;
  }
  return { launch: { kind: 'sample-app', app: 'httpbin', args: ['--port', String(port)] }, listenPorts: [port] };
}

/** mccutchen/go-httpbin listens on `-port`, else `$PORT`, else 8080. */
function buildGoHttpbin(input: BuildInput): { launch: Launch; listenPorts: number[] } {
  const argv = [...(input.container.command ?? []), ...(input.container.args ?? [])];
  const port = parsePort(flagValue(argv, 'port'), '-port') ?? parsePort(input.env['PORT'], 'PORT') ?? 8080;
  return { launch: { kind: 'sample-app', app: 'httpbin', args: ['--port', String(port)] }, listenPorts: [port] };
}

/** ealen/echo-server listens on `$PORT`, else 80, and answers with the request as JSON. */
function buildEalenEcho(input: BuildInput): { launch: Launch; listenPorts: number[] } {
  refuseCommand(input, 'ealen/echo-server', 'it is configured through env, e.g. PORT');
  const port = parsePort(input.env['PORT'], 'PORT') ?? 80;
  return { launch: { kind: 'sample-app', app: 'echo-server', args: ['--port', String(port), '--hostname', input.pod.name] }, listenPorts: [port] };
}

/** hashicorp/http-echo answers `-text` with `-status-code` (default 200) on `-listen` (default `:5678`). */
function buildHttpEcho(input: BuildInput): { launch: Launch; listenPorts: number[] } {
  const argv = [...(input.container.command ?? []), ...(input.container.args ?? [])];
  const listen = flagValue(argv, 'listen') ?? ':5678';
  const port = parsePort(listen.slice(listen.lastIndexOf(':') + 1), `-listen ${listen}`) ?? 5678;
  const text = flagValue(argv, 'text') ?? input.env['ECHO_TEXT'] ?? '';
  const status = flagValue(argv, 'status-code');
  return { launch: { kind: 'sample-app', app: 'echo-server', args: ['--port', String(port), '--text', text, ...(status === undefined ? [] : ['--status-code', status])] }, listenPorts: [port] };
}

/** istio/examples-helloworld-vN: Flask on 5000, version from `$SERVICE_VERSION` (the image sets vN), instance = HOSTNAME. */
function helloBuilder(version: string) {
  return (input: BuildInput): { launch: Launch; listenPorts: number[] } => {
    refuseCommand(input, `istio/examples-helloworld-${version}`, 'it is configured through env SERVICE_VERSION');
    const v = input.env['SERVICE_VERSION'] ?? version;
    return { launch: { kind: 'sample-app', app: 'hello', args: ['--port', '5000', '--version', v, '--instance', input.pod.name] }, listenPorts: [5000] };
  };
}

/**
 * curlimages/curl: the pod idles in its command (`sleep infinity`, `sleep 3600` → Debian's sleep) and `exec` runs
 * Debian's curl in it. Without a command the image would run `curl` once and exit, which no guide wants.
 */
function buildCurlClient(input: BuildInput): { launch: Launch; listenPorts: number[] } {
  const argv = [...(input.container.command ?? []), ...(input.container.args ?? [])];
  const tool = argv[0] === undefined ? undefined : path.basename(argv[0]);
  if (tool !== 'sleep') {
    throw new UnsupportedContainerError(
      `the local curlimages/curl runs only an idle command such as ` +
        `command: ["/bin/sleep", "infinity"] (and curl through exec), not ${argv.length === 0 ? 'its default curl, which would exit at once' : JSON.stringify(argv)}`,
    );
  }
  return { launch: { kind: 'binary', file: CLIENT_TOOLS['sleep'] ?? '/usr/bin/sleep', args: argv.slice(1) }, listenPorts: [] };
}

/** The waypoint proxy (the Deployment a waypoint Gateway gets): HBONE on 15008, readiness on 15021, stats on 15020. */
function buildWaypoint(input: BuildInput): { launch: Launch; listenPorts: number[] } {
  const argv = [...(input.container.command ?? []), ...(input.container.args ?? [])];
  // istio/proxyv2 runs many proxies; only `proxy waypoint` is one the local cluster has.
  if (argv.length > 0 && !argv.includes('waypoint')) throw new UnsupportedContainerError(`the local proxy image runs only a waypoint (args \`proxy waypoint\`), not ${JSON.stringify(argv)}`);
  return { launch: { kind: 'mesh', component: 'waypoint' }, listenPorts: [15021, 15008, 15020] };
}

/** Supported images by repository (Docker Hub names without `docker.io/`; any tag or digest). */
const IMAGES: Readonly<Record<string, ImageEntry>> = {
  'kennethreitz/httpbin': { program: 'httpbin', summary: 'httpbin-compatible HTTP server on port 80', build: buildKennethreitzHttpbin },
  'mccutchen/go-httpbin': { program: 'httpbin', summary: 'httpbin-compatible HTTP server on $PORT or -port, default 8080', build: buildGoHttpbin },
  'ealen/echo-server': { program: 'echo', summary: 'HTTP echo (the request as JSON) on $PORT, default 80', build: buildEalenEcho },
  'hashicorp/http-echo': { program: 'echo', summary: 'answers -text (status -status-code) on -listen, default :5678', build: buildHttpEcho },
  'istio/examples-helloworld-v1': { program: 'hello', summary: '"Hello version: v1, instance: <pod>" on :5000/hello', build: helloBuilder('v1') },
  'istio/examples-helloworld-v2': { program: 'hello', summary: '"Hello version: v2, instance: <pod>" on :5000/hello', build: helloBuilder('v2') },
  'curlimages/curl': { program: 'client', summary: 'client: runs its sleep command; exec runs Debian curl', build: buildCurlClient },
  'weft/waypoint': { program: 'waypoint', summary: "Weft's waypoint proxy (apps/waypoint), as deployed for a waypoint Gateway", build: buildWaypoint },
  'istio/proxyv2': { program: 'waypoint', summary: "Istio's proxy image with args `proxy waypoint`: Weft's waypoint", build: buildWaypoint },
};

/** Other registries' names for the same images. */
const ALIASES: Readonly<Record<string, string>> = {
  'ghcr.io/mccutchen/go-httpbin': 'mccutchen/go-httpbin',
  'quay.io/curl/curl': 'curlimages/curl',
};

/**
 * The repository of an image reference, without registry `docker.io` (or `index.docker.io`), `library/`, tag or
 * digest: `docker.io/kennethreitz/httpbin:latest` → `kennethreitz/httpbin`. Other registries keep their host.
 */
export function imageRepository(image: string): string {
  let ref = image.trim();
  const at = ref.indexOf('@');
  if (at >= 0) ref = ref.slice(0, at);
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) ref = ref.slice(0, colon);
  const parts = ref.split('/');
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first === 'docker.io' || first === 'index.docker.io' || first === 'registry-1.docker.io')) parts.shift();
  if (parts.length === 2 && parts[0] === 'library') parts.shift();
  return parts.join('/').toLowerCase();
}

/** The images the table supports, each with a one-line summary (for errors and `--help`). */
export function supportedImages(): { repository: string; program: ProgramKind; summary: string }[] {
  return Object.entries(IMAGES).map(([repository, entry]) => ({ repository, program: entry.program, summary: entry.summary }));
}

function containerEnv(container: ContainerSpec, pod: PodRef): Record<string, string> {
  const env: Record<string, string> = { HOSTNAME: pod.name };
  // `valueFrom.fieldRef` (downward API) is filled in by the kubelet once the pod runs (see apply.ts).
  for (const { name, value, valueFrom } of container.env ?? []) if (valueFrom === undefined) env[name] = value ?? '';
  return env;
}

/** How to run `container` of `pod` locally; throws UnsupportedImageError naming the image, the pod and the table. */
export function planContainer(container: ContainerSpec, pod: PodRef): LaunchPlan {
  const found = imageRepository(container.image);
  const repository = ALIASES[found] ?? found;
  const entry = IMAGES[repository];
  if (entry === undefined) {
    const list = supportedImages().map((s) => `  - ${s.repository}: ${s.summary}`).join('\n');
    throw new UnsupportedImageError(
      `image ${JSON.stringify(container.image)} (container ${container.name} of pod ${pod.namespace}/${pod.name}) has no local program; ` +
        `the local cluster supports these images (any tag; see ${IMAGE_TABLE_DOC}):\n${list}`,
    );
  }
  const env = containerEnv(container, pod);
  let built: { launch: Launch; listenPorts: number[] };
  try {
    built = entry.build({ container, pod, env });
  } catch (err) {
    if (!(err instanceof UnsupportedContainerError)) throw err;
    throw new UnsupportedContainerError(`container ${container.name} of pod ${pod.namespace}/${pod.name} (image ${container.image}): ${err.message}`);
  }
  const { launch, listenPorts } = built;
  const warnings: string[] = [];
  const declared = (container.ports ?? []).map((p) => p.containerPort);
  const undeclared = declared.filter((p) => !listenPorts.includes(p));
  if (undeclared.length > 0) {
    // containerPort is informational in Kubernetes: the image listens where it listens, so a Service whose
    // targetPort is an undeclared port gets refused connections in a real cluster too.
    warnings.push(
      `container ${container.name} of pod ${pod.namespace}/${pod.name} declares containerPort ${undeclared.join(', ')}, but ${repository} listens on ` +
        `${listenPorts.join(', ') || 'no port'} (${entry.summary})`,
    );
  }
  return { image: container.image, repository, program: entry.program, launch, env, listenPorts, warnings };
}

/** The argv of a `kubectl exec`-style command in a client pod, with `curl`/`sleep` resolved to Debian's binaries. */
export function resolveExecCommand(argv: readonly string[]): string[] {
  const [first, ...rest] = argv;
  if (first === undefined) throw new UnsupportedContainerError('exec needs a command');
  const tool = CLIENT_TOOLS[path.basename(first)];
  return [tool ?? first, ...rest];
}

/** `dist/sample-apps/<app>.js` next to the built library (this file is `dist/images.js` once built). */
export function sampleAppEntry(app: SampleApp, libDir: string = path.resolve(__dirname, '..', 'dist')): string {
  return path.join(libDir, 'sample-apps', `${app}.js`);
}
