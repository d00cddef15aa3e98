// Test harness for the client suite: the two brokers it runs against (Fjord embedded, librdkafka's mock
// cluster), and a reader that fetches a partition back with raw Fetch requests, so producer tests do not
// depend on a consumer.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker } from '../../src/server/broker.js';
import { Admin } from '../../src/client/admin/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import { Fetch } from '../../src/protocol/messages/index.js';
import {
  decodeRecordBatch,
  iterateBatches,
  type RecordBatchHeader,
} from '../../src/protocol/records/record-batch.js';
import type { Logger } from '../../src/util/logger.js';
import { startMockCluster } from '../tools/mock-cluster.js';

export interface TopicSpec {
  name: string;
  partitions: number;
}

export interface Target {
  bootstrap: string;
  stop(): Promise<void>;
}

export interface BrokerKind {
  name: 'fjord' | 'mock';
  start(topics: TopicSpec[]): Promise<Target>;
}

const quiet: Logger = { info() {}, warn() {}, error() {}, debug() {} };

/** Broker settings for client tests: one __consumer_offsets partition keeps start-up short. */
export const TEST_BROKER_CONFIG: Record<string, string> = { 'offsets.topic.num.partitions': '1' };

export const brokerKinds: BrokerKind[] = [
  {
    name: 'fjord',
    async start(topics) {
      const dataDir = mkdtempSync(join(tmpdir(), 'fjord-client-'));
      const broker = await Broker.start({ dataDir, port: 0, log: quiet, config: TEST_BROKER_CONFIG });
      if (topics.length > 0) {
        const admin = new Admin({ brokers: [broker.bootstrap] });
        await admin.createTopics(topics.map((t) => ({ topic: t.name, numPartitions: t.partitions })));
        await admin.close();
      }
      return {
        bootstrap: broker.bootstrap,
        async stop() {
          await broker.stop();
          rmSync(dataDir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'mock',
    async start(topics) {
      const cluster = await startMockCluster({
        topics: topics.map((t) => ({ name: t.name, partitions: t.partitions })),
      });
      return { bootstrap: cluster.bootstrap, stop: () => cluster.stop() };
    },
  },
];

export interface ReadRecord {
  offset: number;
  timestamp: number;
  key: string | null;
  value: string | null;
  headers: [string, string | null][];
}

export interface ReadBatch {
  header: RecordBatchHeader;
  records: ReadRecord[];
}

/** Every batch of one partition from offset `from` (default 0) to the high watermark, with records decoded. */
export async function readBatches(
  bootstrap: string,
  topic: string,
  partition: number,
  from = 0,
): Promise<ReadBatch[]> {
  const cluster = new Cluster({ brokers: [bootstrap], retries: 3 });
  try {
    await cluster.topicMetadata(topic);
    const leader = cluster.leaderFor(topic, partition)!;
    const connection = await cluster.connection(leader);
    // v13+ addresses topics by id; name-addressed versions keep this helper simple.
    const version = Math.min(12, connection.versionFor(Fetch)!);
    const out: ReadBatch[] = [];
    let offset = from;
    for (let round = 0; round < 1000; round++) {
      const response = await connection.request(
        Fetch,
        {
          clusterId: null,
          replicaId: -1,
          replicaState: { replicaId: -1, replicaEpoch: -1n },
          maxWaitMs: 0,
          minBytes: 1,
          maxBytes: 64 << 20,
          isolationLevel: 0,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [
            {
              topic,
              topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
              partitions: [
                {
                  partition,
                  currentLeaderEpoch: -1,
                  fetchOffset: BigInt(offset),
                  lastFetchedEpoch: -1,
                  logStartOffset: -1n,
                  partitionMaxBytes: 32 << 20,
                  replicaDirectoryId: 'AAAAAAAAAAAAAAAAAAAAAA',
                },
              ],
            },
          ],
          forgottenTopicsData: [],
          rackId: '',
        },
        { version },
      );
      const data = response.responses[0]!.partitions[0]!;
      if (data.errorCode !== 0) throw new Error(`fetch ${topic}-${partition}: error ${data.errorCode}`);
      const records = data.records ?? Buffer.alloc(0);
      let progressed = false;
      for (const { position, header } of iterateBatches(records)) {
        const decoded = await decodeRecordBatch(records, position, { verifyCrc: true });
        if (header.baseOffset + header.lastOffsetDelta < offset) continue;
        out.push({
          header,
          records: decoded.records
            .filter((r) => r.offset >= offset)
            .map((r) => ({
              offset: r.offset,
              timestamp: r.timestamp,
              key: r.key === null ? null : r.key.toString('utf8'),
              value: r.value === null ? null : r.value.toString('utf8'),
              headers: r.headers.map((h) => [h.key, h.value === null ? null : h.value.toString('utf8')]),
            })),
        });
        offset = header.baseOffset + header.lastOffsetDelta + 1;
        progressed = true;
      }
      if (!progressed || offset >= Number(data.highWatermark)) break;
    }
    return out;
  } finally {
    cluster.close();
  }
}

/** Every record of one partition (from offset `from`, default 0). */
export async function readAll(
  bootstrap: string,
  topic: string,
  partition: number,
  from = 0,
): Promise<ReadRecord[]> {
  return (await readBatches(bootstrap, topic, partition, from)).flatMap((b) => b.records);
}
