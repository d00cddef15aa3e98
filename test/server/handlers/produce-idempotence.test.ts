// Idempotent Produce over a raw connection: the requests a retrying producer sends, and Kafka's answers.
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { InitProducerId } from '../../../src/protocol/messages/init-producer-id.js';
import { Produce } from '../../../src/protocol/messages/produce.js';
import { buildRecordBatchSync } from '../../../src/protocol/records/record-batch.js';
import { readPartition } from '../../tools/raw-client.js';
import { createTopics, startTestBroker, type TestBroker } from './helpers.js';

let t: TestBroker;
before(async () => {
  t = await startTestBroker();
  await createTopics(t.client, ['idem'], 2);
  // Small segments: the producer state is snapshotted at every roll.
  await createTopics(t.client, ['idem-rolling'], 1, { 'segment.bytes': '2048' });
});
after(() => t.close());

async function newProducer(): Promise<{ producerId: number; producerEpoch: number }> {
  const response = await t.client.send(InitProducerId, 4, {
    transactionalId: null,
    transactionTimeoutMs: 60000,
    producerId: -1n,
    producerEpoch: -1,
  });
  assert.equal(response.errorCode, ErrorCode.NONE);
  return { producerId: Number(response.producerId), producerEpoch: response.producerEpoch };
}

function batch(
  producer: { producerId: number; producerEpoch: number },
  baseSequence: number,
  values: string[],
): Buffer {
  return buildRecordBatchSync(
    values.map((v) => ({ key: null, value: Buffer.from(v) })),
    { producerId: producer.producerId, producerEpoch: producer.producerEpoch, baseSequence },
  );
}

async function send(topic: string, partition: number, records: Buffer, version = 9) {
  // The request mutates nothing of ours: each send gets its own copy, as a client's retry would.
  const response = await t.client.send(Produce, version, {
    transactionalId: null,
    acks: -1,
    timeoutMs: 5000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records: Buffer.from(records) }] }],
  });
  return response.responses[0]!.partitionResponses[0]!;
}

const values = async (topic: string, partition: number) =>
  (await readPartition(t.client, topic, partition)).map((r) => `${r.offset}:${r.value}`);

test('a replayed batch is answered with its original base offset and not written again', async () => {
  const p = await newProducer();
  const first = batch(p, 0, ['a', 'b', 'c']);
  const firstAnswer = await send('idem', 0, first);
  assert.deepEqual([firstAnswer.errorCode, firstAnswer.baseOffset], [ErrorCode.NONE, 0n]);
  assert.equal((await send('idem', 0, batch(p, 3, ['d']))).baseOffset, 3n);
  for (const version of [3, 7, 9, 11]) {
    const replay = await send('idem', 0, first, version);
    assert.deepEqual([replay.errorCode, replay.baseOffset], [ErrorCode.NONE, 0n], `v${version}`);
  }
  const replaySecond = await send('idem', 0, batch(p, 3, ['d']));
  assert.deepEqual([replaySecond.errorCode, replaySecond.baseOffset], [ErrorCode.NONE, 3n]);
  assert.deepEqual(await values('idem', 0), ['0:a', '1:b', '2:c', '3:d']);
});

