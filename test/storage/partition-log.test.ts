import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readRecordBatchHeader } from '../../src/protocol/records/record-batch.js';
import { readEpochCheckpoint, readOffsetCheckpoint } from '../../src/storage/checkpoint.js';
import { LogManager } from '../../src/storage/log-manager.js';
import { PartitionLog } from '../../src/storage/partition-log.js';
import { batchOf, decodeBytes, MemoryLogger, openLog, readRegions, tempDir, testConfig } from './helpers.js';

const rec = (key: string, value: string, timestamp: number) => ({ key, value, timestamp });

test('append assigns offsets batch by batch, stamps the leader epoch, keeps the CRC valid', () => {
  const log = openLog(tempDir(), testConfig());
  const first = batchOf([rec('a', '1', 10), rec('b', '2', 11), rec('c', '3', 12)]);
  const crc = readRecordBatchHeader(first).crc;
  const r1 = log.append(first, { leaderEpoch: 7 });
  assert.deepEqual(r1, {
    ok: true,
    baseOffset: 0,
    lastOffset: 2,
    logAppendTime: -1,
    logStartOffset: 0,
    recordCount: 3,
  });
  const two = Buffer.concat([batchOf([rec('d', '4', 13)]), batchOf([rec('e', '5', 14), rec('f', '6', 15)])]);
  const r2 = log.append(two, { leaderEpoch: 8 });
  assert.ok(r2.ok);
  assert.equal(r2.baseOffset, 3);
  assert.equal(r2.lastOffset, 5);
  assert.equal(log.logEndOffset, 6);
  assert.equal(log.highWatermark, 6);
  const read = log.read(0, 1 << 20);
  assert.ok(read.ok);
  const bytes = PartitionLog.readRegion(read.regions[0]!);
  const batches = decodeBytes(bytes);
  assert.deepEqual(
    batches.map((b) => [b.baseOffset, b.lastOffset, b.partitionLeaderEpoch]),
    [
      [0, 2, 7],
      [3, 3, 8],
      [4, 5, 8],
    ],
  );
  assert.equal(readRecordBatchHeader(bytes).crc, crc, 'offset and epoch lie outside the CRC');
  assert.deepEqual(log.leaderEpochCache.entries, [
    { epoch: 7, startOffset: 0 },
    { epoch: 8, startOffset: 3 },
  ]);
  assert.deepEqual(log.leaderEpochCache.endOffsetFor(7, log.logEndOffset), { epoch: 7, endOffset: 3 });
  assert.deepEqual(
    readEpochCheckpoint(path.join(log.dir, 'leader-epoch-checkpoint')),
    log.leaderEpochCache.entries,
  );
  assert.equal(fs.readFileSync(path.join(log.dir, 'leader-epoch-checkpoint'), 'utf8'), '0\n2\n7 0\n8 3\n');
  log.close();
});

test('append rejects corrupt, oversized and partial input without writing anything', () => {
  const log = openLog(tempDir(), testConfig({ 'max.message.bytes': 200 }));
  const good = batchOf([rec('a', '1', 1)]);
  const bad = Buffer.from(good);
  bad[bad.length - 1] = bad[bad.length - 1]! ^ 1;
  assert.equal((log.append(bad) as { reason: string }).reason, 'corrupt-message');
  assert.equal(
    (log.append(good.subarray(0, good.length - 2)) as { reason: string }).reason,
    'corrupt-message',
  );
  assert.equal(
    (log.append(batchOf([rec('a', 'x'.repeat(300), 1)])) as { reason: string }).reason,
    'record-too-large',
  );
  assert.equal((log.append(Buffer.concat([good, bad])) as { reason: string }).reason, 'corrupt-message');
  assert.equal(log.logEndOffset, 0);
  assert.equal(log.sizeInBytes, 0);
  log.close();
});

