// Model-based test: random sequences of append, roll, read, truncate, delete-records, retention, compaction and
// restart (clean and unclean), checked after every step against a plain in-memory model of the log.
// Replay a failure: FJORD_STORAGE_SEED=<seed> [FJORD_STORAGE_OPS=<n>] node --import tsx --test test/storage/model.test.ts
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { CompressionType } from '../../src/protocol/records/record-batch.js';
import { PartitionLog } from '../../src/storage/partition-log.js';
import {
  batchOf,
  MemoryLogger,
  openLog,
  readRegions,
  rng,
  tempDir,
  testConfig,
  type DecodedBatch,
  type SimpleRecord,
} from './helpers.js';

interface ModelRecord extends SimpleRecord {
  offset: number;
}
interface ModelBatch {
  base: number;
  last: number;
  baseTimestamp: number;
  maxTimestamp: number;
  records: ModelRecord[];
}

const RETENTION_MS = 1000;
const DELETE_RETENTION_MS = 300;

function runSeed(seed: number, operations: number): void | Promise<void> {
  return (async () => {
    const random = rng(seed);
    const int = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));
    const dir = tempDir('fjord-model-');
    const config = testConfig({
      'segment.bytes': int(300, 1500),
      'index.interval.bytes': int(0, 300),
      'segment.index.bytes': int(2, 12) * 12,
      'cleanup.policy': 'compact,delete',
      'retention.ms': RETENTION_MS,
      'delete.retention.ms': DELETE_RETENTION_MS,
      'min.cleanable.dirty.ratio': 0,
    });
    let clock = 1_000_000;
    const now = (): number => clock;
    const logger = new MemoryLogger();
    let log = openLog(dir, config, { now, logger });
    let batches: ModelBatch[] = [];
    let lso = 0;
    let leo = 0;
    const history: string[] = [];

    const modelRecords = (): ModelRecord[] =>
      batches.flatMap((batch) => batch.records).filter((r) => r.offset >= lso);

    const fullRead = (): DecodedBatch[] => {
      const result = log.read(lso, 1 << 30);
      assert.ok(result.ok, 'full read is in range');
      return readRegions(result.regions);
    };

    const check = (): void => {
      assert.equal(log.logEndOffset, leo, 'log end offset');
      assert.equal(log.logStartOffset, lso, 'log start offset');
      assert.equal(log.highWatermark, leo, 'high watermark');
      const got = fullRead()
        .flatMap((batch) => batch.records)
        .filter((r) => r.offset >= lso);
      assert.deepEqual(got, modelRecords(), 'records from the log start offset');
    };

    for (let step = 0; step < operations; step++) {
      const roll = random();
      try {
        if (roll < 0.5) {
          const count = int(1, 5);
          clock += int(0, 40);
          const records: SimpleRecord[] = Array.from({ length: count }, () => ({
            key: `k${int(0, 12)}`,
            value: random() < 0.1 ? null : `v${int(0, 1e6)}`,
            timestamp: clock + int(-5, 5),
          }));
          history.push(`append ${count}`);
          const result = log.append(
            batchOf(records, random() < 0.2 ? { compression: CompressionType.GZIP } : {}),
          );
          assert.ok(result.ok, 'append accepted');
          assert.equal(result.baseOffset, leo);
          const modelBatch: ModelBatch = {
            base: leo,
            last: leo + count - 1,
            baseTimestamp: records[0]!.timestamp,
            maxTimestamp: Math.max(...records.map((r) => r.timestamp)),
            records: records.map((r, i) => ({ ...r, offset: leo + i })),
          };
          batches.push(modelBatch);
          leo += count;
        } else if (roll < 0.55) {
          history.push('roll');
          log.roll();
        } else if (roll < 0.72) {
          const fetchOffset = int(lso - 2, leo + 2);
          const maxBytes = int(1, 1500);
          history.push(`read ${fetchOffset} ${maxBytes}`);
          const result = log.read(fetchOffset, maxBytes);
          if (fetchOffset < lso || fetchOffset > leo) {
            assert.equal(result.ok, false, 'out of range');
            if (!result.ok) assert.equal(result.reason, 'offset-out-of-range');
          } else {
            assert.ok(result.ok);
            const got = readRegions(result.regions);
            const expected = modelRecords();
            if (fetchOffset === leo || !expected.some((r) => r.offset >= fetchOffset)) {
              assert.ok(
                got.every((b) => b.records.every((r) => r.offset < fetchOffset)),
                'nothing at or after the end',
              );
            } else {
              assert.ok(got.length >= 1, 'at least one batch');
              const first = got[0]!;
              assert.ok(first.lastOffset >= fetchOffset, 'first batch ends at or after the fetch offset');
              if (first.baseOffset > fetchOffset) {
                assert.ok(
                  !expected.some((r) => r.offset >= fetchOffset && r.offset < first.baseOffset),
                  'no skipped records',
                );
              }
              const lo = first.baseOffset;
              const hi = got.at(-1)!.lastOffset;
              const records = got.flatMap((b) => b.records).filter((r) => r.offset >= lso);
              assert.deepEqual(
                records,
                expected.filter((r) => r.offset >= lo && r.offset <= hi),
                'records of the read range',
              );
              const bytes = result.regions.reduce((sum, region) => sum + region.length, 0);
              assert.ok(got.length === 1 || bytes <= maxBytes, 'maxBytes respected beyond the first batch');
              if (bytes < maxBytes) {
                const more = log.read(hi + 1, maxBytes - bytes, { minOneBatch: false });
                assert.ok(more.ok && more.regions.length === 0, 'the read took every batch that fit');
              }
              for (let i = 1; i < got.length; i++)
                assert.ok(got[i]!.baseOffset > got[i - 1]!.lastOffset, 'batches in order');
            }
          }
        } else if (roll < 0.76) {
          const offset = int(Math.max(0, lso - 3), leo);
          history.push(`truncateTo ${offset}`);
          const firstBase = log.segments[0]!.baseOffset;
          log.truncateTo(offset);
          if (offset >= leo) {
            // no-op
          } else if (offset < lso || offset <= firstBase) {
            batches = [];
            lso = offset;
            leo = offset;
          } else {
            const cut = batches.findIndex((b) => b.last >= offset);
            const expectedLeo = batches[cut]!.base;
            batches = batches.slice(0, cut);
            const keptRecords = batches.flatMap((b) => b.records).filter((r) => r.offset >= lso);
            const lastKept = keptRecords.at(-1)?.offset ?? -1;
            assert.ok(
              log.logEndOffset <= expectedLeo && log.logEndOffset > lastKept,
              `end offset after truncation ${log.logEndOffset}`,
            );
            leo = log.logEndOffset;
            lso = Math.min(lso, leo);
          }
        } else if (roll < 0.8) {
          const offset = int(lso - 1, leo + 2);
          history.push(`deleteRecords ${offset}`);
          const result = log.deleteRecords(offset);
          if (offset > leo || offset < -1) {
            assert.equal(result.ok, false);
          } else {
            assert.ok(result.ok);
            lso = Math.max(lso, offset === -1 ? leo : offset);
            assert.equal(result.logStartOffset, lso);
          }
        } else if (roll < 0.85) {
          const segments = log.segments;
          const sealed = segments.slice(0, -1);
          if (sealed.length === 0 || sealed.some((s) => s.maxTimestamp < 0)) continue;
          const at = sealed[int(0, sealed.length - 1)]!.maxTimestamp + RETENTION_MS + 1;
          history.push(`retention now=${at}`);
          let expectedStart = lso;
          let i = 0;
          while (i < segments.length - 1 && segments[i + 1]!.baseOffset <= expectedStart) i++;
          while (i < segments.length - 1 && at - segments[i]!.maxTimestamp > RETENTION_MS) {
            i++;
            expectedStart = Math.max(expectedStart, segments[i]!.baseOffset);
          }
          log.deleteOldSegments(at);
          assert.equal(log.logStartOffset, expectedStart, 'log start offset after retention');
          assert.equal(log.segments[0]!.baseOffset, segments[i]!.baseOffset, 'first remaining segment');
          lso = expectedStart;
        } else if (roll < 0.9) {
          clock += int(0, 400);
          const at = clock;
          // Cleanable: the sealed segments before the first one holding a timestamp newer than `at`
          // (min.compaction.lag.ms = 0 still excludes records from the future).
          const sealed = log.segments.slice(0, -1);
          const firstYoung = sealed.findIndex((s) => s.maxTimestamp > at);
          const activeBase = firstYoung < 0 ? log.activeSegmentBaseOffset : sealed[firstYoung]!.baseOffset;
          history.push(`compact now=${at} activeBase=${activeBase}`);
          const latest = new Map<string, number>();
          for (const batch of batches) {
            for (const record of batch.records) {
              if (record.offset < activeBase && record.key !== null) latest.set(record.key, record.offset);
            }
          }
          const expectedBatches = new Map<string, ModelRecord[]>();
          for (const batch of batches) {
            if (batch.last >= activeBase) {
              expectedBatches.set(`${batch.base}:${batch.last}`, batch.records);
              continue;
            }
            const expire = at - batch.maxTimestamp > DELETE_RETENTION_MS;
            const kept = batch.records.filter(
              (r) => r.key === null || (latest.get(r.key) === r.offset && (r.value !== null || !expire)),
            );
            expectedBatches.set(`${batch.base}:${batch.last}`, kept);
          }
          await log.compact({ now: at, force: true });
          const after = fullRead();
          for (const got of after) {
            const expected = expectedBatches.get(`${got.baseOffset}:${got.lastOffset}`);
            assert.ok(
              expected !== undefined,
              `batch ${got.baseOffset}..${got.lastOffset} kept its boundaries`,
            );
            assert.deepEqual(
              got.records.filter((r) => r.offset >= lso),
              expected.filter((r) => r.offset >= lso),
              `records of batch ${got.baseOffset}`,
            );
            expectedBatches.delete(`${got.baseOffset}:${got.lastOffset}`);
          }
          for (const [id, records] of expectedBatches) {
            assert.ok(
              records.every((r) => r.offset < lso),
              `batch ${id} disappeared with records left`,
            );
          }
          // Adopt the compacted shape (boundaries verified above); rebuilt batches' timestamps follow the cleaner.
          const byId = new Map(batches.map((b) => [`${b.base}:${b.last}`, b]));
          batches = after.map((got) => {
            const original = byId.get(`${got.baseOffset}:${got.lastOffset}`)!;
            const retained = original.records.filter((r) => got.records.some((g) => g.offset === r.offset));
            const changed = retained.length !== original.records.length;
            return {
              ...original,
              records: retained,
              maxTimestamp: !changed
                ? original.maxTimestamp
                : retained.length > 0
                  ? Math.max(...retained.map((r) => r.timestamp))
                  : original.baseTimestamp,
            };
          });
        } else if (roll < 0.95) {
          const clean = random() < 0.5;
          history.push(clean ? 'restart clean' : 'restart unclean');
          const recoveryPoint = log.recoveryPoint;
          if (clean) log.close();
          else log.closeAbruptly();
          log = openLog(dir, config, {
            now,
            logger,
            cleanShutdown: clean,
            logStartOffset: lso,
            ...(clean ? {} : { recoveryPoint }),
          });
        } else {
          history.push('flush');
          log.flush();
          assert.equal(log.recoveryPoint, leo);
        }
        check();
        assert.deepEqual(logger.warnings, [], 'no problems reported');
      } catch (error) {
        const recent = history.slice(-12).join('; ');
        (error as Error).message =
          `seed ${seed}, step ${step} (replay: FJORD_STORAGE_SEED=${seed}): ${(error as Error).message}\n  recent: ${recent}`;
        throw error;
      }
    }
    log.close();
    fs.rmSync(dir, { recursive: true, force: true });
  })();
}

const replaySeed = process.env.FJORD_STORAGE_SEED;
const operations = Number(process.env.FJORD_STORAGE_OPS ?? 700);
const seeds = replaySeed !== undefined ? [Number(replaySeed)] : [1, 2, 3, 4, 5];

for (const seed of seeds) {
  test(`model: ${operations} random operations, seed ${seed}`, async () => {
    await runSeed(seed, operations);
  });
}

test('model helper sanity: PartitionLog.readRegion reads what read() describes', () => {
  const dir = tempDir();
  const log = openLog(dir, testConfig());
  log.append(batchOf([{ key: 'a', value: '1', timestamp: 5 }]));
  const result = log.read(0, 100);
  assert.ok(result.ok);
  assert.equal(result.regions.length, 1);
  assert.equal(PartitionLog.readRegion(result.regions[0]!).length, result.regions[0]!.length);
  log.close();
});
