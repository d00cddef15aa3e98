// End-to-end latency at fixed rates (issue 7: p99 <= 3 ms, p99.9 <= 10 ms at 100 MB/s, 1 KiB, acks=all),
// measured two ways against one Fjord broker, with what bounds it measured in the same window:
//   - `fjord perf e2e`: latency from each record's *due* time (coordinated omission corrected);
//   - rdkafka_performance -l (librdkafka 2.0.2) as an independent client: a producer stamping the wall clock
//     into each value at produce() time, and a consumer on every partition reading it back (per-message
//     latencies from -A files), plus the producer's own delivery-report latency;
//   - the broker's CPU (all threads) and the harness's, per wall second;
//   - the scheduling jitter of this machine: how late an idle Node process runs a 1 ms timer during the
//     fjord perf run. A broker cannot answer faster than the machine runs its threads.
//
//   npx tsc -p tsconfig.json && node dist/bench/e2e-latency.js
//   FJORD_E2E_RATES=1,10,20,50,100 (MB/s)  FJORD_E2E_SECONDS=5  FJORD_E2E_PARTITIONS=16  FJORD_E2E_LINGER_MS=1
//   FJORD_E2E_SKIP=rdkafka  FJORD_E2E_JSON=out.json
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PerfResult } from '../src/perf/run.js';
import {
  fjordPerf,
  load,
  percentiles,
  rdkafkaPerformance,
  startFjord,
  stopChild,
  timerJitter,
  type FjordProcess,
  type Percentiles,
} from './bench-tools.js';
import { machineDescription } from './machine-limits.js';

const RATES = (process.env.FJORD_E2E_RATES ?? '1,10,20,50,100').split(',').map(Number);
const SECONDS = Number(process.env.FJORD_E2E_SECONDS ?? 5);
const PARTITIONS = Number(process.env.FJORD_E2E_PARTITIONS ?? 16);
const LINGER_MS = Number(process.env.FJORD_E2E_LINGER_MS ?? 1);
const SKIP = new Set((process.env.FJORD_E2E_SKIP ?? '').split(',').filter(Boolean));
const RECORD = 1024;
const log = (line = ''): void => console.log(line);
const f1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : '—');
const f2 = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : '—');

interface FjordCase {
  rate: number;
  result: PerfResult;
  brokerCpu: number;
  perfCpu: number;
  jitter: Percentiles;
  load: string;
}

interface RdkafkaCase {
  rate: number;
  consumer: Percentiles;
  producer: Percentiles;
  produced: number;
  brokerCpu: number;
  load: string;
}

/** Opens the topic's partitions with an unmeasured produce (a new partition's first append costs ~1 s). */
async function prepare(broker: FjordProcess, topic: string): Promise<void> {
  await fjordPerf([
    'produce',
    '--brokers',
    broker.bootstrap,
    '--topic',
    topic,
    '--partitions',
    String(PARTITIONS),
    '--record-size',
    String(RECORD),
    '--records',
    '20000',
  ]);
}

async function fjordCase(broker: FjordProcess, rate: number): Promise<FjordCase> {
  const topic = `e2e-${rate}`;
  await prepare(broker, topic);
  const cpu0 = broker.cpuSeconds();
  const t0 = performance.now();
  const loadBefore = load();
  const [{ result, cpuSeconds }, jitter] = await Promise.all([
    fjordPerf([
      'e2e',
      '--brokers',
      broker.bootstrap,
      '--topic',
      topic,
      '--partitions',
      String(PARTITIONS),
      '--record-size',
      String(RECORD),
      '--acks',
      'all',
      '--linger-ms',
      String(LINGER_MS),
      '--rate',
      `${rate}MB/s`,
      '--duration',
      `${SECONDS}s`,
      '--warmup',
      '1s',
    ]),
    timerJitter((SECONDS + 1) * 1000),
  ]);
  const wall = (performance.now() - t0) / 1000;
  return {
    rate,
    result,
    brokerCpu: (broker.cpuSeconds() - cpu0) / wall,
    perfCpu: cpuSeconds / wall,
    jitter,
    load: loadBefore,
  };
}

/** Per-message latencies (µs, one per line) that rdkafka_performance -A wrote, in ms. */
function latencyFile(path: string): number[] {
  try {
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => Number(line) / 1000);
  } catch {
    return [];
  }
}

