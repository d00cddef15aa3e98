// Idempotent-producer state of one partition, and its snapshot file.
//
// Snapshot file: `<partitionDir>/<20-digit offset>.snapshot`, the state after every batch below `offset` (the
// log end offset when it was taken). Text, written atomically (temporary file, fsync, rename, fsync dir), so a
// crash leaves the previous snapshot or the new one, never a torn file:
//   line 1: version, always 1
//   line 2: producer count N
//   N lines: `<producerId> <producerEpoch> <batchCount> [<firstSeq> <lastSeq> <firstOffset> <lastOffset> <timestamp>]*`
//            single spaces; batchCount <= 5, batches oldest first, all of them in producerEpoch
// Invariants: producer ids are distinct and >= 0; within a producer the batches' offsets increase.
// Recovery: the newest snapshot at or below the log end offset is loaded and the batch headers from its offset
// to the log end are replayed on top (PartitionHost does this); a snapshot that does not parse is reported and
// skipped for an older one (or none: a replay from the log start). Snapshots above the log end offset describe
// batches the log no longer has and are deleted. Snapshots are never needed for correctness of the log itself,
// only for deduplication after a restart.
//
// The checks follow Kafka's broker for client appends: a batch whose (epoch, first sequence, last sequence)
// matches one of the producer's last five batches is a duplicate and is answered with the original offsets;
// an epoch below the producer's is INVALID_PRODUCER_EPOCH; a new epoch must start at sequence 0, and within an
// epoch each batch must continue the last one (sequences wrap from 2^31-1 to 0), otherwise
// OUT_OF_ORDER_SEQUENCE_NUMBER. A producer this partition has no state for (never seen, or evicted because
// its batches are all below the log start offset) may start at any sequence, as in Kafka 2.5+ (KIP-360):
// UNKNOWN_PRODUCER_ID is no longer returned by the produce path.
// Pure data plus two file helpers; owned by one partition worker, so nothing here locks.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomically } from './checkpoint.js';
import type { StorageLogger } from './segment.js';

/** How many of each producer's most recent batches are kept for duplicate detection (Kafka's constant). */
export const PRODUCER_BATCHES_KEPT = 5;
export const SNAPSHOT_SUFFIX = '.snapshot';
const SNAPSHOT_VERSION = 1;
const INT32_MAX = 2147483647;

/** The producer fields of a batch header, as readRecordBatchHeader gives them. */
export interface ProducerBatch {
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  lastOffsetDelta: number;
}

/** A batch already in the log. */
export interface BatchMetadata {
  firstSeq: number;
  lastSeq: number;
  firstOffset: number;
  lastOffset: number;
  /** The batch's max timestamp (the append time under LogAppendTime); Kafka answers duplicates with it. */
  timestamp: number;
}

export interface ProducerEntry {
  producerId: number;
  producerEpoch: number;
  /** Oldest first, at most PRODUCER_BATCHES_KEPT, all in producerEpoch. */
  batches: BatchMetadata[];
}

export type ProducerFailure = 'out-of-order-sequence' | 'invalid-producer-epoch' | 'invalid-record';

export type ProducerCheck =
  | { kind: 'append' }
  | { kind: 'duplicate'; batch: BatchMetadata }
  | { kind: 'error'; reason: ProducerFailure; message: string };

/** The last sequence of a batch, wrapping past 2^31-1 as Kafka's producers do. */
export function lastSequenceOf(baseSequence: number, lastOffsetDelta: number): number {
  return baseSequence > INT32_MAX - lastOffsetDelta
    ? lastOffsetDelta - (INT32_MAX - baseSequence) - 1
    : baseSequence + lastOffsetDelta;
}

/** Whether `next` directly follows `last`. */
export function inSequence(last: number, next: number): boolean {
  return next === last + 1 || (next === 0 && last === INT32_MAX);
}

const hasProducerId = (batch: ProducerBatch): boolean => batch.producerId >= 0;

export class ProducerStateTable {
  readonly #entries = new Map<number, ProducerEntry>();

  get size(): number {
    return this.#entries.size;
  }

  entry(producerId: number): ProducerEntry | undefined {
    return this.#entries.get(producerId);
  }

