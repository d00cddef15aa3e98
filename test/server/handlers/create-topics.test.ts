import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ConfigSource } from '../../../src/cluster/config-catalog.js';
import { TopicRegistry } from '../../../src/cluster/topic-registry.js';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { ZERO_UUID } from '../../../src/protocol/messages/common.js';
import {
  CreateTopics,
  type CreateTopicsRequestCreatableTopic,
} from '../../../src/protocol/messages/create-topics.js';
import { Metadata } from '../../../src/protocol/messages/metadata.js';
import { startTestBroker, type TestBroker } from './helpers.js';

let t: TestBroker;
before(async () => {
  t = await startTestBroker({ 'num.partitions': '3', 'log.retention.hours': '24' });
});
after(() => t.close());

const topic = (
  name: string,
  more: Partial<CreateTopicsRequestCreatableTopic> = {},
): CreateTopicsRequestCreatableTopic => ({
  name,
  numPartitions: 2,
  replicationFactor: 1,
  assignments: [],
  configs: [],
  ...more,
});

const create = (version: number, topics: CreateTopicsRequestCreatableTopic[], validateOnly = false) =>
  t.client.send(CreateTopics, version, { topics, timeoutMs: 5000, validateOnly });

async function partitionsOf(name: string): Promise<number | undefined> {
  const metadata = await t.client.send(Metadata, 12, {
    topics: [{ name, topicId: ZERO_UUID }],
    allowAutoTopicCreation: false,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false,
  });
  const found = metadata.topics[0]!;
  return found.errorCode === ErrorCode.NONE ? found.partitions.length : undefined;
}

test('v7 creates a topic and returns its id, counts and configs', async () => {
  const response = await create(7, [
    topic('orders', { configs: [{ name: 'cleanup.policy', value: 'compact' }] }),
  ]);
  const created = response.topics[0]!;
  assert.equal(created.errorCode, ErrorCode.NONE);
  assert.equal(created.errorMessage, null);
  assert.notEqual(created.topicId, ZERO_UUID);
  assert.equal(created.numPartitions, 2);
  assert.equal(created.replicationFactor, 1);
  const configs = new Map(created.configs!.map((c) => [c.name, c]));
  assert.deepEqual(configs.get('cleanup.policy'), {
    name: 'cleanup.policy',
    value: 'compact',
    readOnly: false,
    configSource: ConfigSource.DYNAMIC_TOPIC_CONFIG,
    isSensitive: false,
  });
  assert.equal(configs.get('retention.ms')!.value, String(24 * 3_600_000));
  assert.equal(configs.get('retention.ms')!.configSource, ConfigSource.STATIC_BROKER_CONFIG);
  assert.equal(configs.get('segment.bytes')!.configSource, ConfigSource.DEFAULT_CONFIG);
  assert.equal(configs.get('segment.bytes')!.value, '1073741824');
  assert.equal(await partitionsOf('orders'), 2);
});

test('-1 partitions and replication factor take the broker defaults', async () => {
  const response = await create(5, [topic('defaults', { numPartitions: -1, replicationFactor: -1 })]);
  assert.equal(response.topics[0]!.errorCode, ErrorCode.NONE);
  assert.equal(response.topics[0]!.numPartitions, 3);
  assert.equal(response.topics[0]!.replicationFactor, 1);
  assert.equal(await partitionsOf('defaults'), 3);
});

test('validateOnly checks and creates nothing', async () => {
  const response = await create(7, [topic('dry-run', { numPartitions: 4 })], true);
  const result = response.topics[0]!;
  assert.equal(result.errorCode, ErrorCode.NONE);
  assert.equal(result.topicId, ZERO_UUID);
  assert.equal(result.numPartitions, 4);
  assert.equal(await partitionsOf('dry-run'), undefined);
  const invalid = await create(7, [topic('dry-run', { numPartitions: 0 })], true);
  assert.equal(invalid.topics[0]!.errorCode, ErrorCode.INVALID_PARTITIONS);
});

