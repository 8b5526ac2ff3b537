// Authorization adapter: exact round trips of every Match field, the StringMatch oneof (presence = Empty), CIDR
// prefix checks and one rejection (resource name + field) per kind of malformed policy.
import { EMPTY_MATCH, type Authorization } from '@weft/mesh-model';
import {
  authorizationResourceName,
  decodeAuthorizationResource,
  encodeAuthorization,
  encodeAuthorizationResource,
} from './authorization-adapter';
import {
  Action,
  Authorization as WireAuthorization,
  Scope,
  Match as WireMatch,
} from './generated/istio/security/authorization';
import { AUTHORIZATION_TYPE_URL } from './type-urls';
import { rejectionText, XdsEncodeError } from './xds-result';

const POLICY_NAME = 'bookinfo/deny-untrusted';

const fullPolicy: Authorization = {
  name: 'deny-untrusted',
  namespace: 'bookinfo',
  scope: 'WORKLOAD_SELECTOR',
  action: 'DENY',
  dryRun: true,
  rules: [
    {
      clauses: [
        {
          matches: [
            {
              namespaces: [{ kind: 'exact', value: 'bookinfo' }, { kind: 'presence' }],
              notNamespaces: [{ kind: 'prefix', value: 'kube-' }],
              principals: [{ kind: 'suffix', value: '/sa/productpage' }],
              notPrincipals: [{ kind: 'exact', value: 'cluster.local/ns/bookinfo/sa/default' }],
              sourceIps: [{ address: '10.244.0.0', prefixLength: 16 }, { address: '10.0.0.7', prefixLength: 32 }],
              notSourceIps: [{ address: 'fd00:10:244::', prefixLength: 48 }],
              destinationIps: [{ address: '2001:db8::1', prefixLength: 128 }],
              notDestinationIps: [{ address: '0.0.0.0', prefixLength: 0 }],
              destinationPorts: [9080, 0, 65535],
              notDestinationPorts: [15008],
              serviceAccounts: [{ namespace: 'bookinfo', serviceAccount: 'productpage' }],
              notServiceAccounts: [{ namespace: 'bookinfo', serviceAccount: 'default' }],
            },
            { ...EMPTY_MATCH, destinationPorts: [8080] },
          ],
        },
        { matches: [] },
      ],
    },
    { clauses: [] },
  ],
};

const emptyAllow: Authorization = {
  name: 'allow-nothing',
  namespace: 'istio-system',
  scope: 'GLOBAL',
  action: 'ALLOW',
  dryRun: false,
  rules: [],
};

describe('Authorization round trip', () => {
  it.each<[string, Authorization]>([
    ['every match field', fullPolicy],
    ['no rules', emptyAllow],
    ['namespace scope', { ...emptyAllow, scope: 'NAMESPACE' }],
  ])('%s decodes to exactly what was encoded', (_, policy) => {
    const encoded = encodeAuthorizationResource(policy);
    expect(encoded).toMatchObject({ name: authorizationResourceName(policy), typeUrl: AUTHORIZATION_TYPE_URL });
    const result = decodeAuthorizationResource({ name: encoded.name, version: 'v1', value: encoded.value });
    expect(result).toStrictEqual({ ok: true, value: policy });
  });

  it('names a policy <namespace>/<name>', () => {
    expect(authorizationResourceName(fullPolicy)).toBe(POLICY_NAME);
  });

  it('sends presence as google.protobuf.Empty and CIDRs as raw bytes plus length', () => {
    const match = encodeAuthorization(fullPolicy).rules[0]?.clauses[0]?.matches[0];
    expect(match?.namespaces[1]).toEqual({ matchType: { $case: 'presence', value: {} } });
    expect(match?.sourceIps[0]).toEqual({ address: Buffer.from([10, 244, 0, 0]), length: 16 });
  });
});

