import assert from 'node:assert/strict';
import { mkdtempSync, openSync, readSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { PartitionPool } from '../../src/partition/partition-pool.js';
import { buildRecordBatchSync, decodeRecordBatch } from '../../src/protocol/records/record-batch.js';

const dir = mkdtempSync(join(tmpdir(), 'fjord-pool-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const log = { warn: (m: string) => console.warn(m), info: () => {} };

function readRegion(region: { path: string; position: number; length: number }): Buffer {
  const fd = openSync(region.path, 'r');
  const buf = Buffer.alloc(region.length);
  readSync(fd, buf, 0, region.length, region.position);
  closeSync(fd);
  return buf;
}

test('appends through the workers get offsets, reads return the batches, and a restart keeps them', async () => {
  const logDir = join(dir, 'a');
  let pool = await PartitionPool.start({ workers: 2, logDir, brokerProps: {}, partitions: [], log });
  const ids = await pool.open([0, 1, 2, 3].map((partition) => ({ topic: 'orders', partition, configs: {} })));
  assert.deepEqual(
    new Set(ids.map((id) => pool.placement.workerFor('orders', ids.indexOf(id)))),
    new Set([0, 1]),
  );
  for (let round = 0; round < 3; round++) {
    for (const [partition, id] of ids.entries()) {
      const batch = buildRecordBatchSync([
        { key: Buffer.from(`k${partition}`), value: Buffer.from(`v${round}`) },
        { key: null, value: Buffer.from(`w${round}`) },
      ]);
      const outcome = await pool.append(id, batch);
      assert.ok(outcome.ok, JSON.stringify(outcome));
      assert.equal(outcome.baseOffset, round * 2);
    }
  }
  const corrupt = buildRecordBatchSync([{ key: null, value: Buffer.from('x') }]);
  corrupt[corrupt.length - 1]! ^= 0xff;
  const rejected = await pool.append(ids[0]!, corrupt);
  assert.equal(rejected.ok, false);
  assert.equal(!rejected.ok && rejected.reason, 'corrupt-message');

  const read = await pool.read(ids[2]!, 3, 1 << 20, 0);
  assert.ok(read.ok);
  assert.equal(read.highWatermark, 6);
  const batches = Buffer.concat(read.regions.map(readRegion));
  const first = await decodeRecordBatch(batches, 0);
  assert.equal(first.header.baseOffset, 2, 'a mid-batch fetch offset returns the batch holding it');
  assert.deepEqual(
    first.records.map((r) => r.value?.toString()),
    ['v1', 'w1'],
  );

  const outOfRange = await pool.read(ids[2]!, 99, 1 << 20, 0);
  assert.equal(outOfRange.ok, false);
  assert.equal(!outOfRange.ok && outOfRange.reason, 'offset-out-of-range');

  const earliest = await pool.listOffset(ids[1]!, 'latest');
  assert.deepEqual(earliest.ok && earliest.offset, 6);
  await pool.close();

  pool = await PartitionPool.start({
    workers: 3,
    logDir,
    brokerProps: {},
    partitions: [0, 1, 2, 3].map((partition) => ({
      id: partition + 1,
      topic: 'orders',
      partition,
      configs: {},
    })),
    log,
  });
  for (let partition = 0; partition < 4; partition++) {
    const offsets = await pool.offsets(pool.idOf('orders', partition)!);
    assert.equal(offsets?.logEndOffset, 6, `partition ${partition} after restart`);
  }
  await pool.delete('orders');
  assert.equal(pool.idOf('orders', 0), undefined);
  await pool.close();
});

test('batches already in the receive arena are appended from where they lie, and the lease outlives the append', async () => {
  const logDir = join(dir, 'arena');
  const pool = await PartitionPool.start({ workers: 2, logDir, brokerProps: {}, partitions: [], log });
  try {
    const ids = await pool.open([0, 1].map((partition) => ({ topic: 'shared', partition, configs: {} })));
    const batches = [0, 1, 2].map((n) =>
      buildRecordBatchSync([{ key: Buffer.from(`k${n}`), value: Buffer.alloc(5000, 97 + n) }]),
    );
    // As a connection would: one lease holds a frame; the batches sit at an offset inside it.
    const lease = pool.arena.allocate(64 + batches.reduce((sum, b) => sum + b.length, 0))!;
    let at = 64;
    const views = batches.map((batch) => {
      batch.copy(lease.bytes, at);
      const view = lease.bytes.subarray(at, at + batch.length);
      at += batch.length;
      return view;
    });
    const outcomes = await Promise.all(views.map((view, n) => pool.append(ids[n % 2]!, view)));
    assert.deepEqual(
      outcomes.map((o) => o.ok && o.baseOffset),
      [0, 0, 1],
    );
    assert.equal(pool.arena.leasedSlabs, 1, "the appends dropped their references, not the frame's");
    lease.release();
    assert.equal(pool.arena.leasedSlabs, 0);
    const read = await pool.read(ids[0]!, 0, 1 << 20, 0);
    assert.ok(read.ok);
    const stored = Buffer.concat(read.regions.map(readRegion));
    const values = [];
    for (let position = 0; position < stored.length;) {
      const batch = await decodeRecordBatch(stored, position);
      values.push(...batch.records.map((r) => `${r.key?.toString()}:${r.value?.length}:${r.value?.[0]}`));
      position += batch.header.batchLength + 12;
    }
    assert.deepEqual(values, ['k0:5000:97', 'k2:5000:99']);
  } finally {
    await pool.close();
  }
});

test('batches too large for a small request ring go through an arena lease of their own', async () => {
  const logDir = join(dir, 'small-ring');
  const pool = await PartitionPool.start({
    workers: 1,
    logDir,
    brokerProps: {},
    partitions: [],
    ringBytes: 64 * 1024,
    arenaBytes: 2 << 20,
    log,
  });
  try {
    const [id] = await pool.open([{ topic: 'big', partition: 0, configs: {} }]);
    const big = buildRecordBatchSync([{ key: null, value: Buffer.alloc(200_000, 7) }]);
    const small = buildRecordBatchSync([{ key: null, value: Buffer.from('small') }]);
    const outcomes = [await pool.append(id!, big), await pool.append(id!, small)];
    assert.deepEqual(
      outcomes.map((o) => o.ok && o.baseOffset),
      [0, 1],
    );
    assert.equal(pool.arena.leasedSlabs, 0);
    const tooBig = await pool.append(
      id!,
      Buffer.concat([big, big, big, big, big, big, big, big, big, big, big]),
    );
    assert.equal(!tooBig.ok && tooBig.reason, 'record-too-large');
    const read = await pool.read(id!, 0, 1 << 20, 0);
    assert.ok(read.ok);
    const stored = Buffer.concat(read.regions.map(readRegion));
    const first = await decodeRecordBatch(stored, 0);
    assert.equal(first.records[0]!.value!.length, 200_000);
    assert.ok(first.records[0]!.value!.every((b) => b === 7));
  } finally {
    await pool.close();
  }
});
