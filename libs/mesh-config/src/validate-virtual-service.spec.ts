import { kubeObject, summary } from '../test/validation/objects';
import { validateObject } from './validate-objects';

const route = (http: Record<string, unknown>): Record<string, unknown> => ({
  hosts: ['reviews'],
  http: [{ route: [{ destination: { host: 'reviews' } }], ...http }],
});

const cases: readonly (readonly [string, unknown, readonly string[]])[] = [
  ['a valid route with retries, timeout and fault', route({
    timeout: '10s',
    retries: { attempts: 3, perTryTimeout: '1.5s', retryOn: '5xx,reset,connect-failure,503,cancelled' },
    fault: { delay: { fixedDelay: '500ms', percentage: { value: 10 } }, abort: { httpStatus: 503, percentage: { value: 0.5 } } },
    match: [{ uri: { prefix: '/api' }, headers: { 'x-user': { exact: 'a' } }, method: { exact: 'GET' } }],
  }), []],
  ['hosts missing', { http: [{ route: [{ destination: { host: 'a' } }] }] }, ['error ERR_VS_HOSTS_MISSING spec.hosts']],
  ['hosts not a list', { hosts: 'reviews' }, ['error ERR_FIELD_WRONG_TYPE spec.hosts', 'error ERR_VS_HOSTS_MISSING spec.hosts']],
  ['destination without host', { hosts: ['r'], http: [{ route: [{ destination: { subset: 'v1' } }] }] },
    ['error ERR_VS_DESTINATION_HOST spec.http[0].route[0].destination.host']],
  ['route without destination', { hosts: ['r'], http: [{ route: [{ weight: 100 }] }] },
    ['error ERR_VS_DESTINATION_MISSING spec.http[0].route[0].destination']],
  ['weights not summing to 100', { hosts: ['r'], http: [{ route: [
    { destination: { host: 'r', subset: 'v1' }, weight: 90 }, { destination: { host: 'r', subset: 'v2' }, weight: 20 }] }] },
  ['error ERR_VS_WEIGHT_SUM spec.http[0].route']],
  ['a weight above 100', { hosts: ['r'], http: [{ route: [{ destination: { host: 'r' }, weight: 150 }] }] },
    ['error ERR_VS_WEIGHT spec.http[0].route[0].weight']],
  ['a fractional weight', { hosts: ['r'], http: [{ route: [{ destination: { host: 'r' }, weight: 1.5 }] }] },
    ['error ERR_FIELD_WRONG_TYPE spec.http[0].route[0].weight']],
  ['a single destination may omit weight', { hosts: ['r'], http: [{ route: [{ destination: { host: 'r' } }] }] }, []],
  ['an unknown retryOn token', route({ retries: { attempts: 2, retryOn: '5xx,retry-on-5xx' } }),
    ['error ERR_VS_RETRY_ON_UNKNOWN spec.http[0].retries.retryOn']],
  ['negative attempts', route({ retries: { attempts: -1 } }), ['error ERR_VS_RETRY_ATTEMPTS spec.http[0].retries.attempts']],
  ['a bad perTryTimeout', route({ retries: { attempts: 1, perTryTimeout: '2 seconds' } }),
    ['error ERR_VS_DURATION spec.http[0].retries.perTryTimeout']],
  ['a numeric timeout', route({ timeout: 10 }), ['error ERR_FIELD_WRONG_TYPE spec.http[0].timeout']],
  ['fault percentage above 100', route({ fault: { abort: { httpStatus: 500, percentage: { value: 120 } } } }),
    ['error ERR_VS_FAULT_PERCENTAGE spec.http[0].fault.abort.percentage.value']],
  ['fault abort status out of range', route({ fault: { abort: { httpStatus: 99 } } }),
    ['error ERR_VS_FAULT_ABORT_STATUS spec.http[0].fault.abort.httpStatus']],
  ['fault delay without fixedDelay', route({ fault: { delay: { percentage: { value: 5 } } } }),
    ['error ERR_VS_FAULT_DELAY spec.http[0].fault.delay.fixedDelay']],
  ['redirect with route', route({ redirect: { uri: '/x' } }), ['error ERR_VS_REDIRECT_WITH_ROUTE spec.http[0].redirect']],
  ['directResponse status out of range', { hosts: ['r'], http: [{ directResponse: { status: 700 } }] },
    ['error ERR_VS_DIRECT_RESPONSE_STATUS spec.http[0].directResponse.status']],
  ['neither route nor redirect', { hosts: ['r'], http: [{ timeout: '1s' }] }, ['error ERR_VS_ROUTE_MISSING spec.http[0]']],
  ['a StringMatch with two kinds', route({ match: [{ uri: { exact: '/a', prefix: '/b' } }] }),
    ['error ERR_VS_STRING_MATCH spec.http[0].match[0].uri']],
  ['a header match that is a string', route({ match: [{ headers: { 'x-a': 'b' } }] }),
    ['error ERR_FIELD_WRONG_TYPE spec.http[0].match[0].headers.x-a']],
  ['a tcp route without host', { hosts: ['r'], tcp: [{ route: [{ destination: {} }] }] },
    ['error ERR_VS_DESTINATION_HOST spec.tcp[0].route[0].destination.host']],
  ['spec is a list', [], ['error ERR_FIELD_WRONG_TYPE spec']],
];

describe('VirtualService validation', () => {
  it.each(cases)('%s', (_name, spec, expected) => {
    expect(summary(validateObject(kubeObject('VirtualService', 'reviews', spec)))).toEqual(expected);
  });

  it('names the unknown retryOn token and the object', () => {
    const [m] = validateObject(kubeObject('VirtualService', 'reviews', route({ retries: { retryOn: 'gateway-errors' } })));
    expect(m?.object).toBe('VirtualService default/reviews');
    expect(m?.message).toContain('"gateway-errors"');
  });
});
