// Tracing against a real OTLP/HTTP receiver: a local HTTP server on port 0 stands in for the collector and keeps
// every request body the exporter sends.
//
// The exporting side runs in a child node process: the OTLP exporter loads node:http with import(), which Jest's VM
// refuses without --experimental-vm-modules (open-telemetry/opentelemetry-js#6035). The child compiles tracing.ts
// with the workspace's TypeScript and drives the real createTracing; only the no-endpoint mode runs in-process.
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

import { createTracing, passthroughTraceHeaders } from './tracing';

interface SpanStep {
  readonly headers: Record<string, string | string[]>;
  readonly name: string;
  readonly attributes: Record<string, string | number>;
  readonly error?: boolean;
}

const WORKSPACE_ROOT = path.resolve(__dirname, '../../../..');
const CHILD_TIMEOUT_MS = 30_000;
const CHILD_SCRIPT = `
const fs = require('node:fs');
const ts = require('typescript');
require.extensions['.ts'] = (module, file) => {
  const options = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true };
  module._compile(ts.transpileModule(fs.readFileSync(file, 'utf8'), { compilerOptions: options }).outputText, file);
};
const { createTracing } = require(process.argv[1]);
const { endpoint, serviceName, steps } = JSON.parse(process.argv[2]);
(async () => {
  const tracing = createTracing({ endpoint, serviceName });
  const propagated = steps.map((step) => {
    const span = tracing.start(step.headers, step.name);
    span.end(step.attributes, step.error);
    span.end({ late: 'ignored' });
    return span.propagate;
  });
  await tracing.shutdown();
  await tracing.shutdown();
  process.stdout.write(JSON.stringify(propagated));
})().catch((error) => { process.stderr.write(String(error && error.stack)); process.exitCode = 1; });
`;

/** Runs `steps` through createTracing in a child process and returns each span's `propagate`. */
function runTracing(endpoint: string, serviceName: string, steps: readonly SpanStep[]): Promise<Record<string, string>[]> {
  const args = ['-e', CHILD_SCRIPT, path.join(__dirname, 'tracing.ts'), JSON.stringify({ endpoint, serviceName, steps })];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: WORKSPACE_ROOT, timeout: CHILD_TIMEOUT_MS }, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`tracing child failed: ${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as Record<string, string>[]);
    });
  });
}

interface Received {
  readonly path: string;
  readonly contentType: string;
  readonly body: Buffer;
}

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: Record<string, unknown> }[];
  status?: { code?: number };
  traceState?: string;
}

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';

async function startCollector(): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', contentType: req.headers['content-type'] ?? '', body: Buffer.concat(chunks) });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/v1/traces`, received };
}

/** The spans of every export, from OTLP JSON (what the exporter sends); protobuf would fail the test loudly here. */
function spansOf(received: readonly Received[]): { spans: OtlpSpan[]; serviceNames: unknown[] } {
  const spans: OtlpSpan[] = [];
  const serviceNames: unknown[] = [];
  for (const r of received) {
    expect(r.contentType).toContain('application/json');
    const body = JSON.parse(r.body.toString('utf8')) as {
      resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: OtlpSpan[] }[] }[];
    };
    for (const rs of body.resourceSpans) {
      serviceNames.push(rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue);
      for (const ss of rs.scopeSpans) spans.push(...ss.spans);
    }
  }
  return { spans, serviceNames };
}

const attribute = (span: OtlpSpan | undefined, key: string): unknown => {
  const value = span?.attributes.find((a) => a.key === key)?.value;
  return value === undefined ? undefined : Object.values(value)[0];
};

