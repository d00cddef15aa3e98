import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { Fetch } from '../../../src/protocol/messages/fetch.js';
import { OffsetForLeaderEpoch } from '../../../src/protocol/messages/offset-for-leader-epoch.js';
import { createTopics, produce, startTestBroker, type TestBroker } from './helpers.js';

let t: TestBroker;
before(async () => {
  t = await startTestBroker();
  await createTopics(t.client, ['epochs'], 2);
  await produce(t.client, 'epochs', 0, ['a', 'b', 'c']);
  await produce(t.client, 'epochs', 0, ['d']);
});
after(() => t.close());

const ask = (
  version: number,
  partitions: { partition: number; currentLeaderEpoch?: number; leaderEpoch: number }[],
  topic = 'epochs',
) =>
  t.client.send(OffsetForLeaderEpoch, version, {
    replicaId: version >= 3 ? -1 : -2,
    topics: [
      {
        topic,
        partitions: partitions.map((p) => ({
          partition: p.partition,
          currentLeaderEpoch: version >= 2 ? (p.currentLeaderEpoch ?? -1) : -1,
          leaderEpoch: p.leaderEpoch,
        })),
      },
    ],
  });

test('epoch 0 (the current one) ends at the log end offset', async () => {
  const response = await ask(4, [
    { partition: 0, currentLeaderEpoch: 0, leaderEpoch: 0 },
    { partition: 1, leaderEpoch: 0 },
  ]);
  assert.deepEqual(response.topics[0]!.partitions, [
    { errorCode: ErrorCode.NONE, partition: 0, leaderEpoch: 0, endOffset: 4n },
    { errorCode: ErrorCode.NONE, partition: 1, leaderEpoch: 0, endOffset: 0n },
  ]);
});

test('unknown epochs have no answer; v0 has no epoch in its answer', async () => {
  const response = await ask(3, [
    { partition: 0, leaderEpoch: 5 },
    { partition: 0, leaderEpoch: -1 },
  ]);
  assert.deepEqual(
    response.topics[0]!.partitions.map((p) => [p.errorCode, p.leaderEpoch, p.endOffset]),
    [
      [ErrorCode.NONE, -1, -1n],
      [ErrorCode.NONE, -1, -1n],
    ],
  );
  const v0 = await ask(0, [{ partition: 0, leaderEpoch: 0 }]);
  assert.deepEqual(v0.topics[0]!.partitions[0], {
    errorCode: ErrorCode.NONE,
    partition: 0,
    leaderEpoch: -1,
    endOffset: 4n,
  });
});

test('current leader epoch fencing and unknown partitions', async () => {
  const response = await ask(2, [
    { partition: 0, currentLeaderEpoch: 1, leaderEpoch: 0 },
    { partition: 0, currentLeaderEpoch: -3, leaderEpoch: 0 },
    { partition: 9, leaderEpoch: 0 },
  ]);
  assert.deepEqual(
    response.topics[0]!.partitions.map((p) => [p.partition, p.errorCode, p.endOffset]),
    [
      [0, ErrorCode.UNKNOWN_LEADER_EPOCH, -1n],
      [0, ErrorCode.FENCED_LEADER_EPOCH, -1n],
      [9, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1n],
    ],
  );
  const missing = await ask(4, [{ partition: 0, leaderEpoch: 0 }], 'no-such-topic');
  assert.equal(missing.topics[0]!.partitions[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
});

test('appended batches carry the leader epoch; the answer survives a restart', async () => {
  const fetched = await t.client.send(Fetch, 4, {
    clusterId: null,
    replicaId: -1,
    replicaState: { replicaId: -1, replicaEpoch: -1n },
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic: 'epochs',
        topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
        partitions: [
          {
            partition: 0,
            currentLeaderEpoch: -1,
            fetchOffset: 0n,
            lastFetchedEpoch: -1,
            logStartOffset: -1n,
            partitionMaxBytes: 1 << 20,
            replicaDirectoryId: 'AAAAAAAAAAAAAAAAAAAAAA',
          },
        ],
      },
    ],
    forgottenTopicsData: [],
    rackId: '',
  });
  const records = fetched.responses[0]!.partitions[0]!.records!;
  // partitionLeaderEpoch is the int32 at byte 12 of a batch.
  assert.equal(records.readInt32BE(12), 0);
  await t.restart();
  const response = await ask(4, [{ partition: 0, leaderEpoch: 0 }]);
  assert.equal(response.topics[0]!.partitions[0]!.endOffset, 4n);
});

test('every version answers', async () => {
  for (let version = 0; version <= 4; version++) {
    const response = await ask(version, [{ partition: 0, leaderEpoch: 0 }]);
    assert.deepEqual(
      response.topics[0]!.partitions[0],
      { errorCode: ErrorCode.NONE, partition: 0, leaderEpoch: version >= 1 ? 0 : -1, endOffset: 4n },
      `v${version}`,
    );
  }
});
