import { ap } from '../test/policy-fixtures';
import { isDryRun } from './authorization-policy';
import { parseAuthorizationPolicy } from './authorization-policy-parser';
import { HTTP_ALLOW_RULE_TEXT, HTTP_DENY_MIXED_TEXT } from './ztunnel-conversion';

const OBJECT = 'AuthorizationPolicy default/httpbin-access';
const selector = { matchLabels: { app: 'httpbin' } };
const from = (source: Record<string, unknown>) => ({ rules: [{ from: [{ source }] }] });
const to = (operation: Record<string, unknown>) => ({ rules: [{ to: [{ operation }] }] });
const when = (...conditions: Record<string, unknown>[]) => ({ rules: [{ when: conditions }] });

function errorsOf(spec: Record<string, unknown>) {
  const result = parseAuthorizationPolicy(ap('httpbin-access', spec));
  if (result.ok) throw new Error('expected the policy to be rejected');
  return result.errors;
}

function warningsOf(spec: Record<string, unknown>) {
  const result = parseAuthorizationPolicy(ap('httpbin-access', spec));
  if (!result.ok) throw new Error(`expected the policy to parse: ${JSON.stringify(result.errors)}`);
  return result.warnings;
}

describe('parseAuthorizationPolicy rejects what Istio validation rejects (§6.1)', () => {
  it.each([
    ['§6.1 selector and targetRefs are mutually exclusive', { selector, targetRefs: [{ kind: 'Service', name: 'httpbin' }] }, 'ERR_POLICY_SELECTOR_AND_TARGET_REF', 'spec.selector'],
    ['§6.1 selector and legacy targetRef are mutually exclusive', { selector, targetRef: { kind: 'Service', name: 'httpbin' } }, 'ERR_POLICY_SELECTOR_AND_TARGET_REF', 'spec.selector'],
    ['§6.1 action must be ALLOW, DENY, AUDIT or CUSTOM', { action: 'REJECT', rules: [{}] }, 'ERR_POLICY_UNKNOWN_ACTION', 'spec.action'],
    ['§6.1 CUSTOM needs provider.name', { action: 'CUSTOM', rules: [{}] }, 'ERR_POLICY_CUSTOM_WITHOUT_PROVIDER', 'spec.provider.name'],
    ['§6.1 CUSTOM without rules never triggers', { action: 'CUSTOM', provider: { name: 'ext' } }, 'ERR_POLICY_WITHOUT_RULES', 'spec.rules'],
    ['§6.1 provider only with CUSTOM', { action: 'ALLOW', provider: { name: 'ext' }, rules: [{}] }, 'ERR_POLICY_PROVIDER_WITHOUT_CUSTOM', 'spec.provider'],
    ['§6.1 DENY without rules never triggers', { action: 'DENY' }, 'ERR_POLICY_WITHOUT_RULES', 'spec.rules'],
    ['§6.1 serviceAccounts cannot be combined with principals', from({ serviceAccounts: ['sleep'], principals: ['cluster.local/ns/default/sa/sleep'] }), 'ERR_POLICY_SERVICE_ACCOUNTS_COMBINED', 'spec.rules[0].from[0].source'],
    ['§6.1 serviceAccounts cannot be combined with namespaces', from({ notServiceAccounts: ['sleep'], namespaces: ['default'] }), 'ERR_POLICY_SERVICE_ACCOUNTS_COMBINED', 'spec.rules[0].from[0].source'],
    ['§6.1 serviceAccounts reject wildcards', from({ serviceAccounts: ['default/*'] }), 'ERR_POLICY_SERVICE_ACCOUNT_FORMAT', 'spec.rules[0].from[0].source.serviceAccounts[0]'],
    ['§6.1 serviceAccounts take at most one "/"', from({ serviceAccounts: ['a/b/c'] }), 'ERR_POLICY_SERVICE_ACCOUNT_FORMAT', 'spec.rules[0].from[0].source.serviceAccounts[0]'],
    ['§6.1 path template with another "*"', to({ paths: ['/api/*/{*}'] }), 'ERR_POLICY_PATH_TEMPLATE', 'spec.rules[0].to[0].operation.paths[0]'],
    ['§6.1 path template with a named variable', to({ paths: ['/users/{id}'] }), 'ERR_POLICY_PATH_TEMPLATE', 'spec.rules[0].to[0].operation.paths[0]'],
    ['§6.1 {**} must be the last operator', to({ notPaths: ['/a/{**}/{*}'] }), 'ERR_POLICY_PATH_TEMPLATE', 'spec.rules[0].to[0].operation.notPaths[0]'],
    ['§6.1 {*} glued to text is not a template', to({ paths: ['/a/x{*}'] }), 'ERR_POLICY_PATH_TEMPLATE', 'spec.rules[0].to[0].operation.paths[0]'],
    ['§6.1 a named port is not a port', to({ ports: ['80', 'http'] }), 'ERR_POLICY_PORT', 'spec.rules[0].to[0].operation.ports[1]'],
    ['§6.1 a port above 65535', to({ notPorts: ['70000'] }), 'ERR_POLICY_PORT', 'spec.rules[0].to[0].operation.notPorts[0]'],
    ['§6.1 ipBlocks must be IPs or CIDRs', from({ ipBlocks: ['10.0.0.0/8', '10.0.0.0/33'] }), 'ERR_POLICY_IP_BLOCK', 'spec.rules[0].from[0].source.ipBlocks[1]'],
    ['§6.1 notIpBlocks must be IPs or CIDRs', from({ notIpBlocks: ['not-an-ip'] }), 'ERR_POLICY_IP_BLOCK', 'spec.rules[0].from[0].source.notIpBlocks[0]'],
    ['§6.1 remoteIpBlocks must be IPs or CIDRs', from({ remoteIpBlocks: ['1.2.3'] }), 'ERR_POLICY_IP_BLOCK', 'spec.rules[0].from[0].source.remoteIpBlocks[0]'],
    ['§6.1 unknown when key', when({ key: 'request.foo', values: ['x'] }), 'ERR_POLICY_WHEN_KEY', 'spec.rules[0].when[0].key'],
    ['§6.1 destination.labels is replaced by the selector', when({ key: 'destination.labels[app]', values: ['x'] }), 'ERR_POLICY_WHEN_KEY', 'spec.rules[0].when[0].key'],
    ['§6.1 request.headers needs a [name]', when({ key: 'request.headers', values: ['x'] }), 'ERR_POLICY_WHEN_KEY', 'spec.rules[0].when[0].key'],
    ['§6.1 when needs values or notValues', when({ key: 'source.namespace' }), 'ERR_POLICY_WHEN_WITHOUT_VALUES', 'spec.rules[0].when[0]'],
    ['§6.1 when source.ip values are IPs', when({ key: 'source.ip', notValues: ['10.0.0.1', 'bogus'] }), 'ERR_POLICY_IP_BLOCK', 'spec.rules[0].when[0].notValues[1]'],
    ['§6.1 when destination.port values are ports', when({ key: 'destination.port', values: ['eighty'] }), 'ERR_POLICY_PORT', 'spec.rules[0].when[0].values[0]'],
    ['§6.1 `from: []` must not be empty when set', { rules: [{ from: [] }] }, 'ERR_POLICY_EMPTY_LIST', 'spec.rules[0].from'],
    ['§6.1 a source must not be empty', from({}), 'ERR_POLICY_EMPTY_SOURCE', 'spec.rules[0].from[0].source'],
    ['§6.1 an operation must not be empty', to({}), 'ERR_POLICY_EMPTY_OPERATION', 'spec.rules[0].to[0].operation'],
    ['§6.1 empty string values are not allowed', from({ principals: [''] }), 'ERR_POLICY_EMPTY_VALUE', 'spec.rules[0].from[0].source.principals[0]'],
    ['§6.2 targetRef namespace must not be set', { targetRefs: [{ kind: 'Service', name: 'httpbin', namespace: 'other' }] }, 'ERR_POLICY_TARGET_REF', 'spec.targetRefs[0].namespace'],
    ['§6.2 targetRef kind must be Service, ServiceEntry, Gateway or GatewayClass', { targetRefs: [{ kind: 'Deployment', name: 'httpbin' }] }, 'ERR_POLICY_TARGET_REF', 'spec.targetRefs[0].kind'],
    ['§6.1 CUSTOM does not support principals', { action: 'CUSTOM', provider: { name: 'ext' }, ...from({ principals: ['cluster.local/ns/a/sa/b'] }) }, 'ERR_POLICY_CUSTOM_UNSUPPORTED_FIELD', 'spec.rules[0].from[0].source.principals'],
    ['§6.1 wrong type: principals is a list', from({ principals: 'cluster.local/ns/default/sa/sleep' }), 'ERR_POLICY_WRONG_TYPE', 'spec.rules[0].from[0].source.principals'],
    ['§6.1 wrong type: rules is a list', { rules: { from: [] } }, 'ERR_POLICY_WRONG_TYPE', 'spec.rules'],
    ['§6.1 wrong type: label values are strings', { selector: { matchLabels: { version: 2 } } }, 'ERR_POLICY_WRONG_TYPE', 'spec.selector.matchLabels.version'],
    ['§6.1 wrong type: a port list holds strings', to({ ports: [8080] }), 'ERR_POLICY_WRONG_TYPE', 'spec.rules[0].to[0].operation.ports[0]'],
  ])('%s', (_rule, spec, code, field) => {
    const errors = errorsOf(spec);
    expect(errors).toContainEqual(expect.objectContaining({ code, object: OBJECT, field }));
  });

  it('§6.1 every problem is reported at once, each naming object and field', () => {
    const errors = errorsOf({
      selector,
      targetRefs: [{ kind: 'Service', name: 'httpbin' }],
      action: 'DENY',
      rules: [{ from: [{ source: { ipBlocks: ['nope'] } }], to: [{ operation: { ports: ['x'] } }] }],
    });
    expect(errors.map((e) => `${e.code} ${e.field}`).sort()).toEqual([
      'ERR_POLICY_IP_BLOCK spec.rules[0].from[0].source.ipBlocks[0]',
      'ERR_POLICY_PORT spec.rules[0].to[0].operation.ports[0]',
      'ERR_POLICY_SELECTOR_AND_TARGET_REF spec.selector',
    ]);
    expect(errors.every((e) => e.object === OBJECT)).toBe(true);
    expect(errors.find((e) => e.code === 'ERR_POLICY_IP_BLOCK')?.message).toBe('bad IP address (nope)');
  });

  it('§6.1 metadata.name, apiVersion and kind are checked', () => {
    const result = parseAuthorizationPolicy({ apiVersion: 'security.istio.io/v2', kind: 'PeerAuthentication', metadata: {}, spec: {} });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => e.field).sort()).toEqual(['apiVersion', 'kind', 'metadata.name']);
    expect(result.errors[0]?.object).toBe('AuthorizationPolicy default/<unnamed>');
  });

  it('§6.1 a non-object is rejected without throwing', () => {
    const result = parseAuthorizationPolicy('apiVersion: v1');
    expect(result).toEqual({ ok: false, errors: [expect.objectContaining({ code: 'ERR_POLICY_WRONG_TYPE', field: '' })] });
  });
});

