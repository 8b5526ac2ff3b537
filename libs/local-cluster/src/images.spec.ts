import { imageRepository, planContainer, resolveExecCommand, sampleAppEntry, supportedImages, UnsupportedContainerError, UnsupportedImageError, type ContainerSpec } from './images';

const pod = { namespace: 'default', name: 'httpbin-7f9c-abcde' };

describe('imageRepository', () => {
  it.each([
    ['kennethreitz/httpbin', 'kennethreitz/httpbin'],
    ['kennethreitz/httpbin:latest', 'kennethreitz/httpbin'],
    ['docker.io/kennethreitz/httpbin:latest', 'kennethreitz/httpbin'],
    ['index.docker.io/kennethreitz/httpbin', 'kennethreitz/httpbin'],
    ['docker.io/mccutchen/go-httpbin:v2.15.0', 'mccutchen/go-httpbin'],
    ['curlimages/curl@sha256:0123abcd', 'curlimages/curl'],
    ['docker.io/library/busybox:1.36', 'busybox'],
    ['localhost:5000/team/app:1', 'localhost:5000/team/app'],
    ['ghcr.io/mccutchen/go-httpbin:2', 'ghcr.io/mccutchen/go-httpbin'],
  ])('%s → %s', (image, repository) => {
    expect(imageRepository(image)).toBe(repository);
  });
});

