// The receive arena: one SharedArrayBuffer, handed to every partition worker when it starts, into which
// connections read large Produce requests straight from the socket.
//
// Why: without it a produce batch is copied three times on the main thread's side of the hot path (kernel
// into a fresh per-read buffer, those buffers into one frame, the frame into a worker's request ring), and the
// per-read buffers are garbage. Reading into the arena leaves one copy by the kernel into memory the worker
// can already see; the APPEND then names a region of the arena instead of carrying the bytes, and the
// worker's write() copies them into the page cache. Profiles of the broker under rdkafka_performance showed
// the ring copy (V8 copies into shared memory with relaxed atomics, slower than memcpy) and the frame
// assembly as the main thread's two largest costs (BENCHMARKS.md).
//
// Allocation: the arena is cut into fixed slabs; a frame takes a run of contiguous slabs (first fit, so the
// same few slabs stay warm in the cache). A lease is reference counted: the connection holds one reference
// until its request completes and every APPEND in flight holds one, so a region is never reused while a
// worker may still read it. When no run is free, allocate() returns null and the caller falls back to an
// ordinary buffer and the copying path, so a full arena slows producers down but never blocks them.
//
// Main thread only (workers just read the regions they are told about).

export const DEFAULT_ARENA_BYTES = 64 << 20;
export const ARENA_SLAB_BYTES = 1 << 20;

export interface ArenaLease {
  /** The leased bytes (exactly the requested length), a view into the arena. */
  readonly bytes: Buffer;
  retain(): void;
  /** Drops one reference; the slabs are free again when the last one is dropped. */
  release(): void;
}

export class ReceiveArena {
  readonly buffer: SharedArrayBuffer;
  readonly #slabs: number;
  /** For each slab, the lease occupying it, or undefined when free. */
  readonly #owners: (Lease | undefined)[];
  #leasedSlabs = 0;
  readonly #waiters: { length: number; resolve: (lease: ArenaLease) => void }[] = [];

  constructor(bytes = DEFAULT_ARENA_BYTES) {
    if (!Number.isInteger(bytes) || bytes < ARENA_SLAB_BYTES || bytes % ARENA_SLAB_BYTES !== 0) {
      throw new RangeError(`receive arena: ${bytes} bytes is not a positive multiple of ${ARENA_SLAB_BYTES}`);
    }
    this.buffer = new SharedArrayBuffer(bytes);
    this.#slabs = bytes / ARENA_SLAB_BYTES;
    this.#owners = new Array<Lease | undefined>(this.#slabs).fill(undefined);
  }

  /** Slabs currently leased (for tests and stats). */
  get leasedSlabs(): number {
    return this.#leasedSlabs;
  }

  /** Leases `length` contiguous bytes holding one reference, or returns null when no run of slabs is free. */
  allocate(length: number): ArenaLease | null {
    const need = Math.max(1, Math.ceil(length / ARENA_SLAB_BYTES));
    if (need > this.#slabs - this.#leasedSlabs) return null;
    let run = 0;
    for (let slab = 0; slab < this.#slabs; slab++) {
      run = this.#owners[slab] === undefined ? run + 1 : 0;
      if (run === need) {
        const first = slab - need + 1;
        const lease = new Lease(this, first, need, length);
        for (let s = first; s <= slab; s++) this.#owners[s] = lease;
        this.#leasedSlabs += need;
        return lease;
      }
    }
    return null;
  }

  /**
   * Leases `length` bytes once a run of slabs is free, waiting in line behind earlier callers; null when the
   * arena could never hold that much.
   */
  allocateWhenFree(length: number): Promise<ArenaLease | null> {
    if (Math.ceil(length / ARENA_SLAB_BYTES) > this.#slabs) return Promise.resolve(null);
    if (this.#waiters.length === 0) {
      const lease = this.allocate(length);
      if (lease) return Promise.resolve(lease);
    }
    return new Promise((resolve) => this.#waiters.push({ length, resolve }));
  }

  /** The live lease that `view` lies in, or undefined when it is not a view of this arena. */
  leaseOf(view: Uint8Array): ArenaLease | undefined {
    if (view.buffer !== this.buffer) return undefined;
    const lease = this.#owners[Math.floor(view.byteOffset / ARENA_SLAB_BYTES)];
    return lease && lease.contains(view) ? lease : undefined;
  }

  /** @internal called by a lease whose last reference was dropped. */
  free(first: number, count: number): void {
    for (let s = first; s < first + count; s++) this.#owners[s] = undefined;
    this.#leasedSlabs -= count;
    while (this.#waiters.length > 0) {
      const lease = this.allocate(this.#waiters[0]!.length);
      if (!lease) break;
      this.#waiters.shift()!.resolve(lease);
    }
  }
}

class Lease implements ArenaLease {
  readonly bytes: Buffer;
  readonly #arena: ReceiveArena;
  readonly #first: number;
  readonly #count: number;
  #references = 1;

  constructor(arena: ReceiveArena, first: number, count: number, length: number) {
    this.#arena = arena;
    this.#first = first;
    this.#count = count;
    this.bytes = Buffer.from(arena.buffer, first * ARENA_SLAB_BYTES, length);
  }

  contains(view: Uint8Array): boolean {
    const start = this.bytes.byteOffset;
    return view.byteOffset >= start && view.byteOffset + view.byteLength <= start + this.bytes.length;
  }

  retain(): void {
    if (this.#references <= 0) throw new Error('receive arena: retain() of a released lease');
    this.#references++;
  }

  release(): void {
    if (this.#references <= 0) throw new Error('receive arena: release() of a released lease');
    if (--this.#references === 0) this.#arena.free(this.#first, this.#count);
  }
}
