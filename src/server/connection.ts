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
// Runs on the main thread; must not block.
import type { Socket } from 'node:net';
import type { FileRegionSender, ResponseChunk } from './file-transfer.js';
import { isFileRegion } from './file-transfer.js';

export interface ConnectionOptions {
  /** socket.request.max.bytes: a larger frame closes the connection. */
  maxRequestBytes: number;
  /** Requests in flight on one connection before reading pauses. */
  maxInFlightRequests: number;
  /** Unsent response bytes queued on the socket before reading pauses. */
  maxBufferedResponseBytes: number;
  fileSender: FileRegionSender;
  log: { warn(message: string): void; debug?(message: string): void };
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

const SIZE_PREFIX = 4;
const PRODUCE_API_KEY = 0;
const RECYCLE_MIN_BYTES = 64 * 1024;
const RECYCLE_MAX_BYTES = 16 << 20;
const MAX_SPARE_FRAMES = 4;

export class Connection {
  readonly id: number;
  readonly remote: string;
  #socket: Socket;
  #options: ConnectionOptions;
  #handler: FrameHandler;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #pending: Slot[] = [];
  #inFlight = 0;
  #flushing = false;
  #processing = false;
  #spareFrames: Buffer[] = [];
  readonly #ownedFrames = new WeakSet<ArrayBufferLike>();
  #readingPaused = false;
  #closed = false;
  #idleWaiters: (() => void)[] = [];

  constructor(id: number, socket: Socket, handler: FrameHandler, options: ConnectionOptions) {
    this.id = id;
    this.#socket = socket;
    this.#handler = handler;
    this.#options = options;
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => this.#onData(data));
    socket.on('drain', () => this.#updateReading());
    socket.on('error', (error) => this.#options.log.debug?.(`connection ${this.remote}: ${error.message}`));
    socket.on('close', () => {
      this.#closed = true;
      this.#resolveIdle();
    });
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

  #onData(data: Buffer): void {
    if (this.#closed) return;
    this.#chunks.push(data);
    this.#buffered += data.length;
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
    while (
      !this.#closed &&
      this.#buffered >= SIZE_PREFIX &&
      this.#inFlight < this.#options.maxInFlightRequests
    ) {
      const size = this.#peekSize();
      if (size < 0 || size > this.#options.maxRequestBytes) {
        this.close(
          `request size ${size} is outside [0, socket.request.max.bytes=${this.#options.maxRequestBytes}]`,
        );
        return;
      }
      if (this.#buffered < SIZE_PREFIX + size) break;
      this.#consume(SIZE_PREFIX);
      this.#dispatch(this.#consume(size));
    }
  }

  #peekSize(): number {
    const first = this.#chunks[0]!;
    if (first.length >= SIZE_PREFIX) return first.readInt32BE(0);
    const head = Buffer.concat(this.#chunks, SIZE_PREFIX);
    return head.readInt32BE(0);
  }

  /** Takes `length` bytes off the input: a zero-copy slice when they lie in one chunk, one copy otherwise. */
  #consume(length: number): Buffer {
    if (length === 0) return Buffer.alloc(0);
    this.#buffered -= length;
    const first = this.#chunks[0]!;
    if (first.length >= length) {
      const frame = first.subarray(0, length);
      if (first.length === length) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(length);
      return frame;
    }
    const frame = this.#frameBuffer(length);
    let filled = 0;
    while (filled < length) {
      const chunk = this.#chunks[0]!;
      const take = Math.min(chunk.length, length - filled);
      chunk.copy(frame, filled, 0, take);
      filled += take;
      if (take === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(take);
    }
    return frame;
  }

  /**
   * A buffer for a frame that spans socket reads. Large Produce frames reuse buffers of earlier ones: a fresh
   * multi-megabyte allocation per request costs page faults and GC that showed up as the main thread's largest
   * cost under load (BENCHMARKS.md). Only Produce frames are recycled, because by the time a Produce request
   * completes its records have been copied into a partition ring and nothing holds a slice of the frame; other
   * requests (JoinGroup metadata, for one) may keep slices of their frame, so theirs are never reused.
   */
  #frameBuffer(length: number): Buffer {
    if (length >= RECYCLE_MIN_BYTES) {
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

  #dispatch(frame: Buffer): void {
    const slot: Slot = { done: false, chunks: null };
    this.#pending.push(slot);
    this.#inFlight++;
    const recyclable = this.#ownedFrames.has(frame.buffer) && frame.readInt16BE(0) === PRODUCE_API_KEY;
    const complete = (chunks: FrameResult): void => {
      if (recyclable) this.#recycle(frame);
      slot.done = true;
      slot.chunks = chunks;
      this.#inFlight--;
      void this.#flush();
      this.#processInput();
    };
    const fail = (error: unknown): void => {
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
