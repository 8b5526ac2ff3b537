import {
  addResult,
  parseCniArgs,
  parseInvocation,
  passThroughReply,
  planAdd,
  podAddresses,
  versionReply,
  type CniInvocation,
} from './cni-protocol';

const prevResult = {
  cniVersion: '1.0.0',
  interfaces: [{ name: 'eth0', sandbox: '/var/run/netns/p' }],
  ips: [{ address: '10.244.1.5/24', gateway: '10.244.1.1', interface: 0 }],
};
const config = (extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ cniVersion: '1.0.0', name: 'weft', type: 'weft-cni', agentSocket: '/run/a.sock', prevResult, ...extra });
const env = (command: string, extra: Record<string, string> = {}): Record<string, string> => ({
  CNI_COMMAND: command,
  CNI_CONTAINERID: 'c1',
  CNI_NETNS: '/var/run/netns/p',
  CNI_IFNAME: 'eth0',
  CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;K8S_POD_UID=u-1',
  ...extra,
});

function invocation(command = 'ADD', extra: Record<string, string> = {}, stdin = config()): CniInvocation {
  const parsed = parseInvocation(env(command, extra), stdin);
  if (!parsed.ok) throw new Error(parsed.error.msg);
  return parsed.value;
}

describe('parseInvocation', () => {
  it('reads the environment, CNI_ARGS and the config', () => {
    const value = invocation();
    expect(value).toMatchObject({ command: 'ADD', containerId: 'c1', netns: '/var/run/netns/p', ifName: 'eth0' });
    expect(value.args).toEqual({ IgnoreUnknown: '1', K8S_POD_NAMESPACE: 'default', K8S_POD_NAME: 'web-0', K8S_POD_UID: 'u-1' });
    expect(value.config).toMatchObject({ agentSocket: '/run/a.sock', agentTimeoutMs: 5000, excludeNamespaces: [] });
  });

  it.each<[string, Record<string, string>, string, number, string]>([
    ['an unknown command', { CNI_COMMAND: 'GC' }, config(), 4, 'CNI_COMMAND'],
    ['ADD without a netns', { CNI_NETNS: '' }, config(), 4, 'CNI_NETNS'],
    ['no container id', { CNI_CONTAINERID: '' }, config(), 4, 'CNI_CONTAINERID'],
    ['stdin that is not JSON', {}, '{', 6, 'not JSON'],
    ['an unsupported version', {}, config({ cniVersion: '2.0.0' }), 1, '2.0.0'],
    ['no version', {}, config({ cniVersion: undefined }), 7, 'cniVersion'],
    ['a relative agent socket', {}, config({ agentSocket: 'run/a.sock' }), 7, 'agentSocket'],
    ['a bad timeout', {}, config({ agentTimeoutMs: -1 }), 7, 'agentTimeoutMs'],
    ['CHECK on 0.3.1', { CNI_COMMAND: 'CHECK' }, config({ cniVersion: '0.3.1' }), 1, 'CHECK'],
  ])('rejects %s', (_name, extra, stdin, code, text) => {
    const parsed = parseInvocation(env('ADD', extra), stdin);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.error.code).toBe(code);
      expect(`${parsed.error.msg} ${parsed.error.details ?? ''}`).toContain(text);
    }
  });

  it('accepts DEL without a netns (it may be gone already)', () => {
    expect(parseInvocation(env('DEL', { CNI_NETNS: '' }), config()).ok).toBe(true);
  });
});

describe('replies', () => {
  it('VERSION lists the supported versions', () => {
    expect(JSON.parse(versionReply())).toEqual({ cniVersion: '1.0.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0'] });
  });

  it('ADD passes prevResult through unchanged, in the config version', () => {
    const v = invocation('ADD', {}, config({ cniVersion: '0.4.0' }));
    expect(JSON.parse(passThroughReply(v.config))).toEqual({ ...prevResult, cniVersion: '0.4.0' });
  });

  it('the pod IPs come from prevResult', () => {
    expect(podAddresses(prevResult)).toEqual(['10.244.1.5']);
    expect(podAddresses(undefined)).toEqual([]);
  });

  it('parses CNI_ARGS with = inside values', () => {
    expect(parseCniArgs('A=1;B=x=y;;C')).toEqual({ A: '1', B: 'x=y' });
  });
});

describe('planAdd and addResult', () => {
  it('asks the agent for a Kubernetes pod', () => {
    expect(planAdd(invocation())).toEqual({
      kind: 'ask-agent',
      request: { netns: '/var/run/netns/p', containerId: 'c1', podName: 'web-0', podNamespace: 'default', podUid: 'u-1', ips: ['10.244.1.5'] },
    });
  });

  it('passes through non-Kubernetes sandboxes and excluded namespaces without asking', () => {
    expect(planAdd(invocation('ADD', { CNI_ARGS: '' })).kind).toBe('pass-through');
    expect(planAdd(invocation('ADD', {}, config({ excludeNamespaces: ['default'] }))).kind).toBe('pass-through');
  });

  const v = invocation();
  const plan = planAdd(v);
  if (plan.kind !== 'ask-agent') throw new Error('expected ask-agent');

  it.each<[string, Parameters<typeof addResult>[2], boolean, number | undefined]>([
    ['200 passes through', { kind: 'reply', status: 200, body: '{"ambient":true}' }, true, undefined],
    ['a refusal fails ADD with the agent reason', { kind: 'reply', status: 500, body: 'iptables-restore failed' }, false, 100],
    ['an unreachable agent fails ADD as try-again-later', { kind: 'unreachable', reason: 'ENOENT' }, false, 11],
  ])('%s', (_name, outcome, ok, code) => {
    const result = addResult(v.config, plan.request, outcome);
    expect(result.ok).toBe(ok);
    const reply = JSON.parse(result.stdout) as { code?: number; details?: string; ips?: unknown };
    if (ok) expect(reply.ips).toEqual(prevResult.ips);
    else expect(reply.code).toBe(code);
  });
});
