import type { GatewayAddress, Workload } from '@weft/mesh-model';

import { meshOf, port, service, workload } from '@weft/testing';
import { decideInboundConnect, decideInboundPlaintext, forwardedHost, parseAuthority, type InboundTarget } from './decision';
import { inboundHttpStatus, inboundResponseFlag, type InboundErrorCode } from './inbound-error';

const WP_HOST = 'waypoint.default.svc.cluster.local';
const waypointRef: GatewayAddress = { destination: { kind: 'hostname', namespace: 'default', hostname: WP_HOST }, hboneMtlsPort: 15008 };
const vip = (address: string) => [{ network: '', address }];

const web = workload({
  name: 'web-1',
  addresses: ['10.0.1.1'],
  services: {
    'default/web.default.svc.cluster.local': [port(80, 8080)],
    'default/named.default.svc.cluster.local': [port(80, 8081)],
    'default/nomap.default.svc.cluster.local': [port(80, 0)],
  },
});
const waypoint = workload({ name: 'waypoint-1', addresses: ['10.0.3.1'], services: { [`default/${WP_HOST}`]: [port(15008, 15008)] } });
const sandwich = { ...waypoint, applicationTunnel: { protocol: 'PROXY' as const, port: 15088 } };
const tunnelSamePort: Workload = { ...web, applicationTunnel: { protocol: 'NONE', port: 0 } };
const bound = workload({ name: 'bound', addresses: ['10.0.4.1'], waypoint: waypointRef });
const state = meshOf({
  workloads: [web, waypoint, bound],
  services: [
    service({ name: 'web', vips: vip('10.96.0.10') }),
    service({ name: 'named', vips: vip('10.96.0.11'), ports: [port(80, 0)] }),
    service({ name: 'nomap', vips: vip('10.96.0.12'), ports: [port(80, 0)] }),
    service({ name: 'waypoint', vips: vip('10.96.0.30'), ports: [port(15008, 15008)] }),
    service({ name: 'reviews', vips: vip('10.96.0.40'), waypoint: waypointRef }),
    service({ name: 'other', vips: vip('10.96.0.50') }),
  ],
});

function summarize(t: InboundTarget): string {
  if (!t.ok) return `${inboundHttpStatus(t.code)} ${t.code}`;
  const proxy = t.proxyProtocol ? ' +PROXY' : '';
  const svc = t.destinationService === undefined ? '' : ` svc=${t.destinationService.name}`;
  return `200 → ${t.upstream.ip}:${t.upstream.port}${proxy} rbac=${t.rbacDestination.ip}:${t.rbacDestination.port}${svc}`;
}