test('LogAppendTime stamps the batch and ListOffsets by time sees it', async () => {
  let clock = 50_000;
  const log = openLog(tempDir(), testConfig({ 'message.timestamp.type': 'LogAppendTime' }), {
    now: () => clock,
  });
  const result = log.append(batchOf([rec('a', '1', 5), rec('b', '2', 6)]));
  assert.ok(result.ok);
  assert.equal(result.logAppendTime, 50_000);
  clock = 60_000;
  log.append(batchOf([rec('c', '3', 7)]));
  const read = log.read(0, 1 << 20);
  assert.ok(read.ok);
  const batches = readRegions(read.regions);
  assert.deepEqual(
    batches.flatMap((b) => b.records.map((r) => r.timestamp)),
    [50_000, 50_000, 60_000],
  );
  assert.deepEqual(await log.listOffset({ timestamp: 55_000 }), {
    offset: 2,
    timestamp: 60_000,
    leaderEpoch: -1,
  });
  log.close();
});

test('read: a fetch offset inside a batch returns that whole batch; maxBytes; at least one batch; maxOffset', () => {
  const log = openLog(tempDir(), testConfig({ 'segment.bytes': 400, 'index.interval.bytes': 1 }));
  for (let i = 0; i < 20; i++)
    log.append(batchOf([rec(`k${i}`, 'a', i), rec(`k${i}`, 'b', i), rec(`k${i}`, 'c', i)]));
  assert.ok(log.segments.length > 3);
  const mid = log.read(31, 1);
  assert.ok(mid.ok);
  const got = readRegions(mid.regions);
  assert.equal(got.length, 1, 'one batch even though maxBytes is 1');
  assert.deepEqual([got[0]!.baseOffset, got[0]!.lastOffset], [30, 32]);
  const none = log.read(31, 1, { minOneBatch: false });
  assert.ok(none.ok);
  assert.equal(none.regions.length, 0);
  const size = mid.regions[0]!.length;
  const three = log.read(30, size * 3 + 5);
  assert.ok(three.ok);
  assert.deepEqual(
    readRegions(three.regions).map((b) => b.baseOffset),
    [30, 33, 36],
  );
  const all = log.read(0, 1 << 20);
  assert.ok(all.ok);
  assert.ok(all.regions.length > 1, 'spans segments');
  assert.deepEqual(
    readRegions(all.regions).map((b) => b.baseOffset),
    Array.from({ length: 20 }, (_, i) => i * 3),
  );
  assert.equal(all.regions.at(-1)!.lastOffset, 59);
  const bounded = log.read(0, 1 << 20, { maxOffset: 9 });
  assert.ok(bounded.ok);
  assert.deepEqual(
    readRegions(bounded.regions).map((b) => b.baseOffset),
    [0, 3, 6],
  );
  assert.deepEqual(log.read(60, 100), {
    ok: true,
    regions: [],
    highWatermark: 60,
    logStartOffset: 0,
    logEndOffset: 60,
  });
  const out = log.read(61, 100);
  assert.equal(out.ok, false);
  assert.equal((out as { reason: string }).reason, 'offset-out-of-range');
  log.close();
});

test('the high watermark can lag the log end offset; reads bounded by it', () => {
  const log = openLog(tempDir(), testConfig());
  log.append(batchOf([rec('a', '1', 1)]));
  log.setHighWatermark(1);
  log.append(batchOf([rec('b', '2', 2)]));
  assert.equal(log.highWatermark, 1);
  assert.equal(log.logEndOffset, 2);
  const read = log.read(0, 1000, { maxOffset: log.highWatermark });
  assert.ok(read.ok);
  assert.deepEqual(
    readRegions(read.regions).map((b) => b.baseOffset),
    [0],
  );
  log.setHighWatermark(100);
  assert.equal(log.highWatermark, 2);
  log.close();
});

