// Random, non-default values for any generated message at any version, driven by the generated schema
// (src/protocol/messages/schema.ts), not by the codecs under test. Fields a version lacks get their default,
// so encode -> decode must give back exactly the generated value.
import type { SchemaField, SchemaMessage } from '../../src/protocol/messages/schema.js';

export type Random = () => number;

/** mulberry32: small, fast and deterministic for a seed. */
export function seeded(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const inRange = (r: readonly [number, number] | null, v: number) => r !== null && v >= r[0] && v <= r[1];

const SCALARS = new Set([
  'int8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'float64',
  'bool',
  'string',
  'uuid',
]);

export class ValueGenerator {
  constructor(
    readonly message: SchemaMessage,
    readonly random: Random,
    /** Chance that an optional thing (null, unknown tags, default values) is picked. */
    readonly nullChance = 0.25,
  ) {}

  int(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1));
  }

  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(0, 255);
    return b;
  }

  string(): string {
    const alphabet = ['a', 'b', 'z', 'K', '0', '-', '.', '_', 'é', '€', '😀', ' '];
    let s = '';
    const n = this.int(0, 8);
    for (let i = 0; i < n; i++) s += alphabet[this.int(0, alphabet.length - 1)];
    return s;
  }

  scalar(type: string): unknown {
    switch (type) {
      case 'int8':
        return this.int(-128, 127);
      case 'int16':
        return this.int(-32768, 32767);
      case 'uint16':
        return this.int(0, 65535);
      case 'int32':
        return this.int(-0x80000000, 0x7fffffff);
      case 'uint32':
        return this.int(0, 0xffffffff);
      case 'int64':
        return this.bytes(8).readBigInt64BE(0);
      case 'float64':
        return this.bytes(8).readDoubleBE(0) || 1.5;
      case 'bool':
        return this.random() < 0.5;
      case 'string':
        return this.string();
      case 'uuid':
        return this.bytes(16).toString('base64url');
      case 'bytes':
      case 'records':
        return this.bytes(this.int(0, 24));
    }
    throw new Error(`unknown scalar ${type}`);
  }

  defaultOf(field: SchemaField): unknown {
    if (field.defaultNull) return null;
    if (field.type.startsWith('[]')) return [];
    if (field.type === 'bytes') return Buffer.alloc(0);
    if (field.type === 'records') return field.nullable === null ? Buffer.alloc(0) : null;
    if (SCALARS.has(field.type)) return field.default;
    return this.defaultStruct(field.type);
  }

  defaultStruct(name: string): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const f of this.fields(name)) out[f.prop] = this.defaultOf(f);
    return out;
  }

  fields(name: string): readonly SchemaField[] {
    const fields = this.message.structs[name];
    if (fields === undefined) throw new Error(`no struct ${name}`);
    return fields;
  }

  isFlexible(version: number): boolean {
    return inRange(this.message.flexible, version);
  }

  struct(name: string, version: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const f of this.fields(name)) {
      const present =
        f.tagged !== null
          ? inRange(f.tagged, version) && this.isFlexible(version)
          : inRange(f.versions, version);
      out[f.prop] = present ? this.fieldValue(f, version) : this.defaultOf(f);
    }
    if (this.isFlexible(version) && this.random() < this.nullChance) {
      const count = this.int(1, 2);
      const tags = [];
      for (let i = 0; i < count; i++)
        tags.push({ tag: 10_000 + i * 7 + this.int(0, 5), data: this.bytes(this.int(0, 5)) });
      out._unknownTaggedFields = tags;
    }
    return out;
  }

  fieldValue(f: SchemaField, version: number): unknown {
    if (inRange(f.nullable, version) && this.random() < this.nullChance) return null;
    if (f.tagged !== null && this.random() < this.nullChance) return this.defaultOf(f);
    if (f.type.startsWith('[]')) {
      const elem = f.type.slice(2);
      const n = this.int(0, 3);
      const out: unknown[] = [];
      for (let i = 0; i < n; i++)
        out.push(SCALARS.has(elem) ? this.scalar(elem) : this.struct(elem, version));
      return out;
    }
    if (SCALARS.has(f.type) || f.type === 'bytes' || f.type === 'records') return this.scalar(f.type);
    return this.struct(f.type, version);
  }

  /** A value of the message's top-level struct. */
  message_(version: number): Record<string, unknown> {
    return this.struct(this.message.name, version);
  }
}
