import { kubeObject, summary } from '../test/validation/objects';
import { validateObject } from './validate-objects';

const waypoint = { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] };

describe('Gateway validation', () => {
  const cases: readonly (readonly [string, string, unknown, readonly string[]])[] = [
    ['a waypoint as istioctl generates it', 'waypoint', waypoint, []],
    ['a waypoint named none', 'none', waypoint, ['error ERR_WAYPOINT_NAME_RESERVED metadata.name']],
    ['a waypoint without the HBONE listener', 'waypoint', { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] },
      ['warning WARN_WAYPOINT_LISTENER spec.listeners']],
    ['another class is not held to the waypoint shape', 'none', { gatewayClassName: 'istio', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] }, []],
    ['no class', 'gw', { listeners: [] }, ['error ERR_GATEWAY_CLASS_MISSING spec.gatewayClassName']],
    ['listener port out of range', 'gw', { gatewayClassName: 'istio', listeners: [{ name: 'a', port: 0, protocol: 'HTTP' }] },
      ['error ERR_GATEWAY_LISTENER spec.listeners[0].port']],
  ];
  it.each(cases)('%s', (_name, name, spec, expected) => {
    expect(summary(validateObject(kubeObject('Gateway', name, spec)))).toEqual(expected);
  });

  it('leaves an Istio networking Gateway alone', () => {
    expect(validateObject({ ...kubeObject('Gateway', 'none', {}), apiVersion: 'networking.istio.io/v1' })).toEqual([]);
  });
});

const parent = { parentRefs: [{ group: '', kind: 'Service', name: 'reviews' }] };
const rule = (r: Record<string, unknown>): unknown => ({ ...parent, rules: [{ backendRefs: [{ name: 'reviews-v1', port: 9080 }], ...r }] });

describe('HTTPRoute validation', () => {
  const cases: readonly (readonly [string, unknown, readonly string[]])[] = [
    ['a valid canary split with matches and filters', rule({
      matches: [{ path: { type: 'PathPrefix', value: '/api' }, headers: [{ name: 'x-a', value: 'b' }], queryParams: [{ type: 'Exact', name: 'q', value: '1' }], method: 'GET' }],
      filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x', value: 'y' }] } }],
      backendRefs: [{ name: 'reviews-v1', port: 9080, weight: 90 }, { name: 'reviews-v2', port: 9080, weight: 10 }],
      timeouts: { request: '10s', backendRequest: '2s' },
    }), []],
    ['no parentRefs', { rules: [] }, ['warning WARN_HTTPROUTE_NO_PARENT spec.parentRefs']],
    ['parentRef without name', { parentRefs: [{ kind: 'Service' }] }, ['error ERR_HTTPROUTE_PARENT_REF spec.parentRefs[0].name']],
    ['unknown path type', rule({ matches: [{ path: { type: 'Prefix', value: '/' } }] }), ['error ERR_HTTPROUTE_MATCH spec.rules[0].matches[0].path.type']],
    ['header match without name', rule({ matches: [{ headers: [{ value: 'b' }] }] }), ['error ERR_HTTPROUTE_MATCH spec.rules[0].matches[0].headers[0].name']],
    ['unknown method', rule({ matches: [{ method: 'FETCH' }] }), ['error ERR_HTTPROUTE_MATCH spec.rules[0].matches[0].method']],
    ['unsupported filter', rule({ filters: [{ type: 'ExtensionRef' }] }), ['error ERR_HTTPROUTE_FILTER_UNSUPPORTED spec.rules[0].filters[0].type']],
    ['negative weight', rule({ backendRefs: [{ name: 'a', port: 80, weight: -1 }] }), ['error ERR_HTTPROUTE_WEIGHT spec.rules[0].backendRefs[0].weight']],
    ['bad timeout', rule({ timeouts: { request: 'ten seconds' } }), ['error ERR_HTTPROUTE_DURATION spec.rules[0].timeouts.request']],
    ['rules not a list', { ...parent, rules: { a: 1 } }, ['error ERR_FIELD_WRONG_TYPE spec.rules']],
  ];
  it.each(cases)('%s', (_name, spec, expected) => {
    expect(summary(validateObject(kubeObject('HTTPRoute', 'reviews', spec)))).toEqual(expected);
  });

  it('says "unsupported filter type" as Istio does', () => {
    const [m] = validateObject(kubeObject('HTTPRoute', 'reviews', rule({ filters: [{ type: 'ExtensionRef' }] })));
    expect(m?.message).toContain('unsupported filter type');
  });
});
