// Producer throughput, Fjord's client against kafkajs 2.2.4, both sending to the same Fjord broker (in a
// child process, bench/client-bench-broker.ts, so it does not share the clients' event loop) in the same run:
// records/s for 100 B and 1 KiB values, acks=all, no compression, a 4-partition topic, keyless records, and
// the client process's CPU time per record (user+system; steadier than rates on a shared machine). Ours: one send() per record, batched by the producer (linger.ms 5, batch.size 64 KiB).
// kafkajs: its idiomatic send({ topic, messages }) with 1000 messages per call and 4 calls in flight.
// Each measurement follows a warm-up of the same client; a broker restart is not part of it.
//
//   npx tsx bench/client-producer.bench.ts           (compiled: node dist/bench/client-producer.bench.js)
//   BENCH_RECORDS=200000 npx tsx bench/client-producer.bench.ts   (records per measurement; default 100000)
import { fork } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { extname } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';
import { Admin } from '../src/client/admin/admin.js';
import { Producer } from '../src/client/producer/producer.js';

const { Kafka, logLevel } = kafkajs;
const RECORDS = Number(process.env.BENCH_RECORDS ?? 100_000);

interface Result {
  perSecond: number;
  cpuMicrosPerRecord: number;
}

async function measure(run: () => Promise<number>): Promise<Result> {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const sent = await run();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  return { perSecond: sent / seconds, cpuMicrosPerRecord: (used.user + used.system) / sent };
}

async function ours(bootstrap: string, topic: string, value: Buffer, count: number): Promise<Result> {
  const producer = new Producer({
    brokers: [bootstrap],
    acks: 'all',
    batchSize: 65_536,
    logger: { warn() {} },
  });
  await producer.send({ topic, value }); // connect + metadata outside the timing
  const result = await measure(async () => {
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
    return count;
  });
  await producer.close();
  return result;
}

async function theirs(bootstrap: string, topic: string, value: Buffer, count: number): Promise<Result> {
  const kafka = new Kafka({ brokers: [bootstrap], logLevel: logLevel.NOTHING, clientId: 'bench' });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: [{ value }] });
  const perCall = 1000;
  const inFlight = 4;
  const messages = Array.from({ length: perCall }, () => ({ value }));
  const result = await measure(async () => {
    let sent = 0;
    const worker = async () => {
      while (sent < count) {
        sent += perCall;
        await producer.send({ topic, acks: -1, messages });
      }
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
    return sent;
  });
  await producer.disconnect();
  return result;
}

async function startBroker(): Promise<{ bootstrap: string; stop(): Promise<void> }> {
  const here = fileURLToPath(import.meta.url);
  const child = fork(new URL(`./client-bench-broker${extname(here)}`, import.meta.url), [], {
    stdio: ['pipe', 'pipe', 'inherit', 'ipc'],
  });
  const port = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`broker child exited with ${code}`)));
  });
  return {
    bootstrap: `127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.stdin!.end();
      }),
  };
}

async function main(): Promise<void> {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  const broker = await startBroker();
  try {
    const admin = new Admin({ brokers: [broker.bootstrap] });
    const topics = ['ours-100', 'theirs-100', 'ours-1024', 'theirs-1024'];
    await admin.createTopics(topics.map((topic) => ({ topic, numPartitions: 4 })));
    await admin.close();
    console.log(
      `client producer benchmark: ${RECORDS} records per run, acks=all, 4 partitions, ${cpus().length} cores ` +
        `(${cpus()[0]?.model ?? '?'}), load average ${loadavg()[0]!.toFixed(1)}`,
    );
    for (const size of [100, 1024]) {
      const value = Buffer.alloc(size, 0x61);
      // Warm-ups (JIT, connections), then the measured runs.
      await ours(broker.bootstrap, `ours-${size}`, value, Math.min(RECORDS, 20_000));
      await theirs(broker.bootstrap, `theirs-${size}`, value, Math.min(RECORDS, 20_000));
      const a = await ours(broker.bootstrap, `ours-${size}`, value, RECORDS);
      const b = await theirs(broker.bootstrap, `theirs-${size}`, value, RECORDS);
      const rate = (r: Result) => Math.round(r.perSecond).toLocaleString('en-US').padStart(9);
      const cpu = (r: Result) => r.cpuMicrosPerRecord.toFixed(2).padStart(6);
      console.log(
        `${String(size).padStart(5)} B  fjord ${rate(a)} rec/s ${cpu(a)} µs CPU/rec   ` +
          `kafkajs ${rate(b)} rec/s ${cpu(b)} µs CPU/rec   rate ${(a.perSecond / b.perSecond).toFixed(2)}x`,
      );
    }
  } finally {
    await broker.stop();
  }
}

await main();
