// Issue 7's sweeps, each configuration on a broker of its own (a fresh `fjord start` child process):
//   1. partition workers (num.io.threads = 1, 2, this machine's cores) and
//   2. partitions per topic (1, 16, 256, 1000)
//      against produce throughput (rdkafka_performance and `fjord perf produce`, 1 KiB, acks=1, unthrottled)
//      and end-to-end latency (`fjord perf e2e` at a fixed rate, 1 KiB, acks=all, latency from due time);
//   3. produce throughput with flush.messages=1 (log.flush.interval.messages=1: an fdatasync per appended
//      batch) as a fraction of this machine's fdatasync-bound write rate (1 MiB writes + fdatasync, measured
//      in the same run on the same file system).
// Every case also reports the broker's CPU per wall second (all its threads, from /proc), so a figure can be
// read against what bounds it. Cases are short (FJORD_SWEEP_SECONDS each), so the sweep takes a few minutes.
//
//   npx tsc -p tsconfig.json && node dist/bench/sweeps.js
//   FJORD_SWEEP_SECONDS=3  FJORD_SWEEP_E2E_RATE=20 (MB/s)  FJORD_SWEEP_SKIP=workers,partitions,flush
//   FJORD_SWEEP_JSON=out.json
import { writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import type { PerfResult } from '../src/perf/run.js';
import {
  fjordPerf,
  load,
  rdkafkaPerformance,
  run,
  startFjord,
  timerJitter,
  type FjordProcess,
  type Percentiles,
} from './bench-tools.js';
import { fileWriteMBps, machineDescription } from './machine-limits.js';

const SECONDS = Number(process.env.FJORD_SWEEP_SECONDS ?? 3);
const E2E_RATE = Number(process.env.FJORD_SWEEP_E2E_RATE ?? 20);
const SKIP = new Set((process.env.FJORD_SWEEP_SKIP ?? '').split(',').filter(Boolean));
const RECORD = 1024;
const CORES = availableParallelism();
const log = (line = ''): void => console.log(line);
const f0 = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');
const f1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : '—');
const f2 = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : '—');
const pct = (n: number): string => (Number.isFinite(n) ? `${Math.round(n * 100)} %` : '—');

interface Throughput {
  mbPerSec: number;
  recordsPerSec: number;
  /** Broker CPU seconds per wall second while it ran. */
  brokerCpu: number;
}

interface ConfigResult {
  label: string;
  overrides: Record<string, string>;
  partitions: number;
  rdkafka?: Throughput;
  perf?: Throughput & { requests: number };
  e2e?: { result: PerfResult; brokerCpu: number; jitter: Percentiles };
  load: string;
}

/** Measures `body` with the broker's CPU per wall second over it. */
async function withCpu<T>(broker: FjordProcess, body: () => Promise<T>): Promise<[T, number]> {
  const cpu0 = broker.cpuSeconds();
  const t0 = performance.now();
  const value = await body();
  return [value, (broker.cpuSeconds() - cpu0) / ((performance.now() - t0) / 1000)];
}

/** Creates the topic and opens every partition (a partition's first append creates its files). */
async function prepare(broker: FjordProcess, topic: string, partitions: number): Promise<void> {
  await fjordPerf([
    'produce',
    '--brokers',
    broker.bootstrap,
    '--topic',
    topic,
    '--partitions',
    String(partitions),
    '--record-size',
    '100',
    // Keyed records spread each request over many partitions, so every partition gets an append (ten
    // records a partition on average: the chance that one gets none is e^-10).
    '--keys',
    `uniform:${Math.max(100, partitions * 20)}`,
    '--records',
    String(Math.max(10_000, partitions * 10)),
  ]);
}

/** rdkafka_performance -P, 1 KiB, acks=1, keyless (librdkafka spreads them over the partitions), for SECONDS. */
async function rdkafkaProduce(binary: string, broker: FjordProcess, topic: string): Promise<Throughput> {
  const args = [
    '-P',
    '-t',
    topic,
    '-s',
    String(RECORD),
    '-a',
    '1',
    '-b',
    broker.bootstrap,
    '-c',
    '2000000000',
    '-q',
  ];
  const [{ output }, brokerCpu] = await withCpu(broker, () =>
    run(binary, args, { interruptAfterMs: SECONDS * 1000, timeoutMs: SECONDS * 1000 + 60_000 }),
  );
  const matches = [
    ...output.matchAll(
      /% (\d+) messages produced \(\d+ bytes\), (\d+) delivered \(offset -?\d+, (\d+) failed\) in (\d+)ms/g,
    ),
  ];
  const last = matches[matches.length - 1];
  if (!last) throw new Error(`rdkafka_performance produce printed no summary:\n${output.slice(-2000)}`);
  if (Number(last[3]) > 0) throw new Error(`rdkafka_performance: ${last[3]} deliveries failed`);
  const delivered = Number(last[2]);
  const ms = Number(last[4]);
  return { mbPerSec: (delivered * RECORD) / 1000 / ms, recordsPerSec: (delivered * 1000) / ms, brokerCpu };
}

