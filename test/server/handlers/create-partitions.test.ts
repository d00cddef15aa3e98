import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { ZERO_UUID } from '../../../src/protocol/messages/common.js';
import { CreatePartitions } from '../../../src/protocol/messages/create-partitions.js';
import { CreateTopics } from '../../../src/protocol/messages/create-topics.js';
import { Metadata } from '../../../src/protocol/messages/metadata.js';
import { startTestBroker, type TestBroker } from './helpers.js';

let t: TestBroker;
before(async () => {
  t = await startTestBroker();
  const response = await t.client.send(CreateTopics, 4, {
    topics: ['grow', 'dry', 'shrink', 'assigned'].map((name) => ({
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
});
after(() => t.close());

async function partitionsOf(name: string): Promise<number> {
  const metadata = await t.client.send(Metadata, 9, {
    topics: [{ name, topicId: ZERO_UUID }],
    allowAutoTopicCreation: false,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false,
  });
  return metadata.topics[0]!.partitions.length;
}

const grow = (
  version: number,
  topics: { name: string; count: number; assignments?: number[][] | null }[],
  validateOnly = false,
) =>
  t.client.send(CreatePartitions, version, {
    topics: topics.map((x) => ({
      name: x.name,
      count: x.count,
      assignments: x.assignments ? x.assignments.map((brokerIds) => ({ brokerIds })) : null,
    })),
    timeoutMs: 5000,
    validateOnly,
  });

test('grows a topic; validateOnly changes nothing', async () => {
  const response = await grow(3, [
    { name: 'grow', count: 5 },
    { name: 'dry', count: 4 },
  ]);
  assert.deepEqual(
    response.results.map((r) => [r.name, r.errorCode, r.errorMessage]),
    [
      ['grow', ErrorCode.NONE, null],
      ['dry', ErrorCode.NONE, null],
    ],
  );
  assert.equal(await partitionsOf('grow'), 5);
  const validated = await grow(1, [{ name: 'dry', count: 9 }], true);
  assert.equal(validated.results[0]!.errorCode, ErrorCode.NONE);
  assert.equal(await partitionsOf('dry'), 4);
});

test("Kafka's error codes", async () => {
  const me = t.broker.config.nodeId;
  const response = await grow(0, [
    { name: 'shrink', count: 1 },
    { name: 'assigned', count: 2 },
    { name: 'missing', count: 3 },
    { name: 'assigned', count: 4, assignments: [[me]] },
  ]);
  assert.deepEqual(
    response.results.map((r) => r.errorCode),
    [
      ErrorCode.INVALID_PARTITIONS,
      ErrorCode.INVALID_REQUEST,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      ErrorCode.INVALID_REQUEST,
    ],
  );
  const single = await grow(2, [{ name: 'shrink', count: 2 }]);
  assert.equal(single.results[0]!.errorCode, ErrorCode.INVALID_PARTITIONS);
  const assignments = await Promise.all([
    grow(2, [{ name: 'assigned', count: 4, assignments: [[me]] }]),
    grow(2, [{ name: 'assigned', count: 3, assignments: [[me + 1]] }]),
    grow(2, [{ name: 'assigned', count: 3, assignments: [[me, me]] }]),
  ]);
  assert.deepEqual(
    assignments.map((r) => r.results[0]!.errorCode),
    [
      ErrorCode.INVALID_REPLICA_ASSIGNMENT,
      ErrorCode.INVALID_REPLICA_ASSIGNMENT,
      ErrorCode.INVALID_REPLICA_ASSIGNMENT,
    ],
  );
  assert.equal(await partitionsOf('assigned'), 2);
  const ok = await grow(2, [{ name: 'assigned', count: 4, assignments: [[me], [me]] }]);
  assert.equal(ok.results[0]!.errorCode, ErrorCode.NONE);
  assert.equal(await partitionsOf('assigned'), 4);
});

test('new partitions survive a restart', async () => {
  await grow(3, [{ name: 'grow', count: 6 }]);
  await t.restart();
  assert.equal(await partitionsOf('grow'), 6);
});
