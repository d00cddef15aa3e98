// Single-producer single-consumer byte ring over a SharedArrayBuffer, carrying variable-length frames between
// the main thread and one partition worker (one ring per direction: requests in, completions out).
//
// Layout of the SharedArrayBuffer (all slots are Int32, little-endian as the platform's typed arrays are;
// every slot that two threads write at high rates sits on its own 64-byte cache line so the producer's and
// the consumer's stores never invalidate each other's line):
//
//   byte  slot               written by                    meaning
//   0     kHeadIndex         producer (Atomics.store)      bytes ever committed, mod 2^32 (the write cursor)
//   64    kTailIndex         consumer (Atomics.store)      bytes ever released, mod 2^32 (the read cursor)
//   128   kConsumerWaiting   consumer sets 1 before it     1 = the consumer may be asleep on kHeadIndex;
//                            sleeps; producer CASes 1->0   whoever flips it back to 0 owes one notify
//                            when it notifies
//   192   kProducerWaiting   producer sets 1 before it     1 = the producer may be asleep on kTailIndex
//                            sleeps; consumer CASes 1->0
//                            when it notifies
//   256   kMagic             creator, once                 RING_MAGIC; from() refuses anything else
//   260   kCapacity          creator, once                 data bytes, a power of two
//   264   kClosed            either side, once (0 -> 1)    no more frames will be written / read
//   320   data[capacity]     producer (plain stores)       frames, see below
//
// Frames: an 8-byte header [length: int32][type: int32] followed by `length` payload bytes, padded to a
// multiple of 8 so every header is 4-byte aligned and readable through the Int32Array. Because capacity is
// a multiple of 8 too, the gap left at the end of the data area is either 0 or at least 8 bytes: when a frame
// does not fit there, the producer writes a padding header (length = PADDING_LENGTH) and starts the frame at
// offset 0. A frame that ends exactly at the end needs no padding. A frame may use at most half the capacity:
// then an empty ring always has room for it (if it does not fit in the gap at the end, the gap is smaller
// than half, so the start of the ring, up to the read position, is larger than half), so a producer never
// waits for space that can never appear.
//
// Cursors are free-running 32-bit counters (positions in the data area are `cursor & (capacity - 1)`, and
// `(head - tail) >>> 0` is the number of bytes in use), so a full ring and an empty ring are told apart
// without a spare slot. The head cannot come back to a value the consumer is waiting on: it can run at
// most `capacity` bytes past the tail before the producer has to wait for the consumer.
//
// Memory ordering. The payload and the frame header are written with plain typed-array stores; only the
// cursors go through Atomics. In the JavaScript memory model (ECMA-262 "Memory Model") Atomics operations are
// sequentially consistent, and a SeqCst write synchronizes-with the SeqCst read that observes it. So the
// producer's plain stores, which precede its Atomics.store(kHeadIndex) in program order, happen-before
// every plain load the consumer makes after an Atomics.load(kHeadIndex) that returned that head or a later
// one: the consumer sees complete frames, never torn ones. The same argument runs the other way for reuse:
// the consumer's reads of a frame precede its Atomics.store(kTailIndex), and the producer only overwrites
// bytes below a tail it has read with Atomics.load, so no read can observe a later overwrite. Every plain
// access to the data area is therefore ordered by happens-before with every conflicting access: the program
// has no data race, and the model guarantees such programs sequentially consistent results for the plain
// accesses too. No lock is needed because each cursor has exactly one writer.
//
// Wake-ups. There are no separate sequence or wake counters: the cursors only move forward, so they are
// the words to wait on. A sleeping consumer waits on the kHeadIndex word itself (Atomics.wait compares it
// with the head it last saw, so a commit that lands between "looked" and "slept" makes the wait return at
// once; no wake-up is ever lost). The waiting flag exists only to spare the producer an Atomics.notify per frame:
// the consumer stores 1 and then re-reads the head; the producer stores the head and then reads the flag.
// With SeqCst operations at least one of them sees the other's store (the Dekker pattern), so either the
// consumer does not sleep or the producer notifies. The producer claims the flag with compareExchange(1, 0),
// so one sleep costs at most one notify however many frames follow: a burst of completions becomes a
// single wake-up of the main thread, which then drains everything that is there. Space works the same way
// in the other direction (kProducerWaiting, kTailIndex, notified by release()).
//
// Only workers block (Atomics.wait, with a timeout so a worker can still run its timers). The main thread
// must never block: it uses Atomics.waitAsync, and the *Sync methods throw there.
//
// FJORD_DISABLE_ATOMICS=1 makes createRing() build a PortRing instead: the same interface over a
// MessagePort (a copy per frame, credits for backpressure), for debugging and for comparison.
import { isMainThread, MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import type { MessagePort, TransferListItem } from 'node:worker_threads';

export const kHeadIndex = 0;
export const kTailIndex = 64 / 4;
export const kConsumerWaiting = 128 / 4;
export const kProducerWaiting = 192 / 4;
export const kMagic = 256 / 4;
export const kCapacity = 260 / 4;
export const kClosed = 264 / 4;
/** Byte offset of the data area in the SharedArrayBuffer. */
export const DATA_OFFSET = 320;
export const FRAME_HEADER_BYTES = 8;
/** 'FjR1': Fjord ring, layout version 1. */
export const RING_MAGIC = 0x46_6a_52_31;
const PADDING_LENGTH = -1;
const MIN_CAPACITY = 64;
const MAX_CAPACITY = 2 ** 30;

/** A frame as read by the consumer. `payload` is a view into the ring: valid until the next release(). */
export interface RingMessage {
  type: number;
  payload: Uint8Array;
}

/** Counters local to one endpoint (not shared), for tests and benchmarks. */
export interface RingStats {
  /** Atomics.notify calls made by this endpoint (PortRing: frames posted). */
  notifies: number;
  /**
   * Times this endpoint announced it was about to sleep waiting for frames (set its waiting flag). The peer
   * notifies at most once per announcement: peer.notifies <= this.readWaits + this.spaceWaits.
   */
  readWaits: number;
  /** The same, waiting for space. */
  spaceWaits: number;
}

/**
 * One end of a ring. Both threads hold an object of this type over the same ring; per ring exactly one
 * thread uses the producer methods and exactly one uses the consumer methods.
 */
export interface Ring {
  readonly transport: 'sab' | 'port';
  readonly capacityBytes: number;
  /** The largest payload a single frame can carry (half the capacity minus the header). */
  readonly maxPayloadBytes: number;
  /** Whether the *Sync waits work (SAB transport, off the main thread). */
  readonly canBlock: boolean;
  readonly closed: boolean;

  // Producer side.
  /** Copies `payload` into the ring as one frame. False when there is no room now; throws if it never fits. */
  tryWrite(type: number, payload: Uint8Array): boolean;
  /** Reserves `maxLength` bytes, lets `fill` write into them and commits the length it returns. */
  tryWriteWith(type: number, maxLength: number, fill: (view: Uint8Array) => number): boolean;
  /** Reserves a frame and returns a view to write the payload into, or null when there is no room now. */
  tryReserve(type: number, length: number): Uint8Array | null;
  /** Publishes the reserved frame, optionally shortened to `length` bytes. */
  commit(length?: number): void;
  /** Resolves true once a frame of `length` payload bytes fits, false if the ring was closed or timed out. */
  waitForSpace(length: number, timeoutMs?: number): Promise<boolean>;
  /** Blocking waitForSpace for workers. */
  waitForSpaceSync(length: number, timeoutMs?: number): boolean;

  // Consumer side.
  /** The next frame, or null when none is committed. Does not free its space: see release(). */
  read(): RingMessage | null;
  /** Frees every frame read so far; their payload views must not be used afterwards. */
  release(): void;
  /** Bytes committed but not yet read: frames with their headers (and, in the SAB ring, end padding). */
  available(): number;
  isEmpty(): boolean;
  /** Resolves true when a frame can be read, false when the ring is closed and drained, or on timeout. */
  waitReadable(timeoutMs?: number): Promise<boolean>;
  /** Blocking waitReadable for workers. */
  waitReadableSync(timeoutMs?: number): boolean;

  /** Marks the ring closed and wakes both sides. Frames already committed can still be read. */
  close(): void;
  stats(): RingStats;
}

/** What to post to the other thread so it can open its end with openRing(). */
export type RingHandle =
  { kind: 'sab'; buffer: SharedArrayBuffer } | { kind: 'port'; port: MessagePort; capacityBytes: number };

export type RingTransport = 'sab' | 'port';

/** True when FJORD_DISABLE_ATOMICS=1: rings use postMessage instead of SharedArrayBuffer. */
export function atomicsDisabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.FJORD_DISABLE_ATOMICS === '1';
}