test('roll by segment.ms (record time), by a full index, and by segment.bytes', () => {
  const byTime = openLog(tempDir(), testConfig({ 'segment.ms': 1000 }));
  byTime.append(batchOf([rec('a', '1', 10_000)]));
  byTime.append(batchOf([rec('a', '1', 10_900)]));
  assert.equal(byTime.segments.length, 1);
  byTime.append(batchOf([rec('a', '1', 11_001)]));
  assert.deepEqual(
    byTime.segments.map((s) => s.baseOffset),
    [0, 2],
  );
  byTime.close();
  const byIndex = openLog(tempDir(), testConfig({ 'segment.index.bytes': 24, 'index.interval.bytes': 0 }));
  for (let i = 0; i < 10; i++) byIndex.append(batchOf([rec('a', '1', i)]));
  assert.ok(byIndex.segments.length >= 3, `${byIndex.segments.length} segments`);
  for (const s of byIndex.segments.slice(0, -1)) {
    assert.ok(fs.statSync(s.path.replace(/\.log$/, '.index')).size <= 24, 'trimmed on roll');
  }
  byIndex.close();
  const bySize = openLog(tempDir(), testConfig({ 'segment.bytes': 200 }));
  for (let i = 0; i < 10; i++) bySize.append(batchOf([rec('a', 'x'.repeat(50), i)]));
  assert.ok(bySize.segments.every((s, i, all) => i === all.length - 1 || s.size <= 200));
  assert.equal(bySize.segments.length, 10);
  bySize.close();
});

test('ListOffsets: earliest, latest, by timestamp (first record at or after), max timestamp', async () => {
  const log = openLog(tempDir(), testConfig({ 'segment.bytes': 300, 'index.interval.bytes': 50 }));
  const stamps = [100, 105, 103, 200, 150, 300, 250, 300, 120];
  for (let i = 0; i < stamps.length; i += 3) {
    log.append(batchOf(stamps.slice(i, i + 3).map((t, j) => rec(`k${i + j}`, 'v', t))), { leaderEpoch: i });
  }
  assert.deepEqual(await log.listOffset('earliest'), { offset: 0, timestamp: -1, leaderEpoch: 0 });
  assert.deepEqual(await log.listOffset('latest'), { offset: 9, timestamp: -1, leaderEpoch: 6 });
  assert.deepEqual(await log.listOffset({ timestamp: 104 }), { offset: 1, timestamp: 105, leaderEpoch: 0 });
  assert.deepEqual(await log.listOffset({ timestamp: 160 }), { offset: 3, timestamp: 200, leaderEpoch: 3 });
  assert.deepEqual(await log.listOffset({ timestamp: 260 }), { offset: 5, timestamp: 300, leaderEpoch: 3 });
  assert.equal(await log.listOffset({ timestamp: 301 }), undefined);
  assert.deepEqual(await log.listOffset('max-timestamp'), { offset: 5, timestamp: 300, leaderEpoch: 3 });
  log.deleteRecords(6);
  assert.deepEqual(await log.listOffset({ timestamp: 0 }), { offset: 6, timestamp: 250, leaderEpoch: 6 });
  log.close();
});

test('retention by time and by bytes deletes whole sealed segments and moves the log start offset', () => {
  const logger = new MemoryLogger();
  const log = openLog(tempDir(), testConfig({ 'segment.bytes': 200, 'retention.ms': 1000 }), { logger });
  for (let i = 0; i < 10; i++) log.append(batchOf([rec('a', 'x'.repeat(60), 1000 * i)]));
  assert.equal(log.segments.length, 10);
  assert.equal(log.deleteOldSegments(4500), 4, 'segments with timestamps 0..3000 are older than 1000 ms');
  assert.equal(log.logStartOffset, 4);
  assert.ok(logger.infos.some((m) => /retention\.ms/.test(m)));
  assert.equal(log.deleteOldSegments(1e9), 5, 'never the active segment');
  assert.equal(log.logStartOffset, 9);
  assert.equal(log.segments.length, 1);
  log.close();
  const bytes = openLog(tempDir(), testConfig({ 'segment.bytes': 200, 'retention.bytes': 500 }));
  for (let i = 0; i < 10; i++) bytes.append(batchOf([rec('a', 'x'.repeat(60), Date.now())]));
  const each = bytes.segments[0]!.size;
  bytes.deleteOldSegments();
  assert.ok(
    bytes.sizeInBytes - each < 500,
    `${bytes.sizeInBytes} bytes left: deleting one more segment would go below retention.bytes`,
  );
  assert.ok(bytes.segments.length < 10);
  assert.equal(bytes.logStartOffset, bytes.segments[0]!.baseOffset);
  bytes.close();
});

