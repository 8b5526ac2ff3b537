// ServiceEntry checks (istio/api networking/v1alpha3 service_entry.proto, istio `ValidateServiceEntry`): hosts,
// ports, resolution and addresses of services the mesh does not discover from Kubernetes.

import { parseCidr } from '@weft/policy';
import { FieldReader, type PlainObject } from './validate-reader';

export const SERVICE_ENTRY_RESOLUTIONS = ['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN'] as const;
const LOCATIONS = ['MESH_EXTERNAL', 'MESH_INTERNAL'] as const;

/** Istio's protocol names (`protocol.Parse`, case-insensitive). */
export const PORT_PROTOCOLS: readonly string[] = [
  'HTTP', 'HTTPS', 'HTTP2', 'HTTP_PROXY', 'GRPC', 'GRPC-WEB', 'TCP', 'TLS', 'UDP', 'MONGO', 'REDIS', 'MYSQL', 'THRIFT', 'HBONE',
];

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function checkPorts(r: FieldReader, value: unknown): void {
  const numbers = new Map<number, string>();
  for (const [port, path] of r.eachRecord(value, 'spec.ports')) {
    if (port['number'] === undefined || port['number'] === null) {
      r.error('ERR_SE_PORT_NUMBER', `${path}.number`, 'port number is required');
    }
    const number = r.integer(port['number'], `${path}.number`, 'ERR_SE_PORT_NUMBER', 1, 65535);
    if (number !== undefined) {
      const other = numbers.get(number);
      if (other !== undefined) r.error('ERR_SE_PORT_NUMBER', `${path}.number`, `port number ${number} is also used by ${other}`);
      numbers.set(number, path);
    }
    r.integer(port['targetPort'], `${path}.targetPort`, 'ERR_SE_PORT_NUMBER', 1, 65535);
    const name = r.string(port['name'], `${path}.name`);
    if (name === undefined || name === '') r.error('ERR_SE_PORT_NAME', `${path}.name`, 'port name is required');
    else if (!DNS1123_LABEL.test(name.toLowerCase())) r.error('ERR_SE_PORT_NAME', `${path}.name`, `invalid port name "${name}"`);
    const protocol = r.string(port['protocol'], `${path}.protocol`);
    if (protocol !== undefined && !PORT_PROTOCOLS.includes(protocol.toUpperCase())) {
      r.error('ERR_SE_PORT_PROTOCOL', `${path}.protocol`, `unsupported protocol "${protocol}": must be one of ${PORT_PROTOCOLS.join(', ')}`);
    }
  }
}

/** Checks `spec` of a `networking.istio.io` ServiceEntry. */
export function validateServiceEntrySpec(r: FieldReader, spec: PlainObject): void {
  const hosts = r.stringList(spec['hosts'], 'spec.hosts');
  if (hosts === undefined || hosts.length === 0) r.error('ERR_SE_HOSTS_MISSING', 'spec.hosts', 'ServiceEntry must have at least one host');
  hosts?.forEach((host, i) => {
    if (host === '') r.error('ERR_SE_HOSTS_MISSING', `spec.hosts[${i}]`, 'host must not be empty');
  });
  checkPorts(r, spec['ports']);
  const resolution = r.oneOf(spec['resolution'], 'spec.resolution', 'ERR_SE_RESOLUTION', SERVICE_ENTRY_RESOLUTIONS);
  r.oneOf(spec['location'], 'spec.location', 'ERR_SE_LOCATION', LOCATIONS);
  const addresses = r.stringList(spec['addresses'], 'spec.addresses') ?? [];
  addresses.forEach((address, i) => {
    if (parseCidr(address) === undefined) {
      r.error('ERR_SE_ADDRESS', `spec.addresses[${i}]`, `"${address}" is not an IP address or CIDR block`);
    }
  });
  const endpoints = r.eachRecord(spec['endpoints'], 'spec.endpoints');
  for (const [endpoint, path] of endpoints) {
    const address = r.string(endpoint['address'], `${path}.address`);
    if (resolution === 'STATIC' && address !== undefined && !address.startsWith('unix://') && parseCidr(address) === undefined) {
      r.error('ERR_SE_ADDRESS', `${path}.address`, `endpoint address "${address}" must be an IP address with resolution STATIC`);
    }
    r.stringMap(endpoint['labels'], `${path}.labels`);
    const ports = r.record(endpoint['ports'], `${path}.ports`);
    for (const [name, value] of Object.entries(ports ?? {})) {
      r.integer(value, `${path}.ports.${name}`, 'ERR_SE_PORT_NUMBER', 1, 65535);
    }
  }
  if (spec['workloadSelector'] !== undefined && endpoints.length > 0) {
    r.error('ERR_SE_ENDPOINTS', 'spec.workloadSelector', 'only one of endpoints or workloadSelector can be set');
  }
}