/**
 * Creates a ring. `local` is this thread's end; post `handle` (with `transferList`) to the other thread and
 * call openRing() there.
 */
export function createRing(
  capacityBytes: number,
  transport: RingTransport = atomicsDisabled() ? 'port' : 'sab',
): { local: Ring; handle: RingHandle; transferList: TransferListItem[] } {
  if (transport === 'sab') {
    const local = RingBuffer.create(capacityBytes);
    return { local, handle: { kind: 'sab', buffer: local.buffer }, transferList: [] };
  }
  const [local, port] = PortRing.create(capacityBytes);
  return {
    local,
    handle: { kind: 'port', port, capacityBytes: local.capacityBytes },
    transferList: [port],
  };
}

export function openRing(handle: RingHandle): Ring {
  return handle.kind === 'sab'
    ? RingBuffer.from(handle.buffer)
    : PortRing.open(handle.port, handle.capacityBytes);
}

/**
 * Consumer loop for the main thread (or a worker on the event loop): hands every frame to `onFrame` and
 * releases after each burst. A burst of frames costs one wake-up; after `maxBurst` frames it yields to the
 * event loop (setImmediate) so a busy ring cannot starve sockets and timers. Resolves once the ring is
 * closed and drained. The payload view is valid only during the callback.
 */
