// Partitioners. A keyed record goes to toPositive(murmur2(key)) % partitions, the same partition the Java
// client (and librdkafka's murmur2_random, and kafkajs's DefaultPartitioner) picks, so producers in any
// language agree on where a key lives. Records without a key stick to one partition until a batch for it is
// sent (KIP-480), or rotate round-robin by option.

/** What a custom partitioner is given for each record. */
export interface PartitionerArgs {
  topic: string;
  key: Buffer | null;
  value: Buffer | null;
  /** Number of partitions the topic has. */
  partitionCount: number;
}

/** Returns the partition (0 .. partitionCount-1) for a record. */
export type Partitioner = (args: PartitionerArgs) => number;

const M = 0x5bd1e995;
const SEED = 0x9747b28c;

/**
 * MurmurHash2, 32-bit, seed 0x9747b28c, as Kafka's `Utils.murmur2` computes it (signed int32 result):
 * little-endian 4-byte blocks, then the 1–3 byte tail, then the final avalanche.
 */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = (SEED ^ length) | 0;
  const blocks = length & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const tail = length & 3;
  if (tail === 3) h ^= data[blocks + 2]! << 16;
  if (tail >= 2) h ^= data[blocks + 1]! << 8;
  if (tail >= 1) {
    h ^= data[blocks]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** Kafka's `Utils.toPositive`: clears the sign bit (not Math.abs, which differs for negative values). */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

/** The partition the Java client's default partitioner picks for a non-null key. */
export function partitionForKey(key: Uint8Array, partitionCount: number): number {
  return toPositive(murmur2(key)) % partitionCount;
}

/** The built-in strategies for records without a key. */
export type KeylessStrategy = 'sticky' | 'round-robin';

/**
 * The default partitioner's state for one producer: keyed records by murmur2, keyless ones sticky (the
 * partition changes when the producer calls `onNewBatch`) or round-robin.
 */
export class DefaultPartitioner {
  readonly #strategy: KeylessStrategy;
  readonly #sticky = new Map<string, number>();
  readonly #counters = new Map<string, number>();

  constructor(strategy: KeylessStrategy = 'sticky') {
    this.#strategy = strategy;
  }

  partition(topic: string, key: Buffer | null, partitionCount: number): number {
    if (key !== null) return partitionForKey(key, partitionCount);
    if (this.#strategy === 'round-robin') {
      const next = this.#counters.get(topic) ?? Math.floor(Math.random() * partitionCount);
      this.#counters.set(topic, next + 1);
      return next % partitionCount;
    }
    let sticky = this.#sticky.get(topic);
    if (sticky === undefined || sticky >= partitionCount) {
      sticky = Math.floor(Math.random() * partitionCount);
      this.#sticky.set(topic, sticky);
    }
    return sticky;
  }

  /** A batch for `partition` of `topic` was closed: keyless records move on to another partition. */
  onNewBatch(topic: string, partition: number, partitionCount: number): void {
    if (this.#strategy !== 'sticky' || this.#sticky.get(topic) !== partition) return;
    if (partitionCount <= 1) return;
    const offset = 1 + Math.floor(Math.random() * (partitionCount - 1));
    this.#sticky.set(topic, (partition + offset) % partitionCount);
  }
}
