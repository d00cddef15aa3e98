// A clean restart (broker.stop(), then Broker.start on the same data dir) keeps everything: topics with
// their ids and partition counts, topic configs (set at creation and altered later), every record, the next
// offset, and the configs' effect (max.message.bytes still enforced). The second start uses a different
// num.io.threads, so partitions land on other workers than the ones that wrote them.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { ZERO_UUID } from '../../src/protocol/messages/common.js';
import { CreateTopics } from '../../src/protocol/messages/create-topics.js';
import { DescribeConfigs } from '../../src/protocol/messages/describe-configs.js';
import { IncrementalAlterConfigs } from '../../src/protocol/messages/incremental-alter-configs.js';
import { ListOffsets } from '../../src/protocol/messages/list-offsets.js';
import { Metadata } from '../../src/protocol/messages/metadata.js';
import { CompressionType } from '../../src/protocol/records/record-batch.js';
import { Broker } from '../../src/server/broker.js';
import { testLogger } from '../tools/broker-harness.js';
import { produce, readPartition, recordBatch, type FetchedRecord } from '../tools/raw-client.js';
import { WireClient } from '../tools/wire-client.js';

const TOPIC_RESOURCE = 2;
/** DescribeConfigs v1+ config source of a topic override (DYNAMIC_TOPIC_CONFIG). */
const TOPIC_CONFIG_SOURCE = 1;
const dataDir = mkdtempSync(join(tmpdir(), 'fjord-restart-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

const CONFIGS = { 'retention.ms': '86400000', 'max.message.bytes': '4000', 'segment.bytes': '10000' };

async function withClient<T>(broker: Broker, run: (client: WireClient) => Promise<T>): Promise<T> {
  const client = await WireClient.connect(broker.port);
  try {
    return await run(client);
  } finally {
    client.close();
  }
}

async function describeTopic(client: WireClient, topic: string) {
  const response = await client.send(Metadata, 12, {
    topics: [{ name: topic, topicId: ZERO_UUID }],
    allowAutoTopicCreation: false,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false,
  });
  const found = response.topics[0]!;
  return { errorCode: found.errorCode, topicId: found.topicId, partitions: found.partitions.length };
}

/** The topic overrides, name -> value. */
async function topicOverrides(client: WireClient, topic: string): Promise<Record<string, string | null>> {
  const response = await client.send(DescribeConfigs, 4, {
    resources: [{ resourceType: TOPIC_RESOURCE, resourceName: topic, configurationKeys: null }],
    includeSynonyms: false,
    includeDocumentation: false,
  });
  const result = response.results[0]!;
  assert.equal(result.errorCode, ErrorCode.NONE);
  return Object.fromEntries(
    result.configs.filter((c) => c.configSource === TOPIC_CONFIG_SOURCE).map((c) => [c.name, c.value]),
  );
}

async function latestOffsets(client: WireClient, topic: string, partitions: number): Promise<number[]> {
  const response = await client.send(ListOffsets, 7, {
    replicaId: -1,
    isolationLevel: 0,
    timeoutMs: 1000,
    topics: [
      {
        name: topic,
        partitions: Array.from({ length: partitions }, (_, partitionIndex) => ({
          partitionIndex,
          currentLeaderEpoch: -1,
          timestamp: -1n,
          maxNumOffsets: 1,
        })),
      },
    ],
  });
  return response.topics[0]!.partitions.map((p) => Number(p.offset));
}

test('topics, topic configs and records survive a clean restart (num.io.threads 2, then 1)', async () => {
  const written = new Map<string, FetchedRecord[]>();
  const remember = (topic: string, partition: number, records: FetchedRecord[]) =>
    written.set(`${topic}-${partition}`, [...(written.get(`${topic}-${partition}`) ?? []), ...records]);

  let broker = await Broker.start({ dataDir, port: 0, config: { 'num.io.threads': '2' }, log: testLogger() });
  let before: { topicId: string; partitions: number };
  try {
    before = await withClient(broker, async (client) => {
      const created = await client.send(CreateTopics, 7, {
        topics: [
          {
            name: 'configured',
            numPartitions: 3,
            replicationFactor: 1,
            assignments: [],
            configs: Object.entries(CONFIGS).map(([name, value]) => ({ name, value })),
          },
        ],
        timeoutMs: 5000,
        validateOnly: false,
      });
      assert.equal(created.topics[0]!.errorCode, ErrorCode.NONE, created.topics[0]!.errorMessage ?? '');
      const altered = await client.send(IncrementalAlterConfigs, 1, {
        resources: [
          {
            resourceType: TOPIC_RESOURCE,
            resourceName: 'configured',
            configs: [
              { name: 'cleanup.policy', configOperation: 0, value: 'compact,delete' },
              { name: 'retention.ms', configOperation: 1, value: null },
            ],
          },
        ],
        validateOnly: false,
      });
      assert.equal(altered.responses[0]!.errorCode, ErrorCode.NONE);
      // Enough records per partition to roll 10 kB segments, in three codecs.
      for (let round = 0; round < 12; round++) {
        for (let partition = 0; partition < 3; partition++) {
          const records = Array.from({ length: 20 }, (_, i) => ({
            key: `k${round}-${i}`,
            value: `p${partition} round ${round} record ${i} `.repeat(6),
          }));
          const codec = [CompressionType.NONE, CompressionType.GZIP, CompressionType.ZSTD][round % 3];
          const answer = await produce(client, 'configured', partition, await recordBatch(records, codec));
          assert.equal(answer.errorCode, ErrorCode.NONE);
          remember(
            'configured',
            partition,
            records.map((r, i) => ({ ...r, offset: Number(answer.baseOffset) + i })),
          );
        }
      }
      return describeTopic(client, 'configured');
    });
  } finally {
    await broker.stop();
  }
  assert.equal(before.partitions, 3);
  const segments = readdirSync(join(dataDir, 'configured-0')).filter((name) => name.endsWith('.log'));
  assert.ok(segments.length >= 2, `segment.bytes=10000 rolled segments: ${segments.join(', ')}`);

  broker = await Broker.start({ dataDir, port: 0, config: { 'num.io.threads': '1' }, log: testLogger() });
  try {
    await withClient(broker, async (client) => {
      const after = await describeTopic(client, 'configured');
      assert.deepEqual(after, { errorCode: ErrorCode.NONE, ...before }, 'same topic id and partition count');
      assert.deepEqual(await topicOverrides(client, 'configured'), {
        'max.message.bytes': '4000',
        'segment.bytes': '10000',
        'cleanup.policy': 'compact,delete',
      });
      for (let partition = 0; partition < 3; partition++) {
        assert.deepEqual(
          await readPartition(client, 'configured', partition),
          written.get(`configured-${partition}`),
          `partition ${partition}`,
        );
      }
      assert.deepEqual(await latestOffsets(client, 'configured', 3), [240, 240, 240]);
      // The configs still act: max.message.bytes=4000 refuses a bigger batch; offsets continue where they were.
      const big = await produce(
        client,
        'configured',
        1,
        await recordBatch([{ key: 'big', value: 'x'.repeat(5000) }]),
      );
      assert.equal(big.errorCode, ErrorCode.MESSAGE_TOO_LARGE);
      const next = await produce(
        client,
        'configured',
        1,
        await recordBatch([{ key: 'next', value: 'after restart' }]),
      );
      assert.deepEqual([next.errorCode, Number(next.baseOffset)], [ErrorCode.NONE, 240]);
    });
  } finally {
    await broker.stop();
  }
});
