// One client connection: size-prefixed framing, pipelined requests, responses in request order.
//
// Kafka frames are `int32 size` + `size` bytes. Requests on a connection may complete out of order (different
// partitions live on different workers), but Kafka clients match responses by position as much as by
// correlation id, so responses leave strictly in the order their requests arrived. Each frame takes a slot in
// `#pending`; a slot is flushed once it and every slot before it have completed.
//
// Backpressure: reading pauses while too many requests are in flight on this connection or while the socket
// holds more unsent response bytes than `maxBufferedResponseBytes`, so a slow reader or a fast pipelining
// producer cannot make the broker buffer without bound.
//
// Reading: the socket reads into buffers this class chooses (Node's `onread` option) rather than into a fresh
// buffer per read. Small frames are read into one reusable per-connection buffer and copied out; a large frame
// is read straight into its own buffer: for a Produce request, a region of the shared receive arena
// (src/partition/receive-arena.ts), which the partition worker writes to disk from without another copy.
//
// Runs on the main thread; must not block.
import net, { type Socket } from 'node:net';
import type { FileRegionSender, ResponseChunk } from './file-transfer.js';
import { isFileRegion } from './file-transfer.js';
import type { BudgetWaiter, RequestBudget } from './request-budget.js';

export interface ConnectionOptions {
  /** socket.request.max.bytes: a larger frame closes the connection. */
  maxRequestBytes: number;
  /** Requests in flight on one connection before reading pauses. */
  maxInFlightRequests: number;
  /** Unsent response bytes queued on the socket before reading pauses. */
  maxBufferedResponseBytes: number;
  fileSender: FileRegionSender;
  /** The broker-wide bound on queued requests (queued.max.requests / queued.max.request.bytes). */
  budget?: RequestBudget;
  /** Where large Produce frames are read to (the receive arena); null when it is full. */
  sharedFrames?: { allocate(length: number): SharedFrame | null };
  log: { warn(message: string): void; debug?(message: string): void };
}

/** A frame buffer leased from shared memory, released once its request completes. */
export interface SharedFrame {
  readonly bytes: Buffer;
  release(): void;
}

/** What the dispatcher returns for one frame: the response chunks, or null when no response is due (acks=0). */
export type FrameResult = ResponseChunk[] | null;

export type FrameHandler = (frame: Buffer, connection: Connection) => FrameResult | Promise<FrameResult>;

/** Thrown by a frame handler to close the connection (malformed frame, unknown API key). */
export class CloseConnectionError extends Error {
  override readonly name = 'CloseConnectionError';
}

interface Slot {
  done: boolean;
  chunks: FrameResult;
}

/** A large frame being read straight into its own buffer. */
interface LargeFrame {
  frame: Buffer;
  filled: number;
  shared: SharedFrame | null;
}

/**
 * Rebuilds an accepted socket so that it reads into buffers we hand out. net.Server cannot pass `onread`
 * to the sockets it accepts, so the socket's handle moves to a new net.Socket that has it; the server's
 * connection count moves with it (Socket#_destroy decrements it on `_server`). The old object never read
 * (servers are created with pauseOnConnect) and is dropped.
 */
function adoptSocket(
  raw: Socket,
  onread: { buffer: () => Uint8Array; callback: (n: number, buf: Uint8Array) => void },
): Socket {
  const internals = raw as unknown as {
    _handle: { reading?: boolean; readStop?: () => number } | null;
    _server?: unknown;
    server?: unknown;
  };
  const handle = internals._handle;
  if (!handle) throw new Error('connection: the accepted socket has no handle');
  if (handle.reading) {
    handle.readStop?.();
    handle.reading = false;
  }
  internals._handle = null;
  const socket = new net.Socket({ handle, onread } as unknown as net.SocketConstructorOpts);
  const adopted = socket as unknown as { _server?: unknown; server?: unknown };
  adopted._server = internals._server;
  adopted.server = internals.server;
  return socket;
}

