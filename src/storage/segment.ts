// One log segment: `<dir>/<baseOffset, 20 digits>.log` with its `.index` and `.timeindex`, e.g.
// 00000000000000000050.log holds the batches whose offsets start at 50.
//
// `.log` format: RecordBatch v2 batches (see protocol/records/record-batch.ts) concatenated, byte for byte as
// on the wire, nothing else: no file header, no padding. Invariants: every batch's baseOffset >= the segment's
// base offset; batches' offsets strictly increase (compaction may leave gaps); the file ends exactly at the
// end of a batch. A `.log` is at most `segment.bytes` long unless a single batch is larger.
//
// Other suffixes of the same files, used while they move:
//   `.cleaned`  compaction output being written; discarded by recovery
//   `.swap`     compaction output complete; recovery finishes the swap (see compaction.ts)
//   `.deleted`  removed from the log, unlinked after `file.delete.delay.ms` (in-flight reads keep their fd)
//
// Recovery (`recover`) trusts nothing: it re-reads each batch, checks length, magic, offsets and CRC32C,
// truncates at the first bad one and rebuilds both indexes.
// Runs on the owning partition worker only.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fdatasync } from '../native/index.js';
import {
  LOG_OVERHEAD,
  RECORD_BATCH_HEADER_SIZE,
  isRecordBatchCrcValid,
  readRecordBatchHeader,
  type RecordBatchHeader,
} from '../protocol/records/record-batch.js';
import type { LogConfig } from './log-config.js';
import { OffsetIndex } from './offset-index.js';
import { TimeIndex } from './time-index.js';

export const LOG_SUFFIX = '.log';
export const INDEX_SUFFIX = '.index';
export const TIME_INDEX_SUFFIX = '.timeindex';
export const CLEANED_SUFFIX = '.cleaned';
export const SWAP_SUFFIX = '.swap';
export const DELETED_SUFFIX = '.deleted';

/** Where storage reports problems (corruption found, files repaired). Messages name the file and offset. */
export interface StorageLogger {
  warn(message: string): void;
  info(message: string): void;
}

export const SILENT_LOGGER: StorageLogger = { warn: () => {}, info: () => {} };

export function segmentFileName(baseOffset: number, suffix: string): string {
  return String(baseOffset).padStart(20, '0') + suffix;
}

/** Parses `00000000000000000050.log.swap` into base offset 50 and suffix `.log.swap`. */
export function parseSegmentFileName(name: string): { baseOffset: number; suffix: string } | undefined {
  const match = /^(\d{20})(\..+)$/.exec(name);
  if (!match) return undefined;
  const baseOffset = Number(match[1]);
  return Number.isSafeInteger(baseOffset) ? { baseOffset, suffix: match[2]! } : undefined;
}

/** A byte range of a segment file holding whole batches: give it to sendfile, or read it. */
export interface FileRegion {
  fd: number;
  path: string;
  position: number;
  length: number;
  /** Base offset of the first batch in the region. */
  firstOffset: number;
  /** Last offset of the last batch in the region. */
  lastOffset: number;
}

export interface ScannedBatch {
  position: number;
  size: number;
  header: RecordBatchHeader;
  /** Present when scanning with bodies: the whole batch (a view, valid until the next step). */
  bytes?: Buffer;
}

export interface ScanProblem {
  position: number;
  reason: string;
}

const CHUNK_SIZE = 1 << 20;
const HEADER_CHUNK_SIZE = 64 * 1024;
const INT32_MAX = 0x7fffffff;
const headerChunk = Buffer.allocUnsafe(HEADER_CHUNK_SIZE);

