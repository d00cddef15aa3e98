// The broker's admin APIs from real clients: kafkajs 2.2.4 (admin), kafka-python 2.0.2 (KafkaAdminClient) and
// confluent-kafka 1.7.0 (AdminClient, librdkafka 2.0.2). Each client talks to the broker through a capture
// proxy, so the test also records which API versions each client negotiated (printed as a diagnostic).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { apis } from '../../src/protocol/messages/index.js';
import { Broker } from '../../src/server/broker.js';
import { SILENT_LOGGER } from '../../src/util/logger.js';
import { startCaptureProxy, type CaptureProxy } from '../tools/capture-proxy.js';
import { repoRoot } from '../tools/repo-root.js';

const require = createRequire(import.meta.url);
const kafkajs = require('kafkajs') as typeof import('kafkajs');
const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const SCRIPT = join(repoRoot(), 'test', 'integration', 'py', 'admin_clients.py');

const TOPIC = 2;
const BROKER = 4;
const DYNAMIC_TOPIC_CONFIG = 1;
const STATIC_BROKER_CONFIG = 4;
const DEFAULT_CONFIG = 5;

let dataDir: string;
let broker: Broker;
let proxy: CaptureProxy;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'fjord-admin-clients-'));
  broker = await Broker.start({
    dataDir,
    port: 0,
    config: { 'num.io.threads': '1', 'log.retention.hours': '48' },
    log: SILENT_LOGGER,
  });
  proxy = await startCaptureProxy({ upstream: broker.bootstrap });
});

