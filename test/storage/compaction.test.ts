import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  CompressionType,
  readRecordBatchHeader,
  compressionOf,
} from '../../src/protocol/records/record-batch.js';
import { cleanSegments } from '../../src/storage/compaction.js';
import { LogManager } from '../../src/storage/log-manager.js';
import type { PartitionLog } from '../../src/storage/partition-log.js';
import { PartitionLog as Log } from '../../src/storage/partition-log.js';
import {
  batchOf,
  MemoryLogger,
  openLog,
  readRegions,
  tempDir,
  testConfig,
  type DecodedRecord,
} from './helpers.js';

const compactConfig = (extra: Record<string, string | number> = {}) =>
  testConfig({
    'cleanup.policy': 'compact',
    'segment.bytes': 300,
    'min.cleanable.dirty.ratio': 0,
    'delete.retention.ms': 1000,
    ...extra,
  });

function records(log: PartitionLog): DecodedRecord[] {
  const read = log.read(log.logStartOffset, 1 << 30);
  assert.ok(read.ok);
  return readRegions(read.regions).flatMap((b) => b.records);
}

/** Appends key/value pairs one batch each at timestamp `ts`; value null = tombstone. */
function fill(log: PartitionLog, pairs: [string, string | null][], ts: number): void {
  for (const [key, value] of pairs) assert.ok(log.append(batchOf([{ key, value, timestamp: ts }])).ok);
}

test('compaction keeps the latest record per key, below the active segment only', async () => {
  const log = openLog(tempDir(), compactConfig());
  fill(
    log,
    [
      ['a', '1'],
      ['b', '1'],
      ['a', '2'],
      ['c', '1'],
      ['b', '2'],
      ['a', '3'],
      ['d', '1'],
      ['e', '1'],
      ['a', '4'],
    ],
    10_000,
  );
  const activeBase = log.activeSegmentBaseOffset;
  assert.ok(activeBase > 5 && log.segments.length >= 3);
  const replaced = await log.compact({ now: 10_000 });
  assert.ok(replaced >= 2);
  const kept = records(log).map((r) => `${r.offset}:${r.key}=${r.value}`);
  // Every record below the active segment whose key appears again below it is gone.
  const all = ['0:a=1', '1:b=1', '2:a=2', '3:c=1', '4:b=2', '5:a=3', '6:d=1', '7:e=1', '8:a=4'];
  const below = all.filter((r) => Number(r.split(':')[0]) < activeBase);
  const lastBelow = new Map(below.map((r) => [r.split(':')[1]!.split('=')[0]!, r]));
  const expected = all.filter(
    (r) => Number(r.split(':')[0]) >= activeBase || lastBelow.get(r.split(':')[1]!.split('=')[0]!) === r,
  );
  assert.deepEqual(kept, expected);
  assert.equal(log.cleanerCheckpoint, activeBase);
  assert.equal(log.logEndOffset, 9, 'offsets are never reassigned');
  log.close();
});

test('tombstones survive until delete.retention.ms has passed, then go', async () => {
  const log = openLog(tempDir(), compactConfig());
  fill(
    log,
    [
      ['a', '1'],
      ['b', '1'],
      ['a', null],
      ['c', '1'],
      ['x', '1'],
      ['y', '1'],
      ['z', '1'],
    ],
    10_000,
  );
  log.roll();
  await log.compact({ now: 10_500 });
  assert.deepEqual(
    records(log).map((r) => `${r.key}=${r.value}`),
    ['b=1', 'a=null', 'c=1', 'x=1', 'y=1', 'z=1'],
  );
  await log.compact({ now: 11_001, force: true });
  assert.deepEqual(
    records(log).map((r) => `${r.key}=${r.value}`),
    ['b=1', 'c=1', 'x=1', 'y=1', 'z=1'],
  );
  log.close();
});

test('min.cleanable.dirty.ratio, min.compaction.lag.ms and max.compaction.lag.ms decide when to clean', async () => {
  const log = openLog(tempDir(), compactConfig({ 'min.cleanable.dirty.ratio': 0.9 }));
  fill(
    log,
    [
      ['a', '1'],
      ['a', '2'],
      ['a', '3'],
      ['a', '4'],
      ['a', '5'],
      ['a', '6'],
    ],
    10_000,
  );
  log.roll();
  assert.equal(log.cleanableState(10_000).needed, true, 'everything is dirty at first');
  await log.compact({ now: 10_000 });
  assert.deepEqual(
    records(log).map((r) => r.value),
    ['6'],
  );
  fill(
    log,
    [
      ['b', '1'],
      ['b', '2'],
      ['b', '3'],
      ['b', '4'],
      ['b', '5'],
      ['b', '6'],
    ],
    10_000,
  );
  log.roll();
  const state = log.cleanableState(10_000);
  assert.ok(state.dirtyRatio > 0.5 && state.dirtyRatio < 0.9, `ratio ${state.dirtyRatio}`);
  assert.equal(await log.compact({ now: 10_000 }), 0, 'below the ratio: nothing to do');
  log.updateConfig(compactConfig({ 'min.cleanable.dirty.ratio': 0.9, 'max.compaction.lag.ms': 5000 }));
  assert.equal(log.cleanableState(12_000).needed, false);
  assert.equal(log.cleanableState(16_000).needed, true, 'max.compaction.lag.ms overrides the ratio');
  log.updateConfig(compactConfig({ 'min.compaction.lag.ms': 60_000 }));
  assert.equal(log.cleanableState(20_000).needed, false, 'too young for min.compaction.lag.ms');
  assert.equal(log.cleanableState(80_000).needed, true);
  log.close();
});

