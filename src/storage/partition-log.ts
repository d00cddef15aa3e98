// The log of one partition: the directory `<topic>-<partition>/` and its segments (see segment.ts for the
// .log/.index/.timeindex formats, leader-epoch-cache.ts for `leader-epoch-checkpoint`, compaction.ts for the
// `.cleaned`/`.swap` protocol).
//
// Directory contents:
//   <20-digit base offset>.log / .index / .timeindex   one triple per segment; the last one is active
//   leader-epoch-checkpoint                           epoch -> start offset cache
//   *.deleted                                         removed segments awaiting unlink (file.delete.delay.ms)
//   *.cleaned, *.swap                                 compaction in progress (finished or discarded on open)
//
// Offsets: logStartOffset <= highWatermark <= logEndOffset. Appends assign offsets batch by batch (no per-record
// work). Segments are contiguous in offset order and only the active (last) segment is written.
// Recovery on open: segments at or after the recovery point (or every segment, when the dir was not shut down
// cleanly and there is no checkpoint) are re-validated batch by batch; all others get a cheap check of their
// indexes and tail, and are fully recovered if it fails.
// Runs on the owning partition worker only: the object is never shared, so nothing here locks.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  decodeRecordBatch,
  isControlBatch,
  isRecordBatchCrcValid,
  iterateBatches,
  setBaseOffset,
  setLogAppendTime,
  setPartitionLeaderEpoch,
  type RecordBatchHeader,
} from '../protocol/records/record-batch.js';
import { syncDir } from './checkpoint.js';
import {
  applyPendingSwaps,
  cleanSegmentsInProcess,
  finishSwap,
  type CleanerTask,
  type CleanerResult,
} from './compaction.js';
import { LeaderEpochCache } from './leader-epoch-cache.js';
import { LONG_MAX, type LogConfig } from './log-config.js';
import {
  CLEANED_SUFFIX,
  DELETED_SUFFIX,
  INDEX_SUFFIX,
  LOG_SUFFIX,
  LogSegment,
  SILENT_LOGGER,
  SWAP_SUFFIX,
  TIME_INDEX_SUFFIX,
  lastOffsetOf,
  parseSegmentFileName,
  segmentFileName,
  type FileRegion,
  type StorageLogger,
} from './segment.js';

export type { FileRegion, StorageLogger } from './segment.js';

export interface PartitionLogOptions {
  /** The partition directory, `<logDir>/<topic>-<partition>`. */
  dir: string;
  topic: string;
  partition: number;
  config: LogConfig;
  logger?: StorageLogger;
  /** Clock in ms; tests inject one. */
  now?: () => number;
  /** From the log dir's recovery-point checkpoint; absent means "recover everything". */
  recoveryPoint?: number;
  /** From the log dir's log-start-offset checkpoint. */
  logStartOffset?: number;
  /** From the log dir's cleaner-offset checkpoint. */
  cleanerCheckpoint?: number;
  /** The log dir was shut down cleanly: skip batch validation (indexes and tails are still checked). */
  cleanShutdown?: boolean;
  /** Runs a compaction pass; defaults to running it in this thread. LogManager passes a piscina pool. */
  runCleaner?: (task: CleanerTask) => Promise<CleanerResult>;
}

export interface AppendOptions {
  /** Leader epoch to stamp into each batch and record in the epoch cache (-1: leave as is). */
  leaderEpoch?: number;
  /** false: the batches carry their offsets already (follower fetch); they must continue the log. */
  assignOffsets?: boolean;
  /** Check each batch's CRC32C before writing (default true). */
  verifyCrc?: boolean;
}

export type AppendFailure =
  'corrupt-message' | 'record-too-large' | 'invalid-record' | 'invalid-timestamp' | 'out-of-order-offsets';

export type AppendResult =
  | {
      ok: true;
      baseOffset: number;
      lastOffset: number;
      /** The LogAppendTime stamped into the batches, or -1 under CreateTime. */
      logAppendTime: number;
      logStartOffset: number;
      recordCount: number;
    }
  | { ok: false; reason: AppendFailure; message: string };

export interface ReadOptions {
  /** Exclusive upper bound on offsets returned, e.g. the high watermark (default: log end offset). */
  maxOffset?: number;
  /** Return the first batch even if it is larger than maxBytes (Kafka's rule; default true). */
  minOneBatch?: boolean;
}

export type ReadResult =
  | {
      ok: true;
      /** Whole batches, in offset order; the first holds fetchOffset (or the next offset present). */
      regions: FileRegion[];
      highWatermark: number;
      logStartOffset: number;
      logEndOffset: number;
    }
  | {
      ok: false;
      reason: 'offset-out-of-range';
      highWatermark: number;
      logStartOffset: number;
      logEndOffset: number;
    };

export interface TimestampAndOffset {
  offset: number;
  timestamp: number;
  leaderEpoch: number;
}

export type ListOffsetsSpec = 'earliest' | 'latest' | 'max-timestamp' | { timestamp: number };

export interface SegmentInfo {
  baseOffset: number;
  lastOffset: number;
  size: number;
  maxTimestamp: number;
  path: string;
}