after(async () => {
  await proxy.stop();
  await broker.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** "ApiName vN" for every request a client sent under `label`, deduplicated and sorted by API key. */
function versionsSeen(label: string): string[] {
  const seen = new Map<number, Set<number>>();
  for (const frame of proxy.frames) {
    if (frame.direction !== 'request' || frame.label !== label) continue;
    if (!seen.has(frame.apiKey)) seen.set(frame.apiKey, new Set());
    seen.get(frame.apiKey)!.add(frame.apiVersion);
  }
  return [...seen]
    .sort(([a], [b]) => a - b)
    .map(
      ([key, versions]) => `${apis.get(key)?.name ?? key} v${[...versions].sort((a, b) => a - b).join('/v')}`,
    );
}

async function python(
  client: 'kafka-python' | 'confluent-kafka',
  prefix: string,
): Promise<Record<string, unknown>> {
  const { stdout } = await run(PYTHON, [SCRIPT, client, proxy.bootstrap, prefix], { timeout: 120_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

/** Matches a kafkajs error carrying Kafka's error `type`, also inside an aggregate or a retries-exceeded error. */
function kafkaError(type: string) {
  type KafkaJSError = { type?: string; errors?: KafkaJSError[]; cause?: KafkaJSError };
  const matches = (error: KafkaJSError | undefined): boolean =>
    error !== undefined &&
    (error.type === type || (error.errors ?? []).some(matches) || matches(error.cause));
  return matches;
}

test('kafkajs admin', async (t) => {
  proxy.setLabel('kafkajs');
  const kafka = new kafkajs.Kafka({
    clientId: 'kafkajs-admin',
    brokers: [proxy.bootstrap],
    logLevel: kafkajs.logLevel.NOTHING,
    // Short retries: the unknown-topic delete below is retriable to kafkajs and would otherwise take seconds.
    retry: { retries: 2, initialRetryTime: 50, maxRetryTime: 200 },
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    assert.equal(
      await admin.createTopics({
        topics: [
          {
            topic: 'js-main',
            numPartitions: 2,
            replicationFactor: 1,
            configEntries: [{ name: 'retention.ms', value: '3600000' }],
          },
        ],
      }),
      true,
    );
    // kafkajs reports an existing topic as false rather than an error.
    assert.equal(await admin.createTopics({ topics: [{ topic: 'js-main', numPartitions: 2 }] }), false);
    await assert.rejects(
      admin.createTopics({ topics: [{ topic: 'js-rf3', numPartitions: 1, replicationFactor: 3 }] }),
      kafkaError('INVALID_REPLICATION_FACTOR'),
    );
    assert.equal(
      await admin.createTopics({
        validateOnly: true,
        // kafkajs would otherwise wait for the leaders of a topic that validateOnly did not create.
        waitForLeaders: false,
        topics: [{ topic: 'js-dry', numPartitions: 3 }],
      }),
      true,
    );
    assert.ok(!(await admin.listTopics()).includes('js-dry'));

    // Resolves to nothing (its typings say boolean); the metadata below shows the result.
    await admin.createPartitions({ topicPartitions: [{ topic: 'js-main', count: 5 }] });
    await assert.rejects(
      admin.createPartitions({ topicPartitions: [{ topic: 'js-main', count: 3 }] }),
      kafkaError('INVALID_PARTITIONS'),
    );
    const metadata = await admin.fetchTopicMetadata({ topics: ['js-main'] });
    assert.deepEqual(
      metadata.topics[0]!.partitions.map((p) => [p.partitionId, p.leader, p.replicas, p.isr]).sort(),
      [0, 1, 2, 3, 4].map((p) => [p, broker.config.nodeId, [broker.config.nodeId], [broker.config.nodeId]]),
    );

    const described = await admin.describeConfigs({
      includeSynonyms: true,
      resources: [
        { type: TOPIC, name: 'js-main' },
        {
          type: BROKER,
          name: String(broker.config.nodeId),
          configNames: ['log.retention.hours', 'num.partitions'],
        },
      ],
    });
    const topicConfigs = new Map(described.resources[0]!.configEntries.map((e) => [e.configName, e]));
    assert.equal(topicConfigs.get('retention.ms')!.configValue, '3600000');
    assert.equal(topicConfigs.get('retention.ms')!.configSource, DYNAMIC_TOPIC_CONFIG);
    assert.deepEqual(
      topicConfigs
        .get('retention.ms')!
        .configSynonyms.map((s) => [s.configName, s.configValue, s.configSource]),
      [
        ['retention.ms', '3600000', DYNAMIC_TOPIC_CONFIG],
        ['log.retention.hours', '48', STATIC_BROKER_CONFIG],
        ['log.retention.hours', '168', DEFAULT_CONFIG],
      ],
    );
    assert.equal(topicConfigs.get('segment.bytes')!.configSource, DEFAULT_CONFIG);
    const brokerConfigs = new Map(described.resources[1]!.configEntries.map((e) => [e.configName, e]));
    assert.deepEqual(
      [...brokerConfigs].map(([name, e]) => [name, e.configValue, e.configSource, e.readOnly]),
      [
        ['log.retention.hours', '48', STATIC_BROKER_CONFIG, true],
        ['num.partitions', '1', DEFAULT_CONFIG, true],
      ],
    );

    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: TOPIC,
          name: 'js-main',
          configEntries: [{ name: 'cleanup.policy', value: 'compact,delete' }],
        },
      ],
    });
    const after = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: TOPIC, name: 'js-main', configNames: ['cleanup.policy', 'retention.ms'] }],
    });
    // AlterConfigs replaces the whole set: retention.ms is back to the broker's value.
    assert.deepEqual(
      after.resources[0]!.configEntries.map((e) => [e.configName, e.configValue, e.configSource]),
      [
        ['cleanup.policy', 'compact,delete', DYNAMIC_TOPIC_CONFIG],
        ['retention.ms', String(48 * 3_600_000), STATIC_BROKER_CONFIG],
      ],
    );
    await assert.rejects(
      admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: BROKER,
            name: String(broker.config.nodeId),
            configEntries: [{ name: 'log.retention.hours', value: '1' }],
          },
        ],
      }),
      kafkaError('INVALID_REQUEST'),
    );

    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: 'js-main',
      messages: Array.from({ length: 10 }, (_, i) => ({ value: `m${i}`, partition: 0 })),
    });
    await producer.disconnect();
    await admin.deleteTopicRecords({ topic: 'js-main', partitions: [{ partition: 0, offset: '7' }] });
    const offsets = await admin.fetchTopicOffsets('js-main');
    const p0 = offsets.find((o) => o.partition === 0)!;
    assert.deepEqual([p0.low, p0.high], ['7', '10']);

    const cluster = await admin.describeCluster();
    assert.deepEqual(cluster, {
      brokers: [
        { nodeId: broker.config.nodeId, host: '127.0.0.1', port: Number(proxy.bootstrap.split(':')[1]) },
      ],
      controller: broker.config.nodeId,
      clusterId: broker.clusterId,
    });

    await admin.deleteTopics({ topics: ['js-main'] });
    assert.ok(!(await admin.listTopics()).includes('js-main'));
    await assert.rejects(
      admin.deleteTopics({ topics: ['js-main'] }),
      kafkaError('UNKNOWN_TOPIC_OR_PARTITION'),
    );
  } finally {
    await admin.disconnect();
  }
  const versions = versionsSeen('kafkajs');
  t.diagnostic(`kafkajs negotiated: ${versions.join(', ')}`);
  for (const api of [
    'CreateTopics v',
    'DeleteTopics v',
    'CreatePartitions v',
    'DescribeConfigs v',
    'AlterConfigs v',
    'DeleteRecords v',
  ])
    assert.ok(
      versions.some((v) => v.startsWith(api)),
      `${api} seen`,
    );
});