describe('createTracing with a collector', () => {
  let collector: Awaited<ReturnType<typeof startCollector>>;

  beforeEach(async () => {
    collector = await startCollector();
  });

  afterEach(async () => {
    await new Promise<void>((resolve) => collector.server.close(() => resolve()));
  });

  it('continues the client’s trace with a SERVER span and exports it over OTLP/HTTP', async () => {
    const [propagate] = await runTracing(collector.url, 'waypoint.apps', [
      {
        headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`, tracestate: 'vendor=x' },
        name: 'httpbin.apps.svc.cluster.local:8000/*',
        attributes: { 'http.method': 'GET', 'http.url': 'http://httpbin.apps:8000/get', 'http.status_code': 503, upstream_cluster: 'c' },
        error: true,
      },
    ]);
    const upstream = propagate?.traceparent;
    expect(upstream).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
    expect(upstream).not.toContain(PARENT_ID);
    expect(propagate?.tracestate).toBe('vendor=x');

    expect(collector.received.map((r) => r.path)).toEqual(['/v1/traces']);
    const { spans, serviceNames } = spansOf(collector.received);
    expect(serviceNames).toEqual(['waypoint.apps']);
    expect(spans).toHaveLength(1);
    const [exported] = spans;
    expect(exported).toMatchObject({ traceId: TRACE_ID, parentSpanId: PARENT_ID, name: 'httpbin.apps.svc.cluster.local:8000/*', kind: 2, traceState: 'vendor=x' });
    expect(upstream?.split('-')[2]).toBe(exported?.spanId);
    expect(exported?.status?.code).toBe(2);
    expect(attribute(exported, 'http.method')).toBe('GET');
    expect(Number(attribute(exported, 'http.status_code'))).toBe(503);
    expect(attribute(exported, 'upstream_cluster')).toBe('c');
    expect(attribute(exported, 'late')).toBeUndefined();
  });

  it('starts a new trace when the client sent none, and reads headers in any case', async () => {
    const [root] = await runTracing(collector.url, 'w', [
      { headers: {}, name: 'root', attributes: {} },
      { headers: { TraceParent: [`00-${TRACE_ID}-${PARENT_ID}-01`] }, name: 'child', attributes: {} },
    ]);
    const { spans } = spansOf(collector.received);
    const byName = Object.fromEntries(spans.map((s) => [s.name, s]));
    expect(byName.root?.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(byName.root?.traceId).not.toBe(TRACE_ID);
    expect(byName.root?.parentSpanId ?? '').toBe('');
    expect(root?.traceparent).toBe(`00-${byName.root?.traceId}-${byName.root?.spanId}-01`);
    expect(byName.child).toMatchObject({ traceId: TRACE_ID, parentSpanId: PARENT_ID });
  });

  it('honours an unsampled parent: nothing exported, the decision propagated', async () => {
    const [propagate] = await runTracing(collector.url, 'w', [{ headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-00` }, name: 'unsampled', attributes: {} }]);
    expect(propagate?.traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-00$`));
    expect(spansOf(collector.received).spans).toEqual([]);
  });
});

describe('createTracing without an endpoint', () => {
  it.each<[string, Record<string, string | string[]>, Record<string, string>]>([
    ['forwards traceparent and tracestate unchanged', { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`, tracestate: 'a=1' }, { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`, tracestate: 'a=1' }],
    ['forwards an invalid traceparent as is', { traceparent: 'garbage' }, { traceparent: 'garbage' }],
    ['joins repeated tracestate headers', { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`, tracestate: ['a=1', 'b=2'] }, { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`, tracestate: 'a=1,b=2' }],
    ['sends nothing when the client sent nothing', { 'x-request-id': 'r' }, {}],
    ['drops a tracestate without a traceparent', { tracestate: 'a=1' }, {}],
  ])('%s', async (_name, headers, expected) => {
    const tracing = createTracing({ endpoint: undefined, serviceName: 'w' });
    const span = tracing.start(headers, 'x');
    expect(span.propagate).toEqual(expected);
    expect(passthroughTraceHeaders(headers)).toEqual(expected);
    span.end({ 'http.status_code': 200 });
    await expect(tracing.shutdown()).resolves.toBeUndefined();
  });
});