export class PartitionLog {
  readonly dir: string;
  readonly topic: string;
  readonly partition: number;
  #config: LogConfig;
  #logger: StorageLogger;
  #now: () => number;
  #segments: LogSegment[] = [];
  #logEndOffset = 0;
  #highWatermark = 0;
  #autoHighWatermark = true;
  #logStartOffset = 0;
  #recoveryPoint = 0;
  #cleanerCheckpoint = 0;
  #unflushedMessages = 0;
  #lastFlushMs: number;
  #leaderEpochs: LeaderEpochCache;
  #pendingDeletes = new Set<{ timer: NodeJS.Timeout | undefined; segment: LogSegment }>();
  #runCleaner: (task: CleanerTask) => Promise<CleanerResult>;
  #cleaning = false;
  #cleaningAborted = false;
  #closed = false;

  private constructor(options: PartitionLogOptions) {
    this.dir = options.dir;
    this.topic = options.topic;
    this.partition = options.partition;
    this.#config = options.config;
    this.#logger = options.logger ?? SILENT_LOGGER;
    this.#now = options.now ?? Date.now;
    this.#lastFlushMs = this.#now();
    this.#runCleaner = options.runCleaner ?? cleanSegmentsInProcess;
    fs.mkdirSync(this.dir, { recursive: true });
    this.#leaderEpochs = new LeaderEpochCache(this.dir, (message) => this.#logger.warn(message));
  }

  /** Opens (creating if needed) and recovers a partition directory. */
  static open(options: PartitionLogOptions): PartitionLog {
    const log = new PartitionLog(options);
    log.#load(options);
    return log;
  }

  // --- loading and recovery ------------------------------------------------------------------------------

  #load(options: PartitionLogOptions): void {
    const now = this.#now();
    applyPendingSwaps(this.dir, this.#logger);
    const bases: number[] = [];
    const files = new Set(fs.readdirSync(this.dir));
    for (const name of files) {
      const parsed = parseSegmentFileName(name);
      if (
        name.endsWith('.tmp') ||
        name.endsWith(DELETED_SUFFIX) ||
        name.endsWith(CLEANED_SUFFIX) ||
        name.endsWith(SWAP_SUFFIX)
      ) {
        fs.rmSync(path.join(this.dir, name), { force: true });
        continue;
      }
      if (!parsed) continue;
      if (parsed.suffix === LOG_SUFFIX) bases.push(parsed.baseOffset);
      else if (parsed.suffix === INDEX_SUFFIX || parsed.suffix === TIME_INDEX_SUFFIX) {
        if (!files.has(segmentFileName(parsed.baseOffset, LOG_SUFFIX))) {
          this.#logger.warn(`${path.join(this.dir, name)}: index without a .log; deleted`);
          fs.rmSync(path.join(this.dir, name), { force: true });
        }
      }
    }
    bases.sort((a, b) => a - b);
    const recoverFrom = options.cleanShutdown ? Infinity : (options.recoveryPoint ?? 0);
    for (let i = 0; i < bases.length; i++) {
      const base = bases[i]!;
      const missing = [INDEX_SUFFIX, TIME_INDEX_SUFFIX].filter(
        (suffix) => !files.has(segmentFileName(base, suffix)),
      );
      const active = i === bases.length - 1;
      const segment = LogSegment.open(this.dir, base, this.#config, active, now);
      const nextBase = bases[i + 1] ?? Infinity;
      let reason: string | undefined;
      if (missing.length > 0) {
        reason = `missing ${missing.map((suffix) => segmentFileName(base, suffix)).join(' and ')}`;
      } else if (nextBase > recoverFrom) {
        reason = undefined;
      } else {
        const problem = segment.checkTail();
        if (problem) reason = problem;
      }
      const mustRecover = missing.length > 0 || nextBase > recoverFrom || reason !== undefined;
      if (mustRecover) {
        if (reason !== undefined)
          this.#logger.warn(`${segment.path}: ${reason}; rebuilding its indexes from the log`);
        const previous = this.#segments.at(-1);
        const result = segment.recover(previous ? previous.lastOffset + 1 : base);
        if (result.problem !== undefined) {
          this.#logger.warn(
            `${segment.path}: ${result.problem}; truncated ${result.truncatedBytes} bytes, log ends at offset ${segment.lastOffset + 1}`,
          );
        }
        if (result.problem !== undefined && i < bases.length - 1 && segment.lastOffset + 1 < nextBase) {
          // Later segments would leave a hole where the bad bytes were: the log ends here.
          for (const later of bases.slice(i + 1)) {
            this.#logger.warn(
              `${path.join(this.dir, segmentFileName(later, LOG_SUFFIX))}: follows a corrupt segment; deleted`,
            );
            for (const suffix of [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX]) {
              fs.rmSync(path.join(this.dir, segmentFileName(later, suffix)), { force: true });
            }
          }
          bases.length = i + 1;
        }
      }
      this.#segments.push(segment);
    }
    for (const segment of this.#segments.slice(0, -1)) {
      segment.offsetIndex.trimToValidSize();
      segment.timeIndex.trimToValidSize();
    }
    if (this.#segments.length === 0) {
      const start = Math.max(0, options.logStartOffset ?? 0);
      this.#segments.push(LogSegment.create(this.dir, start, this.#config, now));
    } else {
      this.#active.onBecomeActive();
    }
    const active = this.#active;
    this.#logEndOffset = active.isEmpty ? active.baseOffset : active.lastOffset + 1;
    this.#logStartOffset = Math.min(
      Math.max(options.logStartOffset ?? 0, this.#segments[0]!.baseOffset),
      this.#logEndOffset,
    );
    this.#highWatermark = this.#logEndOffset;
    this.#recoveryPoint = options.cleanShutdown
      ? this.#logEndOffset
      : Math.min(options.recoveryPoint ?? 0, this.#logEndOffset);
    this.#cleanerCheckpoint = Math.min(
      Math.max(options.cleanerCheckpoint ?? 0, this.#logStartOffset),
      this.#logEndOffset,
    );
    this.#leaderEpochs.truncateFromEnd(this.#logEndOffset);
    this.#leaderEpochs.truncateFromStart(this.#logStartOffset);
  }