const SIZE_PREFIX = 4;
const PRODUCE_API_KEY = 0;
/** Frames at least this large are read straight into their own buffer instead of the connection's. */
const LARGE_FRAME_BYTES = 32 * 1024;
const READ_BUFFER_BYTES = 64 * 1024;
/** The read buffer is compacted when less than this much room is left after its data. */
const MIN_READ_ROOM = 16 * 1024;
const RECYCLE_MIN_BYTES = 64 * 1024;
const RECYCLE_MAX_BYTES = 16 << 20;
const MAX_SPARE_FRAMES = 4;

export class Connection {
  readonly id: number;
  readonly remote: string;
  #socket: Socket;
  #options: ConnectionOptions;
  #handler: FrameHandler;
  /** Small frames are read here; unparsed bytes are [#start, #end). */
  #readBuffer = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
  #start = 0;
  #end = 0;
  #large: LargeFrame | null = null;
  /** Whether the buffer handed to the socket for the next read is the rest of #large (else the read buffer). */
  #readingIntoLarge = false;
  #pending: Slot[] = [];
  #inFlight = 0;
  #waitingForBudget = false;
  readonly #budgetWaiter: BudgetWaiter = {
    budgetAvailable: () => {
      this.#waitingForBudget = false;
      this.#processInput();
    },
  };
  #flushing = false;
  #processing = false;
  #spareFrames: Buffer[] = [];
  readonly #ownedFrames = new WeakSet<ArrayBufferLike>();
  #readingPaused = false;
  #closed = false;
  #idleWaiters: (() => void)[] = [];

  /** `raw` is a socket as net.Server accepted it; create the server with `pauseOnConnect: true`. */
  constructor(id: number, raw: Socket, handler: FrameHandler, options: ConnectionOptions) {
    this.id = id;
    this.#handler = handler;
    this.#options = options;
    this.remote = `${raw.remoteAddress ?? '?'}:${raw.remotePort ?? '?'}`;
    const socket = adoptSocket(raw, {
      buffer: () => this.#nextReadTarget(),
      callback: (n) => this.#onRead(n),
    });
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('drain', () => this.#updateReading());
    socket.on('error', (error) => this.#options.log.debug?.(`connection ${this.remote}: ${error.message}`));
    socket.on('close', () => {
      this.#closed = true;
      this.#releaseLarge();
      this.#options.budget?.forget(this.#budgetWaiter);
      this.#resolveIdle();
      for (const listener of this.#closeListeners) listener();
    });
  }

  readonly #closeListeners: (() => void)[] = [];

  /** Calls `listener` once the socket has closed. */
  onClose(listener: () => void): void {
    this.#closeListeners.push(listener);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Closes the connection, logging why. Pending responses are dropped. */
  close(reason?: string): void {
    if (this.#closed) return;
    if (reason) this.#options.log.warn(`closing connection from ${this.remote}: ${reason}`);
    this.#closed = true;
    this.#socket.destroy();
    this.#resolveIdle();
  }

  /** Resolves once no request is in flight (used by a clean shutdown to let requests finish). */
  whenIdle(): Promise<void> {
    if (this.#closed || this.#pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stops reading new requests; in-flight ones still complete and are answered. */
  stopReading(): void {
    this.#readingPaused = true;
    this.#socket.pause();
  }

  /** Where the next socket read goes: the rest of a large frame, or the free end of the read buffer. */
  #nextReadTarget(): Uint8Array {
    const large = this.#large;
    this.#readingIntoLarge = large !== null && large.filled < large.frame.length;
    if (large && this.#readingIntoLarge) return large.frame.subarray(large.filled);
    if (this.#start === this.#end) {
      this.#start = this.#end = 0;
    } else if (this.#readBuffer.length - this.#end < MIN_READ_ROOM) {
      if (this.#start > 0) {
        this.#readBuffer.copyWithin(0, this.#start, this.#end);
        this.#end -= this.#start;
        this.#start = 0;
      }
      // Still full: frames are parked behind the in-flight limit (reading is paused). Never hand out an
      // empty target, which would make the socket spin on zero-byte reads.
      if (this.#readBuffer.length - this.#end < MIN_READ_ROOM) {
        const bigger = Buffer.allocUnsafeSlow(this.#readBuffer.length * 2);
        this.#readBuffer.copy(bigger, 0, 0, this.#end);
        this.#readBuffer = bigger;
      }
    }
    return this.#readBuffer.subarray(this.#end);
  }

  #onRead(bytes: number): void {
    if (this.#closed) return;
    if (this.#readingIntoLarge) this.#large!.filled += bytes;
    else this.#end += bytes;
    this.#processInput();
  }

  /** Dispatches buffered frames until the input runs out or the in-flight limit is reached. */
  #processInput(): void {
    // A synchronous handler completes inside #dispatch and calls back here; the outer loop carries on instead.
    if (this.#processing) return;
    this.#processing = true;
    try {
      this.#readFrames();
    } finally {
      this.#processing = false;
    }
    this.#updateReading();
  }

  #readFrames(): void {
    while (!this.#closed) {
      const large = this.#large;
      if (large) {
        // Bytes of this frame that landed in the read buffer before it was known to be large.
        const take = Math.min(this.#end - this.#start, large.frame.length - large.filled);
        if (take > 0) {
          this.#readBuffer.copy(large.frame, large.filled, this.#start, this.#start + take);
          this.#start += take;
          large.filled += take;
        }
        if (large.filled < large.frame.length) return;
        this.#large = null;
        this.#dispatch(large.frame, large.shared);
        continue;
      }
      const available = this.#end - this.#start;
      if (available < SIZE_PREFIX || this.#inFlight >= this.#options.maxInFlightRequests) return;
      const size = this.#readBuffer.readInt32BE(this.#start);
      if (size < 0 || size > this.#options.maxRequestBytes) {
        this.close(
          `request size ${size} is outside [0, socket.request.max.bytes=${this.#options.maxRequestBytes}]`,
        );
        return;
      }
      if (size >= LARGE_FRAME_BYTES) {
        if (available < SIZE_PREFIX + 2) return; // the API key decides where the frame goes
        if (!this.#charge(size)) return;
        const apiKey = this.#readBuffer.readInt16BE(this.#start + SIZE_PREFIX);
        this.#start += SIZE_PREFIX;
        this.#large = this.#largeFrame(size, apiKey);
        continue;
      }
      if (available < SIZE_PREFIX + size || !this.#charge(size)) return;
      // Copied out: the read buffer is reused, and handlers may keep slices of their frame.
      const frame = Buffer.allocUnsafe(size);
      this.#readBuffer.copy(frame, 0, this.#start + SIZE_PREFIX, this.#start + SIZE_PREFIX + size);
      this.#start += SIZE_PREFIX + size;
      this.#dispatch(frame, null);
    }
  }

  /** Charges a frame to the broker-wide budget; false (and reading pauses) when it has no room now. */
  #charge(size: number): boolean {
    const budget = this.#options.budget;
    if (!budget) return true;
    this.#waitingForBudget = !budget.acquire(size, this.#budgetWaiter);
    return !this.#waitingForBudget;
  }

  #largeFrame(size: number, apiKey: number): LargeFrame {
    if (apiKey === PRODUCE_API_KEY) {
      const shared = this.#options.sharedFrames?.allocate(size) ?? null;
      if (shared) return { frame: shared.bytes, filled: 0, shared };
    }
    return { frame: this.#frameBuffer(size, apiKey), filled: 0, shared: null };
  }

  /** A frame whose reading stopped half way (the connection closed) gives its shared memory back. */
  #releaseLarge(): void {
    const large = this.#large;
    this.#large = null;
    if (!large) return;
    large.shared?.release();
    this.#options.budget?.release(large.frame.length);
  }

  /**
   * A buffer for a frame that spans socket reads. Large Produce frames reuse buffers of earlier ones: a fresh
   * multi-megabyte allocation per request costs page faults and GC that showed up as the main thread's largest
   * cost under load (BENCHMARKS.md). Only Produce frames are recycled, because by the time a Produce request
   * completes its records have been copied into a partition ring and nothing holds a slice of the frame; other
   * requests (JoinGroup metadata, for one) may keep slices of their frame, so theirs are never reused.
   */
  #frameBuffer(length: number, apiKey: number): Buffer {
    if (apiKey === PRODUCE_API_KEY && length >= RECYCLE_MIN_BYTES) {
      const index = this.#spareFrames.findIndex((spare) => spare.length >= length);
      if (index >= 0) return this.#spareFrames.splice(index, 1)[0]!.subarray(0, length);
      if (length <= RECYCLE_MAX_BYTES) {
        const owned = Buffer.allocUnsafeSlow(2 ** Math.ceil(Math.log2(length)));
        this.#ownedFrames.add(owned.buffer);
        return owned.subarray(0, length);
      }
    }
    return Buffer.allocUnsafe(length);
  }

  #recycle(frame: Buffer): void {
    const whole = Buffer.from(frame.buffer, frame.byteOffset, frame.buffer.byteLength - frame.byteOffset);
    if (frame.byteOffset !== 0 || whole.length < RECYCLE_MIN_BYTES || whole.length > RECYCLE_MAX_BYTES)
      return;
    if (this.#spareFrames.length < MAX_SPARE_FRAMES) this.#spareFrames.push(whole);
  }

  #dispatch(frame: Buffer, shared: SharedFrame | null): void {
    const slot: Slot = { done: false, chunks: null };
    this.#pending.push(slot);
    this.#inFlight++;
    const recyclable = this.#ownedFrames.has(frame.buffer);
    let released = false;
    const releaseFrame = (): void => {
      if (released) return;
      released = true;
      this.#options.budget?.release(frame.length);
      if (shared) shared.release();
      else if (recyclable) this.#recycle(frame);
    };
    const complete = (chunks: FrameResult): void => {
      releaseFrame();
      slot.done = true;
      slot.chunks = chunks;
      this.#inFlight--;
      void this.#flush();
      this.#processInput();
    };
    const fail = (error: unknown): void => {
      // A failed handler may still have appends in flight; each holds its own reference to shared memory.
      releaseFrame();
      if (error instanceof CloseConnectionError) this.close(error.message);
      else this.close(`internal error handling a request: ${(error as Error)?.stack ?? String(error)}`);
    };
    try {
      const result = this.#handler(frame, this);
      if (result instanceof Promise) result.then(complete, fail);
      else complete(result);
    } catch (error) {
      fail(error);
    }
  }

  async #flush(): Promise<void> {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      while (!this.#closed && this.#pending.length > 0 && this.#pending[0]!.done) {
        const slot = this.#pending.shift()!;
        if (slot.chunks) await this.#write(slot.chunks);
      }
    } catch (error) {
      this.close(`failed to send a response: ${(error as Error).message}`);
    } finally {
      this.#flushing = false;
    }
    this.#updateReading();
    if (this.#pending.length === 0) this.#resolveIdle();
  }

  async #write(chunks: ResponseChunk[]): Promise<void> {
    const socket = this.#socket;
    let corked = false;
    for (const chunk of chunks) {
      if (this.#closed) return;
      if (isFileRegion(chunk)) {
        if (corked) {
          socket.uncork();
          corked = false;
        }
        await this.#options.fileSender.send(socket, chunk);
      } else if (chunk.length > 0) {
        if (!corked) {
          socket.cork();
          corked = true;
        }
        socket.write(chunk);
      }
    }
    if (corked) socket.uncork();
  }

  #updateReading(): void {
    if (this.#closed) return;
    const overloaded =
      this.#waitingForBudget ||
      this.#inFlight >= this.#options.maxInFlightRequests ||
      this.#socket.writableLength > this.#options.maxBufferedResponseBytes;
    if (overloaded && !this.#socket.isPaused()) this.#socket.pause();
    else if (!overloaded && !this.#readingPaused && this.#socket.isPaused()) this.#socket.resume();
  }

  #resolveIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
