// Test-only reader of the .proto files: message fields (number, type, label) and enum values, enough to walk an
// encoding field by field and check that every tag on the wire is the one the schema declares. Not a proto parser
// for general use: it knows the subset of syntax protos/weft uses (messages, nested messages, enums, oneofs, maps).

import { BinaryReader } from '@bufbuild/protobuf/wire';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ProtoField {
  readonly name: string;
  readonly number: number;
  /** Fully qualified message or enum name, or a scalar type name. */
  readonly type: string;
  readonly repeated: boolean;
  /** For map fields, the value type (the key is always a scalar here). */
  readonly mapValue?: string;
}

export interface ProtoSchema {
  readonly messages: ReadonlyMap<string, ReadonlyMap<number, ProtoField>>;
  readonly enums: ReadonlyMap<string, ReadonlyMap<string, number>>;
}

const SCALARS = new Set(['string', 'bytes', 'bool', 'double', 'float', 'int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'fixed32', 'fixed64']);

/** google.protobuf types the weft protos import, written out rather than read from an include path. */
const WELL_KNOWN: Record<string, ProtoField[]> = {
  'google.protobuf.Duration': [
    { name: 'seconds', number: 1, type: 'int64', repeated: false },
    { name: 'nanos', number: 2, type: 'int32', repeated: false },
  ],
  'google.protobuf.BoolValue': [{ name: 'value', number: 1, type: 'bool', repeated: false }],
  'google.protobuf.UInt32Value': [{ name: 'value', number: 1, type: 'uint32', repeated: false }],
};

interface RawField extends Omit<ProtoField, 'type' | 'mapValue'> {
  readonly scope: string;
  readonly rawType: string;
  readonly rawMapValue?: string;
}

export function readProtoSchema(protoRoot: string, files: readonly string[]): ProtoSchema {
  const raw = new Map<string, RawField[]>();
  const enums = new Map<string, Map<string, number>>();
  for (const file of files) {
    const text = readFileSync(join(protoRoot, file), 'utf8').replace(/\/\/.*$/gm, '');
    const pkg = /package\s+([\w.]+)\s*;/.exec(text)?.[1] ?? '';
    const stack: { kind: 'message' | 'enum' | 'oneof'; name: string }[] = [];
    const scope = (): string => [pkg, ...stack.filter((s) => s.kind !== 'oneof').map((s) => s.name)].join('.');
    for (const token of text.split(/(?<=[{};])/)) {
      const t = token.trim();
      const open = /^(message|enum|oneof)\s+(\w+)\s*\{$/.exec(t);
      if (open !== null) {
        const kind = open[1] as 'message' | 'enum' | 'oneof';
        stack.push({ kind, name: open[2] ?? '' });
        if (kind === 'message') raw.set(scope(), raw.get(scope()) ?? []);
        if (kind === 'enum') enums.set(scope(), new Map());
        continue;
      }
      if (t === '}') {
        stack.pop();
        continue;
      }
      const top = stack[stack.length - 1];
      if (top?.kind === 'enum') {
        const value = /^(\w+)\s*=\s*(-?\d+)\s*;$/.exec(t);
        if (value !== null) enums.get(scope())?.set(value[1] ?? '', Number(value[2]));
        continue;
      }
      const field = /^(repeated\s+)?(?:map<\s*\w+\s*,\s*([\w.]+)\s*>|([\w.]+))\s+(\w+)\s*=\s*(\d+)\s*;$/.exec(t);
      if (field === null || top === undefined) continue;
      const isMap = field[2] !== undefined;
      raw.get(scope())?.push({
        scope: scope(),
        name: field[4] ?? '',
        number: Number(field[5]),
        repeated: field[1] !== undefined || isMap,
        rawType: isMap ? 'map' : field[3] ?? '',
        ...(isMap ? { rawMapValue: field[2] ?? '' } : {}),
      });
    }
  }
  const known = new Set([...raw.keys(), ...enums.keys(), ...Object.keys(WELL_KNOWN)]);
  const resolve = (type: string, scope: string): string => {
    if (SCALARS.has(type)) return type;
    const parts = scope.split('.');
    for (let i = parts.length; i >= 0; i--) {
      const candidate = [...parts.slice(0, i), type].join('.');
      if (known.has(candidate)) return candidate;
    }
    throw new Error(`unresolved type ${type} in ${scope}`);
  };
  const messages = new Map<string, Map<number, ProtoField>>();
  for (const [name, fields] of Object.entries(WELL_KNOWN)) messages.set(name, new Map(fields.map((f) => [f.number, f])));
  for (const [name, fields] of raw) {
    messages.set(
      name,
      new Map(
        fields.map((f) => [
          f.number,
          {
            name: f.name,
            number: f.number,
            repeated: f.repeated,
            type: f.rawType === 'map' ? 'map' : resolve(f.rawType, f.scope),
            ...(f.rawMapValue === undefined ? {} : { mapValue: resolve(f.rawMapValue, f.scope) }),
          },
        ]),
      ),
    );
  }
  return { messages, enums };
}

const VARINT = 0;
const I64 = 1;
const LEN = 2;

function expectedWireType(field: ProtoField, type: string, schema: ProtoSchema): number {
  if (type === 'double' || type === 'fixed64') return I64;
  if (type === 'string' || type === 'bytes' || type === 'map' || schema.messages.has(type)) return LEN;
  return VARINT;
}

/**
 * Walks an encoding of `message`, recording `Message.field` for every field present, and throws when a tag names a
 * field the schema lacks or carries the wrong wire type. Packed repeated scalars arrive as LEN and are accepted.
 */
export function walkEncoding(bytes: Uint8Array, message: string, schema: ProtoSchema, seen: Set<string>): void {
  const fields = schema.messages.get(message);
  if (fields === undefined) throw new Error(`unknown message ${message}`);
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [number, wireType] = reader.tag();
    const field = fields.get(number);
    if (field === undefined) throw new Error(`${message}: field number ${number} is not in the .proto`);
    const expected = expectedWireType(field, field.type, schema);
    const packed = field.repeated && expected !== LEN && wireType === LEN;
    if (wireType !== expected && !packed) throw new Error(`${message}.${field.name} (${number}): wire type ${wireType}, expected ${expected}`);
    seen.add(`${message}.${field.name}`);
    if (field.type === 'map') {
      const entry = reader.bytes();
      const entryReader = new BinaryReader(entry);
      while (entryReader.pos < entryReader.len) {
        const [n, w] = entryReader.tag();
        if (n === 2 && field.mapValue !== undefined && schema.messages.has(field.mapValue)) {
          walkEncoding(entryReader.bytes(), field.mapValue, schema, seen);
        } else {
          entryReader.skip(w);
        }
      }
    } else if (schema.messages.has(field.type)) {
      walkEncoding(reader.bytes(), field.type, schema, seen);
    } else {
      reader.skip(wireType);
    }
  }
}
