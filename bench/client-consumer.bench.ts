// Consumer throughput, Fjord's client against kafkajs 2.2.4 and node-rdkafka 3.6.1, reading the same records
// from the same Fjord broker (a child process, bench/client-bench-broker.ts) in the same run: records/s for
// 100 B and 1 KiB values from a 4-partition topic, and the client process's CPU time per record. Ours: manual
// assignment, `for await` over records and over batches(). kafkajs: a consumer group (its only mode) with
// eachBatch, from the beginning; its join and rebalance time is left out by starting the clock at its first
// batch. node-rdkafka (librdkafka 2.0.2 underneath; installed on demand by scripts/install-node-rdkafka.sh):
// manual assign() and consume(1000) in a loop, its fastest read path; its CPU time includes librdkafka's
// threads. Every client's clock starts before its first fetch and stops at the last record.
//
//   npx tsx bench/client-consumer.bench.ts           (compiled: node dist/bench/client-consumer.bench.js)
//   BENCH_RECORDS=200000 npx tsx bench/client-consumer.bench.ts   (records per topic; default 100000)
//   BENCH_NO_RDKAFKA=1 npx tsx bench/client-consumer.bench.ts     (without node-rdkafka)
//   BENCH_REPEAT=5 npx tsx bench/client-consumer.bench.ts          (rounds per client, median reported; default 3)
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';
import { Admin } from '../src/client/admin/admin.js';
import { Consumer } from '../src/client/consumer/consumer.js';
import { Producer } from '../src/client/producer/producer.js';
import { startClientBenchBroker } from './bench-tools.js';

const { Kafka, logLevel } = kafkajs;
const RECORDS = Number(process.env.BENCH_RECORDS ?? 100_000);
const PARTITIONS = 4;
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);

interface Result {
  perSecond: number;
  cpuMicrosPerRecord: number;
}

/** The median rate and the median CPU per record of several runs (each taken separately). */
function median(results: Result[]): Result {
  const mid = <T>(values: T[], by: (v: T) => number) =>
    by([...values].sort((x, y) => by(x) - by(y))[Math.floor(values.length / 2)]!);
  return {
    perSecond: mid(results, (r) => r.perSecond),
    cpuMicrosPerRecord: mid(results, (r) => r.cpuMicrosPerRecord),
  };
}

async function fill(bootstrap: string, topic: string, size: number): Promise<void> {
  const producer = new Producer({ brokers: [bootstrap], batchSize: 65_536, logger: { warn() {} } });
  const value = Buffer.alloc(size, 0x61);
  for (let done = 0; done < RECORDS; done += 20_000) {
    await Promise.all(
      Array.from({ length: Math.min(20_000, RECORDS - done) }, () => producer.send({ topic, value })),
    );
  }
  await producer.close();
}

async function ours(bootstrap: string, topic: string, mode: 'records' | 'batches'): Promise<Result> {
  const consumer = new Consumer({ brokers: [bootstrap], maxWaitMs: 100 });
  consumer.assign(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition, offset: 0 })));
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  let count = 0;
  let bytes = 0;
  if (mode === 'records') {
    for await (const record of consumer) {
      bytes += record.value?.length ?? 0;
      if (++count === RECORDS) break;
    }
  } else {
    for await (const batch of consumer.batches()) {
      for (const record of batch) bytes += record.value?.length ?? 0;
      count += batch.length;
      if (count >= RECORDS) break;
    }
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  await consumer.close();
  if (bytes === 0) throw new Error('read nothing');
  return { perSecond: count / seconds, cpuMicrosPerRecord: (used.user + used.system) / count };
}