test('kafka-python KafkaAdminClient', async (t) => {
  proxy.setLabel('kafka-python');
  const out = await python('kafka-python', 'kp-');
  assert.deepEqual(out.create, [['kp-main', 0]]);
  assert.equal(out.create_again, 'TopicAlreadyExistsError');
  assert.equal(out.create_bad_partitions, 'InvalidPartitionsError');
  assert.equal(out.create_bad_replication, 'InvalidReplicationFactorError');
  assert.deepEqual(out.validate_only, [['kp-dry', 0]]);
  assert.deepEqual(out.create_partitions, [['kp-main', 0]]);
  assert.equal(out.create_partitions_fewer, 'InvalidPartitionsError');
  assert.deepEqual(out.topics_after_create, ['kp-main']);
  assert.deepEqual(out.partitions, { 'kp-main': 4 });
  const topic = (
    out.describe_topic as {
      error: number;
      configs: Record<string, { value: string; source: number; synonyms: unknown[] }>;
    }[]
  )[0]!;
  assert.equal(topic.error, 0);
  assert.deepEqual(
    [
      topic.configs['retention.ms']!.value,
      topic.configs['retention.ms']!.source,
      topic.configs['retention.ms']!.synonyms,
    ],
    [
      '3600000',
      DYNAMIC_TOPIC_CONFIG,
      [
        ['retention.ms', '3600000', DYNAMIC_TOPIC_CONFIG],
        ['log.retention.hours', '48', STATIC_BROKER_CONFIG],
        ['log.retention.hours', '168', DEFAULT_CONFIG],
      ],
    ],
  );
  assert.deepEqual(out.alter, [[0, 'kp-main']]);
  const altered = (
    out.describe_after_alter as { configs: Record<string, { value: string; source: number }> }[]
  )[0]!;
  assert.deepEqual(
    Object.entries(altered.configs).map(([name, c]) => [name, c.value, c.source]),
    [
      ['cleanup.policy', 'compact', DYNAMIC_TOPIC_CONFIG],
      ['retention.ms', '7200000', DYNAMIC_TOPIC_CONFIG],
    ],
  );
  const brokerConfigs = (
    out.describe_broker as {
      configs: Record<string, { value: string; source: number; read_only: boolean }>;
    }[]
  )[0]!;
  assert.deepEqual(brokerConfigs.configs['log.retention.hours'], {
    value: '48',
    read_only: true,
    source: STATIC_BROKER_CONFIG,
    sensitive: false,
    synonyms: [],
  });
  assert.deepEqual(out.cluster, {
    cluster_id: broker.clusterId,
    controller_id: broker.config.nodeId,
    brokers: [[broker.config.nodeId, '127.0.0.1', Number(proxy.bootstrap.split(':')[1])]],
  });
  assert.deepEqual(out.delete, [['kp-main', 0]]);
  assert.equal(out.delete_again, 'UnknownTopicOrPartitionError');
  assert.deepEqual(out.topics_after_delete, []);
  t.diagnostic(`kafka-python guessed broker version ${(out.api_version as unknown as number[]).join('.')}`);
  t.diagnostic(`kafka-python negotiated: ${versionsSeen('kafka-python').join(', ')}`);
});

