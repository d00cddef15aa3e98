import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { DeleteRecords } from '../../../src/protocol/messages/delete-records.js';
import { ListOffsets } from '../../../src/protocol/messages/list-offsets.js';
import { createTopics, produce, startTestBroker, type TestBroker } from './helpers.js';

let t: TestBroker;
before(async () => {
  // Small segments, so deleting records also deletes whole segment files.
  t = await startTestBroker();
  await createTopics(t.client, ['trimmed'], 2, { 'segment.bytes': '1024' });
  await createTopics(t.client, ['compacted'], 1, { 'cleanup.policy': 'compact' });
  for (let i = 0; i < 10; i++) {
    assert.equal((await produce(t.client, 'trimmed', 0, [`a${i}`, `b${i}`, 'x'.repeat(200)])).errorCode, 0);
  }
  await produce(t.client, 'trimmed', 1, ['one', 'two']);
});
after(() => t.close());

const deleteTo = (version: number, topic: string, partitions: [number, bigint][]) =>
  t.client.send(DeleteRecords, version, {
    topics: [
      { name: topic, partitions: partitions.map(([partitionIndex, offset]) => ({ partitionIndex, offset })) },
    ],
    timeoutMs: 5000,
  });

async function earliest(topic: string, partition: number): Promise<bigint> {
  const response = await t.client.send(ListOffsets, 7, {
    replicaId: -1,
    isolationLevel: 0,
    topics: [
      {
        name: topic,
        partitions: [{ partitionIndex: partition, currentLeaderEpoch: -1, timestamp: -2n, maxNumOffsets: 1 }],
      },
    ],
    timeoutMs: 0,
  });
  return response.topics[0]!.partitions[0]!.offset;
}

test('moves the low watermark and answers it; lower offsets change nothing', async () => {
  const response = await deleteTo(2, 'trimmed', [[0, 13n]]);
  assert.deepEqual(response.topics[0]!.partitions, [
    { partitionIndex: 0, lowWatermark: 13n, errorCode: ErrorCode.NONE },
  ]);
  assert.equal(await earliest('trimmed', 0), 13n);
  const lower = await deleteTo(0, 'trimmed', [[0, 5n]]);
  assert.deepEqual(lower.topics[0]!.partitions[0], {
    partitionIndex: 0,
    lowWatermark: 13n,
    errorCode: ErrorCode.NONE,
  });
});

test('-1 deletes up to the high watermark; past it is OFFSET_OUT_OF_RANGE', async () => {
  const response = await deleteTo(1, 'trimmed', [
    [1, 3n],
    [0, 31n],
    [0, -2n],
  ]);
  assert.deepEqual(
    response.topics[0]!.partitions.map((p) => [p.partitionIndex, p.errorCode, p.lowWatermark]),
    [
      [1, ErrorCode.OFFSET_OUT_OF_RANGE, -1n],
      [0, ErrorCode.OFFSET_OUT_OF_RANGE, -1n],
      [0, ErrorCode.OFFSET_OUT_OF_RANGE, -1n],
    ],
  );
  const all = await deleteTo(2, 'trimmed', [[1, -1n]]);
  assert.deepEqual(all.topics[0]!.partitions[0], {
    partitionIndex: 1,
    lowWatermark: 2n,
    errorCode: ErrorCode.NONE,
  });
});

test('unknown partitions and compacted topics', async () => {
  const unknown = await deleteTo(2, 'trimmed', [[7, 0n]]);
  assert.equal(unknown.topics[0]!.partitions[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  const missing = await deleteTo(2, 'no-such-topic', [[0, 0n]]);
  assert.equal(missing.topics[0]!.partitions[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  const compacted = await deleteTo(2, 'compacted', [[0, 0n]]);
  assert.equal(compacted.topics[0]!.partitions[0]!.errorCode, ErrorCode.POLICY_VIOLATION);
});

test('the low watermark survives a restart', async () => {
  await deleteTo(2, 'trimmed', [[0, 20n]]);
  await t.restart();
  assert.equal(await earliest('trimmed', 0), 20n);
});
