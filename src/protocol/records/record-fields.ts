// Readers for the fields inside a RecordBatch v2 record body: zigzag varints and varlongs, and
// varint-length-prefixed byte strings (-1 is null). They advance the shared position `at.pos` instead of
// returning one, so reading a field allocates nothing. Both record decoders use them: the protocol layer's
// (record-batch.ts) and the client consumer's (which builds ConsumerRecords directly).
import { ProtocolError } from '../primitives/protocol-error.js';

/** The read position inside the record bytes being decoded. */
export const at = { pos: 0 };

export function readVarint(buf: Uint8Array, end: number): number {
  // Most record fields (lengths under 64, small deltas) are one byte.
  if (at.pos < end) {
    const first = buf[at.pos]!;
    if (first < 0x80) {
      at.pos++;
      return (first >>> 1) ^ -(first & 1);
    }
  }
  let raw = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (at.pos >= end) throw new ProtocolError('truncated varint in record');
    const byte = buf[at.pos++]!;
    raw |= (byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return (raw >>> 1) ^ -(raw & 1);
  }
  throw new ProtocolError('varint longer than 5 bytes in record');
}

export function readVarlong(buf: Uint8Array, end: number): number {
  if (at.pos < end) {
    const first = buf[at.pos]!;
    if (first < 0x80) {
      at.pos++;
      return (first >>> 1) ^ -(first & 1);
    }
  }
  let raw = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (at.pos >= end) throw new ProtocolError('truncated varlong in record');
    const byte = buf[at.pos++]!;
    raw += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) {
      if (raw > Number.MAX_SAFE_INTEGER) throw new ProtocolError('varlong outside the safe integer range');
      return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
    }
    scale *= 128;
  }
  throw new ProtocolError('varlong longer than 10 bytes in record');
}

/** A length-prefixed field as a view of `buf`, or null. */
export function readBytes(buf: Buffer, end: number, what: string): Buffer | null {
  const length = readVarint(buf, end);
  if (length === -1) return null;
  if (length < -1 || length > end - at.pos) throw new ProtocolError(`bad ${what} length ${length}`);
  const start = at.pos;
  at.pos += length;
  return buf.subarray(start, at.pos);
}

/** Skips a length-prefixed field without making a view of it. */
export function skipBytes(buf: Uint8Array, end: number, what: string): void {
  const length = readVarint(buf, end);
  if (length < -1 || length > end - at.pos) throw new ProtocolError(`bad ${what} length ${length}`);
  if (length > 0) at.pos += length;
}
