// Idempotent producer recovery (KIP-360): when the broker's sequence state for this producer differs from
// the producer's (it lost or expired the producer, another writer moved its sequence, a failed batch left a
// gap), the producer bumps its epoch (or takes a new id), restarts sequences at 0 and resends what is not
// acknowledged, so no acknowledged record is lost and none is written twice.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker } from '../../src/server/broker.js';
import { Admin } from '../../src/client/admin/admin.js';
import { Producer } from '../../src/client/producer/producer.js';
import { KafkaError } from '../../src/client/errors.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { Produce } from '../../src/protocol/messages/index.js';
import { buildRecordBatch } from '../../src/protocol/records/record-batch.js';
import { startChaosProxy } from '../tools/chaos-proxy.js';
import type { Logger } from '../../src/util/logger.js';
import { brokerKinds, readAll, readBatches, TEST_BROKER_CONFIG, type Target } from './helpers.js';

const silent = { warn() {} };
const quiet: Logger = { info() {}, warn() {}, error() {}, debug() {} };

/** Writes one batch under another producer's id, epoch and sequence, as a second writer of that id would. */
async function writeAs(
  producer: Producer,
  topic: string,
  partition: number,
  baseSequence: number,
  values: string[],
): Promise<number> {
  const cluster = producer.cluster;
  const leader = cluster.leaderFor(topic, partition)!;
  const records = await buildRecordBatch(
    values.map((v) => ({ key: null, value: Buffer.from(v), timestamp: Date.now() })),
    {
      producerId: Number(producer.producerId),
      producerEpoch: producer.producerEpoch,
      baseSequence,
    },
  );
  const connection = await cluster.connection(leader);
  const response = await connection.request(Produce, {
    transactionalId: null,
    acks: -1,
    timeoutMs: 5000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
  });
  return response.responses[0]!.partitionResponses[0]!.errorCode;
}

for (const kind of brokerKinds) {
  describe(`idempotent producer recovery against ${kind.name}`, () => {
    let target: Target;
    before(async () => {
      target = await kind.start([{ name: 'diverged', partitions: 2 }]);
    });
    after(() => target.stop());

    test('a sequence moved by another writer of the id: the producer bumps its epoch and loses or repeats nothing', async () => {
      const producer = new Producer({ brokers: [target.bootstrap], lingerMs: 0, logger: silent });
      try {
        const first = await producer.sendBatch(
          ['a0', 'a1', 'a2'].map((value) => ({ topic: 'diverged', partition: 0, value })),
        );
        // Partition 1 is untouched by the divergence but must follow the new epoch from sequence 0 too.
        await producer.send({ topic: 'diverged', partition: 1, value: 'p1-a' });
        assert.ok(producer.idempotent, 'both brokers support InitProducerId');
        const { producerId, producerEpoch } = producer;
        const sequenceAfterFirst = first.length;
        // Two records at the sequence the producer will use next: its next batch (one record) is refused.
        assert.equal(
          await writeAs(producer, 'diverged', 0, sequenceAfterFirst, ['x0', 'x1']),
          ErrorCode.NONE,
        );
        const later = await Promise.all([
          producer.send({ topic: 'diverged', partition: 0, value: 'b0' }),
          producer.send({ topic: 'diverged', partition: 1, value: 'p1-b' }),
        ]);
        const more = await producer.sendBatch(
          ['b1', 'b2', 'b3'].map((value) => ({ topic: 'diverged', partition: 0, value })),
        );
        const p1c = await producer.send({ topic: 'diverged', partition: 1, value: 'p1-c' });
        // librdkafka 2.0.2's mock does not check producer sequences (it appends x0,x1 and b0 all at sequence
        // 3), so it never refuses and there is nothing to recover from; the contents must still be exact.
        const refuses = kind.name === 'fjord';
        assert.equal(producer.epochBumps, refuses ? 1 : 0);
        if (refuses)
          // A broker that bumps keeps the id and raises the epoch; one that cannot gives a new id.
          assert.ok(
            (producer.producerId === producerId && producer.producerEpoch === producerEpoch + 1) ||
              producer.producerId !== producerId,
            `${producerId}/${producerEpoch} -> ${producer.producerId}/${producer.producerEpoch}`,
          );
        const read = await readAll(target.bootstrap, 'diverged', 0);
        assert.deepEqual(
          read.map((r) => r.value),
          ['a0', 'a1', 'a2', 'x0', 'x1', 'b0', 'b1', 'b2', 'b3'],
        );
        assert.deepEqual(
          [...first, later[0], ...more].map((m) => m.offset),
          [0, 1, 2, 5, 6, 7, 8],
        );
        const p1 = await readAll(target.bootstrap, 'diverged', 1);
        assert.deepEqual(
          p1.map((r) => [r.offset, r.value]),
          [
            [0, 'p1-a'],
            [1, 'p1-b'],
            [2, 'p1-c'],
          ],
        );
        assert.equal(later[1].offset, 1);
        assert.equal(p1c.offset, 2);
        if (!refuses) return;
        // After the bump every partition's batches start again at sequence 0 under the new epoch.
        for (const partition of [0, 1]) {
          const batches = (await readBatches(target.bootstrap, 'diverged', partition)).filter(
            (b) =>
              BigInt(b.header.producerId) === producer.producerId &&
              b.header.producerEpoch === producer.producerEpoch,
          );
          assert.equal(batches[0]?.header.baseSequence, 0);
        }
      } finally {
        await producer.close();
      }
    });
  });
}

