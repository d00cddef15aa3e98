// Variable-length integers, as Kafka encodes them.
//
// Unsigned varint (flexible message versions: compact lengths, tagged-field tags and sizes): 7 bits per
// byte, least significant group first, high bit set on every byte but the last. At most 5 bytes for 32 bits.
// Signed varint / varlong (record fields inside a RecordBatch): zig-zag mapped, then the same 7-bit groups;
// at most 5 bytes for 32 bits and 10 bytes for 64 bits.
//
// Decoders return the value and the offset after it, and throw ProtocolError on truncated or over-long input.
import { ProtocolError } from './protocol-error.js';

export interface Decoded<T> {
  value: T;
  offset: number;
}

export function readUnsignedVarint(buf: Uint8Array, offset: number): Decoded<number> {
  let value = 0;
  for (let i = 0; i < 5; i++) {
    if (offset >= buf.length) throw new ProtocolError('truncated varint');
    const byte = buf[offset++]!;
    value |= (byte & 0x7f) << (7 * i);
    if ((byte & 0x80) === 0) return { value: value >>> 0, offset };
  }
  throw new ProtocolError('varint longer than 5 bytes');
}

export function readVarint(buf: Uint8Array, offset: number): Decoded<number> {
  const { value, offset: next } = readUnsignedVarint(buf, offset);
  return { value: (value >>> 1) ^ -(value & 1), offset: next };
}

export function readVarlong(buf: Uint8Array, offset: number): Decoded<bigint> {
  let raw = 0n;
  for (let i = 0; i < 10; i++) {
    if (offset >= buf.length) throw new ProtocolError('truncated varlong');
    const byte = buf[offset++]!;
    raw |= BigInt(byte & 0x7f) << BigInt(7 * i);
    if ((byte & 0x80) === 0) {
      raw = BigInt.asUintN(64, raw);
      return { value: (raw >> 1n) ^ -(raw & 1n), offset };
    }
  }
  throw new ProtocolError('varlong longer than 10 bytes');
}

export function unsignedVarintSize(value: number): number {
  let v = value >>> 0;
  let size = 1;
  while (v >= 0x80) {
    v >>>= 7;
    size++;
  }
  return size;
}

export function varintSize(value: number): number {
  return unsignedVarintSize(((value << 1) ^ (value >> 31)) >>> 0);
}

export function varlongSize(value: bigint): number {
  let v = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
  let size = 1;
  while (v >= 0x80n) {
    v >>= 7n;
    size++;
  }
  return size;
}

/** Writes `value` at `offset` in `buf` and returns the offset after it. The caller sizes `buf`. */
export function writeUnsignedVarint(buf: Uint8Array, offset: number, value: number): number {
  let v = value >>> 0;
  while (v >= 0x80) {
    buf[offset++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[offset++] = v;
  return offset;
}

export function writeVarint(buf: Uint8Array, offset: number, value: number): number {
  return writeUnsignedVarint(buf, offset, ((value << 1) ^ (value >> 31)) >>> 0);
}

export function writeVarlong(buf: Uint8Array, offset: number, value: bigint): number {
  let v = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
  while (v >= 0x80n) {
    buf[offset++] = Number(v & 0x7fn) | 0x80;
    v >>= 7n;
  }
  buf[offset++] = Number(v);
  return offset;
}
