import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SILENT_LOGGER } from '../../src/storage/segment.js';
import {
  PRODUCER_BATCHES_KEPT,
  ProducerStateTable,
  SnapshotFormatError,
  inSequence,
  lastSequenceOf,
  listSnapshots,
  loadLatestSnapshot,
  pruneSnapshots,
  snapshotFileName,
  writeSnapshot,
  type ProducerBatch,
  type ProducerCheck,
} from '../../src/storage/producer-state.js';

const INT32_MAX = 2147483647;

/** Seeded PRNG (mulberry32), so every run sees the same operation sequences. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Written {
  producerId: number;
  epoch: number;
  firstSeq: number;
  lastSeq: number;
  firstOffset: number;
  lastOffset: number;
}

/**
 * The oracle: the full history of what was written, and the rules stated plainly over it (no five-batch
 * window bookkeeping, no pending state: a multi-batch append is judged batch by batch over the history plus
 * the earlier batches of the same append).
 */
class Model {
  readonly log: Written[] = [];

  judge(batches: ProducerBatch[]): ProducerCheck['kind'] | `error:${string}` | { duplicateOf: Written } {
    const staged: Written[] = [];
    for (const batch of batches) {
      if (batch.producerId < 0) continue;
      if (batch.baseSequence < 0) return 'error:invalid-record';
      const lastSeq = lastSequenceOf(batch.baseSequence, batch.lastOffsetDelta);
      const committed = this.log.filter((w) => w.producerId === batch.producerId);
      const latest = committed.at(-1);
      if (latest && latest.epoch === batch.producerEpoch) {
        const window = committed.filter((w) => w.epoch === latest.epoch).slice(-PRODUCER_BATCHES_KEPT);
        const same = window.find((w) => w.firstSeq === batch.baseSequence && w.lastSeq === lastSeq);
        if (same) return { duplicateOf: same };
      }
      const previous = [...committed, ...staged.filter((w) => w.producerId === batch.producerId)].at(-1);
      if (previous) {
        if (batch.producerEpoch < previous.epoch) return 'error:invalid-producer-epoch';
        if (batch.producerEpoch > previous.epoch && batch.baseSequence !== 0)
          return 'error:out-of-order-sequence';
        if (batch.producerEpoch === previous.epoch) {
          const expected = previous.lastSeq === INT32_MAX ? 0 : previous.lastSeq + 1;
          if (batch.baseSequence !== expected) return 'error:out-of-order-sequence';
        }
      }
      staged.push({
        producerId: batch.producerId,
        epoch: batch.producerEpoch,
        firstSeq: batch.baseSequence,
        lastSeq,
        firstOffset: -1,
        lastOffset: -1,
      });
    }
    return 'append';
  }
}

type SentBatch = ProducerBatch;

test('lastSequenceOf and inSequence wrap at Int32.MAX', () => {
  assert.equal(lastSequenceOf(0, 4), 4);
  assert.equal(lastSequenceOf(INT32_MAX - 2, 2), INT32_MAX);
  assert.equal(lastSequenceOf(INT32_MAX - 2, 3), 0);
  assert.equal(lastSequenceOf(INT32_MAX, 5), 4);
  assert.ok(inSequence(INT32_MAX, 0));
  assert.ok(inSequence(4, 5));
  assert.ok(!inSequence(4, 6));
  assert.ok(!inSequence(INT32_MAX, 1));
});