test("Kafka's error codes for bad requests", async () => {
  await create(4, [topic('taken')]);
  const response = await create(4, [
    topic('bad name!'),
    topic('a'.repeat(250)),
    topic('.'),
    topic('taken'),
    topic('zero-partitions', { numPartitions: 0 }),
    topic('negative-partitions', { numPartitions: -2 }),
    topic('zero-replicas', { replicationFactor: 0 }),
    topic('three-replicas', { replicationFactor: 3 }),
    topic('unknown-config', { configs: [{ name: 'no.such.config', value: '1' }] }),
    topic('bad-config-value', { configs: [{ name: 'retention.ms', value: 'soon' }] }),
    topic('null-config', { configs: [{ name: 'retention.ms', value: null }] }),
    topic('twice'),
    topic('twice'),
  ]);
  assert.deepEqual(
    response.topics.map((r) => [r.name.slice(0, 20), r.errorCode]),
    [
      ['bad name!', ErrorCode.INVALID_TOPIC_EXCEPTION],
      ['a'.repeat(20), ErrorCode.INVALID_TOPIC_EXCEPTION],
      ['.', ErrorCode.INVALID_TOPIC_EXCEPTION],
      ['taken', ErrorCode.TOPIC_ALREADY_EXISTS],
      ['zero-partitions', ErrorCode.INVALID_PARTITIONS],
      ['negative-partitions', ErrorCode.INVALID_PARTITIONS],
      ['zero-replicas', ErrorCode.INVALID_REPLICATION_FACTOR],
      ['three-replicas', ErrorCode.INVALID_REPLICATION_FACTOR],
      ['unknown-config', ErrorCode.INVALID_CONFIG],
      ['bad-config-value', ErrorCode.INVALID_CONFIG],
      ['null-config', ErrorCode.INVALID_REQUEST],
      ['twice', ErrorCode.INVALID_REQUEST],
      ['twice', ErrorCode.INVALID_REQUEST],
    ],
  );
  for (const r of response.topics) assert.ok(r.errorMessage, `${r.name} has an error message`);
  assert.equal(await partitionsOf('twice'), undefined);
});

test('a name colliding on . versus _ is refused', async () => {
  await create(4, [topic('metrics.cpu')]);
  const response = await create(4, [topic('metrics_cpu')]);
  assert.equal(response.topics[0]!.errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);
});

test('manual replica assignments', async () => {
  const me = t.broker.config.nodeId;
  const assigned = (name: string, lists: number[][], more: Partial<CreateTopicsRequestCreatableTopic> = {}) =>
    topic(name, {
      numPartitions: -1,
      replicationFactor: -1,
      assignments: lists.map((brokerIds, partitionIndex) => ({ partitionIndex, brokerIds })),
      ...more,
    });
  const response = await create(7, [
    assigned('manual-ok', [[me], [me], [me]]),
    assigned('other-broker', [[me], [me + 7]]),
    assigned('duplicate-broker', [[me, me]]),
    assigned('empty-list', [[]]),
    topic('gap', {
      numPartitions: -1,
      replicationFactor: -1,
      assignments: [{ partitionIndex: 1, brokerIds: [me] }],
    }),
    assigned('with-count', [[me]], { numPartitions: 1 }),
  ]);
  assert.deepEqual(
    response.topics.map((r) => [r.name, r.errorCode]),
    [
      ['manual-ok', ErrorCode.NONE],
      ['other-broker', ErrorCode.INVALID_REPLICA_ASSIGNMENT],
      ['duplicate-broker', ErrorCode.INVALID_REPLICA_ASSIGNMENT],
      ['empty-list', ErrorCode.INVALID_REPLICA_ASSIGNMENT],
      ['gap', ErrorCode.INVALID_REPLICA_ASSIGNMENT],
      ['with-count', ErrorCode.INVALID_REQUEST],
    ],
  );
  assert.equal(response.topics[0]!.numPartitions, 3);
  assert.equal(await partitionsOf('manual-ok'), 3);
});

test('v0 answers without error messages; created topics survive a restart', async () => {
  const response = await create(0, [topic('old-client'), topic('old-client-bad', { numPartitions: 0 })]);
  assert.deepEqual(
    response.topics.map((r) => r.errorCode),
    [ErrorCode.NONE, ErrorCode.INVALID_PARTITIONS],
  );
  const before = (
    await create(7, [topic('persisted', { configs: [{ name: 'retention.bytes', value: '12345' }] })])
  ).topics[0]!;
  await t.restart();
  assert.equal(await partitionsOf('old-client'), 2);
  assert.equal(await partitionsOf('persisted'), 2);
  const again = await create(7, [topic('persisted')]);
  assert.equal(again.topics[0]!.errorCode, ErrorCode.TOPIC_ALREADY_EXISTS);
  const registry = new TopicRegistry(t.broker.logDir);
  assert.equal(registry.get('persisted')!.topicId, before.topicId);
  assert.deepEqual(registry.get('persisted')!.configs, { 'retention.bytes': '12345' });
});
