// Growable writer for the generated encoders.
//
// Bytes go into one buffer that doubles when full. For a broker's Fetch response the record data should not
// be copied at all: a `records` value may be a RecordsRef (any object with a byteLength that is not a
// Buffer, e.g. a file region to be sendfile'd), and Buffers of LARGE_CHUNK bytes or more are not copied
// either. Both become chunks of their own in toChunks(), for writev/sendfile. toBuffer() returns one Buffer
// and refuses when a RecordsRef is present, since its bytes are not in memory.
import { ProtocolError } from './protocol-error.js';

/** Record data that lives elsewhere (a file region, a ring slot): only its size is known to the encoder. */
export interface RecordsRef {
  readonly byteLength: number;
}

export type Chunk = Buffer | RecordsRef;

/**
 * bytes/records Buffers at least this large are kept by reference: toChunks() hands them out as they are
 * (64 KiB record sets are never copied), and toBuffer() copies them once, straight into the result,
 * instead of first into the frame buffer and then out of it.
 */
export const LARGE_CHUNK = 4 * 1024;

const UUID_BYTES = 16;

// Frames are built in one shared scratch buffer and copied out once at the end: allocating a fresh
// ArrayBuffer per growth step costs far more than the copy on Node 20 (GC pressure from external memory).
// Only writers made by Writer.forFrame() use it, and only one at a time: encoding is synchronous, so a new
// frame writer may take it over from an abandoned one (one that threw half-way).
const SCRATCH_MAX = 8 * 1024 * 1024;
let scratch: Buffer | undefined;
let scratchOwner: Writer | undefined;

export class Writer {
  #buf: Buffer;
  #view: DataView;
  #pos = 0;
  /** Start of the bytes in #buf not yet handed to #chunks. */
  #segmentStart = 0;
  #chunks: Chunk[] | undefined;
  #chunkedBytes = 0;
  #hasRef = false;
  #scratch = false;

  constructor(initialCapacity = 256) {
    this.#buf = Buffer.allocUnsafe(initialCapacity);
    this.#view = new DataView(this.#buf.buffer, this.#buf.byteOffset, this.#buf.length);
  }

  /**
   * A writer over the shared scratch buffer, for a whole frame: its output is copied out by toBuffer() or
   * toChunks(), and it must be finished before the next forFrame() writer starts writing.
   */
  static forFrame(): Writer {
    const w = new Writer(0);
    scratch ??= Buffer.allocUnsafe(64 * 1024);
    w.#adopt(scratch);
    w.#scratch = true;
    scratchOwner = w;
    return w;
  }