test('deleteRecords moves the log start offset; reads below it are out of range', () => {
  const log = openLog(tempDir(), testConfig({ 'segment.bytes': 200 }));
  for (let i = 0; i < 6; i++) log.append(batchOf([rec('a', 'x'.repeat(60), i), rec('a', 'y', i)]));
  assert.deepEqual(log.deleteRecords(5), { ok: true, logStartOffset: 5 });
  assert.equal(log.segments[0]!.baseOffset, 4, 'segments wholly below are gone');
  assert.equal(log.read(4, 100).ok, false);
  const read = log.read(5, 100);
  assert.ok(read.ok);
  assert.equal(read.regions[0]!.firstOffset, 4, 'the batch holding offset 5');
  assert.deepEqual(log.deleteRecords(13), { ok: false, reason: 'offset-out-of-range' });
  assert.deepEqual(log.deleteRecords(-1), { ok: true, logStartOffset: 12 });
  log.close();
});

test('truncateTo removes whole batches, fixes the epoch cache, and appends continue', () => {
  const log = openLog(tempDir(), testConfig({ 'segment.bytes': 200 }));
  for (let i = 0; i < 6; i++)
    log.append(batchOf([rec('a', 'x'.repeat(60), i), rec('a', 'y', i)]), { leaderEpoch: i });
  log.truncateTo(7);
  assert.equal(log.logEndOffset, 6, 'the batch 6..7 goes whole');
  assert.equal(log.highWatermark, 6);
  assert.deepEqual(
    log.leaderEpochCache.entries.map((e) => e.epoch),
    [0, 1, 2],
  );
  const again = log.append(batchOf([rec('b', 'z', 9)]), { leaderEpoch: 9 });
  assert.ok(again.ok);
  assert.equal(again.baseOffset, 6);
  log.truncateFullyAndStartAt(100);
  assert.equal(log.logEndOffset, 100);
  assert.equal(log.logStartOffset, 100);
  assert.equal(log.segments.length, 1);
  assert.equal(log.segments[0]!.baseOffset, 100);
  log.close();
});

test('follower appends keep their offsets and must continue the log', () => {
  const leader = openLog(tempDir(), testConfig());
  leader.append(batchOf([rec('a', '1', 1), rec('b', '2', 2)]), { leaderEpoch: 3 });
  const read = leader.read(0, 1000);
  assert.ok(read.ok);
  const bytes = PartitionLog.readRegion(read.regions[0]!);
  const follower = openLog(tempDir(), testConfig());
  const result = follower.append(Buffer.from(bytes), { assignOffsets: false });
  assert.ok(result.ok);
  assert.equal(follower.logEndOffset, 2);
  assert.deepEqual(follower.leaderEpochCache.entries, [{ epoch: 3, startOffset: 0 }]);
  assert.equal(
    (follower.append(Buffer.from(bytes), { assignOffsets: false }) as { reason: string }).reason,
    'out-of-order-offsets',
  );
  leader.close();
  follower.close();
});

test('flush.messages=1 syncs before append returns: the recovery point follows the log end', () => {
  const log = openLog(tempDir(), testConfig({ 'flush.messages': 1, 'segment.bytes': 150 }));
  for (let i = 0; i < 5; i++) {
    log.append(batchOf([rec('a', 'x'.repeat(50), i)]));
    assert.equal(log.recoveryPoint, log.logEndOffset);
  }
  log.close();
  let clock = 0;
  const lazy = openLog(tempDir(), testConfig({ 'flush.ms': 100 }), { now: () => clock });
  lazy.append(batchOf([rec('a', '1', 1)]));
  assert.equal(lazy.recoveryPoint, 0);
  assert.equal(lazy.flushIfDue(50), false);
  clock = 150;
  assert.equal(lazy.flushIfDue(), true);
  assert.equal(lazy.recoveryPoint, 1);
  lazy.close();
});

