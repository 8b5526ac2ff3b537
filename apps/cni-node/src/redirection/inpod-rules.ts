// The in-pod redirection of reference §5.3 (istio cni/pkg/iptables/iptables.go), as data: the rules per table and
// family, the `iptables-restore --noflush` input that installs them idempotently next to whatever the pod netns
// already has, and the input that removes them. Running the commands is redirection-runner.ts's job.

import type { RedirectionOptions } from '../enrollment/enrollment';

export const INPOD_MARK = '0x539/0xfff';
export const INPOD_TPROXY_MARK = '0x111/0xfff';
export const INPOD_ROUTE_TABLE = 100;
export const INPOD_RULE_PRIORITY = 32764;
export const PROBE_SNAT_IPV4 = '169.254.7.127';
export const PROBE_SNAT_IPV6 = 'fd16:9254:7127:1337:ffff:ffff:ffff:ffff';
export const PROBE_IPSET = { 4: 'istio-inpod-probes-v4', 6: 'istio-inpod-probes-v6' } as const;
export const PRERT_CHAIN = 'ISTIO_PRERT';
export const OUTPUT_CHAIN = 'ISTIO_OUTPUT';
export const POSTRT_CHAIN = 'ISTIO_POSTRT';

export const ZTUNNEL_OUTBOUND_PORT = 15001;
export const ZTUNNEL_INBOUND_PLAINTEXT_PORT = 15006;
export const ZTUNNEL_HBONE_PORT = 15008;
export const ZTUNNEL_DNS_PORT = 15053;

export type IpFamily = 4 | 6;
export type Table = 'raw' | 'mangle' | 'nat';

/** `-A <from> -j <to>`, or with `first`, `-I <from> 1 -j <to>` (ahead of rules other software put there). */
export interface Jump {
  readonly from: string;
  readonly to: string;
  readonly first?: boolean;
}

export interface TableRules {
  readonly table: Table;
  readonly chains: readonly string[];
  /** Jumps from built-in chains into ours. */
  readonly jumps: readonly Jump[];
  /** Rules in our own chains, as `-A` lines without the `-A`. */
  readonly rules: readonly string[];
}

const TABLE_ORDER: readonly Table[] = ['raw', 'mangle', 'nat'];

function localhost(family: IpFamily): string {
  return family === 4 ? '127.0.0.1/32' : '::1/128';
}

function probeSource(family: IpFamily): string {
  return family === 4 ? PROBE_SNAT_IPV4 : PROBE_SNAT_IPV6;
}

/** The rules for one pod netns and family, in the order Istio installs them. */
export function inpodRules(family: IpFamily, options: RedirectionOptions): TableRules[] {
  const lo = localhost(family);
  const probe = probeSource(family);
  const mangle: TableRules = {
    table: 'mangle',
    chains: [PRERT_CHAIN, OUTPUT_CHAIN],
    jumps: [{ from: 'PREROUTING', to: PRERT_CHAIN }, { from: 'OUTPUT', to: OUTPUT_CHAIN }],
    rules: [
      // Connections ztunnel makes (its sockets carry the in-pod mark) are tagged so replies can be routed back to it.
      `${PRERT_CHAIN} -m mark --mark ${INPOD_MARK} -j CONNMARK --set-xmark ${INPOD_TPROXY_MARK}`,
      `${OUTPUT_CHAIN} -m connmark --mark ${INPOD_TPROXY_MARK} -j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff`,
    ],
  };

  const natPrerouting: string[] = [];
  for (const name of options.virtualInterfaces) {
    natPrerouting.push(`${PRERT_CHAIN} -i ${name} -p tcp -j REDIRECT --to-ports ${ZTUNNEL_OUTBOUND_PORT}`);
  }
  const natOutput: string[] = [];
  if (!options.bypassInbound) {
    // Kubelet probes are SNATed to the probe address on the node and reach the app directly.
    natPrerouting.push(`${PRERT_CHAIN} -s ${probe} -p tcp -m tcp -j ACCEPT`);
    natOutput.push(`${OUTPUT_CHAIN} -d ${probe} -p tcp -m tcp -j ACCEPT`);
    natPrerouting.push(
      `${PRERT_CHAIN} ! -d ${lo} -p tcp ! --dport ${ZTUNNEL_HBONE_PORT} -m mark ! --mark ${INPOD_MARK} -j REDIRECT --to-ports ${ZTUNNEL_INBOUND_PLAINTEXT_PORT}`,
    );
  }
  if (options.dnsCapture) {
    natOutput.push(
      `${OUTPUT_CHAIN} ! -o lo -p udp -m mark ! --mark ${INPOD_MARK} -m udp --dport 53 -j REDIRECT --to-port ${ZTUNNEL_DNS_PORT}`,
      `${OUTPUT_CHAIN} ! -d ${lo} -p tcp --dport 53 -m mark ! --mark ${INPOD_MARK} -j REDIRECT --to-ports ${ZTUNNEL_DNS_PORT}`,
    );
  }
  natOutput.push(
    `${OUTPUT_CHAIN} -p tcp -m mark --mark ${INPOD_TPROXY_MARK} -j ACCEPT`,
    `${OUTPUT_CHAIN} ! -d ${lo} -o lo -j ACCEPT`,
    `${OUTPUT_CHAIN} ! -d ${lo} -p tcp -m mark ! --mark ${INPOD_MARK} -j REDIRECT --to-ports ${ZTUNNEL_OUTBOUND_PORT}`,
  );
  const nat: TableRules = {
    table: 'nat',
    chains: [PRERT_CHAIN, OUTPUT_CHAIN],
    jumps: [{ from: 'OUTPUT', to: OUTPUT_CHAIN }, { from: 'PREROUTING', to: PRERT_CHAIN }],
    rules: [...natPrerouting, ...natOutput],
  };

  const tables: TableRules[] = [mangle, nat];
  if (options.dnsCapture) {
    tables.unshift({
      table: 'raw',
      chains: [PRERT_CHAIN, OUTPUT_CHAIN],
      jumps: [{ from: 'PREROUTING', to: PRERT_CHAIN }, { from: 'OUTPUT', to: OUTPUT_CHAIN }],
      rules: [
        // DNS to and from ztunnel's proxy in its own conntrack zone, so the redirect's NAT does not collide.
        `${OUTPUT_CHAIN} -p udp -m mark --mark ${INPOD_MARK} -m udp --dport 53 -j CT --zone 1`,
        `${PRERT_CHAIN} -p udp -m mark ! --mark ${INPOD_MARK} -m udp --sport 53 -j CT --zone 1`,
      ],
    });
  }
  return tables;
}

