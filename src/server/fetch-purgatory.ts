// Fetches waiting for data (Kafka's "delayed fetch purgatory").
//
// A Fetch that finds fewer than min.bytes waits, up to max.wait.ms, for appends to the partitions it reads.
// Every successful append notifies the waiters of that partition with the bytes it added; a waiter whose
// running total reaches its min.bytes completes at once, so consumers see new data as soon as it lands rather
// than on a poll timer. Completing re-runs the fetch's reads, so the response holds everything available.
// Main thread only.
export interface FetchWaiter {
  partitions: readonly number[];
  /** Bytes still needed before the fetch should complete. */
  bytesNeeded: number;
  complete(): void;
}

export class FetchPurgatory {
  readonly #waiters = new Map<number, Set<Entry>>();

  get size(): number {
    const all = new Set<Entry>();
    for (const set of this.#waiters.values()) for (const entry of set) all.add(entry);
    return all.size;
  }

  /** Parks a fetch until enough bytes are appended or `timeoutMs` passes, whichever comes first. */
  wait(partitions: readonly number[], bytesNeeded: number, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const entry: Entry = {
        partitions,
        bytesNeeded,
        timer: setTimeout(() => this.#finish(entry), timeoutMs),
        resolve,
      };
      for (const id of partitions) {
        let set = this.#waiters.get(id);
        if (!set) this.#waiters.set(id, (set = new Set()));
        set.add(entry);
      }
    });
  }

  /** An append of `bytes` landed on partition `id`. */
  notify(id: number, bytes: number): void {
    const set = this.#waiters.get(id);
    if (!set) return;
    for (const entry of [...set]) {
      entry.bytesNeeded -= bytes;
      if (entry.bytesNeeded <= 0) this.#finish(entry);
    }
  }

  /** Completes every waiter now (shutdown, topic deletion). */
  completeAll(): void {
    for (const set of [...this.#waiters.values()]) for (const entry of [...set]) this.#finish(entry);
  }

  #finish(entry: Entry): void {
    clearTimeout(entry.timer);
    for (const id of entry.partitions) {
      const set = this.#waiters.get(id);
      set?.delete(entry);
      if (set?.size === 0) this.#waiters.delete(id);
    }
    entry.resolve();
  }
}

interface Entry {
  partitions: readonly number[];
  bytesNeeded: number;
  timer: NodeJS.Timeout;
  resolve: () => void;
}