test('deleting a partition while a read is in flight: the region stays readable, files go after the delay', async () => {
  const root = tempDir();
  const manager = LogManager.open({
    logDir: root,
    defaults: testConfig({ 'file.delete.delay.ms': 50 }),
    cleaner: 'in-process',
  });
  const log = manager.getOrCreate('gone', 0);
  log.append(batchOf([rec('a', 'precious', 1)]));
  const read = log.read(0, 1000);
  assert.ok(read.ok);
  assert.ok(manager.deleteLog('gone', 0));
  assert.equal(manager.get('gone', 0), undefined);
  assert.ok(!fs.existsSync(path.join(root, 'gone-0')), 'renamed at once');
  assert.deepEqual(
    readRegions(read.regions)[0]!.records.map((r) => r.value),
    ['precious'],
  );
  await new Promise((resolve) => setTimeout(resolve, 120));
  assert.deepEqual(
    fs.readdirSync(root).filter((name) => name.startsWith('gone')),
    [],
  );
  await manager.close();
});

test('segments deleted by retention stay readable through an earlier region until file.delete.delay.ms', () => {
  const log = openLog(
    tempDir(),
    testConfig({ 'segment.bytes': 150, 'file.delete.delay.ms': 60_000, 'retention.ms': 10 }),
  );
  for (let i = 0; i < 3; i++) log.append(batchOf([rec('a', 'x'.repeat(60), i)]));
  const read = log.read(0, 100);
  assert.ok(read.ok);
  log.deleteOldSegments(1_000_000);
  assert.ok(fs.readdirSync(log.dir).some((name) => name.endsWith('.log.deleted')));
  assert.equal(readRegions(read.regions)[0]!.baseOffset, 0);
  log.close();
  assert.ok(
    !fs.readdirSync(log.dir).some((name) => name.endsWith('.deleted')),
    'close finishes pending deletes',
  );
});

test('LogManager: checkpoints in Kafka format, clean shutdown skips recovery, unclean start recovers', async () => {
  const root = tempDir();
  const config = testConfig({ 'segment.bytes': 300 });
  let manager = LogManager.open({ logDir: root, defaults: config, cleaner: 'in-process' });
  const a = manager.getOrCreate('orders.v1', 0);
  const b = manager.getOrCreate('orders.v1', 1);
  for (let i = 0; i < 10; i++) a.append(batchOf([rec('k', 'x'.repeat(40), i)]));
  b.append(batchOf([rec('k', 'v', 1)]));
  a.deleteRecords(3);
  await manager.close();
  assert.ok(fs.existsSync(path.join(root, '.kafka_cleanshutdown')));
  const points = readOffsetCheckpoint(path.join(root, 'recovery-point-offset-checkpoint'));
  assert.deepEqual(
    points.sort((x, y) => x.partition - y.partition),
    [
      { topic: 'orders.v1', partition: 0, offset: 10 },
      { topic: 'orders.v1', partition: 1, offset: 1 },
    ],
  );
  assert.match(
    fs.readFileSync(path.join(root, 'log-start-offset-checkpoint'), 'utf8'),
    /^0\n2\n(orders\.v1 \d \d+\n){2}$/,
  );
  const logger = new MemoryLogger();
  manager = LogManager.open({ logDir: root, defaults: config, logger, cleaner: 'in-process' });
  assert.ok(!fs.existsSync(path.join(root, '.kafka_cleanshutdown')), 'marker removed while running');
  const reopened = manager.get('orders.v1', 0)!;
  assert.equal(reopened.logEndOffset, 10);
  assert.equal(reopened.logStartOffset, 3);
  assert.deepEqual(logger.warnings, []);
  manager.getOrCreate('orders.v1', 0).append(batchOf([rec('k', 'after', 99)]));
  // Crash: no close. The next open recovers from the checkpointed recovery point.
  for (const log of manager.logs()) log.closeAbruptly();
  manager = LogManager.open({ logDir: root, defaults: config, cleaner: 'in-process' });
  assert.equal(manager.get('orders.v1', 0)!.logEndOffset, 11);
  assert.equal(manager.get('orders.v1', 1)!.logEndOffset, 1);
  await manager.close();
});

