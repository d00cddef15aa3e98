// The manual-assignment consumer, against both brokers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Consumer, type ConsumerRecord } from '../../src/client/consumer/consumer.js';
import { Producer } from '../../src/client/producer/producer.js';
import { KafkaError } from '../../src/client/errors.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { brokerKinds, type Target } from './helpers.js';

async function take(consumer: Consumer, count: number): Promise<ConsumerRecord[]> {
  const out: ConsumerRecord[] = [];
  if (count === 0) return out;
  for await (const record of consumer) {
    out.push(record);
    if (out.length === count) break;
  }
  return out;
}

for (const kind of brokerKinds) {
  describe(`consumer (manual assignment) against ${kind.name}`, () => {
    let target: Target;
    before(async () => {
      target = await kind.start([
        { name: 'c-read', partitions: 2 },
        { name: 'c-latest', partitions: 1 },
      ]);
      const producer = new Producer({
        brokers: [target.bootstrap],
        compression: 'lz4',
        logger: { warn() {} },
      });
      await producer.sendBatch(
        Array.from({ length: 30 }, (_, i) => ({
          topic: 'c-read',
          partition: i % 2,
          key: `k${i}`,
          value: `v${i}`,
          headers: { n: String(i) },
          timestamp: 1_700_000_000_000 + i,
        })),
      );
      await producer.close();
    });
    after(() => target.stop());

    test('run() hands every record to eachMessage, or every fetched batch to eachBatch, until close()', async () => {
      for (const style of ['eachMessage', 'eachBatch'] as const) {
        const consumer = new Consumer({ brokers: [target.bootstrap], maxWaitMs: 50 });
        consumer.assign([{ topic: 'c-read', partition: 1, offset: 5 }]);
        const seen: number[] = [];
        const done = consumer.run(
          style === 'eachMessage'
            ? {
                eachMessage: async (record) => {
                  seen.push(record.offset);
                  if (seen.length === 10) await consumer.close();
                },
              }
            : {
                eachBatch: async (records) => {
                  seen.push(...records.map((r) => r.offset));
                  if (seen.length >= 10) await consumer.close();
                },
              },
        );
        await done;
        assert.deepEqual(seen.slice(0, 10), [5, 6, 7, 8, 9, 10, 11, 12, 13, 14], style);
      }
      const consumer = new Consumer({ brokers: [target.bootstrap] });
      await assert.rejects(() => consumer.run({}), { code: 'INVALID_ARGUMENT' });
      await consumer.close();
    });

    test('reads assigned partitions from an offset, exactly and in order, with an async iterator', async () => {
      const consumer = new Consumer({ brokers: [target.bootstrap], maxWaitMs: 50 });
      try {
        consumer.assign([
          { topic: 'c-read', partition: 0, offset: 0 },
          { topic: 'c-read', partition: 1, offset: 10 },
        ]);
        const records = await take(consumer, 20);
        const p0 = records.filter((r) => r.partition === 0);
        const p1 = records.filter((r) => r.partition === 1);
        assert.deepEqual(
          p0.map((r) => [r.offset, r.key?.toString(), r.value?.toString(), r.headers[0]?.value?.toString()]),
          Array.from({ length: 15 }, (_, i) => [i, `k${2 * i}`, `v${2 * i}`, String(2 * i)]),
        );
        assert.deepEqual(
          p1.map((r) => r.offset),
          [10, 11, 12, 13, 14],
        );
        assert.deepEqual(
          p1.map((r) => r.value?.toString()),
          ['v21', 'v23', 'v25', 'v27', 'v29'],
        );
        assert.equal(p0[3]!.timestamp, 1_700_000_000_006);
      } finally {
        await consumer.close();
      }
    });

    test('seek moves the position, even into the middle of a batch', async () => {
      const consumer = new Consumer({ brokers: [target.bootstrap], maxWaitMs: 50 });
      try {
        consumer.assign([{ topic: 'c-read', partition: 0, offset: 12 }]);
        assert.deepEqual(
          (await take(consumer, 3)).map((r) => r.offset),
          [12, 13, 14],
        );
        consumer.seek('c-read', 0, 7);
        assert.deepEqual(
          (await take(consumer, 2)).map((r) => r.value?.toString()),
          ['v14', 'v16'],
        );
      } finally {
        await consumer.close();
      }
    });

    test("autoOffsetReset 'latest' reads only what is produced after; 'none' refuses an out-of-range offset; 'earliest' resets to the start", async () => {
      const latest = new Consumer({ brokers: [target.bootstrap], maxWaitMs: 50 });
      const none = new Consumer({ brokers: [target.bootstrap], maxWaitMs: 50, autoOffsetReset: 'none' });
      const earliest = new Consumer({
        brokers: [target.bootstrap],
        maxWaitMs: 50,
        autoOffsetReset: 'earliest',
      });
      const producer = new Producer({ brokers: [target.bootstrap], logger: { warn() {} } });
      try {
        await producer.send({ topic: 'c-latest', value: 'old' });
        latest.assign([{ topic: 'c-latest', partition: 0 }]);
        assert.deepEqual(await latest.poll(), []);
        assert.deepEqual(latest.assignment(), [{ topic: 'c-latest', partition: 0, position: 1 }]);
        await producer.send({ topic: 'c-latest', value: 'new' });
        assert.deepEqual(
          (await take(latest, 1)).map((r) => r.value?.toString()),
          ['new'],
        );

        none.assign([{ topic: 'c-latest', partition: 0, offset: 999 }]);
        await assert.rejects(
          none.poll(),
          (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.OFFSET_OUT_OF_RANGE,
        );

        earliest.assign([{ topic: 'c-latest', partition: 0, offset: 999 }]);
        assert.deepEqual(
          (await take(earliest, 2)).map((r) => r.value?.toString()),
          ['old', 'new'],
        );
      } finally {
        await Promise.all([latest.close(), none.close(), earliest.close(), producer.close()]);
      }
    });

    test('batches() yields each poll as an array, in offset order per partition', async () => {
      const consumer = new Consumer({ brokers: [target.bootstrap], maxWaitMs: 50 });
      try {
        consumer.assign([{ topic: 'c-read', partition: 1, offset: 3 }]);
        const seen: number[] = [];
        for await (const batch of consumer.batches()) {
          assert.ok(batch.length > 0);
          seen.push(...batch.map((r) => r.offset));
          if (seen.length >= 12) break;
        }
        assert.deepEqual(seen, [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
      } finally {
        await consumer.close();
      }
    });

    test('pause keeps a partition out of fetches until resume; seekToTimestamp finds the offset', async () => {
      const consumer = new Consumer({ brokers: [target.bootstrap], maxWaitMs: 50 });
      try {
        consumer.assign([
          { topic: 'c-read', partition: 0, offset: 0 },
          { topic: 'c-read', partition: 1, offset: 0 },
        ]);
        consumer.pause('c-read', 1);
        const first = await consumer.poll();
        assert.ok(first.length > 0);
        assert.deepEqual(new Set(first.map((r) => r.partition)), new Set([0]));
        consumer.resume('c-read', 1);
        assert.ok((await consumer.poll()).some((r) => r.partition === 1));

        await consumer.seekToTimestamp('c-read', 1_700_000_000_020);
        const positions = consumer.assignment().map((a) => [a.partition, a.position]);
        // Partition 0 holds the even timestamps (offset n at +2n), partition 1 the odd ones (+2n+1).
        // librdkafka's mock keeps no time index and answers -1, which means the end of the partition.
        assert.deepEqual(
          positions,
          kind.name === 'mock'
            ? [
                [0, 15],
                [1, 15],
              ]
            : [
                [0, 10],
                [1, 10],
              ],
        );
      } finally {
        await consumer.close();
      }
    });
  });
}