describe('malformed Authorization resources', () => {
  const MATCH_PATH = 'authorization.rules[0].clauses[0].matches[0]';
  const policyBytes = (patch: Partial<WireAuthorization>, match?: Partial<WireMatch>): Buffer => {
    const base = WireAuthorization.fromPartial({ name: 'deny-untrusted', namespace: 'bookinfo', scope: Scope.NAMESPACE });
    const rules = match ? [{ clauses: [{ matches: [{ ...WireMatch.fromPartial({}), ...match }] }] }] : [];
    return Buffer.from(WireAuthorization.encode({ ...base, rules, ...patch }).finish());
  };
  const v4 = Buffer.from([10, 0, 0, 0]);
  const valid = encodeAuthorizationResource(fullPolicy).value;

  // Truncated mid-message rather than by a few bytes: a cut on a field boundary would leave a valid, shorter message.
  it.each<[string, string, Buffer, string, string]>([
    ['truncated protobuf', POLICY_NAME, valid.subarray(0, Math.floor(valid.length / 2)), 'ERR_XDS_RESOURCE_UNDECODABLE', 'authorization'],
    ['resource name is not ns/name', 'bookinfo/other', policyBytes({}), 'ERR_XDS_RESOURCE_NAME_MISMATCH', 'authorization.name'],
    ['empty name', 'bookinfo/', policyBytes({ name: '' }), 'ERR_XDS_RESOURCE_INVALID', 'authorization.name'],
    ['unknown scope 99', POLICY_NAME, policyBytes({ scope: 99 as Scope }), 'ERR_XDS_RESOURCE_INVALID', 'authorization.scope'],
    ['unknown action 2', POLICY_NAME, policyBytes({ action: 2 as Action }), 'ERR_XDS_RESOURCE_INVALID', 'authorization.action'],
    [
      'StringMatch with no case',
      POLICY_NAME,
      policyBytes({}, { principals: [{ matchType: { $case: 'exact', value: 'a' } }, { matchType: undefined }] }),
      'ERR_XDS_RESOURCE_INVALID',
      `${MATCH_PATH}.principals[1].match_type`,
    ],
    ['CIDR length 33 on IPv4', POLICY_NAME, policyBytes({}, { sourceIps: [{ address: v4, length: 33 }] }), 'ERR_XDS_RESOURCE_INVALID', `${MATCH_PATH}.source_ips[0].length`],
    [
      'CIDR length 129 on IPv6',
      POLICY_NAME,
      policyBytes({}, { notDestinationIps: [{ address: Buffer.alloc(16), length: 129 }] }),
      'ERR_XDS_RESOURCE_INVALID',
      `${MATCH_PATH}.not_destination_ips[0].length`,
    ],
    ['5-byte address', POLICY_NAME, policyBytes({}, { destinationIps: [{ address: Buffer.alloc(5), length: 8 }] }), 'ERR_XDS_RESOURCE_INVALID', `${MATCH_PATH}.destination_ips[0].address`],
    ['port 70000', POLICY_NAME, policyBytes({}, { notDestinationPorts: [80, 70000] }), 'ERR_XDS_RESOURCE_INVALID', `${MATCH_PATH}.not_destination_ports[1]`],
  ])('%s', (_, name, value, code, field) => {
    const result = decodeAuthorizationResource({ name, version: '3', value });
    expect(result).toStrictEqual({
      ok: false,
      rejection: { code, typeUrl: AUTHORIZATION_TYPE_URL, resourceName: name, field, message: expect.any(String) },
    });
  });

  it('gives a one-line NACK text naming the resource and the field', () => {
    const value = policyBytes({}, { sourceIps: [{ address: v4, length: 33 }] });
    const result = decodeAuthorizationResource({ name: POLICY_NAME, version: '3', value });
    if (result.ok) throw new Error('expected a rejection');
    expect(rejectionText(result.rejection)).toBe(
      `istio.security.Authorization "${POLICY_NAME}": ${MATCH_PATH}.source_ips[0].length: ` +
        'prefix length 33 exceeds the 32-bit address (ERR_XDS_RESOURCE_INVALID)',
    );
  });

  it('throws a typed error when a domain CIDR is not an IP', () => {
    const broken: Authorization = {
      ...emptyAllow,
      rules: [{ clauses: [{ matches: [{ ...EMPTY_MATCH, sourceIps: [{ address: '10.0.0.0/8', prefixLength: 8 }] }] }] }],
    };
    expect(() => encodeAuthorization(broken)).toThrow(XdsEncodeError);
  });
});