test('LogManager.maintain runs flush.ms, retention, checkpoints and compaction when due', async () => {
  const root = tempDir();
  let clock = 1_000_000;
  const manager = LogManager.open({
    logDir: root,
    defaults: testConfig({ 'segment.bytes': 150, 'retention.ms': 1000, 'flush.ms': 100 }),
    topicConfig: (topic) =>
      topic === 'compacted'
        ? testConfig({
            'segment.bytes': 150,
            'cleanup.policy': 'compact',
            'min.cleanable.dirty.ratio': 0,
            'flush.ms': 100,
          })
        : undefined,
    now: () => clock,
    cleaner: 'in-process',
    retentionCheckIntervalMs: 500,
    cleanerBackoffMs: 500,
  });
  const plain = manager.getOrCreate('plain', 0);
  const compacted = manager.getOrCreate('compacted', 0);
  for (let i = 0; i < 4; i++) {
    plain.append(batchOf([rec('a', 'x'.repeat(60), clock)]));
    compacted.append(batchOf([rec('same', 'x'.repeat(60), clock)]));
  }
  assert.equal(plain.recoveryPoint, 0);
  clock += 5000;
  const first = manager.maintain();
  assert.equal(first.flushed, 2, 'flush.ms passed for both');
  assert.equal(first.deleted, 3, 'three sealed segments of the delete-policy topic expired');
  assert.ok(first.checkpointed && first.compactionStarted);
  assert.equal(plain.logStartOffset, 3);
  assert.equal(compacted.logStartOffset, 0, 'compact-only topics keep old segments');
  assert.deepEqual(manager.maintain(), {
    flushed: 0,
    deleted: 0,
    checkpointed: false,
    compactionStarted: false,
  });
  await manager.close();
  const points = readOffsetCheckpoint(path.join(root, 'log-start-offset-checkpoint'));
  assert.deepEqual(
    points.find((p) => p.topic === 'plain'),
    { topic: 'plain', partition: 0, offset: 3 },
  );
  const reopened = LogManager.open({ logDir: root, cleaner: 'in-process' });
  const read = reopened.get('compacted', 0)!.read(0, 1 << 20);
  assert.ok(read.ok);
  assert.deepEqual(
    readRegions(read.regions).flatMap((b) => b.records.map((r) => r.offset)),
    [2, 3],
    'compaction kept the last record below the active segment and the active one',
  );
  await reopened.close();
});

test('two LogManagers sharing a log dir (one per worker) each load their partitions and merge checkpoints', async () => {
  const root = tempDir();
  const config = testConfig();
  const open = (parity: number) =>
    LogManager.open({
      logDir: root,
      defaults: config,
      cleaner: 'in-process',
      owns: (_topic, partition) => partition % 2 === parity,
      cleanShutdownFile: `.kafka_cleanshutdown.worker${parity}`,
    });
  let even = open(0);
  let odd = open(1);
  for (let p = 0; p < 4; p++) {
    const manager = p % 2 === 0 ? even : odd;
    manager.getOrCreate('shared', p).append(batchOf([rec('k', 'v'.repeat(p + 1), 1), rec('k', 'w', 1)]));
  }
  await even.close();
  await odd.close();
  const points = readOffsetCheckpoint(path.join(root, 'recovery-point-offset-checkpoint'));
  assert.deepEqual(points.map((p) => p.partition).sort(), [0, 1, 2, 3]);
  even = open(0);
  odd = open(1);
  assert.deepEqual(
    even
      .logs()
      .map((log) => log.partition)
      .sort(),
    [0, 2],
  );
  assert.deepEqual(
    odd
      .logs()
      .map((log) => log.partition)
      .sort(),
    [1, 3],
  );
  assert.ok(even.logs().every((log) => log.logEndOffset === 2));
  await even.close();
  await odd.close();
});
