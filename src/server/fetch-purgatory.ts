// Fetches waiting for data (Kafka's "delayed fetch purgatory").
//
// A Fetch that finds fewer than min.bytes waits, up to max.wait.ms, for appends to the partitions it reads.
// Every successful append notifies the waiters of that partition with the bytes it added; a waiter whose
// running total reaches its min.bytes completes at once, so consumers see new data as soon as it lands rather
// than on a poll timer. Completing re-runs the fetch's reads, so the response holds everything available.
//
// A fetch reads first and parks after, and an append can complete in between (its completion and the read's
// arrive in one burst from the worker, and the produce handler's notify may run before the fetch handler
// parks). Such an append would be missed until the next one, or until max.wait.ms at a low rate. So appends
// are numbered and the last RECENT_APPENDS are remembered: the fetch takes mark() before reading and passes
// it to wait(), which counts the bytes appended to its partitions since then. An append the read already saw
// is counted twice, so such a fetch may answer early with less than min.bytes, never late.
// Main thread only.
export class FetchPurgatory {
  readonly #waiters = new Map<number, Set<Entry>>();
  /** Appends notified so far; append n (from 1) is remembered at slot (n - 1) % RECENT_APPENDS. */
  #appends = 0;
  readonly #recentIds = new Int32Array(RECENT_APPENDS);
  readonly #recentBytes = new Float64Array(RECENT_APPENDS);

  get size(): number {
    const all = new Set<Entry>();
    for (const set of this.#waiters.values()) for (const entry of set) all.add(entry);
    return all.size;
  }

  /** The current point in the append sequence; pass it to wait() to catch appends that land before it. */
  mark(): number {
    return this.#appends;
  }

  /**
   * Parks a fetch until enough bytes are appended or `timeoutMs` passes, whichever comes first. With
   * `since` (a mark() taken before the fetch read), appends to `partitions` after the mark count too.
   */
  wait(partitions: readonly number[], bytesNeeded: number, timeoutMs: number, since?: number): Promise<void> {
    if (since !== undefined && since < this.#appends) {
      // More appends than remembered: some may have been to these partitions, so let the fetch read again.
      if (this.#appends - since > RECENT_APPENDS) return Promise.resolve();
      const ids = partitions.length > 8 ? new Set(partitions) : partitions;
      const has = (id: number): boolean => (ids instanceof Set ? ids.has(id) : ids.includes(id));
      for (let n = since + 1; n <= this.#appends; n++) {
        const slot = (n - 1) % RECENT_APPENDS;
        if (has(this.#recentIds[slot]!)) bytesNeeded -= this.#recentBytes[slot]!;
      }
      if (bytesNeeded <= 0) return Promise.resolve();
    }
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
    const slot = this.#appends++ % RECENT_APPENDS;
    this.#recentIds[slot] = id;
    this.#recentBytes[slot] = bytes;
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

/** Appends remembered for fetches between their mark() and wait(): a read's round trip sees a few. */
const RECENT_APPENDS = 1024;

interface Entry {
  partitions: readonly number[];
  bytesNeeded: number;
  timer: NodeJS.Timeout;
  resolve: () => void;
}
