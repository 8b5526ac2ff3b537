// Scenario 2: mTLS on the wire. With `default` in ambient mode, a request from sleep (one node) to an httpbin pod on
// the other node crosses the node network only as HBONE (TCP from sleep's pod IP to httpbin's pod IP port 15008, the
// in-pod ztunnels' tunnel, routed between the nodes) and its payload never shows in a packet capture; the control — the same request with `default` out of the mesh — shows the
// marker in plaintext, proving the capture would have seen it.

import { randomBytes } from 'node:crypto';

import type { Capture, PodView } from '../src/driver';
import { AMBIENT, curl, manifest, namespaceYaml, useCluster, type CurlResult } from '../src/scenario';

jest.setTimeout(120_000);

interface Segment {
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
  readonly syn: boolean;
}

/** The TCP segments of tcpdump -nn output: `HH:MM:SS.us IP a.b.c.d.PORT > e.f.g.h.PORT: Flags [S], …`. */
function segments(packets: string): Segment[] {
  const re = /^\S+ IP (\d+\.\d+\.\d+\.\d+)\.(\d+) > (\d+\.\d+\.\d+\.\d+)\.(\d+): Flags \[([^\]]*)\]/gm;
  return [...packets.matchAll(re)].map((m) => ({ src: m[1] ?? '', srcPort: Number(m[2]), dst: m[3] ?? '', dstPort: Number(m[4]), syn: m[5] === 'S' }));
}

/** The segments exchanged between two addresses, either way. */
const between = (all: readonly Segment[], a: string, b: string): Segment[] => all.filter((s) => (s.src === a && s.dst === b) || (s.src === b && s.dst === a));

const newMarker = (): string => `weftmarker${randomBytes(8).toString('hex')}`;

describe('scenario 2: mTLS on the wire between nodes', () => {
  const cluster = useCluster();
  let sleepPod: PodView;
  let remoteHttpbin: PodView;

  beforeAll(async () => {
    await cluster().apply(namespaceYaml('default', AMBIENT), manifest('01-sleep-httpbin.yaml'));
    const pods = await cluster().pods('default');
    const sleep = pods.find((p) => p.labels['app'] === 'sleep');
    if (sleep === undefined) throw new Error('no sleep pod');
    sleepPod = sleep;
    const remote = pods.find((p) => p.labels['app'] === 'httpbin' && p.node !== sleep.node && p.ip !== undefined);
    if (remote === undefined) throw new Error(`no httpbin pod on a node other than sleep's (${sleep.node}): ${JSON.stringify(pods)}`);
    remoteHttpbin = remote;
  });

  /** Sends one request from sleep to the remote httpbin pod with `marker` in a header and the path, under capture. */
  async function capturedRequest(marker: string): Promise<{ result: CurlResult; packets: string }> {
    let capture: Capture | undefined = await cluster().capture();
    try {
      const result = await curl(cluster(), 'default', sleepPod.name, `http://${remoteHttpbin.ip}:80/anything/${marker}`, ['-H', `X-Marker: ${marker}`]);
      const packets = await capture.stop();
      capture = undefined;
      return { result, packets };
    } finally {
      await capture?.stop();
    }
  }

  it('places sleep and the httpbin pod it reaches on different nodes', () => {
    expect(cluster().nodes).toHaveLength(2);
    expect(sleepPod.node).not.toBe(remoteHttpbin.node);
    expect(cluster().nodes).toContain(sleepPod.node);
    expect(cluster().nodes).toContain(remoteHttpbin.node);
    // Each node allocates pod IPs from its own /24, so traffic between these two addresses is routed node to node.
    const subnet = (ip: string | undefined): string | undefined => ip?.split('.').slice(0, 3).join('.');
    expect(subnet(sleepPod.ip)).toBeDefined();
    expect(subnet(sleepPod.ip)).not.toBe(subnet(remoteHttpbin.ip));
  });

  it('in the mesh: the request crosses the node network only as HBONE (port 15008), never in plaintext', async () => {
    const pods = await cluster().pods('default');
    await cluster().waitForZtunnels(
      (dump) => pods.every((p) => dump.workloads.some((w) => w.name === p.name && w.namespace === 'default' && w.protocol === 'HBONE')),
      'every default pod listed with protocol HBONE',
    );
    const marker = newMarker();
    const { result, packets } = await capturedRequest(marker);

    // The request went through, end to end, and httpbin saw the marker…
    expect({ code: result.code, status: result.status, stderr: result.stderr }).toEqual({ code: 0, status: 200, stderr: '' });
    const body = JSON.parse(result.body) as { url: string; headers: Record<string, string> };
    expect(body.url).toContain(marker);
    expect(body.headers['X-Marker']).toBe(marker);
    expect(await cluster().logs('default', remoteHttpbin.name)).toContain(marker);

    // …yet on the wire between the nodes there is HBONE only, and not one byte of the marker.
    // In-pod ztunnels open the tunnel from the client pod's address to the server pod's HBONE port (15008), so on the
    // node network the tunnel is sleep's pod IP → httpbin's pod IP :15008, routed from node to node.
    const conversation = between(segments(packets), sleepPod.ip ?? '?', remoteHttpbin.ip ?? '?');
    const toTunnel = (s: Segment): boolean => s.src === sleepPod.ip && s.dstPort === 15008;
    const fromTunnel = (s: Segment): boolean => s.src === remoteHttpbin.ip && s.srcPort === 15008;
    expect(conversation.filter(toTunnel).length).toBeGreaterThan(0);
    expect(conversation.filter(fromTunnel).length).toBeGreaterThan(0);
    expect(conversation.filter((s) => !toTunnel(s) && !fromTunnel(s))).toEqual([]);
    expect(packets.includes(marker)).toBe(false);
    expect(packets).not.toContain('/anything/');
  });

  it('control: with `default` out of the mesh the same request shows the marker in plaintext', async () => {
    await cluster().label({ kind: 'namespace', name: 'default' }, { 'istio.io/dataplane-mode': null });
    const pods = await cluster().pods('default');
    await cluster().waitForZtunnels(
      (dump) => pods.every((p) => dump.workloads.some((w) => w.name === p.name && w.namespace === 'default' && w.protocol === 'TCP')),
      'every default pod listed with protocol TCP',
    );
    const marker = newMarker();
    const { result, packets } = await capturedRequest(marker);

    expect({ code: result.code, status: result.status, stderr: result.stderr }).toEqual({ code: 0, status: 200, stderr: '' });
    expect(await cluster().logs('default', remoteHttpbin.name)).toContain(marker);
    expect(packets.includes(marker)).toBe(true);
    expect(packets.includes(`X-Marker: ${marker}`)).toBe(true);
    const conversation = between(segments(packets), sleepPod.ip ?? '?', remoteHttpbin.ip ?? '?');
    expect(conversation.filter((s) => s.syn)).toEqual([expect.objectContaining({ src: sleepPod.ip, dst: remoteHttpbin.ip, dstPort: 80 })]);
    expect(conversation.filter((s) => s.dstPort === 80 || s.srcPort === 80).length).toBe(conversation.length);
    expect(conversation.filter((s) => s.dstPort === 15008 || s.srcPort === 15008)).toEqual([]);
  });
});