function readFull(fd: number, buf: Buffer, length: number, position: number): number {
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, buf, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

export function writeFull(fd: number, buf: Uint8Array, position: number): void {
  let done = 0;
  while (done < buf.length) done += fs.writeSync(fd, buf, done, buf.length - done, position + done);
}

export function lastOffsetOf(header: RecordBatchHeader): number {
  return header.baseOffset + header.lastOffsetDelta;
}

export class LogSegment {
  readonly baseOffset: number;
  readonly dir: string;
  #config: LogConfig;
  #fd: number;
  #logPath: string;
  #size: number;
  readonly offsetIndex: OffsetIndex;
  readonly timeIndex: TimeIndex;
  #maxTimestamp = -1;
  #lastOffset: number;
  #bytesSinceLastIndexEntry = 0;
  /** Timestamp that `segment.ms` counts from: the first batch's max timestamp, else creation time. */
  #rollingBaseTimestamp: number | undefined;
  #createdMs: number;
  /** Kafka draws the roll jitter once per segment, so segments of many partitions don't all roll together. */
  #rollJitterMs: number;
  #closed = false;

  private constructor(
    dir: string,
    baseOffset: number,
    config: LogConfig,
    active: boolean,
    now: number,
    suffix: string,
    create: boolean,
  ) {
    this.dir = dir;
    this.baseOffset = baseOffset;
    this.#config = config;
    this.#logPath = path.join(dir, segmentFileName(baseOffset, LOG_SUFFIX + suffix));
    // Opening never creates a .log: a segment renamed away meanwhile (retention, a swap) must fail to open
    // rather than reappear as an empty file.
    this.#fd = fs.openSync(this.#logPath, fs.constants.O_RDWR | (create ? fs.constants.O_CREAT : 0), 0o644);
    this.#size = fs.fstatSync(this.#fd).size;
    this.#lastOffset = baseOffset - 1;
    this.#createdMs = now;
    this.#rollJitterMs =
      config.segmentJitterMs > 0
        ? Math.floor(Math.random() * Math.min(config.segmentJitterMs, config.segmentMs))
        : 0;
    this.offsetIndex = new OffsetIndex(
      path.join(dir, segmentFileName(baseOffset, INDEX_SUFFIX + suffix)),
      baseOffset,
      config.segmentIndexBytes,
      active,
    );
    this.timeIndex = new TimeIndex(
      path.join(dir, segmentFileName(baseOffset, TIME_INDEX_SUFFIX + suffix)),
      baseOffset,
      config.segmentIndexBytes,
      active,
    );
  }

  /** A new, empty segment. Leftover files with the same name (from a truncated-away segment) are replaced. */
  static create(dir: string, baseOffset: number, config: LogConfig, now: number, suffix = ''): LogSegment {
    for (const s of [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX]) {
      fs.rmSync(path.join(dir, segmentFileName(baseOffset, s + suffix)), { force: true });
    }
    return new LogSegment(dir, baseOffset, config, true, now, suffix, true);
  }

  /**
   * Opens existing files without validating batches. The caller then either runs `recover()` or
   * `checkTail()` (which also loads the segment's end offset and largest timestamp).
   */
  static open(
    dir: string,
    baseOffset: number,
    config: LogConfig,
    active: boolean,
    now: number,
    suffix = '',
  ): LogSegment {
    const segment = new LogSegment(dir, baseOffset, config, active, now, suffix, false);
    segment.#createdMs = fs.statSync(segment.#logPath).mtimeMs;
    return segment;
  }

  get fd(): number {
    return this.#fd;
  }
  get path(): string {
    return this.#logPath;
  }
  get size(): number {
    return this.#size;
  }
  /** Largest batch max-timestamp in the segment, -1 if none. */
  get maxTimestamp(): number {
    return this.#maxTimestamp;
  }
  /** Last offset of the last batch, baseOffset - 1 when empty. */
  get lastOffset(): number {
    return this.#lastOffset;
  }
  get isEmpty(): boolean {
    return this.#size === 0;
  }
  /** For retention.ms: the largest timestamp, or the file's modification time when there is none. */
  largestTimestamp(): number {
    return this.#maxTimestamp >= 0 ? this.#maxTimestamp : this.#createdMs;
  }
  get rollingBaseTimestamp(): number {
    return this.#rollingBaseTimestamp ?? this.#createdMs;
  }

  set config(config: LogConfig) {
    this.#config = config;
  }

  /** True if a batch of `bytes` bytes ending at `lastOffset` must go to a new segment. */
  shouldRoll(bytes: number, lastOffset: number, maxTimestamp: number, now: number): boolean {
    if (this.#size === 0) return false;
    const config = this.#config;
    if (this.#size + bytes > config.segmentBytes) return true;
    if (this.offsetIndex.isFull || this.timeIndex.isFull) return true;
    if (lastOffset - this.baseOffset > INT32_MAX) return true;
    if (config.segmentMs >= Number.MAX_SAFE_INTEGER) return false;
    // Kafka's rule: time is measured in record timestamps (new batch vs first batch) when they exist, and
    // in wall-clock time since creation otherwise.
    const waited =
      this.#rollingBaseTimestamp !== undefined && maxTimestamp >= 0
        ? maxTimestamp - this.#rollingBaseTimestamp
        : now - this.#createdMs;
    return waited > config.segmentMs - this.#rollJitterMs;
  }

  /**
   * Appends `buf` (one or more complete batches, offsets already assigned) at the end of the file and indexes
   * them. `batches` describe the batches inside `buf` (positions relative to `buf`).
   */
  append(
    buf: Uint8Array,
    batches: readonly { position: number; size: number; lastOffset: number; maxTimestamp: number }[],
  ): void {
    const start = this.#size;
    writeFull(this.#fd, buf, start);
    for (const batch of batches)
      this.#indexBatch(start + batch.position, batch.size, batch.lastOffset, batch.maxTimestamp);
    this.#size = start + buf.length;
  }

  #indexBatch(position: number, size: number, lastOffset: number, maxTimestamp: number): void {
    if (this.#rollingBaseTimestamp === undefined && maxTimestamp >= 0)
      this.#rollingBaseTimestamp = maxTimestamp;
    if (maxTimestamp > this.#maxTimestamp) this.#maxTimestamp = maxTimestamp;
    if (this.#bytesSinceLastIndexEntry > this.#config.indexIntervalBytes) {
      if (!this.offsetIndex.isFull) this.offsetIndex.append(lastOffset, position);
      this.timeIndex.maybeAppend(this.#maxTimestamp, lastOffset);
      this.#bytesSinceLastIndexEntry = 0;
    }
    this.#bytesSinceLastIndexEntry += size;
    this.#lastOffset = lastOffset;
  }

  /**
   * Walks batch headers from `from` to `to` (default: end of file). Yields each complete batch, then at most one
   * problem if the bytes stop making sense (torn tail, impossible length, bad magic).
   */
  *scan(from = 0, to = this.#size, withBodies = false): Generator<ScannedBatch | ScanProblem> {
    // Header-only scans are always driven to completion synchronously by their callers, so they can share one
    // buffer; scans with bodies may be suspended across an await (decompression) and get their own.
    const chunk = withBodies
      ? Buffer.allocUnsafe(Math.min(CHUNK_SIZE, Math.max(to - from, RECORD_BATCH_HEADER_SIZE)))
      : headerChunk;
    let chunkStart = 0;
    let chunkLength = 0;
    let position = from;
    // Header-only reads start small and grow: a lookup usually needs one header, a long walk many.
    let want = withBodies ? chunk.length : 1024;
    while (position < to) {
      if (to - position < RECORD_BATCH_HEADER_SIZE) {
        yield { position, reason: `${to - position} trailing bytes, shorter than a batch header` };
        return;
      }
      if (position < chunkStart || position + RECORD_BATCH_HEADER_SIZE > chunkStart + chunkLength) {
        chunkStart = position;
        chunkLength = readFull(this.#fd, chunk, Math.min(want, to - position), position);
        want = Math.min(want * 4, chunk.length);
        if (chunkLength < RECORD_BATCH_HEADER_SIZE) {
          yield { position, reason: 'file shorter than expected' };
          return;
        }
      }
      const at = position - chunkStart;
      const size = LOG_OVERHEAD + chunk.readInt32BE(at + 8);
      if (size < RECORD_BATCH_HEADER_SIZE) {
        yield { position, reason: `impossible batch length ${size - LOG_OVERHEAD}` };
        return;
      }
      if (position + size > to) {
        yield { position, reason: `batch of ${size} bytes torn: only ${to - position} bytes remain` };
        return;
      }
      let header: RecordBatchHeader;
      try {
        header = readRecordBatchHeader(chunk, at);
      } catch (error) {
        yield { position, reason: (error as Error).message };
        return;
      }
      let bytes: Buffer | undefined;
      if (withBodies) {
        if (at + size <= chunkLength) {
          bytes = chunk.subarray(at, at + size);
        } else if (size <= chunk.length) {
          chunkStart = position;
          chunkLength = readFull(this.#fd, chunk, Math.min(chunk.length, to - position), position);
          bytes = chunk.subarray(0, size);
        } else {
          bytes = Buffer.allocUnsafe(size);
          if (readFull(this.#fd, bytes, size, position) !== size) {
            yield { position, reason: 'file shorter than expected' };
            return;
          }
        }
      }
      yield bytes ? { position, size, header, bytes } : { position, size, header };
      position += size;
    }
  }

  /**
   * Checks the cheap facts of a segment opened without recovery: its indexes are sane and the batches after the
   * last offset-index entry parse and end exactly at the end of the file. Loads the end offset and the largest
   * timestamp. Returns a description of the first problem, or undefined.
   */
  checkTail(): string | undefined {
    try {
      this.offsetIndex.sanityCheck(this.#size);
      this.timeIndex.sanityCheck(this.#size);
    } catch (error) {
      return (error as Error).message;
    }
    const last = this.offsetIndex.lastEntry;
    const lastTime = this.timeIndex.lastEntry;
    this.#maxTimestamp = lastTime.timestamp;
    this.#lastOffset = this.offsetIndex.entries > 0 ? last.offset : this.baseOffset - 1;
    let bytes = 0;
    let first = true;
    for (const item of this.scan(last.position)) {
      if (!('header' in item)) return `${item.reason} at position ${item.position}`;
      const lastOffset = lastOffsetOf(item.header);
      if (first && this.offsetIndex.entries > 0 && lastOffset !== last.offset) {
        return `${path.basename(this.offsetIndex.path)}: entry (offset ${last.offset}, position ${last.position}) points at a batch ending at offset ${lastOffset}`;
      }
      if (
        item.header.baseOffset < this.baseOffset ||
        (!first && item.header.baseOffset <= this.#lastOffset)
      ) {
        return `batch at position ${item.position} has out-of-order base offset ${item.header.baseOffset}`;
      }
      first = false;
      if (item.header.maxTimestamp > this.#maxTimestamp) this.#maxTimestamp = item.header.maxTimestamp;
      this.#lastOffset = lastOffsetOf(item.header);
      bytes += item.size;
    }
    if (lastTime.offset > this.#lastOffset && this.timeIndex.entries > 0) {
      return `time index entry for offset ${lastTime.offset} is beyond the last offset ${this.#lastOffset}`;
    }
    this.#bytesSinceLastIndexEntry = bytes;
    return undefined;
  }

  /**
   * Rebuilds the indexes from the log, validating every batch (length, magic, offsets, CRC32C). Truncates the
   * file at the first invalid batch. Returns the problem found (with its position and offset), if any.
   */
  recover(expectedFirstOffset = this.baseOffset): { truncatedBytes: number; problem?: string } {
    this.offsetIndex.resize(Math.max(this.#config.segmentIndexBytes, this.offsetIndex.sizeInBytes));
    this.timeIndex.resize(Math.max(this.#config.segmentIndexBytes, this.timeIndex.sizeInBytes));
    this.offsetIndex.reset();
    this.timeIndex.reset();
    this.#maxTimestamp = -1;
    this.#bytesSinceLastIndexEntry = 0;
    this.#lastOffset = this.baseOffset - 1;
    this.#rollingBaseTimestamp = undefined;
    let valid = 0;
    let problem: string | undefined;
    let nextExpected = expectedFirstOffset;
    for (const item of this.scan(0, this.#size, true)) {
      if (!('header' in item)) {
        problem = `${item.reason} at position ${item.position} (after offset ${this.#lastOffset})`;
        break;
      }
      const { header, bytes, position, size } = item;
      const lastOffset = lastOffsetOf(header);
      if (header.baseOffset < nextExpected || header.lastOffsetDelta < 0) {
        problem = `batch at position ${position} has base offset ${header.baseOffset}, expected at least ${nextExpected}`;
        break;
      }
      if (!isRecordBatchCrcValid(bytes!)) {
        problem = `CRC32C mismatch in batch at position ${position}, offsets ${header.baseOffset}..${lastOffset}`;
        break;
      }
      this.#indexBatch(position, size, lastOffset, header.maxTimestamp);
      nextExpected = lastOffset + 1;
      valid = position + size;
    }
    const truncatedBytes = this.#size - valid;
    if (truncatedBytes > 0) this.#truncateFile(valid);
    return problem === undefined ? { truncatedBytes } : { truncatedBytes, problem };
  }

  #truncateFile(size: number): void {
    fs.ftruncateSync(this.#fd, size);
    this.#size = size;
  }

  /**
   * The first batch whose last offset >= target, searching from the offset index's hint (or `from`).
   * Undefined if every batch of the segment ends before target.
   */
  translateOffset(target: number, from?: number): ScannedBatch | undefined {
    const start = from ?? this.offsetIndex.lookup(target).position;
    for (const item of this.scan(start)) {
      if (!('header' in item)) return undefined;
      if (lastOffsetOf(item.header) >= target) return item;
    }
    return undefined;
  }

  /**
   * The end position of the last whole batch that starts at or after `from` and ends at or before `limit`
   * (`from` itself when even the first batch does not fit), using the offset index to skip ahead, and that
   * batch's last offset (-1 when it was not seen).
   */
  batchBoundaryBefore(from: number, limit: number): { end: number; lastOffset: number } {
    if (limit >= this.#size) return { end: this.#size, lastOffset: this.#lastOffset };
    const hint = this.offsetIndex.lookupByPosition(limit);
    // The hint is a batch start <= limit, so everything between `from` and it is whole batches that fit.
    let end = Math.max(from, hint.position);
    let lastOffset = -1;
    for (const item of this.scan(end)) {
      if (!('header' in item)) break;
      if (item.position + item.size > limit) break;
      end = item.position + item.size;
      lastOffset = lastOffsetOf(item.header);
    }
    return { end, lastOffset };
  }

  /** First position of a batch that holds offsets >= limitOffset, or the file size. */
  positionOfOffset(limitOffset: number): number {
    if (limitOffset > this.#lastOffset) return this.#size;
    return this.translateOffset(limitOffset)?.position ?? this.#size;
  }

  /** Removes every batch holding offsets >= offset (a batch straddling it goes whole). Returns bytes removed. */
  truncateTo(offset: number): number {
    const batch = this.translateOffset(offset);
    if (!batch) return 0;
    const removed = this.#size - batch.position;
    this.offsetIndex.truncateToPosition(batch.position);
    this.timeIndex.truncateTo(batch.header.baseOffset);
    this.#truncateFile(batch.position);
    this.offsetIndex.resize(Math.max(this.#config.segmentIndexBytes, this.offsetIndex.sizeInBytes));
    this.timeIndex.resize(Math.max(this.#config.segmentIndexBytes, this.timeIndex.sizeInBytes));
    const problem = this.checkTail();
    if (problem) this.recover();
    if (this.#size === 0) this.#rollingBaseTimestamp = undefined;
    return removed;
  }

  readAt(position: number, length: number): Buffer {
    const buf = Buffer.allocUnsafe(length);
    const n = readFull(this.#fd, buf, length, position);
    return n === length ? buf : buf.subarray(0, n);
  }

  /** Called when the segment stops being the active one: final time-index entry, trimmed indexes. */
  seal(): void {
    if (this.#maxTimestamp >= 0 && this.#lastOffset >= this.baseOffset) {
      this.timeIndex.maybeAppend(this.#maxTimestamp, this.#lastOffset);
    }
    this.offsetIndex.trimToValidSize();
    this.timeIndex.trimToValidSize();
  }

  /** seal() and sync everything (compaction output). */
  onBecomeInactive(): void {
    this.seal();
    this.flush();
  }

  /** Reopens the indexes at full size (the segment became active again after a truncation). */
  onBecomeActive(): void {
    this.offsetIndex.resize(Math.max(this.#config.segmentIndexBytes, this.offsetIndex.sizeInBytes));
    this.timeIndex.resize(Math.max(this.#config.segmentIndexBytes, this.timeIndex.sizeInBytes));
  }

  flushLog(): void {
    fdatasync(this.#fd);
  }

  flush(): void {
    fdatasync(this.#fd);
    this.offsetIndex.flush();
    this.timeIndex.flush();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#maxTimestamp >= 0 && this.#lastOffset >= this.baseOffset) {
      this.timeIndex.maybeAppend(this.#maxTimestamp, this.#lastOffset);
    }
    this.offsetIndex.close();
    this.timeIndex.close();
    fs.closeSync(this.#fd);
  }

  /** Releases fds and mappings without touching the files (they are being deleted or replaced). */
  closeHandles(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.offsetIndex.closeQuietly();
    this.timeIndex.closeQuietly();
    fs.closeSync(this.#fd);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Renames the three files by changing their suffix (e.g. '' -> '.deleted', '.swap' -> ''). */
  changeSuffix(from: string, to: string): void {
    const rename = (current: string): string => {
      const base = current.slice(0, current.length - from.length);
      if (from !== '' && !current.endsWith(from)) throw new Error(`${current} does not end with ${from}`);
      return base + to;
    };
    const next = rename(this.#logPath);
    fs.renameSync(this.#logPath, next);
    this.#logPath = next;
    this.offsetIndex.renameTo(rename(this.offsetIndex.path));
    this.timeIndex.renameTo(rename(this.timeIndex.path));
  }

  /** Closes the handles and unlinks the files. */
  deleteFiles(): void {
    this.closeHandles();
    for (const file of [this.#logPath, this.offsetIndex.path, this.timeIndex.path])
      fs.rmSync(file, { force: true });
  }
}