/** The rule set in the node netns that lets kubelet probes through (reference §5.3 "Host netns"). */
export function hostProbeRules(family: IpFamily): TableRules[] {
  return [
    {
      table: 'nat',
      chains: [POSTRT_CHAIN],
      jumps: [{ from: 'POSTROUTING', to: POSTRT_CHAIN, first: true }],
      rules: [
        `${POSTRT_CHAIN} -m owner --socket-exists -p tcp -m set --match-set ${PROBE_IPSET[family]} dst -j SNAT --to-source ${probeSource(family)}`,
      ],
    },
  ];
}

/** `iptables-save` output split into tables, each a list of its lines (`:CHAIN …` and `-A …`). */
export function parseIptablesSave(save: string): Map<string, string[]> {
  const tables = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const raw of save.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) {
      current = [];
      tables.set(line.slice(1), current);
    } else if (line === 'COMMIT') {
      current = undefined;
    } else if (current !== undefined && (line.startsWith(':') || line.startsWith('-A '))) {
      current.push(line);
    }
  }
  return tables;
}

function chainExists(lines: readonly string[], chain: string): boolean {
  return lines.some((line) => line.startsWith(`:${chain} `));
}

/** Lines that remove our jumps and chains from one table of `iptables-save` output. */
function removeFromTable(lines: readonly string[], chains: readonly string[]): string[] {
  const ours = new Set(chains);
  const jumps = lines.filter((line) => {
    const target = /-j (\S+)$/.exec(line)?.[1];
    const chain = line.split(' ')[1] ?? '';
    return target !== undefined && ours.has(target) && !ours.has(chain);
  });
  const present = chains.filter((chain) => chainExists(lines, chain));
  if (jumps.length === 0 && present.length === 0) return [];
  return [
    ...jumps.map((jump) => `-D ${jump.slice(3)}`),
    ...present.map((chain) => `-F ${chain}`),
    ...present.map((chain) => `-X ${chain}`),
  ];
}

/**
 * `iptables-restore --noflush` input that makes the netns hold exactly `desired` in our chains: declaring a user
 * chain under --noflush creates or flushes it, our rules are re-added, and a jump from a built-in chain is added
 * only when `current` (the netns's `iptables-save`) lacks it. Our chains in tables `desired` no longer uses (DNS
 * capture turned off) are removed. Running it twice changes nothing the second time.
 */
export function installScript(desired: readonly TableRules[], current: string): string {
  const existing = parseIptablesSave(current);
  const owned = [...new Set(desired.flatMap((t) => t.chains))];
  const out: string[] = [];
  for (const table of TABLE_ORDER) {
    const rules = desired.find((t) => t.table === table);
    const lines = existing.get(table) ?? [];
    if (rules === undefined) {
      const removal = removeFromTable(lines, owned);
      if (removal.length > 0) out.push(`*${table}`, ...removal, 'COMMIT');
      continue;
    }
    out.push(`*${table}`);
    for (const chain of rules.chains) out.push(`:${chain} - [0:0]`);
    for (const { from, to, first } of rules.jumps) {
      if (lines.includes(`-A ${from} -j ${to}`)) continue;
      out.push(first === true ? `-I ${from} 1 -j ${to}` : `-A ${from} -j ${to}`);
    }
    for (const rule of rules.rules) out.push(`-A ${rule}`);
    out.push('COMMIT');
  }
  return `${out.join('\n')}\n`;
}

/** Input that removes our jumps and chains (whatever version of them is installed) and nothing else. */
export function removalScript(chains: readonly string[], current: string): string {
  const out: string[] = [];
  for (const [table, lines] of parseIptablesSave(current)) {
    const removal = removeFromTable(lines, chains);
    if (removal.length > 0) out.push(`*${table}`, ...removal, 'COMMIT');
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}

/** `ip` arguments for the policy routing that returns spoofed-source replies to ztunnel (§5.3 "Plus routing"). */
export function inpodRouting(family: IpFamily): { readonly rule: readonly string[]; readonly route: readonly string[] } {
  const flag = family === 4 ? '-4' : '-6';
  return {
    rule: [flag, 'rule', 'add', 'fwmark', INPOD_TPROXY_MARK, 'pref', String(INPOD_RULE_PRIORITY), 'lookup', String(INPOD_ROUTE_TABLE)],
    route: [flag, 'route', 'replace', 'local', family === 4 ? '0.0.0.0/0' : '::/0', 'dev', 'lo', 'table', String(INPOD_ROUTE_TABLE)],
  };
}
