import { kubeObject, summary } from '../test/validation/objects';
import { validateObject } from './validate-objects';

const cases: readonly (readonly [string, unknown, readonly string[]])[] = [
  ['a valid DNS entry', { hosts: ['api.example.com'], ports: [{ number: 443, name: 'https', protocol: 'TLS' }], resolution: 'DNS', location: 'MESH_EXTERNAL' }, []],
  ['a valid STATIC entry with addresses', {
    hosts: ['db.internal'], addresses: ['10.0.0.0/24', '2001:db8::1'], ports: [{ number: 5432, name: 'tcp', protocol: 'tcp' }],
    resolution: 'STATIC', endpoints: [{ address: '10.0.0.5' }],
  }, []],
  ['hosts missing', { ports: [{ number: 80, name: 'http', protocol: 'HTTP' }] }, ['error ERR_SE_HOSTS_MISSING spec.hosts']],
  ['port without number', { hosts: ['a'], ports: [{ name: 'http', protocol: 'HTTP' }] }, ['error ERR_SE_PORT_NUMBER spec.ports[0].number']],
  ['port out of range', { hosts: ['a'], ports: [{ number: 70000, name: 'http' }] }, ['error ERR_SE_PORT_NUMBER spec.ports[0].number']],
  ['port without name', { hosts: ['a'], ports: [{ number: 80, protocol: 'HTTP' }] }, ['error ERR_SE_PORT_NAME spec.ports[0].name']],
  ['unknown protocol', { hosts: ['a'], ports: [{ number: 80, name: 'x', protocol: 'QUIC' }] }, ['error ERR_SE_PORT_PROTOCOL spec.ports[0].protocol']],
  ['unknown resolution', { hosts: ['a'], resolution: 'DNS_ONLY' }, ['error ERR_SE_RESOLUTION spec.resolution']],
  ['address not an IP', { hosts: ['a'], addresses: ['example.com'] }, ['error ERR_SE_ADDRESS spec.addresses[0]']],
  ['STATIC endpoint that is a hostname', { hosts: ['a'], resolution: 'STATIC', endpoints: [{ address: 'db.example.com' }] },
    ['error ERR_SE_ADDRESS spec.endpoints[0].address']],
];

describe('ServiceEntry validation', () => {
  it.each(cases)('%s', (_name, spec, expected) => {
    expect(summary(validateObject(kubeObject('ServiceEntry', 'ext', spec)))).toEqual(expected);
  });
});
