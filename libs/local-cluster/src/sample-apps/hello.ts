// Istio's helloworld sample (istio/examples-helloworld-v1/-v2): `/hello` answers with its version and instance, the
// canary demos count the versions. Run: node dist/sample-apps/hello.js [--port 5000] --version v1 [--instance NAME]

import * as os from 'node:os';

import { listenHttp, parseFlags, parsePortFlag, runMain, stdoutLog, type LogLine, type RunningApp } from './serve';

export interface HelloOptions {
  readonly port?: number;
  readonly host?: string;
  /** The image's SERVICE_VERSION (`v1`, `v2`). */
  readonly version: string;
  /** The pod name (the sample prints HOSTNAME). */
  readonly instance?: string;
  readonly log?: LogLine;
}

export function startHello(options: HelloOptions): Promise<RunningApp> {
  const instance = options.instance ?? os.hostname();
  return listenHttp(
    'hello',
    options.port ?? 5000,
    options.host,
    (req, res) => {
      const route = new URL(req.url ?? '/', 'http://localhost').pathname;
      // The sample's app.py: `Hello version: %s, instance: %s\n`, and a plain health check.
      const text = route === '/hello' ? `Hello version: ${options.version}, instance: ${instance}\n` : route === '/health' ? 'Helloworld is healthy' : undefined;
      res.writeHead(text === undefined ? 404 : 200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(text ?? 'Not Found\n');
    },
    options.log ?? stdoutLog,
  );
}

export function main(argv: readonly string[]): Promise<RunningApp> {
  const flags = parseFlags(argv, ['port', 'host', 'version', 'instance']);
  return startHello({ port: parsePortFlag(flags.get('port'), 5000), host: flags.get('host'), version: flags.get('version') ?? 'v1', instance: flags.get('instance') });
}

if (require.main === module) runMain('hello', () => main(process.argv.slice(2)));