describe('parseAuthorizationPolicy warnings (accepted, status says why)', () => {
  it.each([
    ['§6.5 principal with spiffe:// never matches (ztunnel#1901)', { selector, ...from({ principals: ['cluster.local/ns/default/sa/a', 'spiffe://cluster.local/ns/default/sa/sleep'] }) }, 'WARN_POLICY_SPIFFE_PRINCIPAL', 'spec.rules[0].from[0].source.principals[1]'],
    ['§6.5 notPrincipals with spiffe:// never matches either', from({ notPrincipals: ['spiffe://cluster.local/ns/x/sa/y'] }), 'WARN_POLICY_SPIFFE_PRINCIPAL', 'spec.rules[0].from[0].source.notPrincipals[0]'],
    ['§6.5 when source.principal with spiffe:// never matches', when({ key: 'source.principal', values: ['spiffe://cluster.local/ns/x/sa/y'] }), 'WARN_POLICY_SPIFFE_PRINCIPAL', 'spec.rules[0].when[0].values[0]'],
    ['§6.2 CUSTOM with a selector is not enforced by ztunnel', { selector, action: 'CUSTOM', provider: { name: 'ext' }, rules: [{}] }, 'WARN_ZTUNNEL_UNSUPPORTED_ACTION', 'spec.action'],
    ['§6.2 AUDIT without targetRefs is not enforced by ztunnel', { action: 'AUDIT', rules: [{}] }, 'WARN_ZTUNNEL_UNSUPPORTED_ACTION', 'spec.action'],
    ['§6.3 trustDomains are not enforced at L4', { selector, ...from({ trustDomains: ['cluster.local'] }) }, 'WARN_POLICY_TRUST_DOMAINS', 'spec.rules[0].from[0].source.trustDomains'],
    ['§6.1 unknown fields are reported (typo "principal")', from({ principal: ['x'], namespaces: ['default'] }), 'WARN_POLICY_UNKNOWN_FIELD', 'spec.rules[0].from[0].source.principal'],
    ['§6.1 a selector without labels selects every workload', { selector: {}, rules: [{}] }, 'WARN_POLICY_SELECTOR_WITHOUT_LABELS', 'spec.selector'],
    ['§6.4 ALLOW with HTTP fields at ztunnel', { selector, ...to({ methods: ['GET'] }) }, 'WARN_ZTUNNEL_HTTP_ATTRIBUTES', 'spec.rules[0]'],
  ])('%s', (_rule, spec, code, field) => {
    expect(warningsOf(spec)).toContainEqual(expect.objectContaining({ code, object: OBJECT, field }));
  });

  it('§6.5 the spiffe:// warning says how to fix it', () => {
    const [warning] = warningsOf(from({ principals: ['spiffe://cluster.local/ns/default/sa/sleep'] }));
    expect(warning?.message).toContain('ztunnel#1901');
    expect(warning?.message).toContain('write "cluster.local/ns/default/sa/sleep"');
  });

  it('§6.4 ALLOW + HTTP fields: istiod\'s exact status text', () => {
    const [warning] = warningsOf({ selector, rules: [{ from: [{ source: { requestPrincipals: ['*'] } }], to: [{ operation: { methods: ['GET', 'POST'] } }] }] });
    expect(warning?.message).toBe(
      'ztunnel does not support HTTP attributes (found: methods, requestPrincipals). In ambient mode you must use a ' +
        `waypoint proxy to enforce HTTP rules. ${HTTP_ALLOW_RULE_TEXT}`,
    );
    expect(warning?.message).toContain('Within an ALLOW policy, rules matching HTTP attributes are omitted. This will be more restrictive than requested.');
  });

  it('§6.4 DENY whose rules are all HTTP: "no enforceable rules at ztunnel" (istio#61126)', () => {
    const [warning] = warningsOf({ selector, action: 'DENY', ...to({ methods: ['DELETE'] }) });
    expect(warning?.code).toBe('WARN_ZTUNNEL_HTTP_ATTRIBUTES');
    expect(warning?.message).toContain('this DENY policy has no enforceable rules at ztunnel');
  });

  it('§6.4 DENY mixing L4 and HTTP in one source: HTTP fields ignored, rule broadened', () => {
    const [warning] = warningsOf({ selector, action: 'DENY', ...from({ namespaces: ['dev'], requestPrincipals: ['*'] }) });
    expect(warning?.message).toContain(HTTP_DENY_MIXED_TEXT);
  });

  it('§6.2 HTTP fields in a targetRef (waypoint) policy are not flagged', () => {
    expect(warningsOf({ targetRefs: [{ kind: 'Service', name: 'httpbin' }], ...to({ methods: ['GET'] }) })).toEqual([]);
  });

  it('§6.1 an unparsable dry-run annotation is reported and the policy enforced', () => {
    const result = parseAuthorizationPolicy(ap('p', { rules: [{}] }, { annotations: { 'istio.io/dry-run': 'yes' } }));
    expect(result.ok && result.warnings.map((w) => w.code)).toEqual(['WARN_POLICY_DRY_RUN_VALUE']);
    expect(result.ok && isDryRun(result.value)).toBe(false);
  });
});

describe('parseAuthorizationPolicy values', () => {
  it('§6.1 action defaults to ALLOW and spec {} is accepted (allow-nothing)', () => {
    const result = parseAuthorizationPolicy(ap('allow-nothing', {}));
    expect(result).toEqual({ ok: true, value: { metadata: { name: 'allow-nothing', namespace: 'default' }, spec: { action: 'ALLOW' } }, warnings: [] });
  });

  it.each([
    ['§6.1 dry-run "true" is a dry run', 'true', true],
    ['§6.1 dry-run "1" is a dry run (Go ParseBool)', '1', true],
    ['§6.1 dry-run "false" is enforced', 'false', false],
  ])('%s', (_rule, value, expected) => {
    const result = parseAuthorizationPolicy(ap('p', { rules: [{}] }, { annotations: { 'istio.io/dry-run': value } }));
    expect(result.ok && isDryRun(result.value)).toBe(expected);
  });

  it('§6.1 a namespace-less manifest takes the default namespace', () => {
    const result = parseAuthorizationPolicy({ metadata: { name: 'x' }, spec: {} }, { defaultNamespace: 'team-a' });
    expect(result.ok && result.value.metadata.namespace).toBe('team-a');
  });
});