  entries(): ProducerEntry[] {
    return [...this.#entries.values()];
  }

  /**
   * Checks the batches of one append, in order, as if each earlier one had been written. The first batch that
   * duplicates one already in the log makes the whole append a duplicate (Kafka answers with that batch's
   * offsets and writes nothing). Batches without a producer id are not checked.
   */
  check(batches: readonly ProducerBatch[]): ProducerCheck {
    // Where the append itself moves a producer on (several batches of one producer in one request).
    let pending: Map<number, { producerEpoch: number; lastSeq: number }> | undefined;
    for (const batch of batches) {
      if (!hasProducerId(batch)) continue;
      const { producerId, producerEpoch, baseSequence } = batch;
      if (baseSequence < 0) {
        return {
          kind: 'error',
          reason: 'invalid-record',
          message: `invalid sequence number ${baseSequence} in a batch of producer ${producerId}`,
        };
      }
      const lastSeq = lastSequenceOf(baseSequence, batch.lastOffsetDelta);
      const entry = this.#entries.get(producerId);
      if (entry && entry.producerEpoch === producerEpoch) {
        const duplicate = entry.batches.find((b) => b.firstSeq === baseSequence && b.lastSeq === lastSeq);
        if (duplicate) return { kind: 'duplicate', batch: duplicate };
      }
      const current =
        pending?.get(producerId) ??
        (entry && { producerEpoch: entry.producerEpoch, lastSeq: entry.batches.at(-1)?.lastSeq ?? -1 });
      if (current) {
        if (producerEpoch < current.producerEpoch) {
          return {
            kind: 'error',
            reason: 'invalid-producer-epoch',
            message: `producer ${producerId} has epoch ${producerEpoch}, below the last seen epoch ${current.producerEpoch}`,
          };
        }
        if (producerEpoch !== current.producerEpoch) {
          if (baseSequence !== 0) {
            return {
              kind: 'error',
              reason: 'out-of-order-sequence',
              message: `producer ${producerId} starts epoch ${producerEpoch} at sequence ${baseSequence}, not 0`,
            };
          }
        } else if (!inSequence(current.lastSeq, baseSequence)) {
          return {
            kind: 'error',
            reason: 'out-of-order-sequence',
            message: `producer ${producerId} sent sequence ${baseSequence}, the last one was ${current.lastSeq}`,
          };
        }
      }
      (pending ??= new Map()).set(producerId, { producerEpoch, lastSeq });
    }
    return { kind: 'append' };
  }

  /** Records a batch written to the log at [firstOffset, lastOffset] (no checks: also used to replay the log). */
  record(batch: ProducerBatch, firstOffset: number, lastOffset: number, timestamp: number): void {
    if (!hasProducerId(batch)) return;
    let entry = this.#entries.get(batch.producerId);
    if (!entry) {
      entry = { producerId: batch.producerId, producerEpoch: batch.producerEpoch, batches: [] };
      this.#entries.set(batch.producerId, entry);
    }
    if (entry.producerEpoch !== batch.producerEpoch) {
      // A new epoch: sequences restart, the old epoch's batches can no longer be duplicated.
      entry.producerEpoch = batch.producerEpoch;
      entry.batches = [];
    }
    entry.batches.push({
      firstSeq: batch.baseSequence,
      lastSeq: lastSequenceOf(batch.baseSequence, batch.lastOffsetDelta),
      firstOffset,
      lastOffset,
      timestamp,
    });
    if (entry.batches.length > PRODUCER_BATCHES_KEPT) entry.batches.shift();
  }

  /** Forgets producers whose every batch lies below the log start offset (retention, DeleteRecords). */
  evictBelow(logStartOffset: number): number {
    let evicted = 0;
    for (const [producerId, entry] of this.#entries) {
      const last = entry.batches.at(-1);
      if (!last || last.lastOffset < logStartOffset) {
        this.#entries.delete(producerId);
        evicted++;
      }
    }
    return evicted;
  }

  /**
   * Forgets producers idle for `maxIdleMs` (Kafka's producer.id.expiration.ms), judged by their newest batch's
   * timestamp as Kafka does. A retry from such a producer is then accepted as new, as in Kafka.
   */
  expire(now: number, maxIdleMs: number): number {
    let expired = 0;
    for (const [producerId, entry] of this.#entries) {
      const last = entry.batches.at(-1);
      if (!last || now - last.timestamp >= maxIdleMs) {
        this.#entries.delete(producerId);
        expired++;
      }
    }
    return expired;
  }

  /** Forgets batches at or above `offset` (the log was truncated there), and producers left with none. */
  truncateFrom(offset: number): void {
    for (const [producerId, entry] of this.#entries) {
      entry.batches = entry.batches.filter((b) => b.lastOffset < offset);
      if (entry.batches.length === 0) this.#entries.delete(producerId);
    }
  }

  toSnapshotText(): string {
    const lines = [String(SNAPSHOT_VERSION), String(this.#entries.size)];
    for (const entry of this.#entries.values()) {
      const fields = [entry.producerId, entry.producerEpoch, entry.batches.length];
      for (const b of entry.batches)
        fields.push(b.firstSeq, b.lastSeq, b.firstOffset, b.lastOffset, b.timestamp);
      lines.push(fields.join(' '));
    }
    return lines.join('\n') + '\n';
  }

  /** Parses a snapshot's text; throws SnapshotFormatError naming the problem. */
  static fromSnapshotText(text: string): ProducerStateTable {
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    const fail = (why: string): never => {
      throw new SnapshotFormatError(why);
    };
    const int = (token: string | undefined, what: string): number => {
      const value = Number(token);
      if (token === undefined || !/^-?\d+$/.test(token) || !Number.isSafeInteger(value)) {
        fail(`${what} is ${JSON.stringify(token)}, not an integer`);
      }
      return value;
    };
    if (lines[0] !== String(SNAPSHOT_VERSION)) fail(`unknown version ${JSON.stringify(lines[0])}`);
    const count = int(lines[1], 'producer count');
    if (lines.length !== count + 2) fail(`${lines.length - 2} producer lines, the header says ${count}`);
    const table = new ProducerStateTable();
    for (let i = 0; i < count; i++) {
      const tokens = lines[i + 2]!.split(' ');
      const producerId = int(tokens[0], 'producer id');
      const producerEpoch = int(tokens[1], 'producer epoch');
      const batchCount = int(tokens[2], 'batch count');
      if (producerId < 0 || table.#entries.has(producerId)) fail(`bad or repeated producer id ${producerId}`);
      if (batchCount < 0 || batchCount > PRODUCER_BATCHES_KEPT || tokens.length !== 3 + 5 * batchCount) {
        fail(`producer ${producerId}: ${tokens.length} fields for ${batchCount} batches`);
      }
      const batches: BatchMetadata[] = [];
      for (let b = 0; b < batchCount; b++) {
        const at = 3 + 5 * b;
        batches.push({
          firstSeq: int(tokens[at], 'first sequence'),
          lastSeq: int(tokens[at + 1], 'last sequence'),
          firstOffset: int(tokens[at + 2], 'first offset'),
          lastOffset: int(tokens[at + 3], 'last offset'),
          timestamp: int(tokens[at + 4], 'timestamp'),
        });
      }
      table.#entries.set(producerId, { producerId, producerEpoch, batches });
    }
    return table;
  }
}

export class SnapshotFormatError extends Error {
  override name = 'SnapshotFormatError';
}

export function snapshotFileName(offset: number): string {
  return String(offset).padStart(20, '0') + SNAPSHOT_SUFFIX;
}

/** The offsets of the snapshots in a partition directory, ascending. */
export function listSnapshots(dir: string): number[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .map((name) => /^(\d{20})\.snapshot$/.exec(name))
    .filter((match) => match !== null)
    .map((match) => Number(match[1]))
    .filter((offset) => Number.isSafeInteger(offset))
    .sort((a, b) => a - b);
}

export function writeSnapshot(dir: string, offset: number, table: ProducerStateTable): void {
  writeFileAtomically(path.join(dir, snapshotFileName(offset)), table.toSnapshotText());
}

/**
 * Loads the newest readable snapshot at or below `logEndOffset`, deleting those above it (the log no longer
 * holds their batches). Undefined when there is none.
 */
export function loadLatestSnapshot(
  dir: string,
  logEndOffset: number,
  logger: StorageLogger,
): { offset: number; table: ProducerStateTable } | undefined {
  const offsets = listSnapshots(dir);
  for (const offset of offsets.filter((o) => o > logEndOffset)) {
    logger.warn(`${path.join(dir, snapshotFileName(offset))}: beyond the log end ${logEndOffset}; deleted`);
    fs.rmSync(path.join(dir, snapshotFileName(offset)), { force: true });
  }
  for (const offset of offsets.filter((o) => o <= logEndOffset).reverse()) {
    const file = path.join(dir, snapshotFileName(offset));
    try {
      return { offset, table: ProducerStateTable.fromSnapshotText(fs.readFileSync(file, 'utf8')) };
    } catch (error) {
      logger.warn(`${file}: ${(error as Error).message}; ignored`);
    }
  }
  return undefined;
}

/** Deletes all but the newest `keep` snapshots. */
export function pruneSnapshots(dir: string, keep: number): void {
  const offsets = listSnapshots(dir);
  for (const offset of offsets.slice(0, Math.max(0, offsets.length - keep))) {
    fs.rmSync(path.join(dir, snapshotFileName(offset)), { force: true });
  }
}