describe('decideInboundConnect (reference §2.4)', () => {
  it.each<[string, Workload | undefined, string, string, string, string]>([
    // name, local workload, method, authority, arrived-on IP, expected
    ['CONNECT to this pod: dial pod IP:authority port', web, 'CONNECT', '10.0.1.1:8080', '10.0.1.1', '200 → 10.0.1.1:8080 rbac=10.0.1.1:8080'],
    ['a method other than CONNECT: 400', web, 'GET', '10.0.1.1:8080', '10.0.1.1', '400 ERR_INBOUND_METHOD_NOT_CONNECT'],
    ['authority without port: 400', web, 'CONNECT', '10.0.1.1', '10.0.1.1', '400 ERR_INBOUND_AUTHORITY_INVALID'],
    ['authority with port 0: 400', web, 'CONNECT', '10.0.1.1:0', '10.0.1.1', '400 ERR_INBOUND_AUTHORITY_INVALID'],
    ['authority with garbage host: 400', web, 'CONNECT', 'a b:80', '10.0.1.1', '400 ERR_INBOUND_AUTHORITY_INVALID'],
    ['unbracketed IPv6 authority: 400', web, 'CONNECT', 'fd00::1:80', '10.0.1.1', '400 ERR_INBOUND_AUTHORITY_INVALID'],
    ['local workload unknown: 503', undefined, 'CONNECT', '10.0.1.1:8080', '10.0.1.1', '503 ERR_INBOUND_UNKNOWN_LOCAL_WORKLOAD'],
    ['authority IP is another pod: 400 ip mismatch', web, 'CONNECT', '10.0.4.1:8080', '10.0.1.1', '400 ERR_INBOUND_IP_MISMATCH'],
    ['an application tunnel accepts any IP', tunnelSamePort, 'CONNECT', '10.0.4.1:8080', '10.0.1.1', '200 → 10.0.1.1:8080 rbac=10.0.1.1:8080'],
    ['the waypoint of a service accepts its VIP', waypoint, 'CONNECT', '10.96.0.40:80', '10.0.3.1', '200 → 10.0.3.1:80 rbac=10.0.3.1:80 svc=reviews'],
    ['the waypoint of a workload accepts its IP', waypoint, 'CONNECT', '10.0.4.1:8080', '10.0.3.1', '200 → 10.0.3.1:8080 rbac=10.0.3.1:8080'],
    ['a waypoint refuses a VIP it does not serve', waypoint, 'CONNECT', '10.96.0.50:80', '10.0.3.1', '400 ERR_INBOUND_IP_MISMATCH'],
    ['sandwich waypoint: PROXY to loopback on the tunnel port', sandwich, 'CONNECT', '10.96.0.40:80', '10.0.3.1', '200 → 127.0.0.1:15088 +PROXY rbac=10.0.3.1:80 svc=reviews'],
    ['hostname authority: service port → the pod’s target port', web, 'CONNECT', 'web.default.svc.cluster.local:80', '10.0.1.1', '200 → 10.0.1.1:8080 rbac=10.0.1.1:8080 svc=web'],
    ['hostname authority: named port resolved per pod', web, 'CONNECT', 'named.default.svc.cluster.local:80', '10.0.1.1', '200 → 10.0.1.1:8081 rbac=10.0.1.1:8081 svc=named'],
    ['hostname authority: unresolved named port: 503', web, 'CONNECT', 'nomap.default.svc.cluster.local:80', '10.0.1.1', '503 ERR_INBOUND_NO_PORT_MAPPING'],
    ['hostname authority: unknown service port: 503', web, 'CONNECT', 'web.default.svc.cluster.local:81', '10.0.1.1', '503 ERR_INBOUND_NO_PORT_MAPPING'],
    ['hostname authority: unknown service: 503', web, 'CONNECT', 'nope.default.svc.cluster.local:80', '10.0.1.1', '503 ERR_INBOUND_NO_PORT_MAPPING'],
    ['final port 15008: 503', web, 'CONNECT', '10.0.1.1:15008', '10.0.1.1', '503 ERR_INBOUND_ILLEGAL_PORT'],
    ['final port 15001: 503', web, 'CONNECT', '10.0.1.1:15001', '10.0.1.1', '503 ERR_INBOUND_ILLEGAL_PORT'],
    ['final port 15006: 503', web, 'CONNECT', '10.0.1.1:15006', '10.0.1.1', '503 ERR_INBOUND_ILLEGAL_PORT'],
    ['IPv4-mapped arrival address compares as IPv4', web, 'CONNECT', '10.0.1.1:8080', '::ffff:10.0.1.1', '200 → 10.0.1.1:8080 rbac=10.0.1.1:8080'],
  ])('%s', (_name, local, method, authority, dstIp, expected) => {
    const result = decideInboundConnect(state, { method, authority, connectionDstIp: dstIp }, { localWorkload: local });
    expect(summarize(result)).toBe(expected);
  });

  it('an application tunnel port that is ztunnel’s own is refused', () => {
    const local = { ...web, applicationTunnel: { protocol: 'NONE' as const, port: 15006 } };
    const result = decideInboundConnect(state, { method: 'CONNECT', authority: '10.0.1.1:8080', connectionDstIp: '10.0.1.1' }, { localWorkload: local });
    expect(summarize(result)).toBe('503 ERR_INBOUND_ILLEGAL_PORT');
  });

  it('with LOCALHOST_APP_TUNNEL off a PROXY tunnel is dialled on the pod IP', () => {
    const result = decideInboundConnect(
      state,
      { method: 'CONNECT', authority: '10.96.0.40:80', connectionDstIp: '10.0.3.1' },
      { localWorkload: sandwich, localhostAppTunnel: false },
    );
    expect(summarize(result)).toBe('200 → 10.0.3.1:15088 +PROXY rbac=10.0.3.1:80 svc=reviews');
  });

  it('Forwarded host= picks destination_service among the services selecting this pod', () => {
    const forwarded = 'for="10.0.0.1:5555";host=named.default.svc.cluster.local';
    const result = decideInboundConnect(state, { method: 'CONNECT', authority: '10.0.1.1:8081', connectionDstIp: '10.0.1.1', forwarded }, { localWorkload: web });
    expect(summarize(result)).toBe('200 → 10.0.1.1:8081 rbac=10.0.1.1:8081 svc=named');
  });

  it('Forwarded host= of a service not selecting this pod is ignored', () => {
    const forwarded = 'for="10.0.0.1:5555";host=other.default.svc.cluster.local';
    const result = decideInboundConnect(state, { method: 'CONNECT', authority: '10.0.1.1:8080', connectionDstIp: '10.0.1.1', forwarded }, { localWorkload: web });
    expect(summarize(result)).toBe('200 → 10.0.1.1:8080 rbac=10.0.1.1:8080');
  });
});

