import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { ZERO_UUID } from '../../../src/protocol/messages/common.js';
import { CreateTopics } from '../../../src/protocol/messages/create-topics.js';
import { DeleteTopics } from '../../../src/protocol/messages/delete-topics.js';
import { OffsetCommit } from '../../../src/protocol/messages/offset-commit.js';
import { OffsetFetch } from '../../../src/protocol/messages/offset-fetch.js';
import { startTestBroker, type TestBroker } from './helpers.js';

let t: TestBroker;
before(async () => {
  t = await startTestBroker();
});
after(() => t.close());

async function create(...names: string[]): Promise<string[]> {
  const response = await t.client.send(CreateTopics, 7, {
    topics: names.map((name) => ({
      name,
      numPartitions: 2,
      replicationFactor: 1,
      assignments: [],
      configs: [],
    })),
    timeoutMs: 5000,
    validateOnly: false,
  });
  for (const r of response.topics) assert.equal(r.errorCode, ErrorCode.NONE);
  return response.topics.map((r) => r.topicId);
}

const byName = (version: number, ...names: string[]) =>
  t.client.send(DeleteTopics, version, { topics: [], topicNames: names, timeoutMs: 5000 });

test('v0-v5 delete by name; unknown names are UNKNOWN_TOPIC_OR_PARTITION', async () => {
  await create('gone-1', 'gone-2');
  const response = await byName(5, 'gone-1', 'never-was', 'gone-2');
  assert.deepEqual(
    response.responses.map((r) => [r.name, r.errorCode]),
    [
      ['gone-1', ErrorCode.NONE],
      ['never-was', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ['gone-2', ErrorCode.NONE],
    ],
  );
  assert.ok(response.responses[1]!.errorMessage);
  const again = await byName(0, 'gone-1');
  assert.equal(again.responses[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  // The name is free again.
  await create('gone-1');
});

test('v6 deletes by topic id and by name, and reports both', async () => {
  const [idA, idB] = await create('by-id', 'by-name');
  const unknownId = 'AAAAAAAAAAAAAAAAAAAAAQ';
  const response = await t.client.send(DeleteTopics, 6, {
    topics: [
      { name: null, topicId: idA! },
      { name: 'by-name', topicId: ZERO_UUID },
      { name: null, topicId: unknownId },
      { name: 'by-name-and-id', topicId: idB! },
      { name: null, topicId: ZERO_UUID },
    ],
    topicNames: [],
    timeoutMs: 5000,
  });
  assert.deepEqual(
    response.responses.map((r) => [r.name, r.topicId, r.errorCode]),
    [
      ['by-id', idA, ErrorCode.NONE],
      ['by-name', idB, ErrorCode.NONE],
      [null, unknownId, ErrorCode.UNKNOWN_TOPIC_ID],
      ['by-name-and-id', idB, ErrorCode.INVALID_REQUEST],
      [null, ZERO_UUID, ErrorCode.INVALID_REQUEST],
    ],
  );
});

test('deletions survive a restart and no partition directory is left', async () => {
  await create('kept', 'dropped');
  await byName(4, 'dropped');
  await t.restart();
  const response = await byName(4, 'dropped', 'kept');
  assert.deepEqual(
    response.responses.map((r) => r.errorCode),
    [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.NONE],
  );
  const { readdirSync } = await import('node:fs');
  assert.deepEqual(
    // Deleted logs are renamed <dir>.<suffix>-delete first, as Kafka does; no live partition dir is left.
    readdirSync(t.broker.logDir).filter((f) => /^(kept|dropped)-\d+$/.test(f)),
    [],
  );
});

test('delete.topic.enable=false gives TOPIC_DELETION_DISABLED', async () => {
  const locked = await startTestBroker({ 'delete.topic.enable': 'false' });
  try {
    await locked.client.send(CreateTopics, 4, {
      topics: [{ name: 'stays', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 5000,
      validateOnly: false,
    });
    const response = await locked.client.send(DeleteTopics, 6, {
      topics: [{ name: 'stays', topicId: ZERO_UUID }],
      topicNames: [],
      timeoutMs: 5000,
    });
    assert.equal(response.responses[0]!.errorCode, ErrorCode.TOPIC_DELETION_DISABLED);
  } finally {
    await locked.close();
  }
});

test('deleting a topic drops the committed offsets of its partitions, so a re-created topic starts fresh', async () => {
  await create('offsets-gone');
  const commit = await t.client.send(OffsetCommit, 2, {
    groupId: 'deleted-topic-group',
    generationIdOrMemberEpoch: -1,
    memberId: '',
    groupInstanceId: null,
    retentionTimeMs: -1n,
    topics: [
      {
        name: 'offsets-gone',
        partitions: [
          {
            partitionIndex: 0,
            committedOffset: 7n,
            committedLeaderEpoch: -1,
            commitTimestamp: -1n,
            committedMetadata: '',
          },
        ],
      },
    ],
  });
  assert.equal(commit.topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
  const fetchCommitted = async () =>
    (
      await t.client.send(OffsetFetch, 1, {
        groupId: 'deleted-topic-group',
        topics: [{ name: 'offsets-gone', partitionIndexes: [0] }],
        groups: [],
        requireStable: false,
      })
    ).topics[0]!.partitions[0]!.committedOffset;
  assert.equal(await fetchCommitted(), 7n);
  assert.equal((await byName(4, 'offsets-gone')).responses[0]!.errorCode, ErrorCode.NONE);
  await create('offsets-gone');
  assert.equal(await fetchCommitted(), -1n);
});