describe('planContainer', () => {
  const container = (image: string, extra: Partial<ContainerSpec> = {}): ContainerSpec => ({ name: 'c', image, ...extra });

  it.each<[string, Partial<ContainerSpec>, string, object, number[]]>([
    ['kennethreitz/httpbin:latest', { ports: [{ containerPort: 80 }] }, 'httpbin', { kind: 'sample-app', app: 'httpbin', args: ['--port', '80'] }, [80]],
    ['kennethreitz/httpbin', { command: ['gunicorn', '-b', '0.0.0.0:8000', 'httpbin:app'] }, 'httpbin', { app: 'httpbin', args: ['--port', '8000'] }, [8000]],
    ['docker.io/mccutchen/go-httpbin:v2.15.0', { ports: [{ containerPort: 8080 }] }, 'httpbin', { app: 'httpbin', args: ['--port', '8080'] }, [8080]],
    ['mccutchen/go-httpbin', { args: ['-port', '9000'] }, 'httpbin', { args: ['--port', '9000'] }, [9000]],
    ['mccutchen/go-httpbin', { env: [{ name: 'PORT', value: '9001' }] }, 'httpbin', { args: ['--port', '9001'] }, [9001]],
    ['ealen/echo-server:latest', {}, 'echo', { app: 'echo-server', args: ['--port', '80', '--hostname', pod.name] }, [80]],
    ['ealen/echo-server', { env: [{ name: 'PORT', value: '8080' }] }, 'echo', { args: ['--port', '8080', '--hostname', pod.name] }, [8080]],
    ['hashicorp/http-echo', { args: ['-text=hello', '-listen=:8080'] }, 'echo', { app: 'echo-server', args: ['--port', '8080', '--text', 'hello'] }, [8080]],
    ['hashicorp/http-echo', { args: ['-text=down', '-status-code=503'] }, 'echo', { app: 'echo-server', args: ['--port', '5678', '--text', 'down', '--status-code', '503'] }, [5678]],
    ['istio/examples-helloworld-v1', {}, 'hello', { app: 'hello', args: ['--port', '5000', '--version', 'v1', '--instance', pod.name] }, [5000]],
    ['docker.io/istio/examples-helloworld-v2:1.0', {}, 'hello', { args: ['--port', '5000', '--version', 'v2', '--instance', pod.name] }, [5000]],
    ['curlimages/curl:latest', { command: ['/bin/sleep', 'infinity'] }, 'client', { kind: 'binary', file: '/usr/bin/sleep', args: ['infinity'] }, []],
    ['curlimages/curl', { command: ['sleep', '3600'] }, 'client', { kind: 'binary', file: '/usr/bin/sleep', args: ['3600'] }, []],
    ['curlimages/curl', { command: ['/bin/sleep'], args: ['infinity'] }, 'client', { file: '/usr/bin/sleep', args: ['infinity'] }, []],
  ])('%s %j runs %s', (image, extra, program, launch, ports) => {
    const plan = planContainer(container(image, extra), pod);
    expect(plan.program).toBe(program);
    expect(plan.launch).toMatchObject(launch);
    expect(plan.listenPorts).toEqual(ports);
    expect(plan.env['HOSTNAME']).toBe(pod.name);
  });

  it('passes the container env through', () => {
    const plan = planContainer(container('istio/examples-helloworld-v1', { env: [{ name: 'SERVICE_VERSION', value: 'v9' }, { name: 'EMPTY' }] }), pod);
    expect(plan.env).toEqual({ HOSTNAME: pod.name, SERVICE_VERSION: 'v9', EMPTY: '' });
    expect(plan.launch.kind === 'sample-app' ? plan.launch.args : []).toContain('v9');
  });

  it('warns when the declared containerPort is not where the image listens, as in a real cluster', () => {
    // Guide 04 declares 8080 for ealen/echo-server without PORT: the real image listens on 80.
    const plan = planContainer(container('ealen/echo-server:latest', { ports: [{ containerPort: 8080 }] }), pod);
    expect(plan.listenPorts).toEqual([80]);
    expect(plan.warnings).toEqual([expect.stringMatching(/declares containerPort 8080, but ealen\/echo-server listens on 80/)]);
    expect(planContainer(container('kennethreitz/httpbin', { ports: [{ containerPort: 80 }] }), pod).warnings).toEqual([]);
  });

  it('names the image, the pod and every supported image when the image is unknown', () => {
    const run = (): unknown => planContainer(container('nginx:1.27'), { namespace: 'shop', name: 'web-1' });
    expect(run).toThrow(UnsupportedImageError);
    expect(run).toThrow(/image "nginx:1.27" \(container c of pod shop\/web-1\) has no local program/);
    expect(run).toThrow(/libs\/local-cluster\/README\.md#images/);
    for (const { repository } of supportedImages()) expect(run).toThrow(repository);
  });

  it.each<[string, Partial<ContainerSpec>, RegExp]>([
    ['curlimages/curl', {}, /runs only an idle command .* not its default curl/],
    ['curlimages/curl', { command: ['curl', 'http://httpbin:8000/get'] }, /runs only an idle command/],
    ['ealen/echo-server', { command: ['node', 'x.js'] }, /takes no command or args/],
    ['kennethreitz/httpbin', { command: ['python', 'app.py'] }, /only a gunicorn command with -b HOST:PORT/],
    ['ealen/echo-server', { env: [{ name: 'PORT', value: 'http' }] }, /PORT is not a port: "http"/],
  ])('refuses %s with %j', (image, extra, message) => {
    const run = (): unknown => planContainer(container(image, extra), pod);
    expect(run).toThrow(UnsupportedContainerError);
    expect(run).toThrow(message);
    expect(run).toThrow(`pod default/${pod.name}`);
  });
});

describe('exec and entries', () => {
  it('runs Debian curl and sleep for exec commands, other programs as given', () => {
    expect(resolveExecCommand(['curl', '-s', 'http://httpbin:8000/get'])).toEqual(['/usr/bin/curl', '-s', 'http://httpbin:8000/get']);
    expect(resolveExecCommand(['/usr/local/bin/curl', '-sI', 'x'])).toEqual(['/usr/bin/curl', '-sI', 'x']);
    expect(resolveExecCommand(['sh', '-c', 'true'])).toEqual(['sh', '-c', 'true']);
    expect(() => resolveExecCommand([])).toThrow(/exec needs a command/);
  });

  it('finds sample apps next to the built library', () => {
    expect(sampleAppEntry('httpbin', '/w/libs/local-cluster/dist')).toBe('/w/libs/local-cluster/dist/sample-apps/httpbin.js');
  });

  const waypointContainer = (image: string, args: string[]): ContainerSpec => ({ name: 'istio-proxy', image, args });
  it.each<[string, string[]]>([['weft/waypoint:0.1.0', []], ['docker.io/istio/proxyv2:1.24.0', ['proxy', 'waypoint', '--domain', '$(POD_NAMESPACE).svc.cluster.local']]])('runs the waypoint for %s', (image, args) => {
    const plan = planContainer(waypointContainer(image, args), pod);
    expect(plan).toMatchObject({ program: 'waypoint', launch: { kind: 'mesh', component: 'waypoint' }, listenPorts: [15021, 15008, 15020] });
  });

  it('refuses istio/proxyv2 as anything but a waypoint', () => {
    expect(() => planContainer(waypointContainer('istio/proxyv2', ['proxy', 'sidecar']), pod)).toThrow(/runs only a waypoint/);
  });
});
