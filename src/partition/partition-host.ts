// The partitions one worker owns, and the operations the broker runs on them.
//
// A PartitionHost lives on its partition worker thread (src/partition/worker.ts) and wraps the storage
// engine's LogManager. Partitions are addressed by a numeric id the main thread assigns when it opens them,
// so the hot path never carries topic names. Results are plain data with typed failure reasons; the request
// handlers map reasons to Kafka error codes.
//
// Runs on the owning partition worker only.
import {
  LogManager,
  resolveLogConfig,
  type AppendFailure,
  type ListOffsetsSpec,
  type LogConfig,
  type PartitionLog,
  type StorageLogger,
} from '../storage/index.js';

export interface PartitionSpec {
  id: number;
  topic: string;
  partition: number;
  /** The topic's config overrides (Kafka names). */
  configs: Record<string, string>;
}

export type HostFailure = AppendFailure | 'unknown-partition' | 'offset-out-of-range' | 'storage-error';

export type AppendOutcome =
  | { ok: true; baseOffset: number; logAppendTime: number; logStartOffset: number; logEndOffset: number }
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
  | ({ ok: true; regions: SegmentRegion[]; bytes: number } & PartitionOffsets)
  | ({ ok: false; reason: 'offset-out-of-range' } & PartitionOffsets)
  | { ok: false; reason: 'unknown-partition' };

export type ListOffsetOutcome =
  | { ok: true; offset: number; timestamp: number; leaderEpoch: number }
  | { ok: false; reason: 'unknown-partition' };

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
}

export class PartitionHost {
  readonly #manager: LogManager;
  readonly #defaults: LogConfig;
  readonly #byId = new Map<number, PartitionLog>();

  constructor(options: HostOptions) {
    this.#defaults = options.defaults;
    this.#manager = LogManager.open({
      logDir: options.logDir,
      defaults: options.defaults,
      owns: options.owns,
      cleanShutdownFile: options.cleanShutdownFile,
      logger: options.logger,
    });
  }

  /** Opens (creating if needed) the partitions and binds them to their ids; config changes apply too. */
  open(specs: PartitionSpec[]): void {
    for (const spec of specs) {
      const config = resolveLogConfig(spec.configs, this.#defaults);
      this.#byId.set(spec.id, this.#manager.getOrCreate(spec.topic, spec.partition, config));
    }
  }

  /** Deletes the partitions' logs (topic deletion). */
  delete(ids: number[]): void {
    for (const id of ids) {
      const log = this.#byId.get(id);
      if (!log) continue;
      this.#byId.delete(id);
      this.#manager.deleteLog(log.topic, log.partition);
    }
  }

  /** Validates and appends producer batches, assigning offsets. */
  append(id: number, records: Buffer): AppendOutcome {
    const log = this.#byId.get(id);
    if (!log) return { ok: false, reason: 'unknown-partition', message: `partition ${id} is not open here` };
    try {
      const result = log.append(records);
      if (!result.ok) return result;
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

  read(id: number, fetchOffset: number, maxBytes: number, readCommitted: boolean): ReadOutcome {
    const log = this.#byId.get(id);
    if (!log) return { ok: false, reason: 'unknown-partition' };
    const maxOffset = log.highWatermark;
    const result = log.read(fetchOffset, maxBytes, { maxOffset });
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
    return { ok: true, regions, bytes, ...offsets };
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
    return log.deleteRecords(offset);
  }

  sizes(): PartitionSize[] {
    return [...this.#byId].map(([id, log]) => ({
      id,
      size: log.sizeInBytes,
      offsetLag: Math.max(0, log.logEndOffset - log.highWatermark),
    }));
  }

  /** Periodic work: flush.ms, retention, compaction. */
  async tick(now = Date.now()): Promise<void> {
    this.#manager.flushDue(now);
    this.#manager.runRetention(now);
    await this.#manager.runCompaction(now);
  }

  checkpoint(): void {
    this.#manager.checkpoint();
  }

  async close(): Promise<void> {
    this.#byId.clear();
    await this.#manager.close();
  }
}
