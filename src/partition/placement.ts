// The placement table: which partition worker owns each (topic, partition). Every thread keeps its own copy.
//
// Why copies instead of a table in a SharedArrayBuffer: the keys are topic names (variable-length strings),
// a shared table would need its own string interning and a seqlock for readers, and the table changes only
// on the control plane (topic created, deleted or grown). So the main thread owns the authoritative table
// and broadcasts a full snapshot after each change; every thread's lookup is then a plain Map read with no
// synchronisation at all. Each snapshot carries a revision that only ever increases, so a snapshot that
// arrives late (over another channel, or after a newer one) is ignored instead of undoing a change. Full
// snapshots rather than deltas mean a missed or reordered update can never leave a copy with a hole; at the
// sizes a broker has (thousands of partitions) a snapshot is a few kilobytes of structured clone.
//
// Default policy: each new partition goes to the worker that owns the fewest partitions, ties broken by a
// cursor that keeps rotating, so a topic's partitions are spread over all workers and topics created one
// after another do not all start on worker 0. Partitions never move on their own (moving one means handing
// its log from one worker to another); move() exists for an explicit rebalance.

/** A structured-cloneable copy of the table, what the main thread posts to the workers. */
export interface PlacementSnapshot {
  revision: number;
  workerCount: number;
  /** [topic, owner worker of partition 0, 1, 2, ...] */
  topics: Array<[topic: string, workers: number[]]>;
}

export interface PartitionRef {
  topic: string;
  partition: number;
}

export class PlacementTable {
  #revision = 0;
  #workerCount: number;
  #topics = new Map<string, number[]>();
  #load: number[];
  #cursor = 0;

  constructor(workerCount: number) {
    if (!Number.isInteger(workerCount) || workerCount < 1) {
      throw new RangeError(`placement needs at least one worker, got ${workerCount}`);
    }
    this.#workerCount = workerCount;
    this.#load = new Array<number>(workerCount).fill(0);
  }

  static fromSnapshot(snapshot: PlacementSnapshot): PlacementTable {
    const table = new PlacementTable(snapshot.workerCount);
    table.apply(snapshot);
    return table;
  }

  get revision(): number {
    return this.#revision;
  }

  get workerCount(): number {
    return this.#workerCount;
  }

  /** The owner of a partition, or -1 when the table does not know it. Any thread; never blocks. */
  workerFor(topic: string, partition: number): number {
    return this.#topics.get(topic)?.[partition] ?? -1;
  }

  partitionCount(topic: string): number {
    return this.#topics.get(topic)?.length ?? 0;
  }

  topics(): string[] {
    return [...this.#topics.keys()];
  }

  /** Partitions owned per worker (index = worker). */
  load(): number[] {
    return [...this.#load];
  }

  partitionsOf(worker: number): PartitionRef[] {
    const owned: PartitionRef[] = [];
    for (const [topic, workers] of this.#topics) {
      workers.forEach((owner, partition) => {
        if (owner === worker) owned.push({ topic, partition });
      });
    }
    return owned;
  }

  // ---- changes: main thread only (the authoritative copy); each bumps the revision ----

  /** Places a new topic's partitions; returns the owner of each. */
  addTopic(topic: string, partitionCount: number): number[] {
    if (this.#topics.has(topic)) throw new Error(`placement: topic ${topic} is already placed`);
    checkCount(partitionCount);
    const workers: number[] = [];
    this.#topics.set(topic, workers);
    this.#place(workers, partitionCount);
    this.#revision++;
    return [...workers];
  }

  /** Grows a topic to `partitionCount` partitions; existing partitions keep their owners. */
  addPartitions(topic: string, partitionCount: number): number[] {
    const workers = this.#topics.get(topic);
    if (workers === undefined) throw new Error(`placement: unknown topic ${topic}`);
    checkCount(partitionCount);
    if (partitionCount < workers.length) {
      throw new RangeError(`placement: ${topic} has ${workers.length} partitions, cannot shrink`);
    }
    this.#place(workers, partitionCount);
    this.#revision++;
    return [...workers];
  }

  removeTopic(topic: string): boolean {
    const workers = this.#topics.get(topic);
    if (workers === undefined) return false;
    for (const owner of workers) this.#load[owner]!--;
    this.#topics.delete(topic);
    this.#revision++;
    return true;
  }

  /** Hands one partition to another worker (the caller moves the partition's state). */
  move(topic: string, partition: number, worker: number): void {
    const workers = this.#topics.get(topic);
    const current = workers?.[partition];
    if (workers === undefined || current === undefined) {
      throw new Error(`placement: unknown partition ${topic}-${partition}`);
    }
    this.#checkWorker(worker);
    this.#load[current]!--;
    this.#load[worker]!++;
    workers[partition] = worker;
    this.#revision++;
  }

  #place(workers: number[], partitionCount: number): void {
    while (workers.length < partitionCount) {
      let best = -1;
      for (let step = 0; step < this.#workerCount; step++) {
        const candidate = (this.#cursor + step) % this.#workerCount;
        if (best === -1 || this.#load[candidate]! < this.#load[best]!) best = candidate;
      }
      workers.push(best);
      this.#load[best]!++;
      this.#cursor = (best + 1) % this.#workerCount;
    }
  }

  #checkWorker(worker: number): void {
    if (!Number.isInteger(worker) || worker < 0 || worker >= this.#workerCount) {
      throw new RangeError(`placement: worker ${worker} outside [0, ${this.#workerCount})`);
    }
  }

  // ---- copies ----

  snapshot(): PlacementSnapshot {
    return {
      revision: this.#revision,
      workerCount: this.#workerCount,
      topics: [...this.#topics].map(([topic, workers]) => [topic, [...workers]]),
    };
  }

  /**
   * Replaces this copy with `snapshot` unless it is not newer (revision <= ours); returns whether it was
   * applied. Any thread: this is how workers (and tests) follow the main thread's table.
   */
  apply(snapshot: PlacementSnapshot): boolean {
    if (snapshot.revision <= this.#revision) return false;
    const load = new Array<number>(snapshot.workerCount).fill(0);
    const topics = new Map<string, number[]>();
    for (const [topic, workers] of snapshot.topics) {
      for (const owner of workers) {
        if (!Number.isInteger(owner) || owner < 0 || owner >= snapshot.workerCount) {
          throw new RangeError(
            `placement snapshot: ${topic} placed on worker ${owner} of ${snapshot.workerCount}`,
          );
        }
        load[owner]!++;
      }
      topics.set(topic, [...workers]);
    }
    this.#workerCount = snapshot.workerCount;
    this.#topics = topics;
    this.#load = load;
    this.#revision = snapshot.revision;
    return true;
  }
}

function checkCount(partitionCount: number): void {
  if (!Number.isInteger(partitionCount) || partitionCount < 1) {
    throw new RangeError(`placement: partition count must be a positive integer, got ${partitionCount}`);
  }
}
