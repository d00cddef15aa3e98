// The log cleaner (cleanup.policy=compact): keeps the latest record for each key.
//
// A pass covers the sealed segments chosen by PartitionLog.compact (below the high watermark, older than
// min.compaction.lag.ms). It builds a map key -> last offset over those segments, then rewrites them in groups
// (consecutive inputs whose total size fits segment.bytes) into `<groupBase>.log.cleaned` (+ `.index.cleaned`,
// `.timeindex.cleaned`), keeping:
//   - records whose offset is the last one for their key (records without a key are always kept);
//   - tombstones (null value) only until their batch is older than delete.retention.ms;
//   - control batches unchanged;
//   - batch metadata (base offset, last offset delta, producer id/epoch, base sequence, transactional flag,
//     leader epoch, timestamp type, compression): a batch whose records all survive is copied byte for byte;
//     one that lost records is rebuilt with the same header fields; one that lost all of them disappears,
//     except the last batch of a group or of a producer, which stays as an empty batch so the group's last
//     offset and the producer's sequence state survive.
//
// Swap protocol (crash safety), per group, all renames in one directory:
//   1. write and fsync the `.cleaned` files              crash: recovery deletes `.cleaned` files
//   2. rename `.cleaned` -> `.swap`, the `.log` last       commit point: a complete `<base>.log.swap`
//   3. rename the inputs to `.deleted`
//   4. rename `.swap` -> final names, indexes first, `.log` last (replacing the first input's name)
// Recovery (`applyPendingSwaps`, run before a partition loads) finishes steps 3-4 for every `.log.swap`: it
// removes the old segments whose base offsets fall in [base, last offset of the swap] and renames the swap
// files into place. So each group is either entirely old or entirely new.
//
// `cleanSegments` is pure file work with no shared state, so it runs in a piscina worker
// (cleaner-worker.ts) in production; tests call it in-process (cleanSegmentsInProcess).
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  buildRecordBatch,
  compressionOf,
  decodeRecordBatch,
  isControlBatch,
  isTransactional,
  readRecordBatchHeader,
  setLogAppendTime,
  timestampTypeOf,
  type RecordInput,
} from '../protocol/records/record-batch.js';
import { syncDir } from './checkpoint.js';
import { DEFAULT_LOG_CONFIG, type LogConfig } from './log-config.js';
import {
  CLEANED_SUFFIX,
  INDEX_SUFFIX,
  LOG_SUFFIX,
  LogSegment,
  SWAP_SUFFIX,
  TIME_INDEX_SUFFIX,
  lastOffsetOf,
  parseSegmentFileName,
  segmentFileName,
  type StorageLogger,
} from './segment.js';

/** Plain data, so it crosses to a piscina worker by structured clone. */
export interface CleanerTask {
  dir: string;
  segments: { baseOffset: number; path: string; size: number }[];
  logStartOffset: number;
  now: number;
  deleteRetentionMs: number;
  segmentBytes: number;
  segmentIndexBytes: number;
  indexIntervalBytes: number;
}

export interface CleanerResult {
  /** Output segments in order; each replaces the next `inputCount` input segments. */
  groups: { baseOffset: number; inputCount: number; size: number }[];
  recordsRemoved: number;
}

const INT32_MAX = 0x7fffffff;

function keyString(key: Buffer): string {
  return key.toString('latin1');
}