async function perfProduce(
  broker: FjordProcess,
  topic: string,
  partitions: number,
): Promise<Throughput & { requests: number }> {
  const [{ result }, brokerCpu] = await withCpu(broker, () =>
    fjordPerf([
      'produce',
      '--brokers',
      broker.bootstrap,
      '--topic',
      topic,
      '--partitions',
      String(partitions),
      '--record-size',
      String(RECORD),
      '--acks',
      '1',
      '--producers',
      '2',
      '--duration',
      `${SECONDS}s`,
    ]),
  );
  const p = result.produce!;
  return { mbPerSec: p.mbPerSec, recordsPerSec: p.recordsPerSec, brokerCpu, requests: p.requests };
}

async function perfE2e(
  broker: FjordProcess,
  topic: string,
  partitions: number,
): Promise<NonNullable<ConfigResult['e2e']>> {
  const [[{ result }, jitter], brokerCpu] = await withCpu(broker, () =>
    Promise.all([
      fjordPerf([
        'e2e',
        '--brokers',
        broker.bootstrap,
        '--topic',
        topic,
        '--partitions',
        String(partitions),
        '--record-size',
        String(RECORD),
        '--acks',
        'all',
        '--linger-ms',
        '1',
        '--rate',
        `${E2E_RATE}MB/s`,
        '--duration',
        `${SECONDS}s`,
        '--warmup',
        '1s',
      ]),
      timerJitter((SECONDS + 1) * 1000),
    ]),
  );
  return { result, brokerCpu, jitter };
}

async function config(
  binary: string,
  label: string,
  overrides: Record<string, string>,
  partitions: number,
  parts: { e2e: boolean } = { e2e: true },
): Promise<ConfigResult> {
  const result: ConfigResult = { label, overrides, partitions, load: load() };
  const broker = await startFjord(overrides);
  try {
    const topic = `sweep-${partitions}p`;
    await prepare(broker, topic, partitions);
    result.rdkafka = await rdkafkaProduce(binary, broker, topic);
    result.perf = await perfProduce(broker, topic, partitions);
    if (parts.e2e) {
      const e2eTopic = `sweep-e2e-${partitions}p`;
      await prepare(broker, e2eTopic, partitions);
      result.e2e = await perfE2e(broker, e2eTopic, partitions);
    }
  } finally {
    await broker.stop();
  }
  const r = result;
  log(
    `${label}: rdkafka ${f1(r.rdkafka!.mbPerSec)} MB/s, fjord perf ${f1(r.perf!.mbPerSec)} MB/s` +
      (r.e2e ? `, e2e p99 ${f2(r.e2e.result.latency!.p99 / 1000)} ms` : '') +
      ` (load ${result.load})`,
  );
  return result;
}

