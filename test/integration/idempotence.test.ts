// Idempotent producers under failure: confluent-kafka (librdkafka, enable.idempotence=true) and kafkajs
// (idempotent: true) each send 10 000 records through a proxy that swallows every 5th Produce response and
// cuts the connection, while the broker is restarted twice on the same data dir and port. Every record must
// then be in the log exactly once, in send order within its partition, at the offset its client was told.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CreateTopics } from '../../src/protocol/messages/create-topics.js';
import { Broker } from '../../src/server/broker.js';
import { testLogger, runPython, sleep } from '../tools/broker-harness.js';
import { startChaosProxy, type ChaosProxy } from '../tools/chaos-proxy.js';
import { readPartition } from '../tools/raw-client.js';
import { WireClient } from '../tools/wire-client.js';

const require = createRequire(import.meta.url);
const { Kafka, logLevel } = require('kafkajs') as typeof import('kafkajs');

const COUNT = 10_000;
const PARTITIONS = 4;

let dataDir: string;
let broker: Broker;
let proxy: ChaosProxy;
let restarts = 0;
let config: Record<string, string>;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'fjord-idempotence-'));
  proxy = await startChaosProxy({ upstreamPort: 1, cutProduceResponseEvery: 5 });
  config = {
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${proxy.port}`,
    'offsets.topic.num.partitions': '1',
    // Small segments: restarts then load producer state from roll snapshots plus a replay of the log.
    'log.segment.bytes': String(64 * 1024),
  };
  broker = await Broker.start({ dataDir, port: 0, config, log: testLogger() });
  proxy.setUpstream(broker.port);
});

after(async () => {
  await proxy.stop();
  await broker.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function restartBroker(): Promise<void> {
  const port = broker.port;
  await broker.stop();
  proxy.cutAll();
  broker = await Broker.start({ dataDir, port, config, log: testLogger() });
  proxy.setUpstream(broker.port);
  restarts++;
}

async function createTopic(topic: string): Promise<void> {
  const client = await WireClient.connect(broker.port);
  try {
    const response = await client.send(CreateTopics, 7, {
      topics: [
        { name: topic, numPartitions: PARTITIONS, replicationFactor: 1, assignments: [], configs: [] },
      ],
      timeoutMs: 5000,
      validateOnly: false,
    });
    assert.equal(response.topics[0]!.errorCode, 0);
  } finally {
    client.close();
  }
}

/** Restarts the broker after the proxy has seen `at` Produce responses, for each `at`, while `work` runs. */
async function withRestarts<T>(work: Promise<T>, at: number[]): Promise<T> {
  let done = false;
  const result = work.finally(() => {
    done = true;
  });
  const base = proxy.produceResponses;
  for (const threshold of at) {
    while (!done && proxy.produceResponses - base < threshold) await sleep(20);
    if (done) break;
    await restartBroker();
  }
  return result;
}

/** Checks the log against what the client was told: value i exactly once, at acks[i], in order per partition. */
async function checkExactlyOnce(topic: string, acks: ([number, number] | null)[]): Promise<void> {
  const client = await WireClient.connect(broker.port);
  const seen = new Map<number, { partition: number; offset: number }>();
  try {
    for (let partition = 0; partition < PARTITIONS; partition++) {
      let previous = -1;
      for (const record of await readPartition(client, topic, partition)) {
        const value = Number(record.value);
        assert.ok(!seen.has(value), `record ${value} is in the log twice`);
        assert.ok(value > previous, `partition ${partition}: ${value} after ${previous}`);
        previous = value;
        seen.set(value, { partition, offset: record.offset });
      }
    }
  } finally {
    client.close();
  }
  assert.equal(seen.size, COUNT);
  for (let i = 0; i < COUNT; i++) {
    const found = seen.get(i);
    assert.ok(found, `record ${i} is missing`);
    assert.deepEqual(acks[i], [found.partition, found.offset], `record ${i}: acknowledged at ${acks[i]}`);
  }
}

test('confluent-kafka enable.idempotence=true: lost responses and broker restarts leave every record exactly once', async () => {
  const topic = 'idempotence-librdkafka';
  await createTopic(topic);
  const cutsBefore = proxy.cuts;
  const restartsBefore = restarts;
  const result = await withRestarts(
    runPython<{ acks: ([number, number] | null)[]; errors: string[] }>(
      'idempotent_producer.py',
      { bootstrap: proxy.bootstrap, topic, count: COUNT, pause_every: 250, pause_ms: 40 },
      180_000,
    ),
    [10, 30],
  );
  assert.deepEqual(result.errors, []);
  assert.ok(proxy.cuts - cutsBefore >= 3, `only ${proxy.cuts - cutsBefore} responses were lost`);
  assert.equal(restarts - restartsBefore, 2);
  await checkExactlyOnce(topic, result.acks);
});

test('kafkajs idempotent: true: lost responses and broker restarts leave every record exactly once', async () => {
  const topic = 'idempotence-kafkajs';
  await createTopic(topic);
  const kafka = new Kafka({
    clientId: 'idempotence-test',
    brokers: [proxy.bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 30, initialRetryTime: 50, maxRetryTime: 1000 },
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const cutsBefore = proxy.cuts;
  const restartsBefore = restarts;
  const acks: ([number, number] | null)[] = new Array(COUNT).fill(null);
  const send = async () => {
    for (let start = 0; start < COUNT; start += 100) {
      const messages = [];
      for (let i = start; i < start + 100; i++) {
        messages.push({ key: `k${i % 97}`, value: String(i), partition: i % PARTITIONS });
      }
      const metadata = await producer.send({ topic, acks: -1, messages });
      // kafkajs reports one base offset per partition; its messages for that partition follow in send order.
      const next = new Map(metadata.map((m) => [m.partition, Number(m.baseOffset)]));
      for (let i = start; i < start + 100; i++) {
        const partition = i % PARTITIONS;
        const offset = next.get(partition)!;
        acks[i] = [partition, offset];
        next.set(partition, offset + 1);
      }
    }
  };
  try {
    await withRestarts(send(), [15, 45]);
  } finally {
    await producer.disconnect();
  }
  assert.ok(proxy.cuts - cutsBefore >= 3, `only ${proxy.cuts - cutsBefore} responses were lost`);
  assert.equal(restarts - restartsBefore, 2);
  await checkExactlyOnce(topic, acks);
});