  #adopt(buf: Buffer): void {
    this.#buf = buf;
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.length);
  }

  #checkOwner(): void {
    if (this.#scratch && scratchOwner !== this)
      throw new Error('a newer frame writer took over the scratch buffer');
  }

  /** True once a RecordsRef was written: only toChunks() can return the message then. */
  get hasRecordsRef(): boolean {
    return this.#hasRef;
  }

  /** Bytes written so far, RecordsRef sizes included. */
  get length(): number {
    return this.#chunkedBytes + this.#pos - this.#segmentStart;
  }

  #ensure(n: number): number {
    const at = this.#pos;
    if (at + n <= this.#buf.length) return at;
    // Only the current segment moves: earlier chunks are subarrays of the old buffer, which stays untouched.
    const used = at - this.#segmentStart;
    this.#checkOwner();
    const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, used + n, 256));
    this.#buf.copy(next, 0, this.#segmentStart, at);
    if (this.#scratch) {
      if (this.#chunks !== undefined) {
        // Earlier chunks point into the old scratch buffer: it becomes theirs, and this writer leaves
        // the scratch scheme (its new buffer is its own).
        this.#scratch = false;
        scratchOwner = undefined;
        scratch = undefined;
      } else if (next.length <= SCRATCH_MAX) scratch = next;
    }
    this.#adopt(next);
    this.#segmentStart = 0;
    this.#pos = used;
    return used;
  }

  int8(v: number): void {
    const at = this.#ensure(1);
    this.#view.setInt8(at, v);
    this.#pos = at + 1;
  }

  int16(v: number): void {
    const at = this.#ensure(2);
    this.#view.setInt16(at, v);
    this.#pos = at + 2;
  }

  uint16(v: number): void {
    const at = this.#ensure(2);
    this.#view.setUint16(at, v);
    this.#pos = at + 2;
  }

  int32(v: number): void {
    const at = this.#ensure(4);
    this.#view.setInt32(at, v);
    this.#pos = at + 4;
  }

  uint32(v: number): void {
    const at = this.#ensure(4);
    this.#view.setUint32(at, v);
    this.#pos = at + 4;
  }

  int64(v: bigint): void {
    const at = this.#ensure(8);
    this.#view.setBigInt64(at, v);
    this.#pos = at + 8;
  }

  float64(v: number): void {
    const at = this.#ensure(8);
    this.#view.setFloat64(at, v);
    this.#pos = at + 8;
  }

  bool(v: boolean): void {
    const at = this.#ensure(1);
    this.#buf[at] = v ? 1 : 0;
    this.#pos = at + 1;
  }

  uuid(v: string): void {
    const bytes = Buffer.from(v, 'base64url');
    if (v.length !== 22 || bytes.length !== UUID_BYTES)
      throw new ProtocolError(`not a uuid: ${JSON.stringify(v)}`);
    this.raw(bytes);
  }

  unsignedVarint(v: number): void {
    let at = this.#ensure(5);
    const buf = this.#buf;
    let rest = v >>> 0;
    while (rest >= 0x80) {
      buf[at++] = (rest & 0x7f) | 0x80;
      rest >>>= 7;
    }
    buf[at++] = rest;
    this.#pos = at;
  }

  raw(data: Uint8Array): void {
    const at = this.#ensure(data.length);
    this.#buf.set(data, at);
    this.#pos = at + data.length;
  }

  #length(compact: boolean, wide: boolean, n: number): void {
    if (compact) this.unsignedVarint(n + 1);
    else if (wide) this.int32(n);
    else this.int16(n);
  }

  string(compact: boolean, v: string): void {
    const chars = v.length;
    if (chars < 64) {
      // Short ASCII strings (topic names, client ids) skip the UTF-8 encoder's call overhead.
      let i = 0;
      while (i < chars && v.charCodeAt(i) < 0x80) i++;
      if (i === chars) {
        this.#length(compact, false, chars);
        const at = this.#ensure(chars);
        const buf = this.#buf;
        for (let j = 0; j < chars; j++) buf[at + j] = v.charCodeAt(j);
        this.#pos = at + chars;
        return;
      }
    }
    const n = Buffer.byteLength(v, 'utf8');
    if (n > 0x7fff) throw new ProtocolError(`string of ${n} bytes is too long`);
    this.#length(compact, false, n);
    const at = this.#ensure(n);
    this.#buf.write(v, at, n, 'utf8');
    this.#pos = at + n;
  }

  nullableString(compact: boolean, v: string | null): void {
    if (v === null) this.#length(compact, false, -1);
    else this.string(compact, v);
  }

  bytes(compact: boolean, v: Buffer): void {
    this.#length(compact, true, v.length);
    if (v.length >= LARGE_CHUNK) this.#pushChunk(v);
    else this.raw(v);
  }

  nullableBytes(compact: boolean, v: Buffer | null): void {
    if (v === null) this.#length(compact, true, -1);
    else this.bytes(compact, v);
  }

  /** A records field: nullable bytes whose value may also be a RecordsRef. */
  records(compact: boolean, v: Buffer | RecordsRef | null): void {
    if (v === null) this.#length(compact, true, -1);
    else if (Buffer.isBuffer(v)) this.bytes(compact, v);
    else {
      this.#length(compact, true, v.byteLength);
      this.#hasRef = true;
      this.#pushChunk(v);
    }
  }

  /** Array element count; -1 for null. */
  arrayLength(compact: boolean, n: number): void {
    if (compact) this.unsignedVarint(n + 1);
    else this.int32(n);
  }

  #pushChunk(chunk: Chunk): void {
    const chunks = (this.#chunks ??= []);
    if (this.#pos > this.#segmentStart) {
      chunks.push(this.#buf.subarray(this.#segmentStart, this.#pos));
      this.#chunkedBytes += this.#pos - this.#segmentStart;
      this.#segmentStart = this.#pos;
    }
    chunks.push(chunk);
    this.#chunkedBytes += chunk.byteLength;
  }

  /**
   * Overwrites the first 4 bytes with the size of everything after them: the frame's size prefix, which
   * the caller wrote as a placeholder int32 first.
   */
  patchSizePrefix(): void {
    const size = this.length - 4;
    const first = this.#chunks?.[0];
    if (first !== undefined) {
      if (!Buffer.isBuffer(first) || first.length < 4)
        throw new Error('size prefix is not in the first chunk');
      first.writeInt32BE(size, 0);
    } else {
      if (this.#pos < 4) throw new Error('no size prefix was written');
      this.#view.setInt32(0, size);
    }
  }

  /** A copy when the bytes are in the shared scratch buffer, else a view. */
  #own(bytes: Buffer): Buffer {
    if (!this.#scratch) return bytes;
    this.#checkOwner();
    const copy = Buffer.allocUnsafe(bytes.length);
    bytes.copy(copy);
    return copy;
  }

  /** Everything written, as one Buffer (a view of the writer's memory when nothing was chunked). */
  toBuffer(): Buffer {
    if (this.#hasRef) throw new Error('toBuffer: the message holds a RecordsRef; use toChunks()');
    const tail = this.#buf.subarray(this.#segmentStart, this.#pos);
    if (this.#chunks === undefined) return this.#own(tail);
    this.#checkOwner();
    return Buffer.concat([...(this.#chunks as Buffer[]), tail]);
  }

  /** Everything written, as chunks: copied bytes, and large Buffers / RecordsRefs by reference, in order. */
  toChunks(): Chunk[] {
    const tail = this.#buf.subarray(this.#segmentStart, this.#pos);
    const chunks = this.#chunks === undefined ? [] : [...this.#chunks];
    if (tail.length > 0 || chunks.length === 0) chunks.push(tail);
    if (!this.#scratch) return chunks;
    // Segments copied from the scratch buffer are the frame's small parts (headers between records).
    return chunks.map((c) => (Buffer.isBuffer(c) && c.buffer === this.#buf.buffer ? this.#own(c) : c));
  }
}