export async function pump(
  ring: Ring,
  onFrame: (type: number, payload: Uint8Array) => void,
  maxBurst = 1024,
): Promise<void> {
  for (;;) {
    let frames = 0;
    for (let message = ring.read(); message !== null; message = frames < maxBurst ? ring.read() : null) {
      onFrame(message.type, message.payload);
      frames++;
    }
    ring.release();
    if (frames >= maxBurst) await yieldToEventLoop();
    else if (!(await ring.waitReadable())) return;
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class RingClosedError extends Error {
  readonly code = 'ERR_RING_CLOSED';
  constructor() {
    super('ring is closed');
  }
}

function roundCapacity(capacityBytes: number): number {
  if (!Number.isInteger(capacityBytes) || capacityBytes < 1 || capacityBytes > MAX_CAPACITY) {
    throw new RangeError(`ring capacity must be an integer in [1, ${MAX_CAPACITY}], got ${capacityBytes}`);
  }
  let capacity = MIN_CAPACITY;
  while (capacity < capacityBytes) capacity *= 2;
  return capacity;
}

function frameBytes(length: number): number {
  return FRAME_HEADER_BYTES + ((length + 7) & ~7);
}

function checkFrame(type: number, length: number, maxPayloadBytes: number): void {
  if (!Number.isInteger(length) || length < 0 || length > maxPayloadBytes) {
    const error = new RangeError(
      `ring frame of ${length} payload bytes exceeds the ring's maximum of ${maxPayloadBytes} ` +
        `(half the capacity minus the ${FRAME_HEADER_BYTES}-byte header)`,
    );
    Object.assign(error, { code: 'ERR_RING_FRAME_TOO_LARGE' });
    throw error;
  }
  if (!Number.isInteger(type) || type < 0 || type > 0x7fffffff) {
    throw new RangeError(`ring frame type must be an integer in [0, 2^31), got ${type}`);
  }
}

function assertMayBlock(): void {
  if (isMainThread) throw new Error('the main thread must not block on a ring: use the async wait');
}

type WaitResult = 'ok' | 'not-equal' | 'timed-out';
const waitAsync = (
  Atomics as unknown as {
    waitAsync(
      array: Int32Array,
      index: number,
      value: number,
      timeout?: number,
    ): { async: false; value: WaitResult } | { async: true; value: Promise<WaitResult> };
  }
).waitAsync;

async function atomicsWaitAsync(
  words: Int32Array,
  index: number,
  value: number,
  timeoutMs: number,
): Promise<WaitResult> {
  // Each sleep is bounded by ASYNC_WAIT_CHECK_MS, and a libuv timer races the promise. Under heavy load a
  // waitAsync promise was seen not to settle after a matching notify (the ring-threads test stalled at
  // message 164 920 of 200 000 in CI). Every caller re-checks the ring after any return, so a lost wake-up
  // now costs at most one check interval instead of a stalled ring. The timer also keeps Node's event loop
  // alive: a pending waitAsync alone does not (its wake-up arrives through an unref'd handle).
  const bounded = Math.min(timeoutMs, ASYNC_WAIT_CHECK_MS);
  const result = waitAsync(words, index, value, bounded);
  if (!result.async) return result.value;
  let timer: NodeJS.Timeout | undefined;
  const fallback = new Promise<WaitResult>((resolve) => {
    timer = setTimeout(() => resolve('timed-out'), bounded + 1);
  });
  try {
    return await Promise.race([result.value, fallback]);
  } finally {
    clearTimeout(timer);
  }
}

/** The longest one asynchronous ring sleep lasts before the ring is checked again (see atomicsWaitAsync). */
const ASYNC_WAIT_CHECK_MS = 50;

/** The SharedArrayBuffer ring (see the layout at the top of this file). */
export class RingBuffer implements Ring {
  readonly transport = 'sab' as const;
  readonly buffer: SharedArrayBuffer;
  readonly capacityBytes: number;
  readonly maxPayloadBytes: number;
  readonly canBlock = !isMainThread;
  readonly #words: Int32Array;
  readonly #bytes: Uint8Array;
  readonly #mask: number;
  // Producer-local state: where the next frame goes, and the last tail seen (refreshed only when the ring
  // looks full, to keep the shared cache line quiet).
  #writeCursor: number;
  #cachedTail: number;
  #reservedCursor = -1;
  #reservedLength = 0;
  // Consumer-local state: the next frame to read, what has been published as the tail, the last head seen.
  #readCursor: number;
  #releasedCursor: number;
  #cachedHead: number;
  readonly #stats: RingStats = { notifies: 0, readWaits: 0, spaceWaits: 0 };

  private constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.#words = new Int32Array(buffer);
    this.#bytes = new Uint8Array(buffer);
    this.capacityBytes = this.#words[kCapacity]! >>> 0;
    this.#mask = this.capacityBytes - 1;
    this.maxPayloadBytes = this.capacityBytes / 2 - FRAME_HEADER_BYTES;
    this.#writeCursor = Atomics.load(this.#words, kHeadIndex) >>> 0;
    this.#cachedTail = Atomics.load(this.#words, kTailIndex) >>> 0;
    this.#readCursor = this.#cachedTail;
    this.#releasedCursor = this.#cachedTail;
    this.#cachedHead = this.#writeCursor;
  }

  /** A new ring of at least `capacityBytes` data bytes (rounded up to a power of two, minimum 64). */
  static create(capacityBytes: number): RingBuffer {
    const capacity = roundCapacity(capacityBytes);
    const buffer = new SharedArrayBuffer(DATA_OFFSET + capacity);
    const words = new Int32Array(buffer);
    words[kCapacity] = capacity;
    // Published last with a SeqCst store so a thread that checks the magic also sees the capacity.
    Atomics.store(words, kMagic, RING_MAGIC);
    return new RingBuffer(buffer);
  }

  /** The other thread's end of a ring made by create(). */
  static from(buffer: SharedArrayBuffer): RingBuffer {
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < DATA_OFFSET + MIN_CAPACITY) {
      throw new TypeError('RingBuffer.from needs the SharedArrayBuffer of a ring');
    }
    const words = new Int32Array(buffer);
    const capacity = words[kCapacity]! >>> 0;
    if (Atomics.load(words, kMagic) !== RING_MAGIC || buffer.byteLength !== DATA_OFFSET + capacity) {
      throw new TypeError('RingBuffer.from: buffer does not hold a ring (bad magic or size)');
    }
    return new RingBuffer(buffer);
  }

  get closed(): boolean {
    return Atomics.load(this.#words, kClosed) === 1;
  }

  // ---- producer side ----

  tryWrite(type: number, payload: Uint8Array): boolean {
    // Copies straight into the SharedArrayBuffer without making a view: this is the per-message path.
    const start = this.#reserve(type, payload.byteLength);
    if (start === -1) return false;
    this.#bytes.set(payload, start);
    this.commit();
    return true;
  }

  tryWriteWith(type: number, maxLength: number, fill: (view: Uint8Array) => number): boolean {
    const view = this.tryReserve(type, maxLength);
    if (view === null) return false;
    this.commit(fill(view));
    return true;
  }

  tryReserve(type: number, length: number): Uint8Array | null {
    const start = this.#reserve(type, length);
    return start === -1 ? null : this.#bytes.subarray(start, start + length);
  }

  // The byte offset of the reserved payload in the buffer, or -1 when the frame does not fit now.
  #reserve(type: number, length: number): number {
    checkFrame(type, length, this.maxPayloadBytes);
    if (this.#reservedCursor !== -1) throw new Error('ring: commit() the previous reservation first');
    if (this.closed) throw new RingClosedError();
    let cursor = this.#writeCursor;
    if (!this.#fits(cursor, length, this.#cachedTail)) {
      this.#cachedTail = Atomics.load(this.#words, kTailIndex) >>> 0;
      if (!this.#fits(cursor, length, this.#cachedTail)) return -1;
    }
    let offset = cursor & this.#mask;
    const toEnd = this.capacityBytes - offset;
    if (frameBytes(length) > toEnd) {
      // Not published until commit(), so the consumer never sees the padding without the frame after it.
      this.#words[(DATA_OFFSET + offset) >> 2] = PADDING_LENGTH;
      cursor = (cursor + toEnd) >>> 0;
      offset = 0;
    }
    const at = (DATA_OFFSET + offset) >> 2;
    this.#words[at + 1] = type;
    this.#reservedCursor = cursor;
    this.#reservedLength = length;
    return DATA_OFFSET + offset + FRAME_HEADER_BYTES;
  }

  commit(length: number = this.#reservedLength): void {
    const cursor = this.#reservedCursor;
    if (cursor === -1) throw new Error('ring: commit() without a reservation');
    if (!Number.isInteger(length) || length < 0 || length > this.#reservedLength) {
      throw new RangeError(`ring: commit(${length}) outside the reserved ${this.#reservedLength} bytes`);
    }
    this.#words[(DATA_OFFSET + (cursor & this.#mask)) >> 2] = length;
    this.#reservedCursor = -1;
    this.#writeCursor = (cursor + frameBytes(length)) >>> 0;
    Atomics.store(this.#words, kHeadIndex, this.#writeCursor);
    if (
      Atomics.load(this.#words, kConsumerWaiting) === 1 &&
      Atomics.compareExchange(this.#words, kConsumerWaiting, 1, 0) === 1
    ) {
      this.#stats.notifies++;
      Atomics.notify(this.#words, kHeadIndex);
    }
  }

  // Bytes needed to place a frame at `cursor` (including the padding to skip the gap at the end) against
  // the free space left by `tail`.
  #fits(cursor: number, length: number, tail: number): boolean {
    const frame = frameBytes(length);
    const toEnd = this.capacityBytes - (cursor & this.#mask);
    const needed = frame <= toEnd ? frame : toEnd + frame;
    return needed <= this.capacityBytes - ((cursor - tail) >>> 0);
  }

  #hasSpace(length: number): boolean {
    this.#cachedTail = Atomics.load(this.#words, kTailIndex) >>> 0;
    return this.#fits(this.#writeCursor, length, this.#cachedTail);
  }

  // Main thread or worker; never blocks.
  async waitForSpace(length: number, timeoutMs = Infinity): Promise<boolean> {
    checkFrame(0, length, this.maxPayloadBytes);
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (this.closed) return false;
      if (this.#hasSpace(length)) return true;
      this.#stats.spaceWaits++;
      Atomics.store(this.#words, kProducerWaiting, 1);
      const tail = Atomics.load(this.#words, kTailIndex);
      if (this.#fits(this.#writeCursor, length, tail >>> 0) || this.closed) {
        Atomics.store(this.#words, kProducerWaiting, 0);
        continue;
      }
      const remaining = deadline - performance.now();
      if (remaining <= 0) return false;
      await atomicsWaitAsync(this.#words, kTailIndex, tail, remaining);
      Atomics.store(this.#words, kProducerWaiting, 0);
    }
  }

  // Worker only: blocks the thread.
  waitForSpaceSync(length: number, timeoutMs = Infinity): boolean {
    assertMayBlock();
    checkFrame(0, length, this.maxPayloadBytes);
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (this.closed) return false;
      if (this.#hasSpace(length)) return true;
      this.#stats.spaceWaits++;
      Atomics.store(this.#words, kProducerWaiting, 1);
      const tail = Atomics.load(this.#words, kTailIndex);
      if (this.#fits(this.#writeCursor, length, tail >>> 0) || this.closed) {
        Atomics.store(this.#words, kProducerWaiting, 0);
        continue;
      }
      const remaining = deadline - performance.now();
      if (remaining <= 0) return false;
      Atomics.wait(this.#words, kTailIndex, tail, remaining);
      Atomics.store(this.#words, kProducerWaiting, 0);
    }
  }

  // ---- consumer side ----

  read(): RingMessage | null {
    for (;;) {
      if (this.#readCursor === this.#cachedHead) {
        this.#cachedHead = Atomics.load(this.#words, kHeadIndex) >>> 0;
        if (this.#readCursor === this.#cachedHead) return null;
      }
      const offset = this.#readCursor & this.#mask;
      const at = (DATA_OFFSET + offset) >> 2;
      const length = this.#words[at]!;
      if (length === PADDING_LENGTH) {
        this.#readCursor = (this.#readCursor + this.capacityBytes - offset) >>> 0;
        continue;
      }
      const type = this.#words[at + 1]!;
      const start = DATA_OFFSET + offset + FRAME_HEADER_BYTES;
      this.#readCursor = (this.#readCursor + frameBytes(length)) >>> 0;
      return { type, payload: this.#bytes.subarray(start, start + length) };
    }
  }

  release(): void {
    if (this.#readCursor === this.#releasedCursor) return;
    this.#releasedCursor = this.#readCursor;
    Atomics.store(this.#words, kTailIndex, this.#releasedCursor);
    if (
      Atomics.load(this.#words, kProducerWaiting) === 1 &&
      Atomics.compareExchange(this.#words, kProducerWaiting, 1, 0) === 1
    ) {
      this.#stats.notifies++;
      Atomics.notify(this.#words, kTailIndex);
    }
  }

  available(): number {
    this.#cachedHead = Atomics.load(this.#words, kHeadIndex) >>> 0;
    return (this.#cachedHead - this.#readCursor) >>> 0;
  }

  isEmpty(): boolean {
    return this.available() === 0;
  }

  // Main thread or worker; never blocks. Consecutive frames committed while this waits cost one wake-up.
  async waitReadable(timeoutMs = Infinity): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (!this.isEmpty()) return true;
      if (this.closed) return false;
      this.#stats.readWaits++;
      Atomics.store(this.#words, kConsumerWaiting, 1);
      const head = Atomics.load(this.#words, kHeadIndex);
      if (head >>> 0 !== this.#readCursor || this.closed) {
        Atomics.store(this.#words, kConsumerWaiting, 0);
        continue;
      }
      const remaining = deadline - performance.now();
      if (remaining <= 0) return false;
      await atomicsWaitAsync(this.#words, kHeadIndex, head, remaining);
      Atomics.store(this.#words, kConsumerWaiting, 0);
    }
  }

  // Worker only: blocks the thread (pass a timeout to get back to timers).
  waitReadableSync(timeoutMs = Infinity): boolean {
    assertMayBlock();
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (!this.isEmpty()) return true;
      if (this.closed) return false;
      this.#stats.readWaits++;
      Atomics.store(this.#words, kConsumerWaiting, 1);
      const head = Atomics.load(this.#words, kHeadIndex);
      if (head >>> 0 !== this.#readCursor || this.closed) {
        Atomics.store(this.#words, kConsumerWaiting, 0);
        continue;
      }
      const remaining = deadline - performance.now();
      if (remaining <= 0) return false;
      Atomics.wait(this.#words, kHeadIndex, head, remaining);
      Atomics.store(this.#words, kConsumerWaiting, 0);
    }
  }

  close(): void {
    Atomics.store(this.#words, kClosed, 1);
    // Unconditional: close is rare and must wake a sleeper on either side.
    Atomics.notify(this.#words, kHeadIndex);
    Atomics.notify(this.#words, kTailIndex);
  }

  stats(): RingStats {
    return { ...this.#stats };
  }
}

// ---- postMessage fallback (FJORD_DISABLE_ATOMICS=1) ----

// Messages between the two ends of a PortRing: a frame, a credit (bytes the consumer released), or close.
type PortMessage = [type: number, payload: Uint8Array] | number | 'close';

/**
 * The Ring interface over a MessagePort. Frames are copied into a fresh buffer and transferred; the
 * consumer returns credits (released bytes) so the producer sees the same capacity and backpressure as with
 * the SharedArrayBuffer ring. It cannot block: a worker using it must run its loop on the event loop
 * (canBlock is false and the *Sync methods throw).
 */
export class PortRing implements Ring {
  readonly transport = 'port' as const;
  readonly capacityBytes: number;
  readonly maxPayloadBytes: number;
  readonly canBlock = false;
  readonly #port: MessagePort;
  #closed = false;
  // Producer: frame bytes sent and not yet credited back; the pending reservation.
  #inFlight = 0;
  #reserved: { type: number; view: Uint8Array } | null = null;
  // Consumer: frames received and not yet read; bytes read and not yet credited; bytes not yet read.
  readonly #queue: RingMessage[] = [];
  #queueHead = 0;
  #readBytes = 0;
  #unreadBytes = 0;
  #onReadable: (() => void) | null = null;
  #onCredit: (() => void) | null = null;
  readonly #stats: RingStats = { notifies: 0, readWaits: 0, spaceWaits: 0 };

  private constructor(port: MessagePort, capacityBytes: number) {
    this.#port = port;
    this.capacityBytes = roundCapacity(capacityBytes);
    this.maxPayloadBytes = this.capacityBytes / 2 - FRAME_HEADER_BYTES;
    port.on('message', (message: PortMessage) => this.#receive(message));
    // Like a pending Atomics.waitAsync, an idle ring does not keep the thread alive.
    port.unref();
  }

  /** This thread's end, and the port to transfer to the other thread (open it with PortRing.open). */
  static create(capacityBytes: number): [PortRing, MessagePort] {
    const { port1, port2 } = new MessageChannel();
    return [new PortRing(port1, capacityBytes), port2];
  }

  static open(port: MessagePort, capacityBytes: number): PortRing {
    return new PortRing(port, capacityBytes);
  }

  get closed(): boolean {
    return this.#closed;
  }

  #receive(message: PortMessage): void {
    if (typeof message === 'number') {
      this.#inFlight -= message;
      this.#wake('credit');
    } else if (message === 'close') {
      this.#closed = true;
      this.#wake('credit');
      this.#wake('readable');
    } else {
      this.#queue.push({ type: message[0], payload: message[1] });
      this.#unreadBytes += frameBytes(message[1].byteLength);
      this.#wake('readable');
    }
  }

  #wake(what: 'credit' | 'readable'): void {
    const resolve = what === 'credit' ? this.#onCredit : this.#onReadable;
    if (resolve === null) return;
    if (what === 'credit') this.#onCredit = null;
    else this.#onReadable = null;
    resolve();
  }

  // Messages the event loop has not dispatched yet (the thread may be busy in a loop).
  #pull(): void {
    for (let next = receiveMessageOnPort(this.#port); next; next = receiveMessageOnPort(this.#port)) {
      this.#receive(next.message as PortMessage);
    }
  }

  tryWrite(type: number, payload: Uint8Array): boolean {
    const view = this.tryReserve(type, payload.byteLength);
    if (view === null) return false;
    view.set(payload);
    this.commit();
    return true;
  }

  tryWriteWith(type: number, maxLength: number, fill: (view: Uint8Array) => number): boolean {
    const view = this.tryReserve(type, maxLength);
    if (view === null) return false;
    this.commit(fill(view));
    return true;
  }

  tryReserve(type: number, length: number): Uint8Array | null {
    checkFrame(type, length, this.maxPayloadBytes);
    if (this.#reserved !== null) throw new Error('ring: commit() the previous reservation first');
    if (this.#closed) throw new RingClosedError();
    if (!this.#hasSpace(length)) return null;
    const view = new Uint8Array(length);
    this.#reserved = { type, view };
    return view;
  }

  commit(length?: number): void {
    const reserved = this.#reserved;
    if (reserved === null) throw new Error('ring: commit() without a reservation');
    const size = length ?? reserved.view.byteLength;
    if (!Number.isInteger(size) || size < 0 || size > reserved.view.byteLength) {
      throw new RangeError(`ring: commit(${size}) outside the reserved ${reserved.view.byteLength} bytes`);
    }
    this.#reserved = null;
    const payload = reserved.view.subarray(0, size);
    this.#inFlight += frameBytes(size);
    const message: PortMessage = [reserved.type, payload];
    this.#port.postMessage(message, [payload.buffer as ArrayBuffer]);
    this.#stats.notifies++;
  }

  #hasSpace(length: number): boolean {
    const frame = frameBytes(length);
    if (this.#inFlight + frame <= this.capacityBytes) return true;
    this.#pull();
    return this.#inFlight + frame <= this.capacityBytes;
  }

  async waitForSpace(length: number, timeoutMs = Infinity): Promise<boolean> {
    checkFrame(0, length, this.maxPayloadBytes);
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (this.#closed) return false;
      if (this.#hasSpace(length)) return true;
      const remaining = deadline - performance.now();
      if (remaining <= 0) return false;
      this.#stats.spaceWaits++;
      await this.#sleep('credit', remaining);
    }
  }

  waitForSpaceSync(): boolean {
    throw new Error('PortRing cannot block (FJORD_DISABLE_ATOMICS=1): use waitForSpace()');
  }

  read(): RingMessage | null {
    if (this.#queueHead === this.#queue.length) this.#pull();
    if (this.#queueHead === this.#queue.length) return null;
    const message = this.#queue[this.#queueHead]!;
    this.#queue[this.#queueHead++] = undefined as unknown as RingMessage;
    if (this.#queueHead === this.#queue.length) {
      this.#queue.length = 0;
      this.#queueHead = 0;
    }
    const size = frameBytes(message.payload.byteLength);
    this.#unreadBytes -= size;
    this.#readBytes += size;
    return message;
  }

  release(): void {
    if (this.#readBytes === 0) return;
    const credit: PortMessage = this.#readBytes;
    this.#readBytes = 0;
    if (!this.#closed) this.#port.postMessage(credit);
  }

  available(): number {
    this.#pull();
    return this.#unreadBytes;
  }

  isEmpty(): boolean {
    return this.available() === 0;
  }

  async waitReadable(timeoutMs = Infinity): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (!this.isEmpty()) return true;
      if (this.#closed) return false;
      const remaining = deadline - performance.now();
      if (remaining <= 0) return false;
      this.#stats.readWaits++;
      await this.#sleep('readable', remaining);
    }
  }

  waitReadableSync(): boolean {
    throw new Error('PortRing cannot block (FJORD_DISABLE_ATOMICS=1): use waitReadable()');
  }

  #sleep(what: 'credit' | 'readable', timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const wake = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        if (what === 'credit') this.#onCredit = null;
        else this.#onReadable = null;
        this.#port.unref();
        resolve();
      };
      if (Number.isFinite(timeoutMs)) timer = setTimeout(wake, timeoutMs);
      // While a waiter is pending the port is referenced, so an awaited wait keeps the thread alive.
      this.#port.ref();
      if (what === 'credit') this.#onCredit = wake;
      else this.#onReadable = wake;
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#port.postMessage('close' satisfies PortMessage);
    this.#wake('credit');
    this.#wake('readable');
  }

  stats(): RingStats {
    return { ...this.#stats };
  }
}
