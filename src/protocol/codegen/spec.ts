// Loads Kafka's JSON message specs (JSON with `//` comments) into a normalized model for the emitter.
// Only structure is kept (names, types, version ranges, tags, defaults); the specs' prose is dropped here.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Inclusive version range. `max` is MAX_VERSION for an open range ("3+"). */
export interface Range {
  min: number;
  max: number;
}

export const MAX_VERSION = 0x7fff;

export type Primitive =
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'float64'
  | 'bool'
  | 'string'
  | 'bytes'
  | 'uuid'
  | 'records';

export type TypeModel =
  | { kind: 'primitive'; name: Primitive }
  | { kind: 'array'; of: TypeModel }
  | { kind: 'struct'; struct: string };

export interface FieldModel {
  /** Name as in the spec (PascalCase in messages, sometimes camelCase in internal formats). */
  specName: string;
  /** Property name in TypeScript. */
  prop: string;
  type: TypeModel;
  versions: Range | null;
  nullable: Range | null;
  tagged: Range | null;
  tag: number | null;
  /** Versions in which strings/bytes/arrays use compact encodings, when the field overrides its message. */
  flexibleOverride: Range | null | undefined;
  ignorable: boolean;
  /** Raw default from the spec (string, number or boolean), or undefined. */
  default: string | number | boolean | undefined;
}

export interface StructModel {
  /** TypeScript type name, prefixed with the message name. */
  name: string;
  fields: FieldModel[];
}

export interface MessageModel {
  /** Spec name, e.g. HeartbeatRequest. */
  name: string;
  kind: 'request' | 'response' | 'header' | 'data';
  apiKey: number | null;
  valid: Range;
  flexible: Range | null;
  /** Top-level struct (its name is the message name) and every nested/common struct. */
  root: StructModel;
  structs: Map<string, StructModel>;
}

/** Removes `//` comments outside string literals. */
export function stripComments(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else out += c;
  }
  return out;
}

export function parseRange(text: string | undefined): Range | null {
  if (text === undefined || text === 'none') return null;
  const plus = /^(\d+)\+$/.exec(text);
  if (plus) return { min: Number(plus[1]), max: MAX_VERSION };
  const span = /^(\d+)-(\d+)$/.exec(text);
  if (span) return { min: Number(span[1]), max: Number(span[2]) };
  if (/^\d+$/.test(text)) return { min: Number(text), max: Number(text) };
  throw new Error(`bad version range ${JSON.stringify(text)}`);
}

export function camelCase(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

interface RawField {
  name: string;
  type: string;
  versions?: string;
  nullableVersions?: string;
  taggedVersions?: string;
  tag?: number;
  flexibleVersions?: string;
  ignorable?: boolean;
  default?: string | number | boolean;
  fields?: RawField[];
}

interface RawSpec {
  name: string;
  type: MessageModel['kind'];
  apiKey?: number;
  validVersions: string;
  flexibleVersions?: string;
  fields?: RawField[];
  commonStructs?: { name: string; versions?: string; fields: RawField[] }[];
}

const PRIMITIVES = new Set<string>([
  'int8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'float64',
  'bool',
  'string',
  'bytes',
  'uuid',
  'records',
]);

export function parseSpec(text: string): MessageModel {
  const raw = JSON.parse(stripComments(text)) as RawSpec;
  const valid = parseRange(raw.validVersions);
  if (valid === null) throw new Error(`${raw.name}: no valid versions`);
  const structs = new Map<string, StructModel>();
  const prefix = raw.name;
  // Struct types carry the message name so request and response structs never clash in one file; a spec
  // name that already starts with it (MetadataResponsePartition) is not prefixed twice.
  const structName = (specType: string): string =>
    specType.startsWith(prefix) ? specType : prefix + specType;

  const convertFields = (fields: RawField[]): FieldModel[] => fields.map(convertField);
  const convertType = (type: string, field: RawField): TypeModel => {
    if (type.startsWith('[]')) return { kind: 'array', of: convertType(type.slice(2), field) };
    if (PRIMITIVES.has(type)) return { kind: 'primitive', name: type as Primitive };
    const name = structName(type);
    if (field.fields !== undefined) {
      if (structs.has(name)) throw new Error(`${raw.name}: struct ${type} defined twice`);
      const struct: StructModel = { name, fields: [] };
      structs.set(name, struct);
      struct.fields = convertFields(field.fields);
    }
    return { kind: 'struct', struct: name };
  };
  const convertField = (field: RawField): FieldModel => {
    const tagged = parseRange(field.taggedVersions);
    return {
      specName: field.name,
      prop: camelCase(field.name),
      type: convertType(field.type, field),
      versions: field.versions !== undefined ? parseRange(field.versions) : tagged,
      nullable: parseRange(field.nullableVersions),
      tagged,
      tag: field.tag ?? null,
      flexibleOverride: field.flexibleVersions === undefined ? undefined : parseRange(field.flexibleVersions),
      ignorable: field.ignorable === true,
      default: field.default,
    };
  };

  for (const common of raw.commonStructs ?? []) {
    const name = structName(common.name);
    const struct: StructModel = { name, fields: [] };
    structs.set(name, struct);
  }
  for (const common of raw.commonStructs ?? []) {
    structs.get(structName(common.name))!.fields = convertFields(common.fields);
  }
  const root: StructModel = { name: raw.name, fields: convertFields(raw.fields ?? []) };
  const check = (struct: StructModel) => {
    for (const field of struct.fields) {
      let t = field.type;
      while (t.kind === 'array') t = t.of;
      if (t.kind === 'struct' && !structs.has(t.struct))
        throw new Error(`${raw.name}: unknown type ${t.struct}`);
    }
  };
  check(root);
  structs.forEach(check);
  return {
    name: raw.name,
    kind: raw.type,
    apiKey: raw.apiKey ?? null,
    valid,
    flexible: parseRange(raw.flexibleVersions),
    root,
    structs,
  };
}

export function loadSpecs(dir: string): MessageModel[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => {
      try {
        return parseSpec(readFileSync(join(dir, file), 'utf8'));
      } catch (error) {
        throw new Error(`${file}: ${(error as Error).message}`, { cause: error });
      }
    });
}