async function theirs(bootstrap: string, topic: string): Promise<Result> {
  const kafka = new Kafka({ brokers: [bootstrap], logLevel: logLevel.NOTHING, clientId: 'bench' });
  const consumer = kafka.consumer({ groupId: `bench-${topic}-${Date.now()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let count = 0;
  let start = 0n;
  let cpu: NodeJS.CpuUsage | undefined;
  const result = await new Promise<Result>((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        if (cpu === undefined) {
          cpu = process.cpuUsage();
          start = process.hrtime.bigint();
        }
        count += batch.messages.length;
        if (count >= RECORDS) {
          const seconds = Number(process.hrtime.bigint() - start) / 1e9;
          const used = process.cpuUsage(cpu);
          resolve({ perSecond: count / seconds, cpuMicrosPerRecord: (used.user + used.system) / count });
        }
      },
    });
  });
  await consumer.disconnect();
  return result;
}

interface RdkafkaMessage {
  value: Buffer | null;
}
interface RdkafkaConsumer {
  connect(options: object, callback: (error: unknown) => void): void;
  disconnect(callback: () => void): void;
  assign(assignments: { topic: string; partition: number; offset: number }[]): void;
  consume(count: number, callback: (error: unknown, messages: RdkafkaMessage[]) => void): void;
}
type RdkafkaModule = {
  KafkaConsumer: new (config: object, topicConfig: object) => RdkafkaConsumer;
};

/** node-rdkafka from .tools/node-rdkafka, installing it there first if needed. */
function loadRdkafka(): RdkafkaModule | undefined {
  let root = dirname(fileURLToPath(import.meta.url)); // bench/ or dist/bench/
  while (!existsSync(join(root, 'binding.gyp'))) root = dirname(root);
  try {
    execFileSync('bash', ['scripts/install-node-rdkafka.sh'], { stdio: 'inherit', cwd: root });
    return createRequire(join(root, '.tools/node-rdkafka/package.json'))('node-rdkafka') as RdkafkaModule;
  } catch (error) {
    console.log(
      `node-rdkafka unavailable (${(error as Error).message.split('\n')[0]}): its column is left out`,
    );
    return undefined;
  }
}

async function rdkafka(kafka: RdkafkaModule, bootstrap: string, topic: string): Promise<Result> {
  const consumer = new kafka.KafkaConsumer(
    {
      'metadata.broker.list': bootstrap,
      // Needed by the constructor; assign() below never joins the group.
      'group.id': `bench-rd-${topic}-${Date.now()}`,
      'enable.auto.commit': false,
      'fetch.wait.max.ms': 100,
    },
    {},
  );
  await new Promise<void>((resolve, reject) =>
    consumer.connect({}, (error) => (error ? reject(error) : resolve())),
  );
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  consumer.assign(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition, offset: 0 })));
  let count = 0;
  let bytes = 0;
  while (count < RECORDS) {
    const messages = await new Promise<RdkafkaMessage[]>((resolve, reject) =>
      consumer.consume(1000, (error, got) => (error ? reject(error) : resolve(got))),
    );
    for (const m of messages) bytes += m.value?.length ?? 0;
    count += messages.length;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  if (bytes === 0) throw new Error('node-rdkafka read nothing');
  return { perSecond: count / seconds, cpuMicrosPerRecord: (used.user + used.system) / count };
}

async function main(): Promise<void> {
  const rd = process.env.BENCH_NO_RDKAFKA === '1' ? undefined : loadRdkafka();
  const broker = await startClientBenchBroker();
  try {
    const admin = new Admin({ brokers: [broker.bootstrap] });
    await admin.createTopics(
      [100, 1024].map((size) => ({ topic: `read-${size}`, numPartitions: PARTITIONS })),
    );
    await admin.close();
    console.log(
      `client consumer benchmark: ${RECORDS} records per run, median of ${REPEAT} runs, ${PARTITIONS} partitions, ` +
        `${cpus().length} cores ` +
        `(${cpus()[0]?.model ?? '?'}), load average ${loadavg()[0]!.toFixed(1)}`,
    );
    for (const size of [100, 1024]) {
      await fill(broker.bootstrap, `read-${size}`, size);
      const topic = `read-${size}`;
      await ours(broker.bootstrap, topic, 'records'); // warm-up
      if (rd) await rdkafka(rd, broker.bootstrap, topic); // warm-up
      // The clients take turns, REPEAT rounds, so a burst of load on a shared machine hits them alike.
      const runs: Result[][] = [[], [], [], []];
      for (let round = 0; round < REPEAT; round++) {
        runs[0]!.push(await ours(broker.bootstrap, topic, 'records'));
        runs[1]!.push(await ours(broker.bootstrap, topic, 'batches'));
        runs[2]!.push(await theirs(broker.bootstrap, topic));
        if (rd) runs[3]!.push(await rdkafka(rd, broker.bootstrap, topic));
      }
      const [a, batched, b] = runs.slice(0, 3).map(median) as [Result, Result, Result];
      const c = rd ? median(runs[3]!) : undefined;
      const rate = (r: Result) => Math.round(r.perSecond).toLocaleString('en-US').padStart(9);
      const cpu = (r: Result) => r.cpuMicrosPerRecord.toFixed(2).padStart(6);
      console.log(
        `${String(size).padStart(5)} B  fjord records ${rate(a)} rec/s ${cpu(a)} µs CPU/rec   ` +
          `fjord batches ${rate(batched)} rec/s ${cpu(batched)} µs CPU/rec   ` +
          `kafkajs ${rate(b)} rec/s ${cpu(b)} µs CPU/rec (fjord records ${(a.perSecond / b.perSecond).toFixed(2)}x)` +
          (c
            ? `   node-rdkafka ${rate(c)} rec/s ${cpu(c)} µs CPU/rec (fjord records ${(a.perSecond / c.perSecond).toFixed(2)}x)`
            : ''),
      );
    }
  } finally {
    await broker.stop();
  }
}

await main();
