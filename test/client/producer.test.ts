// The producer suite, run against both brokers: Fjord embedded and librdkafka's mock cluster.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Producer, type CompressionName } from '../../src/client/producer/producer.js';
import { partitionForKey } from '../../src/client/producer/partitioner.js';
import { ClientError } from '../../src/client/errors.js';
import { InitProducerId } from '../../src/protocol/messages/index.js';
import { brokerKinds, readAll, readBatches, type Target } from './helpers.js';

const CODECS: CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const silent = { warn() {} };

for (const kind of brokerKinds) {
  describe(`producer against ${kind.name}`, () => {
    let target: Target;
    before(async () => {
      target = await kind.start([
        ...CODECS.map((c) => ({ name: `codec-${c}`, partitions: 1 })),
        { name: 'acks', partitions: 1 },
        { name: 'keyed', partitions: 6 },
        { name: 'keyless', partitions: 4 },
        { name: 'custom', partitions: 3 },
        { name: 'idem', partitions: 2 },
      ]);
    });
    after(() => target.stop());

    for (const codec of CODECS) {
      test(`${codec}: keys, values, headers and timestamps arrive exactly, at the offsets send() reports`, async () => {
        const producer = new Producer({ brokers: [target.bootstrap], compression: codec, logger: silent });
        try {
          const topic = `codec-${codec}`;
          const base = 1_700_000_000_000;
          const records = Array.from({ length: 40 }, (_, i) => ({
            topic,
            key: i % 7 === 0 ? null : `key-${i}`,
            value: i % 11 === 5 ? null : `value-${i}-${'x'.repeat(i * 3)}`,
            headers:
              i % 2 === 0
                ? ([
                    ['h1', `a${i}`],
                    ['h1', null],
                    ['h2', 'é'],
                  ] as [string, string | null][])
                : undefined,
            timestamp: base + i * 1000,
          }));
          const metadata = await producer.sendBatch(records);
          assert.deepEqual(
            metadata.map((m) => [m.topic, m.partition, m.offset]),
            records.map((_, i) => [topic, 0, i]),
          );
          const read = await readAll(target.bootstrap, topic, 0);
          assert.deepEqual(
            read,
            records.map((r, i) => ({
              offset: i,
              timestamp: r.timestamp,
              key: r.key,
              value: r.value,
              headers: r.headers ?? [],
            })),
          );
          const batches = await readBatches(target.bootstrap, topic, 0);
          const codecId = CODECS.indexOf(codec);
          for (const b of batches) assert.equal(b.header.attributes & 7, codecId);
        } finally {
          await producer.close();
        }
      });
    }

    test('acks 0, 1 and all all deliver; acks=0 reports offset -1', async () => {
      const all: string[] = [];
      const acked = new Map<number, string>();
      for (const acks of [0, 1, 'all'] as const) {
        const producer = new Producer({ brokers: [target.bootstrap], acks, logger: silent });
        const values = Array.from({ length: 5 }, (_, i) => `acks-${acks}-${i}`);
        const metadata = await producer.sendBatch(values.map((value) => ({ topic: 'acks', value })));
        if (acks === 0)
          assert.deepEqual(
            metadata.map((m) => m.offset),
            [-1, -1, -1, -1, -1],
          );
        else metadata.forEach((m, i) => acked.set(m.offset, values[i]!));
        all.push(...values);
        await producer.close();
      }
      // acks=0 records travel on their own connection, so they may land after later ones: poll for them.
      let read = await readAll(target.bootstrap, 'acks', 0);
      for (let i = 0; i < 100 && read.length < all.length; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        read = await readAll(target.bootstrap, 'acks', 0);
      }
      assert.deepEqual(read.map((r) => r.value).sort(), [...all].sort());
      for (const r of read) if (acked.has(r.offset)) assert.equal(r.value, acked.get(r.offset));
      assert.equal(acked.size, 10);
    });

    test('keyed records go where the Java client puts them (murmur2)', async () => {
      const producer = new Producer({ brokers: [target.bootstrap], logger: silent });
      try {
        const keys = Array.from({ length: 60 }, (_, i) => `user-${i}`);
        const metadata = await producer.sendBatch(keys.map((key) => ({ topic: 'keyed', key, value: key })));
        metadata.forEach((m, i) => assert.equal(m.partition, partitionForKey(Buffer.from(keys[i]!), 6)));
        for (let p = 0; p < 6; p++) {
          const read = await readAll(target.bootstrap, 'keyed', p);
          assert.deepEqual(
            read.map((r) => r.key),
            keys.filter((k) => partitionForKey(Buffer.from(k), 6) === p),
          );
        }
      } finally {
        await producer.close();
      }
    });

    test('keyless: sticky keeps one linger window on one partition; round-robin rotates', async () => {
      const sticky = new Producer({ brokers: [target.bootstrap], lingerMs: 50, logger: silent });
      const burst = await sticky.sendBatch(
        Array.from({ length: 10 }, (_, i) => ({ topic: 'keyless', value: `s${i}` })),
      );
      assert.equal(new Set(burst.map((m) => m.partition)).size, 1);
      await sticky.close();
      const rr = new Producer({ brokers: [target.bootstrap], partitioner: 'round-robin', logger: silent });
      const spread = await rr.sendBatch(
        Array.from({ length: 12 }, (_, i) => ({ topic: 'keyless', value: `r${i}` })),
      );
      const first = spread[0]!.partition;
      assert.deepEqual(
        spread.map((m) => m.partition),
        spread.map((_, i) => (first + i) % 4),
      );
      await rr.close();
    });

    test('a custom partitioner decides; an explicit partition wins; a bad partition is rejected', async () => {
      const producer = new Producer({
        brokers: [target.bootstrap],
        partitioner: ({ value, partitionCount }) => Number(value!.toString()) % partitionCount,
        logger: silent,
      });
      try {
        const metadata = await producer.sendBatch(
          ['4', '5', '6'].map((value) => ({ topic: 'custom', value })),
        );
        assert.deepEqual(
          metadata.map((m) => m.partition),
          [1, 2, 0],
        );
        assert.equal((await producer.send({ topic: 'custom', value: '4', partition: 2 })).partition, 2);
        await assert.rejects(
          producer.send({ topic: 'custom', value: 'x', partition: 3 }),
          (e: unknown) => e instanceof ClientError && e.code === 'INVALID_ARGUMENT',
        );
      } finally {
        await producer.close();
      }
    });

    test('idempotence is on exactly when the broker has InitProducerId, with per-partition sequences', async () => {
      const warnings: string[] = [];
      const producer = new Producer({
        brokers: [target.bootstrap],
        lingerMs: 0,
        logger: { warn: (m) => warnings.push(m) },
      });
      try {
        for (let round = 0; round < 3; round++) {
          await producer.sendBatch(
            [0, 1].flatMap((partition) =>
              [0, 1, 2].map((i) => ({ topic: 'idem', partition, value: `${round}-${i}` })),
            ),
          );
        }
        await producer.send({ topic: 'idem', partition: 0, value: 'last' });
        const { connection } = await producer.cluster.anyConnection();
        const supported = connection.versionFor(InitProducerId) !== undefined;
        assert.equal(producer.idempotent, supported);
        assert.equal(warnings.length, supported ? 0 : 1);
        for (const partition of [0, 1]) {
          const batches = await readBatches(target.bootstrap, 'idem', partition);
          let expected = 0;
          for (const b of batches) {
            if (supported) {
              assert.equal(BigInt(b.header.producerId), producer.producerId);
              assert.equal(b.header.baseSequence, expected);
              expected += b.header.recordCount;
            } else {
              assert.equal(b.header.producerId, -1);
              assert.equal(b.header.baseSequence, -1);
            }
          }
          assert.equal(
            batches.reduce((n, b) => n + b.records.length, 0),
            partition === 0 ? 10 : 9,
          );
        }
      } finally {
        await producer.close();
      }
    });

    test('a comma-separated list inside one brokers element bootstraps past a dead address', async () => {
      // A port nobody listens on, first in the list: the client must move on to the live broker(s).
      const dead = await new Promise<number>((resolve) => {
        const server = net.createServer();
        server.listen(0, '127.0.0.1', () => {
          const port = (server.address() as net.AddressInfo).port;
          server.close(() => resolve(port));
        });
      });
      const producer = new Producer({
        brokers: [`127.0.0.1:${dead},${target.bootstrap}`],
        retryBackoffMs: 5,
        logger: silent,
      });
      try {
        const metadata = await producer.sendBatch(
          ['c1', 'c2', 'c3'].map((value) => ({ topic: 'custom', partition: 1, value })),
        );
        const read = await readAll(target.bootstrap, 'custom', 1);
        assert.deepEqual(
          metadata.map((m) => read.find((r) => r.offset === m.offset)?.value),
          ['c1', 'c2', 'c3'],
        );
      } finally {
        await producer.close();
      }
    });

    test('send after close rejects with CLIENT_CLOSED', async () => {
      const producer = new Producer({ brokers: [target.bootstrap], logger: silent });
      await producer.send({ topic: 'acks', value: 'before-close' });
      await producer.close();
      await assert.rejects(
        producer.send({ topic: 'acks', value: 'x' }),
        (e: unknown) => e instanceof ClientError && e.code === 'CLIENT_CLOSED',
      );
    });
  });
}