test('a sequence gap is OUT_OF_ORDER_SEQUENCE_NUMBER and writes nothing', async () => {
  const p = await newProducer();
  assert.equal((await send('idem', 1, batch(p, 0, ['x']))).errorCode, ErrorCode.NONE);
  const gap = await send('idem', 1, batch(p, 2, ['z']));
  assert.equal(gap.errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  assert.equal(gap.baseOffset, -1n);
  assert.match(gap.errorMessage ?? '', /sequence 2/);
  // A retry from beyond the last five batches is out of order too (Kafka keeps five).
  for (let seq = 1; seq <= 6; seq++)
    assert.equal((await send('idem', 1, batch(p, seq, [`y${seq}`]))).errorCode, 0);
  assert.equal(
    (await send('idem', 1, batch(p, 1, ['y1']))).errorCode,
    ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
  );
  assert.equal((await send('idem', 1, batch(p, 2, ['y2']))).baseOffset, 2n);
  assert.deepEqual(await values('idem', 1), ['0:x', '1:y1', '2:y2', '3:y3', '4:y4', '5:y5', '6:y6']);
});

test('an old epoch is INVALID_PRODUCER_EPOCH; a new epoch must start at sequence 0', async () => {
  const p = await newProducer();
  const bumped = await t.client.send(InitProducerId, 4, {
    transactionalId: null,
    transactionTimeoutMs: 60000,
    producerId: BigInt(p.producerId),
    producerEpoch: p.producerEpoch,
  });
  const q = { producerId: Number(bumped.producerId), producerEpoch: bumped.producerEpoch };
  assert.deepEqual([q.producerId, q.producerEpoch], [p.producerId, 1]);
  const start = (await values('idem', 0)).length;
  assert.equal((await send('idem', 0, batch(q, 0, ['new']))).errorCode, ErrorCode.NONE);
  const stale = await send('idem', 0, batch(p, 0, ['old']));
  assert.equal(stale.errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);
  assert.equal((await send('idem', 0, batch(p, 1, ['old']), 7)).errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);
  const skipped = await send('idem', 0, batch({ ...q, producerEpoch: 2 }, 5, ['skip']));
  assert.equal(skipped.errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  assert.deepEqual((await values('idem', 0)).slice(start), [`${start}:new`]);
});

test('sequences wrap from Int32.MAX to 0', async () => {
  const p = await newProducer();
  const top = 2147483647;
  assert.equal((await send('idem', 1, batch(p, top - 1, ['w1', 'w2']))).errorCode, ErrorCode.NONE);
  assert.equal((await send('idem', 1, batch(p, 0, ['w3']))).errorCode, ErrorCode.NONE);
  assert.equal((await send('idem', 1, batch(p, 1, ['w4', 'w5']))).errorCode, ErrorCode.NONE);
  const replay = await send('idem', 1, batch(p, top - 1, ['w1', 'w2']));
  assert.equal(replay.errorCode, ErrorCode.NONE);
  const all = await values('idem', 1);
  assert.deepEqual(
    all.slice(-5).map((v) => v.split(':')[1]),
    ['w1', 'w2', 'w3', 'w4', 'w5'],
  );
  assert.equal(replay.baseOffset, BigInt(all.at(-5)!.split(':')[0]!));
});

test('batches without a producer id are never deduplicated', async () => {
  const plain = buildRecordBatchSync([{ key: null, value: Buffer.from('plain') }]);
  const a = await send('idem', 1, plain);
  const b = await send('idem', 1, plain);
  assert.equal(b.baseOffset, a.baseOffset + 1n);
});

test('a restart keeps deduplicating: from snapshots after a clean stop, and from the log alone', async () => {
  const p = await newProducer();
  const sent: Buffer[] = [];
  let seq = 0;
  for (let i = 0; i < 40; i++) {
    const records = batch(p, seq, [`r${i}-${'x'.repeat(100)}`, `s${i}`]);
    sent.push(records);
    seq += 2;
    assert.equal((await send('idem-rolling', 0, records)).errorCode, ErrorCode.NONE);
  }
  const partitionDir = join(t.broker.config.logDirs[0]!, 'idem-rolling-0');
  const snapshots = () => readdirSync(partitionDir).filter((name) => name.endsWith('.snapshot'));
  assert.ok(snapshots().length > 0, 'segment rolls took snapshots');
  const before = await values('idem-rolling', 0);
  assert.equal(before.length, 80);

  await t.restart();
  assert.ok(
    snapshots().includes('00000000000000000080.snapshot'),
    `clean close snapshots the log end: ${snapshots()}`,
  );
  for (const i of [35, 39]) assert.equal((await send('idem-rolling', 0, sent[i]!)).baseOffset, BigInt(2 * i));
  assert.equal(
    (await send('idem-rolling', 0, batch(p, seq + 2, ['gap']))).errorCode,
    ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
  );

  // As after a crash with no snapshot at all: the state comes from the batch headers in the log.
  await t.broker.stop();
  for (const name of snapshots()) rmSync(join(partitionDir, name));
  await t.restart();
  assert.equal((await send('idem-rolling', 0, sent[37]!)).baseOffset, 74n);
  assert.equal(
    (await send('idem-rolling', 0, batch({ ...p, producerEpoch: p.producerEpoch - 1 }, seq, ['old'])))
      .errorCode,
    ErrorCode.INVALID_PRODUCER_EPOCH,
  );
  assert.equal((await send('idem-rolling', 0, batch(p, seq, ['next']))).baseOffset, 80n);
  assert.deepEqual(await values('idem-rolling', 0), [...before, '80:next']);
});

test('producers idle for producer.id.expiration.ms are forgotten: their next batch may start anywhere', async () => {
  const own = await startTestBroker({
    'producer.id.expiration.ms': '3000',
    'producer.id.expiration.check.interval.ms': '100',
  });
  try {
    await createTopics(own.client, ['idle'], 1);
    const p = { producerId: 42, producerEpoch: 0 };
    const sendOwn = async (records: Buffer) => {
      const response = await own.client.send(Produce, 9, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 5000,
        topicData: [{ name: 'idle', partitionData: [{ index: 0, records }] }],
      });
      return response.responses[0]!.partitionResponses[0]!;
    };
    assert.equal((await sendOwn(batch(p, 0, ['first']))).errorCode, ErrorCode.NONE);
    assert.equal((await sendOwn(batch(p, 7, ['gap']))).errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    let answer = -1;
    for (let attempt = 0; attempt < 60 && answer !== ErrorCode.NONE; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      answer = (await sendOwn(batch(p, 7, ['after']))).errorCode;
      if (answer !== ErrorCode.NONE) assert.equal(answer, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    }
    assert.equal(answer, ErrorCode.NONE);
    assert.deepEqual(
      (await readPartition(own.client, 'idle', 0)).map((r) => r.value),
      ['first', 'after'],
    );
  } finally {
    await own.close();
  }
});
