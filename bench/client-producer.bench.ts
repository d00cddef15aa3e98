// Producer throughput, Fjord's client against kafkajs 2.2.4, both sending to the same Fjord broker (in a
// child process, bench/client-bench-broker.ts, so it does not share the clients' event loop) in the same run:
// records/s for 100 B and 1 KiB values, acks=all, no compression, a 4-partition topic, keyless records, and
// the client process's CPU time per record (user+system; steadier than rates on a shared machine). Ours: one send() per record, batched by the producer (linger.ms 5, batch.size 64 KiB).
// kafkajs: its idiomatic send({ topic, messages }) with 1000 messages per call and 4 calls in flight.
// node-rdkafka (librdkafka 2.0.2 underneath; installed on demand by scripts/install-node-rdkafka.sh): produce()
// per record with delivery reports, the same linger and batch size; its CPU time includes librdkafka's threads.
// Each measurement follows a warm-up of the same client; a broker restart is not part of it.
//
//   npx tsx bench/client-producer.bench.ts           (compiled: node dist/bench/client-producer.bench.js)
//   BENCH_RECORDS=200000 npx tsx bench/client-producer.bench.ts   (records per measurement; default 100000)
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';
import { Admin } from '../src/client/admin/admin.js';
import { Producer } from '../src/client/producer/producer.js';
import { startClientBenchBroker } from './bench-tools.js';

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

/**
 * Ours again, without the caller's window: send() for every record, awaiting waitForRoom() only when a send
 * waits for buffer room, so buffer.memory (4 MiB here) alone bounds what is held. Also reports the most
 * record bytes the producer held.
 */
async function oursBuffered(
  bootstrap: string,
  topic: string,
  value: Buffer,
  count: number,
): Promise<Result & { peakBuffered: number; waits: number }> {
  const bufferMemory = 4 * 1024 * 1024;
  const producer = new Producer({
    brokers: [bootstrap],
    acks: 'all',
    batchSize: 65_536,
    bufferMemory,
    logger: { warn() {} },
  });
  await producer.send({ topic, value });
  let peakBuffered = 0;
  let waits = 0;
  const result = await measure(async () => {
    let last: Promise<unknown> = Promise.resolve();
    for (let i = 0; i < count; i++) {
      last = producer.send({ topic, value });
      if (producer.blockedSends > 0) {
        peakBuffered = Math.max(peakBuffered, producer.bufferedBytes);
        waits++;
        await producer.waitForRoom();
      }
    }
    await last;
    await producer.flush();
    return count;
  });
  await producer.close();
  return { ...result, peakBuffered, waits };
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

interface RdkafkaProducer {
  connect(options: object, callback: (error: unknown) => void): void;
  disconnect(callback: () => void): void;
  produce(topic: string, partition: null, value: Buffer, key: null): void;
  setPollInterval(ms: number): void;
  poll(): void;
  on(event: 'delivery-report', listener: (error: unknown) => void): void;
}
type RdkafkaModule = { Producer: new (config: object) => RdkafkaProducer };

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

async function rdkafka(
  kafka: RdkafkaModule,
  bootstrap: string,
  topic: string,
  value: Buffer,
  count: number,
): Promise<Result> {
  const producer = new kafka.Producer({
    'metadata.broker.list': bootstrap,
    'request.required.acks': -1,
    'linger.ms': 5,
    'batch.size': 65_536,
    'queue.buffering.max.messages': 200_000,
    dr_cb: true,
  });
  await new Promise<void>((resolve, reject) =>
    producer.connect({}, (error) => (error ? reject(error) : resolve())),
  );
  producer.setPollInterval(5);
  let delivered = 0;
  let failed = 0;
  let onDelivered: (() => void) | undefined;
  producer.on('delivery-report', (error) => {
    if (error) failed++;
    delivered++;
    onDelivered?.();
  });
  const produceAll = async (n: number) => {
    const target = delivered + n;
    for (let i = 0; i < n; i++) {
      for (;;) {
        try {
          producer.produce(topic, null, value, null);
          break;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 1)); // local queue full: let deliveries drain
        }
      }
    }
    while (delivered < target) await new Promise<void>((resolve) => (onDelivered = resolve));
    onDelivered = undefined;
  };
  await produceAll(1); // connect + metadata outside the timing
  const result = await measure(async () => {
    await produceAll(count);
    return count;
  });
  await new Promise<void>((resolve) => producer.disconnect(() => resolve()));
  if (failed > 0) throw new Error(`node-rdkafka: ${failed} delivery failures`);
  return result;
}

async function main(): Promise<void> {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  const broker = await startClientBenchBroker();
  try {
    const admin = new Admin({ brokers: [broker.bootstrap] });
    const topics = [100, 1024].flatMap((size) =>
      ['ours', 'buffered', 'theirs', 'rd'].map((name) => `${name}-${size}`),
    );
    await admin.createTopics(topics.map((topic) => ({ topic, numPartitions: 4 })));
    await admin.close();
    console.log(
      `client producer benchmark: ${RECORDS} records per run, acks=all, 4 partitions, ${cpus().length} cores ` +
        `(${cpus()[0]?.model ?? '?'}), load average ${loadavg()[0]!.toFixed(1)}`,
    );
    const rd = loadRdkafka();
    for (const size of [100, 1024]) {
      const value = Buffer.alloc(size, 0x61);
      // Warm-ups (JIT, connections), then the measured runs.
      await ours(broker.bootstrap, `ours-${size}`, value, Math.min(RECORDS, 20_000));
      await theirs(broker.bootstrap, `theirs-${size}`, value, Math.min(RECORDS, 20_000));
      if (rd) await rdkafka(rd, broker.bootstrap, `rd-${size}`, value, Math.min(RECORDS, 20_000));
      await oursBuffered(broker.bootstrap, `buffered-${size}`, value, Math.min(RECORDS, 20_000));
      const a = await ours(broker.bootstrap, `ours-${size}`, value, RECORDS);
      const d = await oursBuffered(broker.bootstrap, `buffered-${size}`, value, RECORDS);
      const b = await theirs(broker.bootstrap, `theirs-${size}`, value, RECORDS);
      const c = rd ? await rdkafka(rd, broker.bootstrap, `rd-${size}`, value, RECORDS) : undefined;
      const rate = (r: Result) => Math.round(r.perSecond).toLocaleString('en-US').padStart(9);
      const cpu = (r: Result) => r.cpuMicrosPerRecord.toFixed(2).padStart(6);
      console.log(
        `${String(size).padStart(5)} B  fjord ${rate(a)} rec/s ${cpu(a)} µs CPU/rec   ` +
          `kafkajs ${rate(b)} rec/s ${cpu(b)} µs CPU/rec (fjord ${(a.perSecond / b.perSecond).toFixed(2)}x)` +
          (c
            ? `   node-rdkafka ${rate(c)} rec/s ${cpu(c)} µs CPU/rec (fjord ${(a.perSecond / c.perSecond).toFixed(2)}x)`
            : ''),
      );
      console.log(
        `${String(size).padStart(5)} B  fjord, no caller window, buffer.memory 4 MiB: ${rate(d)} rec/s ` +
          `${cpu(d)} µs CPU/rec, ${d.waits} waits for room, at most ${d.peakBuffered} bytes buffered`,
      );
    }
  } finally {
    await broker.stop();
  }
}

await main();
