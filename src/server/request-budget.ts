// The broker-wide bound on requests being handled: Kafka's queued.max.requests (a count) and
// queued.max.request.bytes (their total size), shared by every connection.
//
// Why: each connection already stops reading at its own in-flight limit, but with many connections the sum
// is unbounded. When producers outrun the disk, appends queue up behind the partition workers; with this
// budget the broker stops reading sockets once the queue holds this many requests or bytes, TCP pushes back
// on the producers, and memory stays bounded however many clients there are.
//
// A request is charged from the moment its size prefix is read (its buffer is allocated then) until it has
// been answered. A request larger than the whole byte budget is still admitted when nothing else is queued,
// so one legal request can never wait forever. Waiting connections are woken in the order they started
// waiting. Main thread only.

export interface BudgetWaiter {
  /** Called when the budget may have room again; the waiter retries its acquire(). */
  budgetAvailable(): void;
}

export class RequestBudget {
  readonly maxRequests: number;
  /** -1: no byte limit. */
  readonly maxBytes: number;
  #requests = 0;
  #bytes = 0;
  readonly #waiters = new Set<BudgetWaiter>();

  constructor(maxRequests: number, maxBytes = -1) {
    if (!Number.isInteger(maxRequests) || maxRequests < 1)
      throw new RangeError(`queued.max.requests must be at least 1, got ${maxRequests}`);
    this.maxRequests = maxRequests;
    this.maxBytes = maxBytes;
  }

  get requests(): number {
    return this.#requests;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Charges one request of `bytes`, or registers `waiter` and returns false when there is no room. */
  acquire(bytes: number, waiter: BudgetWaiter): boolean {
    const roomForCount = this.#requests < this.maxRequests;
    const roomForBytes = this.maxBytes < 0 || this.#requests === 0 || this.#bytes + bytes <= this.maxBytes;
    if (roomForCount && roomForBytes) {
      this.#requests++;
      this.#bytes += bytes;
      this.#waiters.delete(waiter);
      return true;
    }
    this.#waiters.add(waiter);
    return false;
  }

  release(bytes: number): void {
    this.#requests--;
    this.#bytes -= bytes;
    if (this.#waiters.size === 0) return;
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const waiter of waiters) waiter.budgetAvailable();
  }

  /** A closed connection stops waiting. */
  forget(waiter: BudgetWaiter): void {
    this.#waiters.delete(waiter);
  }
}
