// Corruption: each kind of damage is detected on open, repaired where possible, and reported through the
// logger with the file name and the offset or position.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { segmentFileName } from '../../src/storage/segment.js';
import { batchOf, MemoryLogger, openLog, readRegions, tempDir, testConfig } from './helpers.js';

const config = testConfig({ 'segment.bytes': 2000, 'index.interval.bytes': 100 });

/** A log of 3+ segments, 60 batches of 2 records (offsets 0..119), closed cleanly. */
function buildLog(): { dir: string; segments: { baseOffset: number; path: string }[] } {
  const dir = tempDir('fjord-corrupt-');
  const log = openLog(dir, config);
  for (let i = 0; i < 60; i++) {
    const result = log.append(
      batchOf([
        { key: `k${i}`, value: `value-${i}-a`.padEnd(40, '.'), timestamp: 1000 + i },
        { key: `k${i}`, value: `value-${i}-b`.padEnd(40, '.'), timestamp: 1000 + i },
      ]),
    );
    assert.ok(result.ok);
  }
  const segments = log.segments.map((s) => ({ baseOffset: s.baseOffset, path: s.path }));
  assert.ok(segments.length >= 3, `${segments.length} segments`);
  log.close();
  return { dir, segments };
}

function allOffsets(dir: string, logger: MemoryLogger, extra = {}): { offsets: number[]; end: number } {
  const log = openLog(dir, config, { logger, ...extra });
  const result = log.read(log.logStartOffset, 1 << 30);
  assert.ok(result.ok);
  const offsets = readRegions(result.regions).flatMap((b) => b.records.map((r) => r.offset));
  const end = log.logEndOffset;
  log.close();
  return { offsets, end };
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

test('garbage appended to the active .log is detected after a clean shutdown and cut off', () => {
  const { dir, segments } = buildLog();
  const active = segments.at(-1)!;
  fs.appendFileSync(
    active.path,
    Buffer.from('this is not a record batch, just trailing garbage bytes!!!!!!!!!!!!!'),
  );
  const logger = new MemoryLogger();
  const { offsets, end } = allOffsets(dir, logger, { cleanShutdown: true });
  assert.deepEqual(offsets, range(0, 120));
  assert.equal(end, 120);
  const warning = logger.warnings.find((w) => w.includes(path.basename(active.path)));
  assert.ok(warning, `warning names the file: ${logger.warnings.join(' | ')}`);
  assert.match(logger.warnings.join('\n'), /position \d+/);
  assert.match(logger.warnings.join('\n'), /offset 120/);
});

test('garbage appended to a sealed .log is cut off without losing the later segments', () => {
  const { dir, segments } = buildLog();
  fs.appendFileSync(segments[0]!.path, Buffer.alloc(100, 0xab));
  const logger = new MemoryLogger();
  const { offsets, end } = allOffsets(dir, logger, { cleanShutdown: true });
  assert.deepEqual(offsets, range(0, 120));
  assert.equal(end, 120);
  assert.ok(
    logger.warnings.some(
      (w) => w.includes(path.basename(segments[0]!.path)) && /truncated 100 bytes/.test(w),
    ),
    logger.warnings.join(' | '),
  );
});

test('a truncated .index is detected and rebuilt from the log', () => {
  const { dir, segments } = buildLog();
  const indexPath = path.join(dir, segmentFileName(segments[0]!.baseOffset, '.index'));
  const before = fs.statSync(indexPath).size;
  assert.ok(before >= 16);
  fs.truncateSync(indexPath, before - 3);
  const logger = new MemoryLogger();
  const { offsets } = allOffsets(dir, logger, { cleanShutdown: true });
  assert.deepEqual(offsets, range(0, 120));
  assert.ok(
    logger.warnings.some((w) => w.includes(path.basename(indexPath)) && /multiple of 8/.test(w)),
    logger.warnings.join(' | '),
  );
  assert.equal(fs.statSync(indexPath).size, before, 'rebuilt to the same entries');
});

test('an index pointing at the wrong batch is never trusted', () => {
  const { dir, segments } = buildLog();
  const indexPath = path.join(dir, segmentFileName(segments[1]!.baseOffset, '.index'));
  const buf = fs.readFileSync(indexPath);
  buf.writeInt32BE(buf.readInt32BE(buf.length - 8) + 1, buf.length - 8); // last entry's offset off by one
  fs.writeFileSync(indexPath, buf);
  const logger = new MemoryLogger();
  const { offsets } = allOffsets(dir, logger, { cleanShutdown: true });
  assert.deepEqual(offsets, range(0, 120));
  assert.ok(
    logger.warnings.some((w) => w.includes(path.basename(indexPath))),
    logger.warnings.join(' | '),
  );
});

test('a deleted .timeindex is detected and rebuilt; lookups by time work again', async () => {
  const { dir, segments } = buildLog();
  const timeIndexPath = path.join(dir, segmentFileName(segments[1]!.baseOffset, '.timeindex'));
  fs.rmSync(timeIndexPath);
  const logger = new MemoryLogger();
  const log = openLog(dir, config, { logger, cleanShutdown: true });
  assert.ok(
    logger.warnings.some((w) => w.includes(path.basename(timeIndexPath)) && /missing/.test(w)),
    logger.warnings.join(' | '),
  );
  assert.ok(fs.existsSync(timeIndexPath));
  const hit = await log.listOffset({ timestamp: 1000 + 30 });
  assert.equal(hit?.offset, 60);
  assert.equal(hit?.timestamp, 1030);
  log.close();
  assert.ok(fs.statSync(timeIndexPath).size > 0);
});

test('a flipped byte inside a batch of the active segment: CRC mismatch found by recovery, log cut there', () => {
  const { dir, segments } = buildLog();
  const active = segments.at(-1)!;
  const log0 = openLog(dir, config, { cleanShutdown: true });
  const target = log0.read(110, 1);
  assert.ok(target.ok);
  const region = target.regions[0]!;
  const batchBase = region.firstOffset;
  log0.close();
  const fd = fs.openSync(active.path, 'r+');
  const byte = Buffer.alloc(1);
  fs.readSync(fd, byte, 0, 1, region.position + 70);
  byte[0] = byte[0]! ^ 0x5a;
  fs.writeSync(fd, byte, 0, 1, region.position + 70);
  fs.closeSync(fd);
  const logger = new MemoryLogger();
  // Unclean start with the recovery point before the damage.
  const { offsets, end } = allOffsets(dir, logger, { recoveryPoint: active.baseOffset });
  assert.equal(end, batchBase);
  assert.deepEqual(offsets, range(0, batchBase));
  const warning = logger.warnings.find((w) => w.includes(path.basename(active.path)));
  assert.ok(warning, logger.warnings.join(' | '));
  assert.match(warning, /CRC32C mismatch/);
  assert.match(warning, new RegExp(`position ${region.position}`));
  assert.match(warning, new RegExp(`offsets ${batchBase}\\.\\.${batchBase + 1}`));
});

test('a flipped byte in a sealed segment with no recovery point: the log ends before the bad batch', () => {
  const { dir, segments } = buildLog();
  const first = segments[0]!;
  const fd = fs.openSync(first.path, 'r+');
  fs.writeSync(fd, Buffer.from([0xff]), 0, 1, 200);
  fs.closeSync(fd);
  const logger = new MemoryLogger();
  const { offsets, end } = allOffsets(dir, logger, { recoveryPoint: 0 });
  assert.ok(end < segments[1]!.baseOffset);
  assert.deepEqual(offsets, range(0, end));
  assert.ok(logger.warnings.some((w) => w.includes(path.basename(first.path)) && /CRC32C mismatch/.test(w)));
  assert.ok(
    logger.warnings.some(
      (w) => w.includes(path.basename(segments[1]!.path)) && /follows a corrupt segment/.test(w),
    ),
  );
  const names = fs.readdirSync(dir).filter((name) => name.endsWith('.log'));
  assert.deepEqual(names, [path.basename(first.path)]);
});

test('a torn tail (half a batch) is cut off on an unclean start; the log accepts appends afterwards', () => {
  const { dir, segments } = buildLog();
  const active = segments.at(-1)!;
  const size = fs.statSync(active.path).size;
  fs.truncateSync(active.path, size - 30);
  const logger = new MemoryLogger();
  const log = openLog(dir, config, { logger, recoveryPoint: 0 });
  assert.equal(log.logEndOffset, 118);
  assert.ok(
    logger.warnings.some((w) => w.includes(path.basename(active.path)) && /torn/.test(w)),
    logger.warnings.join(' | '),
  );
  const appended = log.append(batchOf([{ key: 'x', value: 'y', timestamp: 5000 }]));
  assert.ok(appended.ok);
  assert.equal(appended.baseOffset, 118);
  log.close();
});