test('producer state agrees with a full-history model over random appends, retries, gaps and epoch changes', () => {
  let wrapped = 0;
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    const next = random(seed);
    const pick = (n: number) => Math.floor(next() * n);
    let table = new ProducerStateTable();
    const model = new Model();
    let logEnd = 0;
    // What each simulated producer has sent (its retry candidates) and where it is.
    const producers = [0, 1, 2].map((i) => ({
      producerId: 1000 + i,
      epoch: 0,
      nextSeq: i === 2 ? INT32_MAX - 6 : 0, // producer 2 wraps its sequence soon
      sent: [] as SentBatch[],
    }));
    const counts = { append: 0, duplicate: 0, 'out-of-order-sequence': 0, 'invalid-producer-epoch': 0 };
    for (let step = 0; step < 1500; step++) {
      const p = producers[pick(producers.length)]!;
      const count = 1 + pick(4);
      const action = pick(100);
      let batches: SentBatch[];
      const fresh = (seq: number, epoch = p.epoch, n = count): SentBatch => ({
        producerId: p.producerId,
        producerEpoch: epoch,
        baseSequence: seq,
        lastOffsetDelta: n - 1,
      });
      if (action < 45 || p.sent.length === 0) batches = [fresh(p.nextSeq)];
      else if (action < 65) batches = [p.sent[p.sent.length - 1 - pick(Math.min(p.sent.length, 8))]!];
      else if (action < 72) batches = [fresh(p.nextSeq + 1 + pick(3))];
      else if (action < 78) {
        p.epoch++;
        p.nextSeq = 0;
        batches = [fresh(0)];
      } else if (action < 81) batches = [fresh(1 + pick(5), p.epoch + 1)];
      else if (action < 86) batches = [fresh(p.nextSeq, Math.max(0, p.epoch - 1 - pick(2)))];
      else if (action < 92) {
        const first = fresh(p.nextSeq);
        batches = [first, fresh(lastSequenceOf(first.baseSequence, first.lastOffsetDelta) + 1, p.epoch, 2)];
      } else if (action < 95)
        batches = [{ producerId: -1, producerEpoch: -1, baseSequence: -1, lastOffsetDelta: 2 }];
      else {
        table = ProducerStateTable.fromSnapshotText(table.toSnapshotText());
        continue;
      }
      const expected = model.judge(batches);
      const actual = table.check(batches);
      if (typeof expected === 'object') {
        assert.equal(actual.kind, 'duplicate', `seed ${seed} step ${step}`);
        assert.ok(actual.kind === 'duplicate');
        assert.equal(actual.batch.firstOffset, expected.duplicateOf.firstOffset);
        assert.equal(actual.batch.lastOffset, expected.duplicateOf.lastOffset);
        counts.duplicate++;
      } else if (expected === 'append') {
        assert.equal(actual.kind, 'append', `seed ${seed} step ${step}: ${JSON.stringify(actual)}`);
        for (const batch of batches) {
          const firstOffset = logEnd;
          logEnd += batch.lastOffsetDelta + 1;
          table.record(batch, firstOffset, logEnd - 1, 1000 + step);
          if (batch.producerId < 0) continue;
          const lastSeq = lastSequenceOf(batch.baseSequence, batch.lastOffsetDelta);
          model.log.push({
            producerId: batch.producerId,
            epoch: batch.producerEpoch,
            firstSeq: batch.baseSequence,
            lastSeq,
            firstOffset,
            lastOffset: logEnd - 1,
          });
          const owner = producers.find((q) => q.producerId === batch.producerId)!;
          owner.epoch = batch.producerEpoch;
          owner.nextSeq = lastSeq === INT32_MAX ? 0 : lastSeq + 1;
          owner.sent.push(batch);
        }
        counts.append++;
      } else {
        assert.ok(
          actual.kind === 'error',
          `seed ${seed} step ${step}: expected ${expected}, got ${actual.kind}`,
        );
        assert.equal(`error:${actual.reason}`, expected, `seed ${seed} step ${step}`);
        counts[actual.reason as 'out-of-order-sequence' | 'invalid-producer-epoch']++;
      }
    }
    // Every outcome was exercised, and nothing was written twice.
    for (const [kind, n] of Object.entries(counts)) assert.ok(n > 10, `seed ${seed}: only ${n} ${kind}`);
    const keys = model.log.map((w) => `${w.producerId}/${w.epoch}/${w.firstSeq}/${w.lastSeq}`);
    assert.equal(new Set(keys).size, keys.length, `seed ${seed}: a batch was written twice`);
    wrapped += model.log.filter((w) => w.lastSeq < w.firstSeq).length;
  }
  assert.ok(wrapped > 0, 'no batch wrapped its sequence');
});

test('a retry older than the last five batches is out of order, not a duplicate', () => {
  const table = new ProducerStateTable();
  const batch = (seq: number): ProducerBatch => ({
    producerId: 7,
    producerEpoch: 0,
    baseSequence: seq,
    lastOffsetDelta: 0,
  });
  for (let seq = 0; seq < 6; seq++) table.record(batch(seq), seq, seq, 0);
  assert.equal(table.check([batch(0)]).kind, 'error');
  assert.deepEqual(table.check([batch(1)]), {
    kind: 'duplicate',
    batch: { firstSeq: 1, lastSeq: 1, firstOffset: 1, lastOffset: 1, timestamp: 0 },
  });
  assert.equal(table.entry(7)!.batches.length, PRODUCER_BATCHES_KEPT);
});