// The librdkafka mock has no per-topic max.message.bytes (it never answers MESSAGE_TOO_LARGE) and no
// DeleteRecords or producer-state expiry in this version, so these run on Fjord only.
describe('idempotent producer recovery against fjord only', () => {
  let dataDir: string;
  let broker: Broker;
  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'fjord-client-idem-'));
    broker = await Broker.start({ dataDir, port: 0, log: quiet, config: TEST_BROKER_CONFIG });
    const admin = new Admin({ brokers: [broker.bootstrap] });
    await admin.createTopics([
      { topic: 'small', numPartitions: 1, configs: { 'max.message.bytes': '600' } },
      { topic: 'forgotten', numPartitions: 1 },
    ]);
    await admin.close();
  });
  after(async () => {
    await broker.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('a batch refused as MESSAGE_TOO_LARGE leaves no sequence gap: later sends are written, once', async () => {
    const producer = new Producer({ brokers: [broker.bootstrap], lingerMs: 0, logger: silent });
    try {
      await producer.send({ topic: 'small', value: 'before' });
      const [big, next] = await Promise.allSettled([
        producer.send({ topic: 'small', value: 'x'.repeat(1000) }),
        // Sent while the big batch is in flight: pipelined behind it with the following sequence.
        new Promise((resolve) => setImmediate(resolve)).then(() =>
          producer.send({ topic: 'small', value: 'pipelined' }),
        ),
      ]);
      assert.equal(big.status, 'rejected');
      const error = (big as PromiseRejectedResult).reason as unknown;
      assert.ok(error instanceof KafkaError, String(error));
      assert.equal(error.code, ErrorCode.MESSAGE_TOO_LARGE);
      assert.equal(error.retriable, false);
      assert.equal(next.status, 'fulfilled', String((next as PromiseRejectedResult).reason));
      const after = await producer.sendBatch(['a', 'b'].map((value) => ({ topic: 'small', value })));
      assert.deepEqual(
        (await readAll(broker.bootstrap, 'small', 0)).map((r) => r.value),
        ['before', 'pipelined', 'a', 'b'],
      );
      assert.deepEqual(
        after.map((m) => m.offset),
        [2, 3],
      );
      assert.equal(producer.epochBumps, 1);
    } finally {
      await producer.close();
    }
  });

  test('a broker that forgot the producer (DeleteRecords, then a restart with producer ids expiring) still gets every record once, in order', async () => {
    const producer = new Producer({
      brokers: [broker.bootstrap],
      lingerMs: 0,
      retryBackoffMs: 20,
      retryBackoffMaxMs: 100,
      logger: silent,
    });
    try {
      const values = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
      await producer.sendBatch(values('a', 5).map((value) => ({ topic: 'forgotten', value })));
      // Every batch of the producer below the log start: the partition drops its state for it.
      const admin = new Admin({ brokers: [broker.bootstrap] });
      await admin.deleteRecords('forgotten', [{ partition: 0, offset: 5 }]);
      await admin.close();
      const b = await producer.sendBatch(values('b', 5).map((value) => ({ topic: 'forgotten', value })));
      assert.deepEqual(
        b.map((m) => m.offset),
        [5, 6, 7, 8, 9],
      );
      // Restart with producer ids expiring at once: the restored state is dropped by the first check.
      const port = broker.port;
      await broker.stop();
      broker = await Broker.start({
        dataDir,
        port,
        log: quiet,
        config: {
          ...TEST_BROKER_CONFIG,
          'producer.id.expiration.ms': '1',
          'producer.id.expiration.check.interval.ms': '10',
        },
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      const c = await producer.sendBatch(values('c', 5).map((value) => ({ topic: 'forgotten', value })));
      assert.deepEqual(
        c.map((m) => m.offset),
        [10, 11, 12, 13, 14],
      );
      const read = await readAll(broker.bootstrap, 'forgotten', 0, 5);
      assert.deepEqual(
        read.map((r) => [r.offset, r.value]),
        [...values('b', 5), ...values('c', 5)].map((v, i) => [i + 5, v]),
      );
    } finally {
      await producer.close();
    }
  });
});

// Fjord only: the mock advertises its own ports, so a proxy in front of it would be bypassed after bootstrap.
test('lost Produce answers and refused batches together: every acknowledged record is in the log once, in order, and no refused one is', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'fjord-client-chaos-'));
  const proxy = await startChaosProxy({ upstreamPort: 1, cutProduceResponseEvery: 4 });
  const broker = await Broker.start({
    dataDir,
    port: 0,
    log: quiet,
    config: { ...TEST_BROKER_CONFIG, 'advertised.listeners': `PLAINTEXT://127.0.0.1:${proxy.port}` },
  });
  proxy.setUpstream(broker.port);
  const producer = new Producer({
    brokers: [proxy.bootstrap],
    lingerMs: 1,
    // Small batches: the large record travels alone, and several batches are in flight at once.
    batchSize: 100,
    retryBackoffMs: 10,
    retryBackoffMaxMs: 50,
    requestTimeoutMs: 5000,
    logger: silent,
  });
  try {
    const admin = new Admin({ brokers: [broker.bootstrap] });
    await admin.createTopics([
      { topic: 'chaos', numPartitions: 1, configs: { 'max.message.bytes': '2000' } },
    ]);
    await admin.close();
    const outcomes: ({ ok: true; offset: number } | { ok: false; error: unknown })[] = [];
    for (let wave = 0; wave < 8; wave++) {
      const sends = Array.from({ length: 25 }, (_, j) => {
        const i = wave * 25 + j;
        // Now and then a record too large for the topic: its batch is refused, leaving a sequence gap.
        const value = j === 7 ? `${i}:${'x'.repeat(3000)}` : `${i}`;
        return producer.send({ topic: 'chaos', value }).then(
          (m) => ({ ok: true as const, offset: m.offset }),
          (error: unknown) => ({ ok: false as const, error }),
        );
      });
      outcomes.push(...(await Promise.all(sends)));
    }
    assert.ok(proxy.cuts > 0, 'the proxy cut some answers');
    assert.ok(producer.epochBumps > 0, 'refused batches made the producer bump its epoch');
    for (const o of outcomes)
      if (!o.ok)
        assert.ok(
          o.error instanceof KafkaError && o.error.code === ErrorCode.MESSAGE_TOO_LARGE,
          String(o.error),
        );
    const acked = outcomes.flatMap((o, i) => (o.ok ? [[o.offset, i] as const] : []));
    assert.equal(acked.length, 8 * 24);
    const read = await readAll(broker.bootstrap, 'chaos', 0);
    assert.deepEqual(
      read.map((r) => [r.offset, Number(r.value!.split(':')[0])]),
      acked.map(([offset, i]) => [offset, i]),
    );
  } finally {
    await producer.close();
    await proxy.stop();
    await broker.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
