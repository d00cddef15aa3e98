// The mmapped sparse indexes against a sorted-array oracle (random lookups), plus truncation, resize and
// the sanity checks recovery relies on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CorruptIndexError } from '../../src/storage/mapped-index.js';
import { OffsetIndex } from '../../src/storage/offset-index.js';
import { TimeIndex } from '../../src/storage/time-index.js';
import { parseSegmentFileName, segmentFileName } from '../../src/storage/segment.js';
import { rng, tempDir } from './helpers.js';

test('segment file names are 20-digit base offsets', () => {
  assert.equal(segmentFileName(50, '.index'), '00000000000000000050.index');
  assert.deepEqual(parseSegmentFileName('00000000000000000050.log.swap'), {
    baseOffset: 50,
    suffix: '.log.swap',
  });
  assert.equal(parseSegmentFileName('leader-epoch-checkpoint'), undefined);
});

test('offset index: random lookups agree with an oracle; survives close and reopen', () => {
  const random = rng(7);
  const file = path.join(tempDir(), segmentFileName(1000, '.index'));
  const index = new OffsetIndex(file, 1000, 8 * 500, true);
  const oracle: { offset: number; position: number }[] = [];
  let offset = 1000;
  let position = 0;
  for (let i = 0; i < 400; i++) {
    offset += 1 + Math.floor(random() * 50);
    position += 1 + Math.floor(random() * 5000);
    index.append(offset, position);
    oracle.push({ offset, position });
  }
  const check = (ix: OffsetIndex): void => {
    for (let i = 0; i < 2000; i++) {
      const target = 990 + Math.floor(random() * (offset - 980));
      const expected = oracle.filter((e) => e.offset <= target).at(-1) ?? { offset: 1000, position: 0 };
      assert.deepEqual(ix.lookup(target), expected, `lookup ${target}`);
    }
  };
  check(index);
  assert.equal(index.entries, 400);
  assert.equal(fs.statSync(file).size, 8 * 500, 'preallocated');
  index.close();
  assert.equal(fs.statSync(file).size, 8 * 400, 'trimmed on close');
  const reopened = new OffsetIndex(file, 1000, 8 * 500, false);
  reopened.sanityCheck(position + 1);
  check(reopened);
  reopened.truncateTo(oracle[100]!.offset);
  assert.equal(reopened.entries, 100);
  assert.deepEqual(reopened.lastEntry, oracle[99]);
  assert.throws(
    () => reopened.sanityCheck(oracle[50]!.position),
    CorruptIndexError,
    'positions beyond the log',
  );
  reopened.close();
});

test('time index: entries only when the timestamp grows; lookups agree with an oracle', () => {
  const random = rng(8);
  const file = path.join(tempDir(), segmentFileName(0, '.timeindex'));
  const index = new TimeIndex(file, 0, 12 * 300, true);
  const oracle: { timestamp: number; offset: number }[] = [];
  let ts = 1_600_000_000_000;
  for (let offset = 0; offset < 500; offset++) {
    ts += Math.floor(random() * 100) - 30;
    const last = oracle.at(-1);
    if (!last || ts > last.timestamp) oracle.push({ timestamp: ts, offset });
    index.maybeAppend(ts, offset);
    if (oracle.length === 300) break;
  }
  assert.equal(index.entries, oracle.length);
  for (let i = 0; i < 2000; i++) {
    const target = oracle[0]!.timestamp - 50 + Math.floor(random() * (ts - oracle[0]!.timestamp + 100));
    const expected = oracle.filter((e) => e.timestamp <= target).at(-1) ?? { timestamp: -1, offset: 0 };
    assert.deepEqual(index.lookup(target), expected);
  }
  index.sanityCheck(0);
  index.close();
});

test('a zero-filled preallocated tail (crash) fails the sanity check', () => {
  const dir = tempDir();
  const file = path.join(dir, segmentFileName(0, '.timeindex'));
  const index = new TimeIndex(file, 0, 12 * 10, true);
  index.maybeAppend(100, 1);
  index.maybeAppend(200, 2);
  index.closeQuietly(); // not trimmed, as after a crash
  const reopened = new TimeIndex(file, 0, 12 * 10, false);
  assert.throws(() => reopened.sanityCheck(0), /out of order/);
  reopened.closeQuietly();
});