function table(results: ConfigResult[], first: string): string[] {
  const lines = [
    `| ${first} | rdkafka_performance MB/s (rec/s) | broker CPU | fjord perf produce MB/s | broker CPU | ` +
      `e2e at ${E2E_RATE} MB/s: p50 / p99 / p99.9 ms | broker CPU | idle-process timer lateness p99 / max ms | load avg |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const r of results) {
    const l = r.e2e?.result.latency;
    lines.push(
      `| ${r.label} | ${f1(r.rdkafka!.mbPerSec)} (${f0(r.rdkafka!.recordsPerSec)}) | ${pct(r.rdkafka!.brokerCpu)} | ` +
        `${f1(r.perf!.mbPerSec)} | ${pct(r.perf!.brokerCpu)} | ` +
        (l
          ? `${f2(l.p50 / 1000)} / ${f2(l.p99 / 1000)} / ${f2(l.p999 / 1000)} | ${pct(r.e2e!.brokerCpu)} | ` +
            `${f2(r.e2e!.jitter.p99)} / ${f2(r.e2e!.jitter.max)}`
          : '— | — | —') +
        ` | ${r.load} |`,
    );
  }
  return lines;
}

async function main(): Promise<void> {
  const started = Date.now();
  log(`# Fjord sweeps (${new Date().toISOString()})`);
  log(machineDescription());
  log(`${SECONDS} s per case; load average before: ${load()}`);
  log();
  const binary = rdkafkaPerformance();
  const out: Record<string, unknown> = { machine: machineDescription(), seconds: SECONDS, e2eRate: E2E_RATE };
  const sections: string[] = [];

  // The default configuration (num.io.threads = cores, 16 partitions) is in both sweeps and is the flush
  // section's reference: measured once.
  let defaults: ConfigResult | undefined;
  if (!SKIP.has('workers')) {
    const results: ConfigResult[] = [];
    for (const workers of [...new Set([1, 2, CORES])].sort((a, b) => a - b)) {
      results.push(
        await config(binary, `num.io.threads=${workers}`, { 'num.io.threads': String(workers) }, 16),
      );
      if (workers === CORES) defaults = results[results.length - 1];
    }
    out.workers = results;
    sections.push(
      `### Partition workers (16 partitions; ${CORES} cores)`,
      '',
      ...table(results, 'workers'),
      '',
    );
  }

  if (!SKIP.has('partitions')) {
    const results: ConfigResult[] = [];
    for (const partitions of [1, 16, 256, 1000]) {
      const reused = partitions === 16 && defaults ? { ...defaults, label: '16 partitions' } : undefined;
      results.push(reused ?? (await config(binary, `${partitions} partitions`, {}, partitions)));
      if (partitions === 16) defaults ??= results[results.length - 1];
    }
    out.partitions = results;
    sections.push(
      `### Partitions per topic (num.io.threads default = ${CORES})`,
      '',
      ...table(results, 'partitions'),
      '',
    );
  }

  if (!SKIP.has('flush')) {
    // The limit on the file system the brokers' temp dirs live on, measured now.
    const limit = await fileWriteMBps({ fdatasync: true, dir: tmpdir() });
    const pageCache = await fileWriteMBps({ fdatasync: false, dir: tmpdir() });
    const flushed = await config(binary, 'flush.messages=1', { 'log.flush.interval.messages': '1' }, 16, {
      e2e: false,
    });
    const unflushed = defaults ?? (await config(binary, 'default flush', {}, 16, { e2e: false }));
    out.flush = { fdatasyncLimitMBps: limit, pageCacheMBps: pageCache, flushed, unflushed };
    const bytesPerRequest = (flushed.perf!.mbPerSec * 1e6 * SECONDS) / Math.max(1, flushed.perf!.requests);
    sections.push(
      '### flush.messages=1 (fdatasync after every appended batch; 16 partitions, 1 KiB, acks=1)',
      '',
      '| case | MB/s | fraction of the fdatasync limit | broker CPU |',
      '| --- | ---: | ---: | ---: |',
      `| machine: 1 MiB writes + fdatasync each (same file system, same run) | ${f1(limit)} | 1.00 | — |`,
      `| machine: 1 MiB writes, page cache only | ${f0(pageCache)} | — | — |`,
      `| rdkafka_performance, flush.messages=1 | ${f1(flushed.rdkafka!.mbPerSec)} | ${f2(flushed.rdkafka!.mbPerSec / limit)} | ${pct(flushed.rdkafka!.brokerCpu)} |`,
      `| fjord perf produce, flush.messages=1 (~${f0(bytesPerRequest / 1024)} KiB per request) | ${f1(flushed.perf!.mbPerSec)} | ${f2(flushed.perf!.mbPerSec / limit)} | ${pct(flushed.perf!.brokerCpu)} |`,
      `| rdkafka_performance, default flush (page cache) | ${f1(unflushed.rdkafka!.mbPerSec)} | — | ${pct(unflushed.rdkafka!.brokerCpu)} |`,
      `| fjord perf produce, default flush (page cache) | ${f1(unflushed.perf!.mbPerSec)} | — | ${pct(unflushed.perf!.brokerCpu)} |`,
      '',
    );
  }

  log();
  for (const line of sections) log(line);
  log(`load average after: ${load()}; the sweep took ${Math.round((Date.now() - started) / 1000)} s`);
  if (process.env.FJORD_SWEEP_JSON) {
    writeFileSync(process.env.FJORD_SWEEP_JSON, JSON.stringify(out, null, 2) + '\n');
  }
}

await main();
