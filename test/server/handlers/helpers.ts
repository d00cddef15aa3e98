// An embedded broker in a temp dir with a wire client, for handler tests; restart() keeps the data dir.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTopics } from '../../../src/protocol/messages/create-topics.js';
import { Produce } from '../../../src/protocol/messages/produce.js';
import { buildRecordBatchSync } from '../../../src/protocol/records/record-batch.js';
import { Broker } from '../../../src/server/broker.js';
import { SILENT_LOGGER } from '../../../src/util/logger.js';
import { WireClient } from '../../tools/wire-client.js';

export interface TestBroker {
  broker: Broker;
  client: WireClient;
  dataDir: string;
  /** Clean stop and start on the same data dir; `client` is replaced by a new connection. */
  restart(): Promise<void>;
  /** Stops the broker and removes the data dir. */
  close(): Promise<void>;
}

export async function startTestBroker(config: Record<string, string> = {}): Promise<TestBroker> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fjord-handler-'));
  const start = () =>
    Broker.start({
      dataDir,
      port: 0,
      // One __consumer_offsets partition instead of 50 makes start-up faster.
      config: { 'num.io.threads': '1', 'offsets.topic.num.partitions': '1', ...config },
      log: SILENT_LOGGER,
    });
  const broker = await start();
  const state: TestBroker = {
    broker,
    client: await WireClient.connect(broker.port),
    dataDir,
    async restart() {
      state.client.close();
      await state.broker.stop();
      state.broker = await start();
      state.client = await WireClient.connect(state.broker.port);
    },
    async close() {
      state.client.close();
      await state.broker.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return state;
}

/** Produces one uncompressed batch of `values` (acks=1) and returns the partition's result. */
export async function produce(
  client: WireClient,
  topic: string,
  partition: number,
  values: (string | Buffer)[],
): Promise<{ errorCode: number; baseOffset: bigint }> {
  const records = buildRecordBatchSync(
    values.map((v) => ({ key: null, value: typeof v === 'string' ? Buffer.from(v) : v })),
  );
  const response = await client.send(Produce, 7, {
    transactionalId: null,
    acks: 1,
    timeoutMs: 5000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
  });
  const result = response.responses[0]!.partitionResponses[0]!;
  return { errorCode: result.errorCode, baseOffset: result.baseOffset };
}

/** Creates topics with `partitions` partitions each and checks that it worked. */
export async function createTopics(
  client: WireClient,
  names: string[],
  partitions = 1,
  configs: Record<string, string> = {},
): Promise<string[]> {
  const response = await client.send(CreateTopics, 7, {
    topics: names.map((name) => ({
      name,
      numPartitions: partitions,
      replicationFactor: 1,
      assignments: [],
      configs: Object.entries(configs).map(([n, value]) => ({ name: n, value })),
    })),
    timeoutMs: 5000,
    validateOnly: false,
  });
  for (const r of response.topics) {
    if (r.errorCode !== 0) throw new Error(`creating ${r.name}: error ${r.errorCode} ${r.errorMessage}`);
  }
  return response.topics.map((r) => r.topicId);
}