test('the cleaner preserves batch metadata: producer id, epoch, sequence, last offset delta, compression', async () => {
  const log = openLog(tempDir(), compactConfig({ 'segment.bytes': 100_000 }));
  const producer = { producerId: 77, producerEpoch: 3 };
  log.append(
    batchOf(
      [
        { key: 'a', value: '1', timestamp: 1 },
        { key: 'b', value: '1', timestamp: 2 },
        { key: 'c', value: '1', timestamp: 3 },
      ],
      { ...producer, baseSequence: 0, compression: CompressionType.GZIP },
    ),
  );
  log.append(
    batchOf(
      [
        { key: 'a', value: '2', timestamp: 4 },
        { key: 'c', value: '2', timestamp: 5 },
      ],
      { ...producer, baseSequence: 3 },
    ),
  );
  log.append(
    batchOf(
      [
        { key: 'a', value: '3', timestamp: 6 },
        { key: 'c', value: '3', timestamp: 7 },
      ],
      { ...producer, baseSequence: 5 },
    ),
  );
  log.append(
    batchOf([{ key: 'c', value: '4', timestamp: 8 }], { producerId: 78, producerEpoch: 0, baseSequence: 0 }),
  );
  log.roll();
  await log.compact({ now: 10 });
  const read = log.read(0, 1 << 20);
  assert.ok(read.ok);
  const bytes = Log.readRegion(read.regions[0]!);
  const headers = [];
  for (let at = 0; at < bytes.length;) {
    const header = readRecordBatchHeader(bytes, at);
    headers.push(header);
    at += 12 + header.batchLength;
  }
  assert.deepEqual(
    headers.map((h) => [
      h.baseOffset,
      h.lastOffsetDelta,
      h.producerId,
      h.producerEpoch,
      h.baseSequence,
      h.recordCount,
    ]),
    [
      [0, 2, 77, 3, 0, 1],
      // batch 3..4 lost both records and is not its producer's last batch: gone
      [5, 1, 77, 3, 5, 1],
      [7, 0, 78, 0, 0, 1],
    ],
  );
  assert.equal(compressionOf(headers[0]!.attributes), CompressionType.GZIP);
  assert.deepEqual(
    readRegions(read.regions).flatMap((b) => b.records.map((r) => `${r.offset}:${r.key}=${r.value}`)),
    ['1:b=1', '5:a=3', '7:c=4'],
  );
  log.close();
});

test('the last batch of a producer stays as an empty batch when all its records are compacted away', async () => {
  const log = openLog(tempDir(), compactConfig({ 'segment.bytes': 100_000 }));
  log.append(
    batchOf([{ key: 'a', value: '1', timestamp: 1 }], { producerId: 5, producerEpoch: 1, baseSequence: 9 }),
  );
  log.append(batchOf([{ key: 'a', value: '2', timestamp: 2 }]));
  log.append(batchOf([{ key: 'z', value: '2', timestamp: 2 }]));
  log.roll();
  await log.compact({ now: 10 });
  const read = log.read(0, 1 << 20);
  assert.ok(read.ok);
  const header = readRecordBatchHeader(Log.readRegion(read.regions[0]!));
  assert.deepEqual(
    [header.baseOffset, header.producerId, header.baseSequence, header.recordCount],
    [0, 5, 9, 0],
  );
  log.close();
});

/** Two identical logs; returns the compacted records of one as the expectation. */
async function twins(): Promise<{ dir: string; expected: string[] }> {
  const make = (dir: string): PartitionLog => {
    const log = openLog(dir, compactConfig());
    for (let i = 0; i < 30; i++) fill(log, [[`k${i % 4}`, `v${i}`]], 10_000 + i);
    return log;
  };
  const reference = make(tempDir());
  await reference.compact({ now: 20_000 });
  const expected = records(reference).map((r) => `${r.offset}:${r.key}=${r.value}`);
  reference.close();
  const dir = tempDir();
  make(dir).close();
  return { dir, expected };
}

function taskFor(log: PartitionLog) {
  const sealed = log.segments.slice(0, -1);
  return {
    dir: log.dir,
    segments: sealed.map((s) => ({ baseOffset: s.baseOffset, path: s.path, size: s.size })),
    logStartOffset: 0,
    now: 20_000,
    deleteRetentionMs: 1000,
    segmentBytes: 300,
    segmentIndexBytes: 4096,
    indexIntervalBytes: 4096,
  };
}

