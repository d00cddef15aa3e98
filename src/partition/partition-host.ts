// The partitions one worker owns, and the operations the broker runs on them.
//
// A PartitionHost lives on its partition worker thread (src/partition/worker.ts) and wraps the storage
// engine's LogManager. Partitions are addressed by a numeric id the main thread assigns when it opens them,
// so the hot path never carries topic names. Results are plain data with typed failure reasons; the request
// handlers map reasons to Kafka error codes.
//
// Idempotent producers: each partition keeps a ProducerStateTable (src/storage/producer-state.ts). An append
// is checked against it before it reaches the log and recorded after; a retried batch is answered with its
// original offsets and not written again. The table is rebuilt on open from the newest snapshot plus the batch
// headers after it, and snapshotted when a segment rolls and on a clean close.
//
// Runs on the owning partition worker only.
import { isControlBatch, iterateBatches, readRecordBatchHeader } from '../protocol/records/record-batch.js';
import {
  ProducerStateTable,
  loadLatestSnapshot,
  pruneSnapshots,
  writeSnapshot,
  type ProducerBatch,
  type ProducerFailure,
} from '../storage/producer-state.js';
import {
  LogManager,
  PartitionLog,
  resolveLogConfig,
  type AppendFailure,
  type ListOffsetsSpec,
  type LogConfig,
  type StorageLogger,
} from '../storage/index.js';

export interface PartitionSpec {
  id: number;
  topic: string;
  partition: number;
  /** The topic's config overrides (Kafka names). */
  configs: Record<string, string>;
}

export type HostFailure =
  | AppendFailure
  | Exclude<ProducerFailure, 'invalid-record'>
  | 'unknown-partition'
  | 'offset-out-of-range'
  | 'storage-error';

export type AppendOutcome =
  | {
      ok: true;
      baseOffset: number;
      logAppendTime: number;
      logStartOffset: number;
      logEndOffset: number;
      /** A retry of a batch already in the log: the offsets are the original ones and nothing was written. */
      duplicate?: boolean;
    }
  | { ok: false; reason: HostFailure; message: string };

/** A byte range of a segment file, by path (the main thread opens its own descriptors). */
export interface SegmentRegion {
  path: string;
  position: number;
  length: number;
}

export interface PartitionOffsets {
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
  logEndOffset: number;
}

export type ReadOutcome =
  | ({
      ok: true;
      regions: SegmentRegion[];
      bytes: number;
      /** The offset after the last batch returned (fetchOffset when none): where a reader continues. */
      nextOffset: number;
    } & PartitionOffsets)
  | ({ ok: false; reason: 'offset-out-of-range' } & PartitionOffsets)
  | { ok: false; reason: 'unknown-partition' };

export type ListOffsetOutcome =
  | { ok: true; offset: number; timestamp: number; leaderEpoch: number }
  | { ok: false; reason: 'unknown-partition' };

/** OffsetForLeaderEpoch's answer: the end offset of an epoch and the epoch found (-1, -1: none). */
export type EpochEndOffsetOutcome =
  { ok: true; leaderEpoch: number; endOffset: number } | { ok: false; reason: 'unknown-partition' };

/**
 * The leader epoch of every partition on this broker. A single broker is a cluster of one whose partitions
 * never change leader, so the epoch stays 0: the leader stamps it into appended batches, and the first append
 * records where it started in the leader-epoch cache.
 */
export const LEADER_EPOCH = 0;

export interface PartitionSize {
  id: number;
  size: number;
  offsetLag: number;
}

export interface HostOptions {
  logDir: string;
  /** Broker-level topic defaults. */
  defaults: LogConfig;
  /** Which partitions (topic, partition) this host loads from disk at start. */
  owns: (topic: string, partition: number) => boolean;
  /** The clean-shutdown marker file of this host (one per worker). */
  cleanShutdownFile: string;
  logger: StorageLogger;
  /** Broker properties, for the maintenance intervals (log.retention.check.interval.ms, ...). */
  brokerProps?: Record<string, string>;
}

/** How many snapshots each partition keeps (the newest is the one loaded; an older one covers a bad newest). */
const SNAPSHOTS_KEPT = 2;
/** Bytes read per step when replaying batch headers into the producer state on open. */
const REPLAY_READ_BYTES = 4 << 20;

