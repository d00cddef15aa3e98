// Producer throughput, Fjord's client against kafkajs 2.2.4, both sending to the same embedded Fjord broker
// in the same run: records/s for 100 B and 1 KiB values, acks=all, no compression, a 4-partition topic,
// keyless records. Ours: one send() per record, batched by the producer (linger.ms 5, batch.size 64 KiB).
// kafkajs: its idiomatic send({ topic, messages }) with 1000 messages per call and 4 calls in flight.
// Each measurement follows a warm-up of the same client; a broker restart is not part of it.
//
//   npx tsx bench/client-producer.bench.ts           (compiled: node dist/bench/client-producer.bench.js)
//   BENCH_RECORDS=200000 npx tsx bench/client-producer.bench.ts   (records per measurement; default 100000)
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { Broker } from '../src/server/broker.js';
import { Admin } from '../src/client/admin/admin.js';
import { Producer } from '../src/client/producer/producer.js';
import type { Logger } from '../src/util/logger.js';

const { Kafka, logLevel } = kafkajs;
const RECORDS = Number(process.env.BENCH_RECORDS ?? 100_000);
const quiet: Logger = { info() {}, warn() {}, error() {}, debug() {} };

async function ours(bootstrap: string, topic: string, value: Buffer, count: number): Promise<number> {
  const producer = new Producer({
    brokers: [bootstrap],
    acks: 'all',
    batchSize: 65_536,
    logger: { warn() {} },
  });
  await producer.send({ topic, value }); // connect + metadata outside the timing
  const start = process.hrtime.bigint();
  const window = 20_000; // bound memory: at most this many records outstanding
  let pending: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    pending.push(producer.send({ topic, value }));
    if (pending.length === window) {
      await Promise.all(pending);
      pending = [];
    }
  }
  await Promise.all(pending);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await producer.close();
  return count / seconds;
}

async function theirs(bootstrap: string, topic: string, value: Buffer, count: number): Promise<number> {
  const kafka = new Kafka({ brokers: [bootstrap], logLevel: logLevel.NOTHING, clientId: 'bench' });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: [{ value }] });
  const perCall = 1000;
  const inFlight = 4;
  const messages = Array.from({ length: perCall }, () => ({ value }));
  const start = process.hrtime.bigint();
  let sent = 0;
  const worker = async () => {
    while (sent < count) {
      sent += perCall;
      await producer.send({ topic, acks: -1, messages });
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await producer.disconnect();
  return sent / seconds;
}

async function main(): Promise<void> {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  const dataDir = mkdtempSync(join(tmpdir(), 'fjord-bench-client-'));
  const broker = await Broker.start({
    dataDir,
    port: 0,
    log: quiet,
    config: { 'offsets.topic.num.partitions': '1' },
  });
  try {
    const admin = new Admin({ brokers: [broker.bootstrap] });
    const topics = ['ours-100', 'theirs-100', 'ours-1024', 'theirs-1024'];
    await admin.createTopics(topics.map((topic) => ({ topic, numPartitions: 4 })));
    await admin.close();
    console.log(
      `client producer benchmark: ${RECORDS} records per run, acks=all, 4 partitions, ${cpus().length} cores (${cpus()[0]?.model ?? '?'})`,
    );
    for (const size of [100, 1024]) {
      const value = Buffer.alloc(size, 0x61);
      // Warm-ups (JIT, connections), then the measured runs.
      await ours(broker.bootstrap, `ours-${size}`, value, Math.min(RECORDS, 20_000));
      await theirs(broker.bootstrap, `theirs-${size}`, value, Math.min(RECORDS, 20_000));
      const a = await ours(broker.bootstrap, `ours-${size}`, value, RECORDS);
      const b = await theirs(broker.bootstrap, `theirs-${size}`, value, RECORDS);
      console.log(
        `${String(size).padStart(5)} B  fjord ${Math.round(a).toLocaleString('en-US').padStart(10)} rec/s  ` +
          `kafkajs ${Math.round(b).toLocaleString('en-US').padStart(10)} rec/s  ratio ${(a / b).toFixed(2)}x`,
      );
    }
  } finally {
    await broker.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