test('crash while writing .cleaned files: recovery discards them, the old segments stay', async () => {
  const { dir } = await twins();
  const log = openLog(dir, compactConfig(), { cleanShutdown: true });
  const before = records(log).map((r) => `${r.offset}:${r.key}=${r.value}`);
  await cleanSegments(taskFor(log));
  assert.ok(fs.readdirSync(dir).some((name) => name.endsWith('.log.cleaned')));
  log.closeAbruptly();
  const logger = new MemoryLogger();
  const reopened = openLog(dir, compactConfig(), { logger, recoveryPoint: 0 });
  assert.deepEqual(
    records(reopened).map((r) => `${r.offset}:${r.key}=${r.value}`),
    before,
  );
  assert.ok(!fs.readdirSync(dir).some((name) => name.includes('.cleaned')));
  assert.ok(logger.warnings.some((w) => /unfinished compaction output/.test(w)));
  reopened.close();
});

for (const stage of ['committed', 'half-replaced'] as const) {
  test(`crash after the swap commit (${stage}): recovery completes the swap`, async () => {
    const { dir, expected } = await twins();
    const log = openLog(dir, compactConfig(), { cleanShutdown: true });
    const result = await cleanSegments(taskFor(log));
    log.closeAbruptly();
    const name = (base: number, suffix: string) => path.join(dir, String(base).padStart(20, '0') + suffix);
    let inputAt = 0;
    const inputs = taskFor(log).segments;
    for (const group of result.groups) {
      for (const suffix of ['.index', '.timeindex', '.log']) {
        fs.renameSync(name(group.baseOffset, `${suffix}.cleaned`), name(group.baseOffset, `${suffix}.swap`));
      }
      if (stage === 'half-replaced') {
        // Step 3-4 interrupted: later inputs already renamed away, the index swapped in, the log not yet.
        for (const input of inputs.slice(inputAt + 1, inputAt + group.inputCount)) {
          for (const suffix of ['.log', '.index', '.timeindex']) {
            fs.renameSync(name(input.baseOffset, suffix), name(input.baseOffset, `${suffix}.deleted`));
          }
        }
        fs.renameSync(name(group.baseOffset, '.index.swap'), name(group.baseOffset, '.index'));
      }
      inputAt += group.inputCount;
    }
    const logger = new MemoryLogger();
    const reopened = openLog(dir, compactConfig(), { logger, recoveryPoint: 0 });
    assert.deepEqual(
      records(reopened).map((r) => `${r.offset}:${r.key}=${r.value}`),
      expected,
    );
    assert.ok(logger.warnings.some((w) => /completed an interrupted compaction swap/.test(w)));
    assert.ok(!fs.readdirSync(dir).some((n) => n.endsWith('.swap') || n.endsWith('.deleted')));
    reopened.close();
  });
}

test('LogManager runs compaction through piscina when the compiled worker exists', async () => {
  const root = tempDir();
  const manager = LogManager.open({ logDir: root, defaults: compactConfig() });
  assert.equal(
    manager.cleanerInWorker,
    import.meta.url.endsWith('.js'),
    'piscina from dist/, in-process under tsx',
  );
  const log = manager.getOrCreate('compacted', 0);
  for (let i = 0; i < 20; i++) fill(log, [[`k${i % 3}`, `v${i}`]], 10_000);
  log.roll();
  assert.ok((await manager.runCompaction(10_000)) > 0);
  assert.deepEqual(
    records(log)
      .map((r) => r.value)
      .slice(-3),
    ['v17', 'v18', 'v19'],
  );
  assert.equal(records(log).length, 3);
  await manager.close();
});

test('a partition deleted while its compaction runs: the pass is dropped quietly', async () => {
  const root = tempDir();
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  const manager = LogManager.open({
    logDir: root,
    defaults: compactConfig(),
    cleaner: async (task) => {
      await gate;
      return cleanSegments(task);
    },
  });
  const log = manager.getOrCreate('doomed', 0);
  for (let i = 0; i < 10; i++) fill(log, [[`k${i % 2}`, `v${i}`]], 10_000);
  log.roll();
  const pass = log.compact({ now: 10_000 });
  manager.deleteLog('doomed', 0);
  release();
  assert.equal(await pass, 0);
  await manager.close();
  assert.deepEqual(
    fs.readdirSync(root).filter((name) => name.startsWith('doomed')),
    [],
  );
});

test('a cleaner task whose input was renamed away fails without recreating the segment', async () => {
  const { dir } = await twins();
  const log = openLog(dir, compactConfig(), { cleanShutdown: true });
  const task = taskFor(log);
  log.close();
  const victim = task.segments[1]!.path;
  fs.renameSync(victim, `${victim}.deleted`);
  const before = fs
    .readdirSync(dir)
    .filter((name) => name.endsWith('.log'))
    .sort();
  await assert.rejects(cleanSegments(task), /ENOENT/);
  assert.deepEqual(
    fs
      .readdirSync(dir)
      .filter((name) => name.endsWith('.log'))
      .sort(),
    before,
  );
});