async function rdkafkaCase(binary: string, broker: FjordProcess, rate: number): Promise<RdkafkaCase> {
  const topic = `e2e-rdkafka-${rate}`;
  await prepare(broker, topic);
  const dir = mkdtempSync(join(tmpdir(), 'fjord-e2e-rdkafka-'));
  try {
    const partitions = Array.from({ length: PARTITIONS }, (_, p) => ['-p', String(p)]).flat();
    const consumer = spawn(
      binary,
      [
        '-C',
        '-t',
        topic,
        ...partitions,
        '-o',
        'end',
        '-l',
        '-A',
        join(dir, 'consumer.txt'),
        '-b',
        broker.bootstrap,
        '-q',
        '-X',
        'fetch.wait.max.ms=100',
      ],
      { stdio: 'ignore' },
    );
    // Time to fetch the end offsets of every partition before the producer starts.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const messagesPerSec = Math.round((rate * 1e6) / RECORD);
    const cpu0 = broker.cpuSeconds();
    const t0 = performance.now();
    const loadBefore = load();
    const producer = spawn(
      binary,
      [
        '-P',
        '-t',
        topic,
        '-s',
        String(RECORD),
        '-a',
        '-1',
        '-r',
        String(messagesPerSec),
        '-l',
        '-A',
        join(dir, 'producer.txt'),
        '-X',
        `linger.ms=${LINGER_MS}`,
        '-b',
        broker.bootstrap,
        '-q',
      ],
      { stdio: 'ignore' },
    );
    await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
    // SIGINT: the producer stops, flushes and writes its file; the consumer then drains for a second.
    await stopChild(producer, 'SIGINT', 30_000);
    const wall = (performance.now() - t0) / 1000;
    const brokerCpu = (broker.cpuSeconds() - cpu0) / wall;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await stopChild(consumer, 'SIGINT', 30_000);
    const producerLatency = latencyFile(join(dir, 'producer.txt'));
    return {
      rate,
      consumer: percentiles(latencyFile(join(dir, 'consumer.txt'))),
      producer: percentiles(producerLatency),
      produced: producerLatency.length,
      brokerCpu,
      load: loadBefore,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  log(`# End-to-end latency (${new Date().toISOString()})`);
  log(machineDescription());
  log(
    `1 KiB records, acks=all, ${PARTITIONS} partitions, linger ${LINGER_MS} ms, ${SECONDS} s per case (+1 s warm-up), ` +
      `one broker (default config, 1 __consumer_offsets partition); load average before: ${load()}`,
  );
  log();
  const broker = await startFjord();
  const fjord: FjordCase[] = [];
  const rdkafka: RdkafkaCase[] = [];
  try {
    const binary = SKIP.has('rdkafka') ? undefined : rdkafkaPerformance();
    for (const rate of RATES) {
      const c = await fjordCase(broker, rate);
      fjord.push(c);
      const l = c.result.latency!;
      log(
        `fjord perf e2e ${rate} MB/s: produced ${f1(c.result.produce!.mbPerSec)} MB/s, p50 ${f2(l.p50 / 1000)} ` +
          `p99 ${f2(l.p99 / 1000)} p99.9 ${f2(l.p999 / 1000)} max ${f2(l.max / 1000)} ms; ` +
          `idle-process timer lateness p99 ${f2(c.jitter.p99)} max ${f2(c.jitter.max)} ms`,
      );
      if (binary) {
        const r = await rdkafkaCase(binary, broker, rate);
        rdkafka.push(r);
        log(
          `rdkafka_performance -l ${rate} MB/s: consumer p50 ${f2(r.consumer.p50)} p99 ${f2(r.consumer.p99)} ` +
            `p99.9 ${f2(r.consumer.p999)} ms (${r.consumer.count} of ${r.produced})`,
        );
      }
    }
  } finally {
    await broker.stop();
  }

  log();
  log('### `fjord perf e2e` (latency from each record’s due time)');
  log();
  log(
    '| target MB/s | produced MB/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | broker CPU | harness CPU | idle-process timer lateness p99 / p99.9 / max ms | load avg |',
  );
  log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const c of fjord) {
    const l = c.result.latency!;
    log(
      `| ${c.rate} | ${f1(c.result.produce!.mbPerSec)} | ${f2(l.p50 / 1000)} | ${f2(l.p90 / 1000)} | ` +
        `${f2(l.p99 / 1000)} | ${f2(l.p999 / 1000)} | ${f2(l.max / 1000)} | ${Math.round(c.brokerCpu * 100)} % | ` +
        `${Math.round(c.perfCpu * 100)} % | ${f2(c.jitter.p99)} / ${f2(c.jitter.p999)} / ${f2(c.jitter.max)} | ${c.load} |`,
    );
  }
  if (rdkafka.length > 0) {
    log();
    log(
      '### rdkafka_performance -l (latency from produce() to the consumer; delivery report for the producer)',
    );
    log();
    log(
      '| target MB/s | consumed / produced | consumer p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | producer ack p50 / p99 ms | broker CPU | load avg |',
    );
    log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
    for (const r of rdkafka) {
      const c = r.consumer;
      log(
        `| ${r.rate} | ${c.count} / ${r.produced} | ${f2(c.p50)} | ${f2(c.p90)} | ${f2(c.p99)} | ${f2(c.p999)} | ` +
          `${f2(c.max)} | ${f2(r.producer.p50)} / ${f2(r.producer.p99)} | ${Math.round(r.brokerCpu * 100)} % | ${r.load} |`,
      );
    }
  }
  log();
  log(`load average after: ${load()}`);
  if (process.env.FJORD_E2E_JSON) {
    writeFileSync(
      process.env.FJORD_E2E_JSON,
      JSON.stringify(
        {
          machine: machineDescription(),
          partitions: PARTITIONS,
          lingerMs: LINGER_MS,
          seconds: SECONDS,
          fjord: fjord.map((c) => ({
            ...c,
            result: { produce: c.result.produce, latency: c.result.latency },
          })),
          rdkafka,
        },
        null,
        2,
      ) + '\n',
    );
  }
}

await main();