test('an unknown producer may start at any sequence; a known one may not skip', () => {
  const table = new ProducerStateTable();
  const b = (seq: number, epoch = 0): ProducerBatch => ({
    producerId: 3,
    producerEpoch: epoch,
    baseSequence: seq,
    lastOffsetDelta: 9,
  });
  assert.deepEqual(table.check([b(500)]), { kind: 'append' });
  table.record(b(500), 0, 9, 0);
  assert.deepEqual(table.check([b(510)]), { kind: 'append' });
  const gap = table.check([b(511)]);
  assert.ok(gap.kind === 'error' && gap.reason === 'out-of-order-sequence');
  const stale = table.check([{ ...b(510), producerEpoch: -1 }]);
  assert.ok(stale.kind === 'error' && stale.reason === 'invalid-producer-epoch');
  const negative = table.check([b(-5)]);
  assert.ok(negative.kind === 'error' && negative.reason === 'invalid-record');
});

test('eviction below the log start offset and truncation forget producers', () => {
  const table = new ProducerStateTable();
  table.record({ producerId: 1, producerEpoch: 0, baseSequence: 0, lastOffsetDelta: 4 }, 0, 4, 0);
  table.record({ producerId: 2, producerEpoch: 0, baseSequence: 0, lastOffsetDelta: 4 }, 5, 9, 0);
  table.record({ producerId: 2, producerEpoch: 0, baseSequence: 5, lastOffsetDelta: 4 }, 10, 14, 0);
  assert.equal(table.evictBelow(5), 1);
  assert.equal(table.entry(1), undefined);
  table.truncateFrom(10);
  assert.deepEqual(
    table.entry(2)!.batches.map((b) => b.firstOffset),
    [5],
  );
  table.truncateFrom(0);
  assert.equal(table.size, 0);
});

test('producers idle for producer.id.expiration.ms are forgotten, then may start at any sequence', () => {
  const table = new ProducerStateTable();
  const b = (producerId: number, seq: number): ProducerBatch => ({
    producerId,
    producerEpoch: 0,
    baseSequence: seq,
    lastOffsetDelta: 0,
  });
  table.record(b(1, 0), 0, 0, 1_000);
  table.record(b(2, 0), 1, 1, 5_000);
  assert.equal(table.expire(11_000, 10_000), 1);
  assert.equal(table.entry(1), undefined);
  assert.deepEqual(table.check([b(1, 40)]), { kind: 'append' });
  const gap = table.check([b(2, 40)]);
  assert.ok(gap.kind === 'error' && gap.reason === 'out-of-order-sequence');
});

test('snapshots round-trip, the newest readable one at or below the log end is loaded, others pruned', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fjord-producer-state-'));
  try {
    const table = new ProducerStateTable();
    table.record(
      { producerId: 9, producerEpoch: 2, baseSequence: INT32_MAX - 1, lastOffsetDelta: 3 },
      40,
      43,
      1234,
    );
    table.record({ producerId: 11, producerEpoch: 0, baseSequence: 0, lastOffsetDelta: 0 }, 44, 44, -1);
    writeSnapshot(dir, 45, table);
    writeSnapshot(dir, 30, new ProducerStateTable());
    writeSnapshot(dir, 90, new ProducerStateTable());
    fs.writeFileSync(path.join(dir, snapshotFileName(60)), '1\n2\n9 2 1 0 0 0\n');
    const loaded = loadLatestSnapshot(dir, 80, SILENT_LOGGER)!;
    assert.equal(loaded.offset, 45);
    assert.deepEqual(loaded.table.entries(), table.entries());
    assert.deepEqual(listSnapshots(dir), [30, 45, 60]);
    pruneSnapshots(dir, 2);
    assert.deepEqual(listSnapshots(dir), [45, 60]);
    assert.equal(loadLatestSnapshot(dir, 20, SILENT_LOGGER), undefined);
    assert.throws(() => ProducerStateTable.fromSnapshotText('2\n0\n'), SnapshotFormatError);
    assert.throws(
      () => ProducerStateTable.fromSnapshotText('1\n1\n5 0 6' + ' 0 0 0 0 0'.repeat(6) + '\n'),
      SnapshotFormatError,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