  get #active(): LogSegment {
    return this.#segments.at(-1)!;
  }

  // --- state ---------------------------------------------------------------------------------------------

  get config(): LogConfig {
    return this.#config;
  }
  get logEndOffset(): number {
    return this.#logEndOffset;
  }
  get highWatermark(): number {
    return this.#highWatermark;
  }
  get logStartOffset(): number {
    return this.#logStartOffset;
  }
  get recoveryPoint(): number {
    return this.#recoveryPoint;
  }
  get cleanerCheckpoint(): number {
    return this.#cleanerCheckpoint;
  }
  get leaderEpochCache(): LeaderEpochCache {
    return this.#leaderEpochs;
  }
  get activeSegmentBaseOffset(): number {
    return this.#active.baseOffset;
  }
  get sizeInBytes(): number {
    return this.#segments.reduce((sum, segment) => sum + segment.size, 0);
  }
  get segments(): SegmentInfo[] {
    return this.#segments.map((segment) => ({
      baseOffset: segment.baseOffset,
      lastOffset: segment.lastOffset,
      size: segment.size,
      maxTimestamp: segment.maxTimestamp,
      path: segment.path,
    }));
  }

  /** New topic config (AlterConfigs). Index sizes apply from the next segment. */
  updateConfig(config: LogConfig): void {
    this.#config = config;
    for (const segment of this.#segments) segment.config = config;
  }

  /**
   * Sets the high watermark, clamped to [logStartOffset, logEndOffset]. After the first call the high
   * watermark no longer follows the log end offset on append (replication owns it).
   */
  setHighWatermark(offset: number): void {
    this.#autoHighWatermark = false;
    this.#highWatermark = Math.max(this.#logStartOffset, Math.min(offset, this.#logEndOffset));
  }

  // --- append --------------------------------------------------------------------------------------------

  /**
   * Appends one or more complete batches (a produce request's records). Offsets are assigned by patching each
   * batch's baseOffset in `records` itself, which is then written as is: no copy, no per-record work. Under
   * LogAppendTime the timestamp is stamped and the CRC recomputed.
   */
  append(records: Buffer, options: AppendOptions = {}): AppendResult {
    this.#checkOpen();
    const config = this.#config;
    const assignOffsets = options.assignOffsets ?? true;
    const leaderEpoch = options.leaderEpoch ?? -1;
    const now = this.#now();
    const batches: { position: number; size: number; header: RecordBatchHeader }[] = [];
    let consumed = 0;
    try {
      for (const batch of iterateBatches(records)) {
        batches.push(batch);
        consumed = batch.position + batch.size;
      }
    } catch (error) {
      return { ok: false, reason: 'corrupt-message', message: (error as Error).message };
    }
    if (batches.length === 0 || consumed !== records.length) {
      return {
        ok: false,
        reason: 'corrupt-message',
        message: `records end with ${records.length - consumed} bytes of a partial batch`,
      };
    }
    const logAppendTime = config.messageTimestampType === 'LogAppendTime';
    let nextOffset = this.#logEndOffset;
    let recordCount = 0;
    let maxTimestamp = -1;
    for (const { position, size, header } of batches) {
      if (size > config.maxMessageBytes) {
        return {
          ok: false,
          reason: 'record-too-large',
          message: `batch of ${size} bytes exceeds max.message.bytes ${config.maxMessageBytes}`,
        };
      }
      if ((options.verifyCrc ?? true) && !isRecordBatchCrcValid(records, position)) {
        return {
          ok: false,
          reason: 'corrupt-message',
          message: `CRC32C mismatch in batch at byte ${position}`,
        };
      }
      if (header.lastOffsetDelta < 0 || header.recordCount < 0) {
        return {
          ok: false,
          reason: 'invalid-record',
          message: `batch at byte ${position} has negative counts`,
        };
      }
      if (assignOffsets) {
        if (!isControlBatch(header.attributes) && header.lastOffsetDelta !== header.recordCount - 1) {
          return {
            ok: false,
            reason: 'invalid-record',
            message: `batch at byte ${position}: lastOffsetDelta ${header.lastOffsetDelta} with ${header.recordCount} records`,
          };
        }
        if (!logAppendTime && header.maxTimestamp >= 0) {
          if (
            (config.messageTimestampBeforeMaxMs < LONG_MAX &&
              now - header.baseTimestamp > config.messageTimestampBeforeMaxMs) ||
            (config.messageTimestampAfterMaxMs < LONG_MAX &&
              header.maxTimestamp - now > config.messageTimestampAfterMaxMs)
          ) {
            return {
              ok: false,
              reason: 'invalid-timestamp',
              message: `batch at byte ${position} has timestamp ${header.maxTimestamp}, now is ${now}`,
            };
          }
        }
      } else if (header.baseOffset < nextOffset) {
        return {
          ok: false,
          reason: 'out-of-order-offsets',
          message: `batch at byte ${position} has base offset ${header.baseOffset}, the log ends at ${nextOffset}`,
        };
      }
      nextOffset = (assignOffsets ? nextOffset : header.baseOffset) + header.lastOffsetDelta + 1;
      recordCount += header.recordCount;
    }
    // Validation passed: now patch (nothing is modified if any batch is rejected).
    const firstOffset = assignOffsets ? this.#logEndOffset : batches[0]!.header.baseOffset;
    let offset = firstOffset;
    const indexed: { position: number; size: number; lastOffset: number; maxTimestamp: number }[] = [];
    for (const { position, size, header } of batches) {
      if (assignOffsets) {
        setBaseOffset(records, position, offset);
        if (leaderEpoch >= 0) setPartitionLeaderEpoch(records, position, leaderEpoch);
        if (logAppendTime) setLogAppendTime(records, position, now);
      } else {
        offset = header.baseOffset;
      }
      const batchMaxTimestamp = logAppendTime && assignOffsets ? now : header.maxTimestamp;
      if (batchMaxTimestamp > maxTimestamp) maxTimestamp = batchMaxTimestamp;
      indexed.push({
        position,
        size,
        lastOffset: offset + header.lastOffsetDelta,
        maxTimestamp: batchMaxTimestamp,
      });
      if (!assignOffsets && header.partitionLeaderEpoch >= 0)
        this.#leaderEpochs.assign(header.partitionLeaderEpoch, offset);
      offset += header.lastOffsetDelta + 1;
    }
    const lastOffset = offset - 1;
    if (this.#active.shouldRoll(records.length, lastOffset, maxTimestamp, now)) this.#roll(firstOffset);
    else if (
      firstOffset > this.#logEndOffset &&
      this.#active.isEmpty &&
      this.#active.baseOffset !== firstOffset
    ) {
      this.#replaceEmptyActive(firstOffset);
    }
    this.#active.append(records, indexed);
    if (assignOffsets && leaderEpoch >= 0) this.#leaderEpochs.assign(leaderEpoch, firstOffset);
    this.#logEndOffset = lastOffset + 1;
    if (this.#autoHighWatermark) this.#highWatermark = this.#logEndOffset;
    this.#unflushedMessages += Math.max(recordCount, 1);
    if (this.#unflushedMessages >= config.flushMessages) this.flush();
    else this.flushIfDue(now);
    return {
      ok: true,
      baseOffset: firstOffset,
      lastOffset,
      logAppendTime: logAppendTime && assignOffsets ? now : -1,
      logStartOffset: this.#logStartOffset,
      recordCount,
    };
  }

  #replaceEmptyActive(baseOffset: number): void {
    const old = this.#segments.pop()!;
    old.deleteFiles();
    this.#segments.push(LogSegment.create(this.dir, baseOffset, this.#config, this.#now()));
  }

  /** Starts a new segment at the log end offset (no-op when the active segment is empty). */
  roll(): void {
    this.#checkOpen();
    if (!this.#active.isEmpty) this.#roll(this.#logEndOffset);
  }

  #roll(baseOffset: number): void {
    // Like Kafka, no sync here: the sealed segment stays above the recovery point until the next flush.
    this.#active.seal();
    this.#segments.push(LogSegment.create(this.dir, baseOffset, this.#config, this.#now()));
  }

  // --- flush ---------------------------------------------------------------------------------------------

  /**
   * Makes everything appended so far durable: fdatasync of every segment above the recovery point (sealed ones
   * with their indexes; the active one's log only, since recovery always rebuilds its indexes), then the
   * recovery point moves to the log end offset.
   */
  flush(): void {
    this.#checkOpen();
    if (this.#recoveryPoint < this.#logEndOffset || this.#unflushedMessages > 0) {
      let newSegments = false;
      for (let i = this.#segmentIndexFor(this.#recoveryPoint); i < this.#segments.length; i++) {
        const segment = this.#segments[i]!;
        if (segment === this.#active) segment.flushLog();
        else if (segment.lastOffset >= this.#recoveryPoint) {
          segment.flush();
          newSegments = true;
        }
      }
      if (newSegments) syncDir(this.dir);
    }
    this.#recoveryPoint = this.#logEndOffset;
    this.#unflushedMessages = 0;
    this.#lastFlushMs = this.#now();
  }

  /** Flushes if flush.ms has passed since the last flush with messages pending (LogManager calls this). */
  flushIfDue(now = this.#now()): boolean {
    if (
      this.#unflushedMessages > 0 &&
      this.#config.flushMs < LONG_MAX &&
      now - this.#lastFlushMs >= this.#config.flushMs
    ) {
      this.flush();
      return true;
    }
    return false;
  }

  // --- read ----------------------------------------------------------------------------------------------

  #segmentIndexFor(offset: number): number {
    let lo = 0;
    let hi = this.#segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.#segments[mid]!.baseOffset <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /**
   * File regions of whole batches from the batch containing `fetchOffset`, up to `maxBytes` (at least one
   * batch unless minOneBatch is false) and below `maxOffset`. Regions stay readable after a concurrent
   * deletion for file.delete.delay.ms (the files are renamed, their fds kept open).
   */
  read(fetchOffset: number, maxBytes: number, options: ReadOptions = {}): ReadResult {
    this.#checkOpen();
    const state = {
      highWatermark: this.#highWatermark,
      logStartOffset: this.#logStartOffset,
      logEndOffset: this.#logEndOffset,
    };
    if (fetchOffset < this.#logStartOffset || fetchOffset > this.#logEndOffset) {
      return { ok: false, reason: 'offset-out-of-range', ...state };
    }
    const limit = Math.min(options.maxOffset ?? this.#logEndOffset, this.#logEndOffset);
    const regions: FileRegion[] = [];
    const minOneBatch = options.minOneBatch ?? true;
    let remaining = maxBytes;
    for (let i = this.#segmentIndexFor(fetchOffset); i < this.#segments.length && fetchOffset < limit; i++) {
      const segment = this.#segments[i]!;
      const first =
        regions.length === 0
          ? segment.translateOffset(fetchOffset)
          : segment.translateOffset(segment.baseOffset, 0);
      if (!first) continue;
      if (lastOffsetOf(first.header) >= limit) break;
      const endByOffset = segment.positionOfOffset(limit);
      const byBytes = segment.batchBoundaryBefore(first.position, first.position + Math.max(remaining, 0));
      let endByBytes = byBytes.end;
      let lastOffset = byBytes.lastOffset;
      if (endByBytes === first.position) {
        if (regions.length > 0 || !minOneBatch) break;
        endByBytes = first.position + first.size;
        lastOffset = lastOffsetOf(first.header);
      }
      const end = Math.min(endByOffset, endByBytes);
      if (end <= first.position) break;
      regions.push({
        fd: segment.fd,
        path: segment.path,
        position: first.position,
        length: end - first.position,
        firstOffset: first.header.baseOffset,
        lastOffset: end === segment.size ? segment.lastOffset : end === endByBytes ? lastOffset : -1,
      });
      remaining -= end - first.position;
      if (end < segment.size || remaining <= 0) break;
    }
    for (const region of regions) {
      if (region.lastOffset === -1) region.lastOffset = this.#lastOffsetBefore(region);
    }
    return { ok: true, regions, ...state };
  }

  #lastOffsetBefore(region: FileRegion): number {
    const segment = this.#segments.find((s) => s.fd === region.fd)!;
    const end = region.position + region.length;
    const hint = segment.offsetIndex.lookupByPosition(end - 1);
    let last = region.firstOffset;
    for (const item of segment.scan(Math.max(hint.position, region.position), end)) {
      if ('header' in item) last = lastOffsetOf(item.header);
    }
    return last;
  }

  /** Reads a region's bytes (the plain-read path; sendfile is the other). */
  static readRegion(region: FileRegion): Buffer {
    const buf = Buffer.allocUnsafe(region.length);
    let done = 0;
    while (done < region.length) {
      const n = fs.readSync(region.fd, buf, done, region.length - done, region.position + done);
      if (n === 0) break;
      done += n;
    }
    return buf.subarray(0, done);
  }

  // --- ListOffsets ---------------------------------------------------------------------------------------

  #epochFor(offset: number): number {
    let epoch = -1;
    for (const entry of this.#leaderEpochs.entries) if (entry.startOffset <= offset) epoch = entry.epoch;
    return epoch;
  }

  /** The first record with timestamp >= `timestamp` at or after the log start offset, if any. */
  async offsetForTimestamp(timestamp: number): Promise<TimestampAndOffset | undefined> {
    this.#checkOpen();
    const start = this.#logStartOffset;
    const limit = this.#highWatermark;
    for (const segment of [...this.#segments]) {
      if (segment.maxTimestamp < timestamp || segment.lastOffset < start) continue;
      const below = segment.timeIndex.lookupBelow(timestamp);
      const from = Math.max(below.timestamp >= 0 ? below.offset + 1 : segment.baseOffset, start);
      const position = segment.offsetIndex.lookup(from).position;
      for (const item of segment.scan(position, segment.size, true)) {
        if (!('header' in item)) break;
        const { header } = item;
        if (header.baseOffset >= limit) return undefined;
        if (
          lastOffsetOf(header) < from ||
          header.maxTimestamp < timestamp ||
          isControlBatch(header.attributes)
        )
          continue;
        const batch = await decodeRecordBatch(Buffer.from(item.bytes!));
        for (const record of batch.records) {
          if (record.offset >= from && record.offset < limit && record.timestamp >= timestamp) {
            return {
              offset: record.offset,
              timestamp: record.timestamp,
              leaderEpoch: this.#epochFor(record.offset),
            };
          }
        }
      }
    }
    return undefined;
  }

  /**
   * ListOffsets: earliest (log start), latest (high watermark), max-timestamp (the first record holding the
   * largest timestamp), or by timestamp (the first record at or after it). `undefined` = no such record
   * (Kafka answers offset -1, timestamp -1).
   */
  async listOffset(spec: ListOffsetsSpec): Promise<TimestampAndOffset | undefined> {
    this.#checkOpen();
    if (spec === 'earliest') {
      return {
        offset: this.#logStartOffset,
        timestamp: -1,
        leaderEpoch: this.#epochFor(this.#logStartOffset),
      };
    }
    if (spec === 'latest') {
      return { offset: this.#highWatermark, timestamp: -1, leaderEpoch: this.#leaderEpochs.latestEpoch };
    }
    if (spec === 'max-timestamp') {
      let max = -1;
      for (const segment of this.#segments) {
        if (segment.lastOffset >= this.#logStartOffset) max = Math.max(max, segment.maxTimestamp);
      }
      return max < 0 ? undefined : this.offsetForTimestamp(max);
    }
    return this.offsetForTimestamp(spec.timestamp);
  }

  // --- truncation and deletion ---------------------------------------------------------------------------

  /** Removes every batch holding offsets >= offset (replication: divergent tails). */
  truncateTo(offset: number): void {
    this.#checkOpen();
    if (offset >= this.#logEndOffset) return;
    if (offset < this.#logStartOffset || offset <= this.#segments[0]!.baseOffset) {
      this.truncateFullyAndStartAt(Math.max(offset, 0));
      return;
    }
    if (this.#cleaning) this.#cleaningAborted = true;
    while (this.#segments.length > 1 && this.#active.baseOffset >= offset) {
      this.#deleteSegment(this.#segments.pop()!);
    }
    const active = this.#active;
    active.truncateTo(offset);
    active.onBecomeActive();
    this.#logEndOffset = active.isEmpty ? active.baseOffset : active.lastOffset + 1;
    this.#afterTruncation();
  }

  /** Deletes everything and restarts the log at `offset`. */
  truncateFullyAndStartAt(offset: number): void {
    this.#checkOpen();
    if (this.#cleaning) this.#cleaningAborted = true;
    for (const segment of this.#segments.splice(0)) this.#deleteSegment(segment);
    this.#segments.push(LogSegment.create(this.dir, offset, this.#config, this.#now()));
    this.#logEndOffset = offset;
    this.#logStartOffset = offset;
    this.#leaderEpochs.clear();
    this.#afterTruncation();
  }

  #afterTruncation(): void {
    this.#highWatermark = Math.min(
      this.#autoHighWatermark ? this.#logEndOffset : this.#highWatermark,
      this.#logEndOffset,
    );
    this.#logStartOffset = Math.min(this.#logStartOffset, this.#logEndOffset);
    this.#recoveryPoint = Math.min(this.#recoveryPoint, this.#logEndOffset);
    this.#cleanerCheckpoint = Math.min(this.#cleanerCheckpoint, this.#logEndOffset);
    this.#leaderEpochs.truncateFromEnd(this.#logEndOffset);
  }

  /**
   * DeleteRecords: moves the log start offset to `offset` (-1 = the high watermark) and drops the segments
   * wholly below it. Offsets above the high watermark are out of range.
   */
  deleteRecords(
    offset: number,
  ): { ok: true; logStartOffset: number } | { ok: false; reason: 'offset-out-of-range' } {
    this.#checkOpen();
    const target = offset === -1 ? this.#highWatermark : offset;
    if (target < 0 || target > this.#highWatermark) return { ok: false, reason: 'offset-out-of-range' };
    this.#moveLogStart(target);
    this.#deleteSegmentsBelowStart();
    return { ok: true, logStartOffset: this.#logStartOffset };
  }

  #moveLogStart(offset: number): void {
    if (offset <= this.#logStartOffset) return;
    this.#logStartOffset = offset;
    this.#leaderEpochs.truncateFromStart(offset);
    this.#cleanerCheckpoint = Math.max(this.#cleanerCheckpoint, offset);
  }

  #deleteSegmentsBelowStart(): number {
    if (this.#cleaning) return 0;
    let deleted = 0;
    while (this.#segments.length > 1 && this.#segments[1]!.baseOffset <= this.#logStartOffset) {
      this.#deleteSegment(this.#segments.shift()!);
      deleted++;
    }
    return deleted;
  }

  /**
   * Retention: deletes leading sealed segments whose largest timestamp is older than retention.ms, and then
   * while the log exceeds retention.bytes (only with cleanup.policy containing delete); and always the
   * segments wholly below the log start offset. Never the active segment. Returns segments deleted.
   */
  deleteOldSegments(now = this.#now()): number {
    this.#checkOpen();
    if (this.#cleaning) return 0;
    const config = this.#config;
    let deleted = this.#deleteSegmentsBelowStart();
    if (!config.cleanupPolicy.delete) return deleted;
    const expired = (segment: LogSegment): boolean =>
      config.retentionMs >= 0 && now - segment.largestTimestamp() > config.retentionMs;
    let excess = config.retentionBytes >= 0 ? this.sizeInBytes - config.retentionBytes : -Infinity;
    while (this.#segments.length > 1) {
      const segment = this.#segments[0]!;
      const bySize = excess - segment.size >= 0;
      if (!expired(segment) && !bySize) break;
      excess -= segment.size;
      this.#segments.shift();
      this.#moveLogStart(this.#segments[0]!.baseOffset);
      if (this.#highWatermark < this.#logStartOffset) this.#highWatermark = this.#logStartOffset;
      this.#logger.info(
        `${segment.path}: deleted by retention (${bySize ? `retention.bytes ${config.retentionBytes}` : `retention.ms ${config.retentionMs}`}); log start offset is now ${this.#logStartOffset}`,
      );
      this.#deleteSegment(segment);
      deleted++;
    }
    return deleted;
  }

  /** Renames the segment's files to `.deleted` and unlinks them after file.delete.delay.ms. */
  #deleteSegment(segment: LogSegment): void {
    segment.changeSuffix('', DELETED_SUFFIX);
    this.#scheduleUnlink(segment);
  }

  #scheduleUnlink(segment: LogSegment): void {
    const delay = this.#config.fileDeleteDelayMs;
    if (delay <= 0) {
      segment.deleteFiles();
      return;
    }
    const pending = { timer: undefined as NodeJS.Timeout | undefined, segment };
    pending.timer = setTimeout(() => {
      this.#pendingDeletes.delete(pending);
      segment.deleteFiles();
    }, delay);
    pending.timer.unref();
    this.#pendingDeletes.add(pending);
  }

  // --- compaction ----------------------------------------------------------------------------------------

  /**
   * What a compaction pass would cover now: sealed segments below the high watermark and older than
   * min.compaction.lag.ms. `needed` says whether min.cleanable.dirty.ratio or max.compaction.lag.ms ask for one.
   */
  cleanableState(now = this.#now()): { cleanableEnd: number; dirtyRatio: number; needed: boolean } {
    const config = this.#config;
    let cleanableEnd = this.#segments[0]!.baseOffset;
    let cleanBytes = 0;
    let dirtyBytes = 0;
    let overdue = false;
    for (const segment of this.#segments.slice(0, -1)) {
      if (segment.lastOffset >= this.#highWatermark) break;
      if (now - segment.largestTimestamp() < config.minCompactionLagMs) break;
      if (segment.lastOffset >= this.#cleanerCheckpoint) {
        dirtyBytes += segment.size;
        if (
          config.maxCompactionLagMs < LONG_MAX &&
          now - segment.rollingBaseTimestamp > config.maxCompactionLagMs
        )
          overdue = true;
      } else {
        cleanBytes += segment.size;
      }
      cleanableEnd = segment.lastOffset + 1;
    }
    const total = cleanBytes + dirtyBytes;
    const dirtyRatio = total === 0 ? 0 : dirtyBytes / total;
    const needed =
      config.cleanupPolicy.compact &&
      dirtyBytes > 0 &&
      (dirtyRatio >= config.minCleanableDirtyRatio || overdue);
    return { cleanableEnd, dirtyRatio, needed };
  }

  /**
   * One compaction pass if the policy and thresholds ask for it (or `force`). The cleaning itself (reading,
   * decoding, writing `.cleaned` files) runs through `runCleaner`, off this thread in production; the swap
   * back is synchronous here. Returns the number of segments replaced.
   */
  async compact(options: { now?: number; force?: boolean } = {}): Promise<number> {
    this.#checkOpen();
    const config = this.#config;
    if (!config.cleanupPolicy.compact || this.#cleaning) return 0;
    const now = options.now ?? this.#now();
    const state = this.cleanableState(now);
    if (!state.needed && !(options.force && state.cleanableEnd > this.#segments[0]!.baseOffset)) return 0;
    const inputs = this.#segments.filter(
      (segment) => segment !== this.#active && segment.lastOffset < state.cleanableEnd,
    );
    if (inputs.length === 0) return 0;
    const task: CleanerTask = {
      dir: this.dir,
      segments: inputs.map((segment) => ({
        baseOffset: segment.baseOffset,
        path: segment.path,
        size: segment.size,
      })),
      logStartOffset: this.#logStartOffset,
      now,
      deleteRetentionMs: config.deleteRetentionMs,
      segmentBytes: config.segmentBytes,
      segmentIndexBytes: config.segmentIndexBytes,
      indexIntervalBytes: config.indexIntervalBytes,
    };
    this.#cleaning = true;
    this.#cleaningAborted = false;
    let result: CleanerResult;
    try {
      result = await this.#runCleaner(task);
    } catch (error) {
      this.#cleaning = false;
      this.#discardCleaned();
      if (!this.#closed) this.#logger.warn(`${this.dir}: compaction failed: ${(error as Error).message}`);
      return 0;
    }
    this.#cleaning = false;
    const unchanged = inputs.every(
      (segment, i) =>
        !segment.closed && this.#segments[i] === segment && segment.size === task.segments[i]!.size,
    );
    if (this.#closed || this.#cleaningAborted || !unchanged) {
      this.#discardCleaned();
      return 0;
    }
    return this.#swapIn(inputs, result, state.cleanableEnd);
  }

  #discardCleaned(): void {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return; // the partition was deleted meanwhile: its directory went with the output
    }
    for (const name of names) {
      if (name.endsWith(CLEANED_SUFFIX)) fs.rmSync(path.join(this.dir, name), { force: true });
    }
  }

  /**
   * Replaces the input segments with the cleaned ones, group by group. Per group: the `.cleaned` files are
   * renamed to `.swap` (log last: a complete `.log.swap` is the commit point), then the inputs are renamed to
   * `.deleted` and the `.swap` files to their final names. Recovery (compaction.ts) completes a group whose
   * `.log.swap` exists and discards `.cleaned` files, so a crash leaves each group old or new, never a mix.
   */
  #swapIn(inputs: LogSegment[], result: CleanerResult, cleanableEnd: number): number {
    const now = this.#now();
    let replaced = 0;
    const replacement: LogSegment[] = [];
    let groupStart = 0;
    for (const group of result.groups) {
      const members = inputs.slice(groupStart, groupStart + group.inputCount);
      groupStart += group.inputCount;
      for (const suffix of [INDEX_SUFFIX, TIME_INDEX_SUFFIX, LOG_SUFFIX]) {
        const from = path.join(this.dir, segmentFileName(group.baseOffset, suffix + CLEANED_SUFFIX));
        fs.renameSync(from, path.join(this.dir, segmentFileName(group.baseOffset, suffix + SWAP_SUFFIX)));
      }
      syncDir(this.dir);
      for (const member of members) {
        member.changeSuffix('', DELETED_SUFFIX);
        this.#scheduleUnlink(member);
      }
      finishSwap(this.dir, group.baseOffset);
      const swapped = LogSegment.open(this.dir, group.baseOffset, this.#config, false, now);
      const problem = swapped.checkTail();
      if (problem) {
        this.#logger.warn(`${swapped.path}: ${problem}; rebuilding its indexes from the log`);
        swapped.recover();
        swapped.offsetIndex.trimToValidSize();
        swapped.timeIndex.trimToValidSize();
      }
      replacement.push(swapped);
      replaced += members.length;
    }
    this.#segments.splice(0, inputs.length, ...replacement);
    this.#cleanerCheckpoint = Math.max(this.#cleanerCheckpoint, cleanableEnd);
    this.#logger.info(
      `${this.dir}: compacted ${replaced} segments into ${replacement.length} up to offset ${cleanableEnd}`,
    );
    return replaced;
  }

  // --- lifecycle -----------------------------------------------------------------------------------------

  #checkOpen(): void {
    if (this.#closed) throw new Error(`${this.dir}: log is closed`);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Flushes everything, trims the indexes and closes all files (clean shutdown). */
  close(): void {
    if (this.#closed) return;
    this.flush();
    for (const segment of this.#segments) segment.close();
    this.#finishPendingDeletes();
    this.#closed = true;
  }

  #finishPendingDeletes(): void {
    for (const pending of this.#pendingDeletes) {
      clearTimeout(pending.timer);
      pending.segment.deleteFiles();
    }
    this.#pendingDeletes.clear();
  }

  /** Closes without flushing or trimming, as a crash would leave it (tests). */
  closeAbruptly(): void {
    if (this.#closed) return;
    for (const segment of this.#segments) segment.closeHandles();
    this.#finishPendingDeletes();
    this.#closed = true;
  }

  /**
   * Deletes the partition: the directory is renamed to `<topic>-<partition>.<id>-delete` at once (reads in
   * flight keep their fds), and unlinked after file.delete.delay.ms. Returns the renamed path.
   */
  delete(): string {
    this.#checkOpen();
    this.#closed = true;
    const doomed = `${this.dir}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}-delete`;
    fs.renameSync(this.dir, doomed);
    syncDir(path.dirname(this.dir));
    const segments = this.#segments;
    const finish = (): void => {
      for (const segment of segments) segment.closeHandles();
      for (const pending of this.#pendingDeletes) {
        clearTimeout(pending.timer);
        pending.segment.closeHandles();
      }
      this.#pendingDeletes.clear();
      fs.rmSync(doomed, { recursive: true, force: true });
    };
    if (this.#config.fileDeleteDelayMs <= 0) finish();
    else setTimeout(finish, this.#config.fileDeleteDelayMs).unref();
    return doomed;
  }
}