describe('decideInboundPlaintext (reference §2.5)', () => {
  it.each<[string, Workload | undefined, string, number, string]>([
    ['known pod: dial the original destination', web, '10.0.1.1', 8080, 'ok 10.0.1.1:8080'],
    ['illegal port first, even for an unknown pod', undefined, '10.0.1.1', 15008, 'ERR_INBOUND_ILLEGAL_PORT'],
    ['unknown local workload', undefined, '10.0.1.1', 8080, 'ERR_INBOUND_UNKNOWN_LOCAL_WORKLOAD'],
  ])('%s', (_name, local, ip, dstPort, expected) => {
    const result = decideInboundPlaintext(state, { localWorkload: local, originalDestination: { ip, port: dstPort } });
    expect(result.ok ? `ok ${result.upstream.ip}:${result.upstream.port}` : result.code).toBe(expected);
  });
});

describe('parseAuthority', () => {
  it.each<[string, ReturnType<typeof parseAuthority>]>([
    ['10.0.0.1:80', { kind: 'ip', ip: '10.0.0.1', port: 80 }],
    ['[fd00::1]:443', { kind: 'ip', ip: 'fd00::1', port: 443 }],
    ['Web.Default.svc.cluster.local.:80', { kind: 'host', host: 'web.default.svc.cluster.local', port: 80 }],
    ['[10.0.0.1]:80', undefined],
    ['host:65536', undefined],
    [':80', undefined],
    ['host:', undefined],
  ])('%s', (authority, expected) => {
    expect(parseAuthority(authority)).toEqual(expected);
  });
});

describe('forwardedHost', () => {
  it.each<[string | undefined, string | undefined]>([
    [undefined, undefined],
    ['for="1.2.3.4:5"', undefined],
    ['for="1.2.3.4:5";host=web.default.svc.cluster.local', 'web.default.svc.cluster.local'],
    ['for="1.2.3.4:5";host="Web.example.com:8080", for=x;host=other', 'web.example.com'],
  ])('%s', (header, expected) => {
    expect(forwardedHost(header)).toBe(expected);
  });
});

describe('inbound status mapping', () => {
  it.each<[InboundErrorCode, number, string]>([
    ['ERR_INBOUND_METHOD_NOT_CONNECT', 400, '-'],
    ['ERR_INBOUND_AUTHORITY_INVALID', 400, '-'],
    ['ERR_INBOUND_UNKNOWN_LOCAL_WORKLOAD', 503, '-'],
    ['ERR_INBOUND_IP_MISMATCH', 400, '-'],
    ['ERR_INBOUND_ILLEGAL_PORT', 503, '-'],
    ['ERR_INBOUND_NO_PORT_MAPPING', 503, '-'],
    ['ERR_INBOUND_RBAC_DENIED', 401, 'DENY'],
    ['ERR_INBOUND_UPSTREAM_CONNECT', 503, 'CONNECT'],
  ])('%s → %d (%s)', (code, status, flag) => {
    expect(inboundHttpStatus(code)).toBe(status);
    expect(inboundResponseFlag(code)).toBe(flag);
  });
});