/** Kafka's defaults for producer.id.expiration.ms and producer.id.expiration.check.interval.ms. */
const PRODUCER_ID_EXPIRATION_MS = 86_400_000;
const PRODUCER_ID_EXPIRATION_CHECK_MS = 600_000;

/** A partition's producer state and what its snapshots need to know. */
interface ProducerTracker {
  table: ProducerStateTable;
  /** The log start offset producers were last evicted below. */
  evictedBelow: number;
  /** The offset of the newest snapshot on disk (-1: none), so an unchanged partition is not rewritten. */
  snapshotOffset: number;
}

const intervalProp = (props: Record<string, string> | undefined, key: string): number | undefined => {
  const value = Number(props?.[key]);
  return Number.isFinite(value) && value > 0 ? value : undefined;
};

export class PartitionHost {
  readonly #manager: LogManager;
  readonly #defaults: LogConfig;
  readonly #byId = new Map<number, PartitionLog>();
  readonly #producers = new Map<PartitionLog, ProducerTracker>();
  readonly #logger: StorageLogger;
  readonly #producerExpirationMs: number;
  readonly #producerExpirationCheckMs: number;
  #lastProducerExpiry = Date.now();

  constructor(options: HostOptions) {
    this.#defaults = options.defaults;
    this.#logger = options.logger;
    this.#producerExpirationMs =
      intervalProp(options.brokerProps, 'producer.id.expiration.ms') ?? PRODUCER_ID_EXPIRATION_MS;
    this.#producerExpirationCheckMs =
      intervalProp(options.brokerProps, 'producer.id.expiration.check.interval.ms') ??
      PRODUCER_ID_EXPIRATION_CHECK_MS;
    this.#manager = LogManager.open({
      logDir: options.logDir,
      defaults: options.defaults,
      owns: options.owns,
      cleanShutdownFile: options.cleanShutdownFile,
      logger: options.logger,
      retentionCheckIntervalMs: intervalProp(options.brokerProps, 'log.retention.check.interval.ms'),
      checkpointIntervalMs: intervalProp(options.brokerProps, 'log.flush.offset.checkpoint.interval.ms'),
      cleanerBackoffMs: intervalProp(options.brokerProps, 'log.cleaner.backoff.ms'),
    });
  }

  /** Opens (creating if needed) the partitions and binds them to their ids; config changes apply too. */
  open(specs: PartitionSpec[]): void {
    for (const spec of specs) {
      const config = resolveLogConfig(spec.configs, this.#defaults);
      const log = this.#manager.getOrCreate(spec.topic, spec.partition, config);
      this.#byId.set(spec.id, log);
      if (!this.#producers.has(log)) this.#producers.set(log, this.#loadProducers(log));
    }
  }

  /** The producer state at the log end: the newest usable snapshot, then the batch headers after it. */
  #loadProducers(log: PartitionLog): ProducerTracker {
    const end = log.logEndOffset;
    const snapshot = loadLatestSnapshot(log.dir, end, this.#logger);
    const table = snapshot?.table ?? new ProducerStateTable();
    let from = Math.max(snapshot?.offset ?? 0, log.logStartOffset);
    let replayed = 0;
    while (from < end) {
      const result = log.read(from, REPLAY_READ_BYTES, { maxOffset: end });
      if (!result.ok || result.regions.length === 0) break;
      let next = from;
      for (const region of result.regions) {
        for (const { header } of iterateBatches(PartitionLog.readRegion(region))) {
          const lastOffset = header.baseOffset + header.lastOffsetDelta;
          if (lastOffset < from) continue;
          if (!isControlBatch(header.attributes)) {
            table.record(header, header.baseOffset, lastOffset, header.maxTimestamp);
          }
          replayed++;
          next = Math.max(next, lastOffset + 1);
        }
      }
      if (next <= from) break;
      from = next;
    }
    table.evictBelow(log.logStartOffset);
    if (replayed > 0 || snapshot) {
      this.#logger.info(
        `${log.dir}: producer state of ${table.size} producers from ${snapshot ? `the snapshot at ${snapshot.offset}` : 'no snapshot'} and ${replayed} batches after it`,
      );
    }
    return { table, evictedBelow: log.logStartOffset, snapshotOffset: snapshot?.offset ?? -1 };
  }

  #snapshot(log: PartitionLog, tracker: ProducerTracker): void {
    if (tracker.snapshotOffset === log.logEndOffset) return;
    try {
      writeSnapshot(log.dir, log.logEndOffset, tracker.table);
      tracker.snapshotOffset = log.logEndOffset;
      pruneSnapshots(log.dir, SNAPSHOTS_KEPT);
    } catch (error) {
      // Only deduplication across a restart depends on it, and the log replay covers a missing snapshot.
      this.#logger.warn(`${log.dir}: producer state snapshot failed: ${(error as Error).message}`);
    }
  }

  #evictProducers(log: PartitionLog, tracker: ProducerTracker): void {
    if (log.logStartOffset > tracker.evictedBelow) {
      tracker.table.evictBelow(log.logStartOffset);
      tracker.evictedBelow = log.logStartOffset;
    }
  }

  /** Deletes the partitions' logs (topic deletion). */
  delete(ids: number[]): void {
    for (const id of ids) {
      const log = this.#byId.get(id);
      if (!log) continue;
      this.#byId.delete(id);
      this.#producers.delete(log);
      this.#manager.deleteLog(log.topic, log.partition);
    }
  }

  /** Validates and appends producer batches, assigning offsets. */
  append(id: number, records: Buffer): AppendOutcome {
    const log = this.#byId.get(id);
    if (!log) return { ok: false, reason: 'unknown-partition', message: `partition ${id} is not open here` };
    try {
      const tracker = this.#producers.get(log);
      const producerBatches = tracker ? this.#producerBatches(records) : undefined;
      if (tracker && producerBatches) {
        const check = tracker.table.check(producerBatches.map((batch) => batch.header));
        if (check.kind === 'duplicate') {
          return {
            ok: true,
            baseOffset: check.batch.firstOffset,
            logAppendTime: check.batch.timestamp,
            logStartOffset: log.logStartOffset,
            logEndOffset: log.logEndOffset,
            duplicate: true,
          };
        }
        if (check.kind === 'error') return { ok: false, reason: check.reason, message: check.message };
      }
      const activeBefore = log.activeSegmentBaseOffset;
      const result = log.append(records, { leaderEpoch: LEADER_EPOCH });
      if (!result.ok) return result;
      if (tracker && producerBatches) {
        for (const { position } of producerBatches) {
          // The log patched the assigned offset (and LogAppendTime) into the batch in place.
          const header = readRecordBatchHeader(records, position);
          const timestamp = result.logAppendTime >= 0 ? result.logAppendTime : header.maxTimestamp;
          tracker.table.record(
            header,
            header.baseOffset,
            header.baseOffset + header.lastOffsetDelta,
            timestamp,
          );
        }
        if (log.activeSegmentBaseOffset !== activeBefore) this.#snapshot(log, tracker);
      }
      log.setHighWatermark(log.logEndOffset);
      return {
        ok: true,
        baseOffset: result.baseOffset,
        logAppendTime: result.logAppendTime,
        logStartOffset: result.logStartOffset,
        logEndOffset: log.logEndOffset,
      };
    } catch (error) {
      return { ok: false, reason: 'storage-error', message: (error as Error).message };
    }
  }

  /** The batches of an append that carry a producer id, or undefined when none does (or they don't parse). */
  #producerBatches(records: Buffer): { position: number; header: ProducerBatch }[] | undefined {
    let found: { position: number; header: ProducerBatch }[] | undefined;
    try {
      for (const { position, header } of iterateBatches(records)) {
        if (header.producerId >= 0 && !isControlBatch(header.attributes))
          (found ??= []).push({ position, header });
      }
    } catch {
      return undefined; // the log's own validation names the problem
    }
    return found;
  }

  /** Whole batches from fetchOffset within maxBytes; the first batch may exceed it unless `strictMaxBytes`. */
  read(
    id: number,
    fetchOffset: number,
    maxBytes: number,
    readCommitted: boolean,
    strictMaxBytes = false,
  ): ReadOutcome {
    const log = this.#byId.get(id);
    if (!log) return { ok: false, reason: 'unknown-partition' };
    const maxOffset = log.highWatermark;
    const result = log.read(fetchOffset, maxBytes, { maxOffset, minOneBatch: !strictMaxBytes });
    const offsets = {
      highWatermark: result.highWatermark,
      // No transactions yet: everything below the high watermark is stable.
      lastStableOffset: result.highWatermark,
      logStartOffset: result.logStartOffset,
      logEndOffset: result.logEndOffset,
    };
    void readCommitted;
    if (!result.ok) return { ok: false, reason: 'offset-out-of-range', ...offsets };
    let bytes = 0;
    const regions = result.regions.map((region) => {
      bytes += region.length;
      return { path: region.path, position: region.position, length: region.length };
    });
    const last = result.regions[result.regions.length - 1];
    const nextOffset = last ? last.lastOffset + 1 : fetchOffset;
    return { ok: true, regions, bytes, nextOffset, ...offsets };
  }

  offsets(id: number): PartitionOffsets | undefined {
    const log = this.#byId.get(id);
    if (!log) return undefined;
    return {
      highWatermark: log.highWatermark,
      lastStableOffset: log.highWatermark,
      logStartOffset: log.logStartOffset,
      logEndOffset: log.logEndOffset,
    };
  }

  async listOffset(id: number, spec: ListOffsetsSpec): Promise<ListOffsetOutcome> {
    const log = this.#byId.get(id);
    if (!log) return { ok: false, reason: 'unknown-partition' };
    const found = await log.listOffset(spec);
    return found ? { ok: true, ...found } : { ok: true, offset: -1, timestamp: -1, leaderEpoch: -1 };
  }

  deleteRecords(
    id: number,
    offset: number,
  ):
    | { ok: true; logStartOffset: number }
    | { ok: false; reason: 'unknown-partition' | 'offset-out-of-range' } {
    const log = this.#byId.get(id);
    if (!log) return { ok: false, reason: 'unknown-partition' };
    const result = log.deleteRecords(offset);
    const tracker = this.#producers.get(log);
    if (result.ok && tracker) this.#evictProducers(log, tracker);
    return result;
  }

  /**
   * OffsetForLeaderEpoch, by Kafka's rules: the latest epoch ends at the log end offset; an older one ends where
   * the next larger epoch starts, reported with the largest known epoch at or below it; an epoch below every
   * known one ends where the first known epoch starts; -1 and epochs above the latest have no answer (-1, -1).
   */
  epochEndOffset(id: number, epoch: number): EpochEndOffsetOutcome {
    const log = this.#byId.get(id);
    if (!log) return { ok: false, reason: 'unknown-partition' };
    const none = { ok: true as const, leaderEpoch: -1, endOffset: -1 };
    const entries = log.leaderEpochCache.entries;
    const latest = entries.at(-1);
    if (epoch < 0) return none;
    // Nothing appended under any epoch yet: the current one is implicit and ends at the log end. (Kafka
    // records it when a replica becomes leader; Fjord waits for the first append, saving a checkpoint write
    // per partition created.)
    if (!latest)
      return epoch === LEADER_EPOCH ? { ok: true, leaderEpoch: epoch, endOffset: log.logEndOffset } : none;
    if (epoch === latest.epoch) return { ok: true, leaderEpoch: epoch, endOffset: log.logEndOffset };
    const higher = entries.find((entry) => entry.epoch > epoch);
    if (!higher) return none;
    const floor = entries.findLast((entry) => entry.epoch <= epoch);
    return { ok: true, leaderEpoch: floor ? floor.epoch : epoch, endOffset: higher.startOffset };
  }

  sizes(): PartitionSize[] {
    return [...this.#byId].map(([id, log]) => ({
      id,
      size: log.sizeInBytes,
      offsetLag: Math.max(0, log.logEndOffset - log.highWatermark),
    }));
  }

  /** Periodic work, each part on its own interval: flush.ms, retention, checkpoints, compaction. */
  tick(now = Date.now()): void {
    this.#manager.maintain(now);
    // Retention may have moved log start offsets.
    for (const [log, tracker] of this.#producers) this.#evictProducers(log, tracker);
    if (now - this.#lastProducerExpiry >= this.#producerExpirationCheckMs) {
      this.#lastProducerExpiry = now;
      for (const tracker of this.#producers.values()) tracker.table.expire(now, this.#producerExpirationMs);
    }
  }

  checkpoint(): void {
    this.#manager.checkpoint();
  }

  async close(): Promise<void> {
    for (const [log, tracker] of this.#producers) {
      if (log.logEndOffset > 0) this.#snapshot(log, tracker);
    }
    this.#producers.clear();
    this.#byId.clear();
    await this.#manager.close();
  }
}
