// The weft.l7.v1 adapters put every field on the wire under the number and wire type protos/weft/l7/v1/*.proto
// declares, and the fixtures between them reach every field of every message (so a field the adapter forgot to
// encode shows up here as "never seen"). Enum numbers are checked against the .proto too.
import { join } from 'node:path';
import { fullAuthorization, fullRequestAuthentication, fullService } from '../test/l7-fixtures';
import { readProtoSchema, walkEncoding } from '../test/proto-schema';
import { L7Authorization_Action } from './generated/weft/l7/v1/authorization';
import { LoadBalancer_Simple } from './generated/weft/l7/v1/traffic_policy';
import { ServicePort_Protocol } from './generated/weft/l7/v1/waypoint_service';
import { encodeL7AuthorizationResource, encodeRequestAuthenticationResource, encodeWaypointServiceResource } from './l7-adapter';

const PROTO_ROOT = join(__dirname, '..', '..', '..', 'protos');
const schema = readProtoSchema(PROTO_ROOT, [
  'weft/l7/v1/common.proto',
  'weft/l7/v1/route.proto',
  'weft/l7/v1/traffic_policy.proto',
  'weft/l7/v1/waypoint_service.proto',
  'weft/l7/v1/authorization.proto',
  'weft/l7/v1/request_authentication.proto',
]);

function fieldsOf(messages: readonly string[]): string[] {
  return messages.flatMap((m) => [...(schema.messages.get(m)?.values() ?? [])].map((f) => `${m}.${f.name}`));
}

const l7Messages = [...schema.messages.keys()].filter((m) => m.startsWith('weft.l7.v1.'));

describe('weft.l7.v1 field numbers', () => {
  it('reads the schema: the messages and a few numbers the comments rely on', () => {
    expect(schema.messages.get('weft.l7.v1.WaypointService')?.get(9)?.name).toBe('traffic_policy_source');
    expect(schema.messages.get('weft.l7.v1.Rewrite')?.get(4)?.name).toBe('regex');
    expect(schema.messages.get('weft.l7.v1.JwtRule')?.get(11)?.type).toBe('google.protobuf.Duration');
    expect(l7Messages.length).toBeGreaterThanOrEqual(30);
  });

  it('puts every field on the wire under its .proto number and wire type, and the fixtures reach them all', () => {
    const seen = new Set<string>();
    walkEncoding(encodeWaypointServiceResource(fullService).value, 'weft.l7.v1.WaypointService', schema, seen);
    walkEncoding(encodeL7AuthorizationResource(fullAuthorization).value, 'weft.l7.v1.L7Authorization', schema, seen);
    walkEncoding(encodeRequestAuthenticationResource(fullRequestAuthentication).value, 'weft.l7.v1.RequestAuthentication', schema, seen);
    const wrappers = ['google.protobuf.BoolValue', 'google.protobuf.UInt32Value', 'google.protobuf.Duration'];
    // BoolValue false and a 0s Duration legitimately leave their inner field off the wire; the rest must appear.
    const expected = fieldsOf([...l7Messages, ...wrappers]).filter((f) => f !== 'google.protobuf.BoolValue.value');
    expect(expected.filter((f) => !seen.has(f))).toEqual([]);
  });

  it.each<[string, Record<string, string | number>]>([
    ['weft.l7.v1.ServicePort.Protocol', ServicePort_Protocol],
    ['weft.l7.v1.LoadBalancer.Simple', LoadBalancer_Simple],
    ['weft.l7.v1.L7Authorization.Action', L7Authorization_Action],
  ])('enum %s has the .proto numbers', (name, generated) => {
    const values = schema.enums.get(name);
    expect(values?.size).toBeGreaterThan(0);
    for (const [valueName, number] of values ?? []) expect(generated[valueName]).toBe(number);
  });
});
