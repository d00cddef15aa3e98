// __consumer_offsets is created on first use (as Kafka creates it), not by Broker.start(): a fresh broker has
// no such topic and no partition directories for it; the first group FindCoordinator creates it with
// offsets.topic.num.partitions partitions; commits land in it and are loaded again after a restart.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { FindCoordinator } from '../../src/protocol/messages/find-coordinator.js';
import { Metadata } from '../../src/protocol/messages/metadata.js';
import { OffsetCommit } from '../../src/protocol/messages/offset-commit.js';
import { OffsetFetch } from '../../src/protocol/messages/offset-fetch.js';
import { createTopics, startTestBroker, type TestBroker } from './handlers/helpers.js';

const t = await startTestBroker({ 'offsets.topic.num.partitions': '3' });
after(() => t.close());

const offsetsDirs = (broker: TestBroker = t) =>
  readdirSync(broker.dataDir).filter((name) => name.startsWith('__consumer_offsets-'));

async function listedTopics(): Promise<string[]> {
  const response = await t.client.send(Metadata, 12, {
    topics: null,
    allowAutoTopicCreation: false,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false,
  });
  return response.topics.map((topic) => topic.name!).sort();
}

function commit(groupId: string, offset: bigint, client = t.client) {
  return client.send(OffsetCommit, 8, {
    groupId,
    generationIdOrMemberEpoch: -1,
    memberId: '',
    groupInstanceId: null,
    retentionTimeMs: -1n,
    topics: [
      {
        name: 'orders',
        partitions: [
          {
            partitionIndex: 0,
            committedOffset: offset,
            committedLeaderEpoch: -1,
            commitTimestamp: -1n,
            committedMetadata: '',
          },
        ],
      },
    ],
  });
}

async function committed(groupId: string): Promise<bigint> {
  const response = await t.client.send(OffsetFetch, 7, {
    groupId,
    topics: [{ name: 'orders', partitionIndexes: [0] }],
    groups: [],
    requireStable: false,
  });
  assert.equal(response.errorCode, ErrorCode.NONE);
  return response.topics[0]!.partitions[0]!.committedOffset;
}

test('a fresh broker has no __consumer_offsets; reads of group state answer as empty', async () => {
  await createTopics(t.client, ['orders']);
  assert.deepEqual(await listedTopics(), ['orders']);
  assert.deepEqual(offsetsDirs(), []);
  assert.equal(await committed('nobody'), -1n);
  assert.deepEqual(offsetsDirs(), [], 'OffsetFetch does not create it');
});

test('the first group FindCoordinator creates it, with offsets.topic.num.partitions partitions', async () => {
  const found = await t.client.send(FindCoordinator, 3, { key: 'g1', keyType: 0, coordinatorKeys: [] });
  assert.equal(found.errorCode, ErrorCode.NONE);
  assert.equal(found.nodeId, t.broker.config.nodeId);
  assert.equal(found.port, t.broker.port);
  // Creation runs behind the answer; a commit waits for it.
  const response = await commit('g1', 42n);
  assert.equal(response.topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
  assert.deepEqual(offsetsDirs().sort(), [
    '__consumer_offsets-0',
    '__consumer_offsets-1',
    '__consumer_offsets-2',
  ]);
  assert.deepEqual(await listedTopics(), ['__consumer_offsets', 'orders']);
  assert.equal(await committed('g1'), 42n);
});

test('committed offsets are loaded from it after a restart', async () => {
  assert.equal((await commit('g2', 7n)).topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
  await t.restart();
  assert.equal(await committed('g1'), 42n);
  assert.equal(await committed('g2'), 7n);
});

test('on a fresh broker, a commit without FindCoordinator first creates the topic and waits for it', async () => {
  const fresh = await startTestBroker({ 'offsets.topic.num.partitions': '2' });
  try {
    await createTopics(fresh.client, ['orders']);
    const response = await commit('direct', 5n, fresh.client);
    assert.equal(response.topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
    assert.deepEqual(offsetsDirs(fresh).sort(), ['__consumer_offsets-0', '__consumer_offsets-1']);
    assert.ok(existsSync(join(fresh.dataDir, 'fjord-topics.json')));
  } finally {
    await fresh.close();
  }
});
