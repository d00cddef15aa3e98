// Bounds-checked reader over one Buffer, for the generated decoders.
//
// Every read checks against `end` first and throws ProtocolError, so a decoder fed arbitrary bytes fails
// with that one error type. Lengths and element counts are checked against the bytes that remain BEFORE
// anything is allocated: a 2 GiB length in a 100-byte frame fails at once. Fixed-width reads go through a
// DataView (much faster than Buffer.readInt32BE in tight loops on Node 20). `bytes` and `records` are
// zero-copy subarrays of the input, so the input must not be reused while they are alive.
import { ProtocolError } from './protocol-error.js';

export class Reader {
  readonly buf: Buffer;
  readonly view: DataView;
  offset: number;
  end: number;

  constructor(buf: Buffer, offset = 0, end = buf.length) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.length);
    this.offset = offset;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  /** Reserves `n` bytes and returns their start offset. */
  #take(n: number): number {
    const at = this.offset;
    if (n > this.end - at)
      throw new ProtocolError(`truncated: need ${n} bytes at ${at}, have ${this.end - at}`);
    this.offset = at + n;
    return at;
  }

  int8(): number {
    return this.view.getInt8(this.#take(1));
  }

  int16(): number {
    return this.view.getInt16(this.#take(2));
  }

  uint16(): number {
    return this.view.getUint16(this.#take(2));
  }

  int32(): number {
    return this.view.getInt32(this.#take(4));
  }

  uint32(): number {
    return this.view.getUint32(this.#take(4));
  }

  int64(): bigint {
    return this.view.getBigInt64(this.#take(8));
  }

  float64(): number {
    return this.view.getFloat64(this.#take(8));
  }

  bool(): boolean {
    return this.view.getInt8(this.#take(1)) !== 0;
  }

  /** Kafka prints a uuid as its 16 bytes in unpadded base64url (22 characters). */
  uuid(): string {
    const at = this.#take(16);
    return this.buf.toString('base64url', at, at + 16);
  }

  unsignedVarint(): number {
    const buf = this.buf;
    let at = this.offset;
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (at >= this.end) throw new ProtocolError('truncated varint');
      const byte = buf[at++]!;
      value |= (byte & 0x7f) << shift;
      if (byte < 0x80) {
        this.offset = at;
        return value >>> 0;
      }
    }
    throw new ProtocolError('varint longer than 5 bytes');
  }

  /** The next `n` bytes as a zero-copy subarray. */
  raw(n: number): Buffer {
    const at = this.#take(n);
    return this.buf.subarray(at, at + n);
  }

  /** Length of a (nullable) string or bytes field; -1 means null. Checked against what remains. */
  #length(compact: boolean, wide: boolean): number {
    let n: number;
    if (compact) n = this.unsignedVarint() - 1;
    else if (wide) n = this.int32();
    else n = this.int16();
    if (n < -1) throw new ProtocolError(`negative length ${n}`);
    if (n > this.end - this.offset)
      throw new ProtocolError(`length ${n} exceeds the ${this.end - this.offset} bytes left`);
    return n;
  }

  string(compact: boolean): string {
    const n = this.#length(compact, false);
    if (n < 0) throw new ProtocolError('null for a non-nullable string');
    const at = this.offset;
    this.offset = at + n;
    return this.buf.toString('utf8', at, at + n);
  }

  nullableString(compact: boolean): string | null {
    const n = this.#length(compact, false);
    if (n < 0) return null;
    const at = this.offset;
    this.offset = at + n;
    return this.buf.toString('utf8', at, at + n);
  }

  bytes(compact: boolean): Buffer {
    const n = this.#length(compact, true);
    if (n < 0) throw new ProtocolError('null for non-nullable bytes');
    const at = this.offset;
    this.offset = at + n;
    return this.buf.subarray(at, at + n);
  }

  nullableBytes(compact: boolean): Buffer | null {
    const n = this.#length(compact, true);
    if (n < 0) return null;
    const at = this.offset;
    this.offset = at + n;
    return this.buf.subarray(at, at + n);
  }

  /**
   * Element count of an array; -1 means null (only when `nullable`). Kafka's own decoders apply the same
   * bound: a count larger than the bytes that remain cannot be valid, so it fails before any allocation.
   */
  arrayLength(compact: boolean, nullable: boolean): number {
    const n = compact ? this.unsignedVarint() - 1 : this.int32();
    if (n < 0) {
      if (n === -1 && nullable) return -1;
      throw new ProtocolError(n === -1 ? 'null for a non-nullable array' : `negative array length ${n}`);
    }
    if (n > this.end - this.offset)
      throw new ProtocolError(`array length ${n} exceeds the ${this.end - this.offset} bytes left`);
    return n;
  }

  /** Narrows `end` to the next `size` bytes (a tagged field's value); returns the previous end. */
  pushLimit(size: number): number {
    const previous = this.end;
    if (size > previous - this.offset)
      throw new ProtocolError(`tagged field size ${size} exceeds the bytes left`);
    this.end = this.offset + size;
    return previous;
  }

  /** Restores the end saved by pushLimit; the tagged value must have used exactly its declared size. */
  popLimit(previous: number): void {
    if (this.offset !== this.end) throw new ProtocolError('tagged field size does not match its value');
    this.end = previous;
  }
}
