import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { PartitionPool } from '../../src/partition/partition-pool.js';
import type { ReadOutcome } from '../../src/partition/partition-host.js';
import { buildRecordBatchSync, decodeRecordBatch } from '../../src/protocol/records/record-batch.js';

const dir = mkdtempSync(join(tmpdir(), 'fjord-read-ahead-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const log = { warn: (m: string) => console.warn(m), info: () => {} };

function bytesOf(outcome: ReadOutcome): Buffer {
  assert.ok(outcome.ok, JSON.stringify(outcome));
  return Buffer.concat(
    outcome.regions.map((region) => {
      const fd = openSync(region.path, 'r');
      const buf = Buffer.alloc(region.length);
      readSync(fd, buf, 0, region.length, region.position);
      closeSync(fd);
      return buf;
    }),
  );
}

/** Base offsets of the batches a read returned. */
async function baseOffsets(outcome: ReadOutcome): Promise<number[]> {
  const bytes = bytesOf(outcome);
  const offsets: number[] = [];
  for (let at = 0; at < bytes.length; at += 12 + bytes.readInt32BE(at + 8)) {
    offsets.push((await decodeRecordBatch(bytes.subarray(at), 0)).header.baseOffset);
  }
  return offsets;
}

async function startWithBatches(name: string, batches: number): Promise<{ pool: PartitionPool; id: number }> {
  const pool = await PartitionPool.start({
    workers: 1,
    logDir: join(dir, name),
    brokerProps: {},
    partitions: [],
    log,
  });
  const [id] = await pool.open([{ topic: 't', partition: 0, configs: {} }]);
  for (let i = 0; i < batches; i++) {
    const outcome = await pool.append(
      id!,
      buildRecordBatchSync([{ key: null, value: Buffer.alloc(100, i) }]),
    );
    assert.ok(outcome.ok);
  }
  return { pool, id: id! };
}

test('a consumer reading the log in small steps gets the same batches, offsets and nextOffset as fresh reads', async () => {
  const { pool, id } = await startWithBatches('steps', 40);
  try {
    // One or two ~170-byte batches per read, so every read stops on the byte limit and sends the next one ahead.
    const seen: number[] = [];
    for (let offset = 0; offset < 40;) {
      const outcome = await pool.read(id, offset, 300, 0);
      assert.ok(outcome.ok);
      assert.equal(outcome.highWatermark, 40);
      assert.equal(outcome.logStartOffset, 0);
      const offsets = await baseOffsets(outcome);
      assert.equal(offsets[0], offset);
      assert.equal(outcome.nextOffset, offsets[offsets.length - 1]! + 1);
      seen.push(...offsets);
      offset = outcome.nextOffset;
    }
    assert.deepEqual(
      seen,
      Array.from({ length: 40 }, (_, i) => i),
    );
    // At the end of the log: nothing, and nextOffset stays put.
    const end = await pool.read(id, 40, 300, 0);
    assert.ok(end.ok);
    assert.equal(end.bytes, 0);
    assert.equal(end.nextOffset, 40);
  } finally {
    await pool.close();
  }
});

test('a read for another offset or limit than the one read ahead gets its own batches', async () => {
  const { pool, id } = await startWithBatches('other', 10);
  try {
    const first = await pool.read(id, 0, 400, 0);
    assert.ok(first.ok);
    assert.equal(first.nextOffset, 2);
    assert.deepEqual(await baseOffsets(await pool.read(id, 5, 400, 0)), [5, 6]);
    assert.deepEqual(await baseOffsets(await pool.read(id, 7, 1 << 20, 0)), [7, 8, 9]);
  } finally {
    await pool.close();
  }
});

test('deleteRecords drops a read-ahead: the next read below the new log start is out of range', async () => {
  const { pool, id } = await startWithBatches('delete-records', 10);
  try {
    const first = await pool.read(id, 0, 400, 0);
    assert.ok(first.ok);
    assert.equal(first.nextOffset, 2);
    const deleted = await pool.deleteRecords(id, 6);
    assert.ok(deleted.ok, JSON.stringify(deleted));
    const next = await pool.read(id, 2, 400, 0);
    assert.equal(next.ok, false);
    assert.equal(!next.ok && next.reason, 'offset-out-of-range');
    assert.equal('logStartOffset' in next && next.logStartOffset, 6);
  } finally {
    await pool.close();
  }
});

test('records appended after a read-ahead are returned by the reads that follow it', async () => {
  const { pool, id } = await startWithBatches('appends', 4);
  try {
    let offset = 0;
    const seen: number[] = [];
    for (let round = 0; round < 6; round++) {
      const outcome = await pool.read(id, offset, 400, 0);
      seen.push(...(await baseOffsets(outcome)));
      assert.ok(outcome.ok);
      offset = outcome.nextOffset;
      const appended = await pool.append(id, buildRecordBatchSync([{ key: null, value: Buffer.alloc(100) }]));
      assert.ok(appended.ok);
    }
    for (;;) {
      const outcome = await pool.read(id, offset, 400, 0);
      assert.ok(outcome.ok);
      if (outcome.bytes === 0) break;
      seen.push(...(await baseOffsets(outcome)));
      offset = outcome.nextOffset;
    }
    assert.deepEqual(
      seen,
      Array.from({ length: 10 }, (_, i) => i),
    );
  } finally {
    await pool.close();
  }
});