/** Cleans `task.segments` into `.cleaned` files beside them. Never touches the input files. */
export async function cleanSegments(task: CleanerTask): Promise<CleanerResult> {
  const config: LogConfig = {
    ...DEFAULT_LOG_CONFIG,
    segmentIndexBytes: task.segmentIndexBytes,
    indexIntervalBytes: task.indexIntervalBytes,
  };
  const inputs = task.segments.map((segment) => {
    const opened = LogSegment.open(task.dir, segment.baseOffset, config, false, task.now);
    if (opened.size !== segment.size) {
      opened.closeHandles();
      throw new Error(`${segment.path} changed size during cleaning`);
    }
    opened.checkTail();
    return opened;
  });
  try {
    // Pass 1: the last offset of every key, and the last batch of every producer.
    const lastOffsetOfKey = new Map<string, number>();
    const lastBatchOfProducer = new Map<number, number>();
    for (const segment of inputs) {
      for (const item of segment.scan(0, segment.size, true)) {
        if (!('header' in item))
          throw new Error(`${segment.path}: ${item.reason} at position ${item.position}`);
        const { header } = item;
        if (header.producerId >= 0) lastBatchOfProducer.set(header.producerId, header.baseOffset);
        if (isControlBatch(header.attributes)) continue;
        const batch = await decodeRecordBatch(item.bytes!);
        for (const record of batch.records) {
          if (record.key !== null) lastOffsetOfKey.set(keyString(record.key), record.offset);
        }
      }
    }
    // Groups of consecutive inputs that fit one output segment.
    const groups: LogSegment[][] = [];
    for (const segment of inputs) {
      const group = groups.at(-1);
      const size = group?.reduce((sum, s) => sum + s.size, 0) ?? Infinity;
      if (
        group &&
        size + segment.size <= task.segmentBytes &&
        segment.lastOffset - group[0]!.baseOffset <= INT32_MAX
      ) {
        group.push(segment);
      } else {
        groups.push([segment]);
      }
    }
    // Pass 2: write the survivors.
    const result: CleanerResult = { groups: [], recordsRemoved: 0 };
    for (const group of groups) {
      const base = group[0]!.baseOffset;
      const out = LogSegment.create(task.dir, base, config, task.now, CLEANED_SUFFIX);
      try {
        for (let g = 0; g < group.length; g++) {
          const segment = group[g]!;
          for (const item of segment.scan(0, segment.size, true)) {
            if (!('header' in item)) throw new Error(`${segment.path}: ${item.reason}`);
            const { header } = item;
            const bytes = item.bytes!;
            const lastOffset = lastOffsetOf(header);
            const lastOfGroup = g === group.length - 1 && item.position + item.size === segment.size;
            const write = (batch: Buffer, maxTimestamp: number): void =>
              out.append(batch, [{ position: 0, size: batch.length, lastOffset, maxTimestamp }]);
            if (isControlBatch(header.attributes)) {
              write(bytes, header.maxTimestamp);
              continue;
            }
            const decoded = await decodeRecordBatch(bytes);
            const tombstonesExpire =
              header.maxTimestamp >= 0 && task.now - header.maxTimestamp > task.deleteRetentionMs;
            const kept = decoded.records.filter((record) => {
              if (record.key === null) return true;
              if (lastOffsetOfKey.get(keyString(record.key)) !== record.offset) return false;
              return record.value !== null || !tombstonesExpire;
            });
            result.recordsRemoved += decoded.records.length - kept.length;
            if (kept.length === decoded.records.length) {
              write(bytes, header.maxTimestamp);
              continue;
            }
            const keepEmpty =
              lastOfGroup ||
              (header.producerId >= 0 && lastBatchOfProducer.get(header.producerId) === header.baseOffset);
            if (kept.length === 0 && !keepEmpty) continue;
            const logAppendTime = timestampTypeOf(header.attributes) === 1;
            const records: RecordInput[] = kept.map((record) => ({
              key: record.key,
              value: record.value,
              headers: record.headers,
              timestamp: header.baseTimestamp + record.timestampDelta,
              offsetDelta: record.offsetDelta,
            }));
            const rebuilt = await buildRecordBatch(records, {
              baseOffset: header.baseOffset,
              baseTimestamp: header.baseTimestamp,
              compression: compressionOf(header.attributes),
              producerId: header.producerId,
              producerEpoch: header.producerEpoch,
              baseSequence: header.baseSequence,
              transactional: isTransactional(header.attributes),
              partitionLeaderEpoch: header.partitionLeaderEpoch,
              lastOffsetDelta: header.lastOffsetDelta,
              timestampType: logAppendTime ? 1 : 0,
            });
            if (logAppendTime) setLogAppendTime(rebuilt, 0, header.maxTimestamp);
            write(rebuilt, readRecordBatchHeader(rebuilt).maxTimestamp);
          }
        }
        out.onBecomeInactive();
        result.groups.push({ baseOffset: base, inputCount: group.length, size: out.size });
      } finally {
        out.closeHandles();
      }
    }
    syncDir(task.dir);
    return result;
  } finally {
    for (const segment of inputs) segment.closeHandles();
  }
}

/** The in-thread runner (tests, and where no worker pool is configured). */
export const cleanSegmentsInProcess = (task: CleanerTask): Promise<CleanerResult> => cleanSegments(task);

/** Step 4 of the swap protocol for one group: `.swap` files to final names, indexes first, log last. */
export function finishSwap(dir: string, baseOffset: number): void {
  for (const suffix of [INDEX_SUFFIX, TIME_INDEX_SUFFIX]) {
    const swap = path.join(dir, segmentFileName(baseOffset, suffix + SWAP_SUFFIX));
    const final = path.join(dir, segmentFileName(baseOffset, suffix));
    // A missing index swap may already have been renamed, or never written: drop the final one too, so the
    // loader rebuilds it from the log rather than trusting an index that may belong to the old segment.
    if (fs.existsSync(swap)) fs.renameSync(swap, final);
    else fs.rmSync(final, { force: true });
  }
  fs.renameSync(
    path.join(dir, segmentFileName(baseOffset, LOG_SUFFIX + SWAP_SUFFIX)),
    path.join(dir, segmentFileName(baseOffset, LOG_SUFFIX)),
  );
  syncDir(dir);
}

/**
 * Crash recovery of the swap protocol for one partition directory: deletes `.cleaned` files (uncommitted
 * output) and completes every committed `.log.swap`.
 */
export function applyPendingSwaps(dir: string, logger: StorageLogger): void {
  const names = fs.readdirSync(dir);
  for (const name of names) {
    if (name.endsWith(CLEANED_SUFFIX)) {
      logger.warn(`${path.join(dir, name)}: unfinished compaction output; discarded`);
      fs.rmSync(path.join(dir, name), { force: true });
    }
  }
  const swaps = names
    .map((name) => parseSegmentFileName(name))
    .filter((parsed) => parsed?.suffix === LOG_SUFFIX + SWAP_SUFFIX)
    .map((parsed) => parsed!.baseOffset)
    .sort((a, b) => a - b);
  for (const base of swaps) {
    const swap = LogSegment.open(dir, base, DEFAULT_LOG_CONFIG, false, Date.now(), SWAP_SUFFIX);
    const problem = swap.checkTail() ?? undefined;
    if (problem !== undefined) {
      swap.recover();
      swap.offsetIndex.trimToValidSize();
      swap.timeIndex.trimToValidSize();
    }
    const lastOffset = swap.lastOffset;
    swap.closeHandles();
    for (const name of fs.readdirSync(dir)) {
      const parsed = parseSegmentFileName(name);
      if (!parsed || parsed.baseOffset <= base || parsed.baseOffset > lastOffset) continue;
      if ([LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX].includes(parsed.suffix)) {
        fs.rmSync(path.join(dir, name), { force: true });
      }
    }
    finishSwap(dir, base);
    logger.warn(
      `${path.join(dir, segmentFileName(base, LOG_SUFFIX))}: completed an interrupted compaction swap`,
    );
  }
}