test('confluent-kafka AdminClient', async (t) => {
  proxy.setLabel('confluent-kafka');
  const out = await python('confluent-kafka', 'ck-');
  assert.deepEqual(out.create, { 'ck-main': null });
  assert.deepEqual(out.create_again, { 'ck-main': 'TOPIC_ALREADY_EXISTS' });
  assert.deepEqual(out.create_bad, {
    // librdkafka names INVALID_TOPIC_EXCEPTION "TOPIC_EXCEPTION".
    'ck-bad!name': 'TOPIC_EXCEPTION',
    'ck-rf3': 'INVALID_REPLICATION_FACTOR',
    'ck-badcfg': 'INVALID_CONFIG',
  });
  assert.deepEqual(out.validate_only, { 'ck-dry': null });
  assert.deepEqual(out.create_partitions, { 'ck-main': null });
  assert.deepEqual(out.create_partitions_same, { 'ck-main': 'INVALID_PARTITIONS' });
  assert.deepEqual(out.topics_after_create, ['ck-main']);
  assert.deepEqual(out.partitions, { 'ck-main': 3 });
  type Entry = {
    value: string | null;
    source: number;
    read_only: boolean;
    default: boolean;
    synonyms: string[];
  };
  const before = out.describe_topic as unknown as Record<string, Entry>;
  assert.deepEqual(
    [before['retention.ms']!.value, before['retention.ms']!.source, before['retention.ms']!.synonyms],
    ['3600000', DYNAMIC_TOPIC_CONFIG, ['log.retention.hours', 'retention.ms']],
  );
  assert.deepEqual(
    [before['segment.bytes']!.source, before['segment.bytes']!.default],
    [DEFAULT_CONFIG, true],
  );
  assert.deepEqual(Object.values(out.alter as object), [null]);
  assert.deepEqual(Object.values(out.alter_bad as object), ['INVALID_CONFIG']);
  const afterAlter = out.describe_after_alter as unknown as Record<string, Entry>;
  assert.deepEqual(
    [
      afterAlter['retention.ms']!.value,
      afterAlter['max.message.bytes']!.value,
      afterAlter['max.message.bytes']!.source,
    ],
    ['7200000', '2000000', DYNAMIC_TOPIC_CONFIG],
  );
  const brokerConfigs = out.describe_broker as unknown as Record<string, Entry>;
  assert.deepEqual(
    [
      brokerConfigs['log.retention.hours']!.value,
      brokerConfigs['log.retention.hours']!.source,
      brokerConfigs['log.retention.hours']!.read_only,
    ],
    ['48', STATIC_BROKER_CONFIG, true],
  );
  assert.equal(brokerConfigs['num.io.threads']!.value, '1');
  assert.deepEqual(Object.values(out.alter_broker as object), ['INVALID_REQUEST']);
  assert.deepEqual(out.cluster, {
    cluster_id: broker.clusterId,
    controller_id: broker.config.nodeId,
    brokers: [[broker.config.nodeId, '127.0.0.1', Number(proxy.bootstrap.split(':')[1])]],
  });
  assert.deepEqual(out.delete, { 'ck-main': null });
  assert.deepEqual(out.delete_again, { 'ck-main': 'UNKNOWN_TOPIC_OR_PART' });
  assert.deepEqual(out.topics_after_delete, []);
  t.diagnostic(`confluent-kafka negotiated: ${versionsSeen('confluent-kafka').join(', ')}`);
});
