// Fjord's consume path against this machine's limits, all in one run: each `fjord.fetch.transfer` mode
// (mmap, sendfile, read) serving the same page-cached data to librdkafka's rdkafka_performance.
//   1. limits: loopback TCP and file -> socket by sendfile, pread + write, mmap + write (bench/machine-limits.ts);
//   2. one Fjord (`node bin/fjord.js start`, a child process) fills a 1-partition and a 16-partition topic with
//      1 KiB records (rdkafka_performance -P, acks=1), then stops cleanly, so the segments stay in page cache;
//   3. for each round and each mode, a Fjord on the same log dir with `fjord.fetch.transfer=<mode>` serves
//      `rdkafka_performance -C -o beginning -e` (client defaults: fetch.max.bytes 50 MiB,
//      max.partition.fetch.bytes 1 MiB) over every partition of each topic;
//   4. optionally a CPU profile of the broker (node --cpu-prof) under the 1-partition consume, one mode.
// Modes alternate within a round, so a busy moment on the shared machine does not land on one mode only;
// the table reports the best and the median of the rounds.
//
//   npx tsc -p tsconfig.json && node dist/bench/consume.bench.js
//   FJORD_CONSUME_MB=400 (per topic)   FJORD_CONSUME_ROUNDS=3   FJORD_CONSUME_MODES=mmap,sendfile,read
//   FJORD_CONSUME_PROFILE=mmap (profile that mode; empty: no profile)   FJORD_BENCH_JSON=out.json
//   FJORD_CONSUME_BASELINE=/tmp/old-checkout (also run that build, as before:<mode>)
//   FJORD_CONSUME_DIR=/tmp/x (keep the filled data between runs)   FJORD_CONSUME_SKIP_LIMITS=1
//   FJORD_CONSUME_RDKAFKA_ARGS='-X fetch.wait.max.ms=100' (extra client arguments, split on spaces)
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectBootstrap, prepareTopic } from '../src/perf/cluster.js';
import { defaultOptions } from '../src/perf/options.js';
import { ROOT, load, rdkafkaPerformance, startFjord, type FjordProcess } from './bench-tools.js';
import { formatProfileSummary, summariseProfileFile } from './cpuprofile-summary.js';
import {
  loopbackTcpMBps,
  machineDescription,
  mmapWriteToSocketMBps,
  readWriteToSocketMBps,
  sendfileToSocketMBps,
} from './machine-limits.js';

const MB_PER_TOPIC = Number(process.env.FJORD_CONSUME_MB ?? 400);
const ROUNDS = Number(process.env.FJORD_CONSUME_ROUNDS ?? 3);
const TRANSFERS = (process.env.FJORD_CONSUME_MODES ?? 'mmap,sendfile,read').split(',').filter(Boolean);
// FJORD_CONSUME_BASELINE=DIR: also run the broker built in DIR (another checkout, `npx tsc` run there, with
// node_modules and build/ linked), as "before:<mode>", in the same rounds: a before/after in one run.
const BASELINE = process.env.FJORD_CONSUME_BASELINE;
const MODES = TRANSFERS.flatMap((mode) => (BASELINE ? [mode, `before:${mode}`] : [mode]));
const PROFILE_MODE = process.env.FJORD_CONSUME_PROFILE ?? 'mmap';
const EXTRA_ARGS = (process.env.FJORD_CONSUME_RDKAFKA_ARGS ?? '').split(' ').filter(Boolean);
const RECORD_BYTES = 1024;
const RECORDS = Math.round((MB_PER_TOPIC * 1e6) / RECORD_BYTES);
const TOPICS = [
  { name: 'consume-1p', partitions: 1 },
  { name: 'consume-16p', partitions: 16 },
];

const log = (line = ''): void => console.log(line);
const f0 = (n: number): string => Math.round(n).toLocaleString('en-US');
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

async function run(command: string, args: string[], timeoutMs = 300_000): Promise<string> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const kill = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(kill);
  return output;
}

async function fill(binary: string, bootstrap: string, topic: string, partitions: number): Promise<void> {
  const options = { ...defaultOptions('produce'), brokers: [bootstrap], topic, partitions };
  const connection = await connectBootstrap(options);
  try {
    await prepareTopic(connection, options, true);
  } finally {
    connection.close();
  }
  const output = await run(binary, [
    '-P',
    '-t',
    topic,
    '-s',
    String(RECORD_BYTES),
    '-a',
    '1',
    '-c',
    String(RECORDS),
    '-b',
    bootstrap,
    '-q',
  ]);
  const done = [...output.matchAll(/(\d+) delivered \(offset -?\d+, (\d+) failed\)/g)].at(-1);
  if (!done || Number(done[1]) !== RECORDS || Number(done[2]) !== 0)
    throw new Error(`filling ${topic} failed:\n${output.slice(-2000)}`);
}

interface Rate {
  records: number;
  ms: number;
  mbPerSec: number;
  /** CPU seconds per GB consumed (GB = 10^9 bytes): the broker process, and rdkafka_performance. */
  brokerCpuPerGB: number;
  clientCpuPerGB: number;
}

const partitionArgs = (partitions: number): string[] =>
  Array.from({ length: partitions }, (_, p) => ['-p', String(p)]).flat();

async function consume(
  binary: string,
  broker: FjordProcess,
  topic: string,
  partitions: number,
): Promise<Rate> {
  const cpuBefore = broker.cpuSeconds();
  const output = await run('/usr/bin/time', [
    '-f',
    'client cpu %U %S',
    binary,
    '-C',
    '-t',
    topic,
    ...partitionArgs(partitions),
    '-o',
    'beginning',
    '-e',
    '-b',
    broker.bootstrap,
    '-q',
    ...EXTRA_ARGS,
  ]);
  const brokerCpu = broker.cpuSeconds() - cpuBefore;
  const clientCpu = /client cpu ([\d.]+) ([\d.]+)/.exec(output);
  const last = [...output.matchAll(/% (\d+) messages \((\d+) bytes\) consumed in (\d+)ms/g)].at(-1);
  if (!last) throw new Error(`rdkafka_performance consume printed no summary:\n${output.slice(-2000)}`);
  const records = Number(last[1]);
  if (records !== RECORDS)
    throw new Error(`consumed ${records} of ${RECORDS} records from ${topic}:\n${output.slice(-2000)}`);
  const ms = Number(last[3]);
  const gb = Number(last[2]) / 1e9;
  return {
    records,
    ms,
    mbPerSec: Number(last[2]) / 1000 / ms,
    brokerCpuPerGB: brokerCpu / gb,
    clientCpuPerGB: clientCpu ? (Number(clientCpu[1]) + Number(clientCpu[2])) / gb : NaN,
  };
}

async function main(): Promise<void> {
  const results: Record<string, unknown> = { machine: machineDescription(), loadBefore: load() };
  log(`# Fjord consume benchmark (${new Date().toISOString()})`);
  log(machineDescription());
  log(`load average before: ${load()}; ${MB_PER_TOPIC} MB of 1 KiB records per topic; ${ROUNDS} round(s)`);
  log();

  // FJORD_CONSUME_SKIP_LIMITS=1 measures loopback TCP only (quicker, while iterating).
  const limits: Record<string, number> = { 'loopback TCP (1 MiB writes)': await loopbackTcpMBps() };
  if (!process.env.FJORD_CONSUME_SKIP_LIMITS) {
    limits['file -> socket, sendfile 1 MiB'] = await sendfileToSocketMBps();
    limits['file -> socket, pread + write 1 MiB'] = await readWriteToSocketMBps();
    limits['file -> socket, mmap + write + munmap 1 MiB'] = await mmapWriteToSocketMBps();
    limits['file -> socket, one 64 MiB mmap, write 1 MiB views'] = await mmapWriteToSocketMBps({
      wholeFile: true,
    });
  }
  results.limits = limits;
  log('| limit | MB/s |\n| --- | ---: |');
  for (const [name, value] of Object.entries(limits)) log(`| ${name} | ${f0(value)} |`);
  log();
  const loopback = limits['loopback TCP (1 MiB writes)']!;

  const binary = rdkafkaPerformance();
  // FJORD_CONSUME_DIR keeps the filled log dir between runs (while iterating on the broker).
  const keep = process.env.FJORD_CONSUME_DIR;
  const dir = keep ?? mkdtempSync(join(tmpdir(), 'fjord-consume-'));
  const logDir = join(dir, 'data');
  const filledMarker = join(dir, `filled-${RECORDS}`);
  try {
    if (!existsSync(filledMarker)) {
      rmSync(logDir, { recursive: true, force: true });
      const broker = await startFjord({}, [], { logDir });
      try {
        for (const topic of TOPICS) {
          const start = Date.now();
          await fill(binary, broker.bootstrap, topic.name, topic.partitions);
          log(`filled ${topic.name}: ${RECORDS} records in ${Date.now() - start} ms`);
        }
      } finally {
        await broker.stop();
      }
      writeFileSync(filledMarker, '');
    }

    const rates = new Map<string, Rate[]>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of MODES) {
        const before = mode.startsWith('before:');
        const transfer = before ? mode.slice('before:'.length) : mode;
        const broker = await startFjord({ 'fjord.fetch.transfer': transfer }, [], {
          logDir,
          root: before ? BASELINE : ROOT,
        });
        try {
          for (const topic of TOPICS) {
            const r = await consume(binary, broker, topic.name, topic.partitions);
            const key = `${topic.name}\u0000${mode}`;
            rates.set(key, [...(rates.get(key) ?? []), r]);
            log(
              `round ${round + 1} ${mode.padEnd(15)} ${topic.name}: ${f0(r.mbPerSec)} MB/s (${r.ms} ms; CPU s/GB broker ${r.brokerCpuPerGB.toFixed(2)}, client ${r.clientCpuPerGB.toFixed(2)}; load ${load()})`,
            );
          }
        } finally {
          await broker.stop();
        }
      }
    }

    log();
    log(`## rdkafka_performance -C against Fjord, 1 KiB records from page cache (load after: ${load()})`);
    log();
    log(
      '| topic | fjord.fetch.transfer | best MB/s | median MB/s | runs MB/s | best / loopback TCP | broker CPU s/GB (median) | client CPU s/GB (median) |',
    );
    log('| --- | --- | ---: | ---: | --- | ---: | ---: | ---: |');
    const table: Record<string, unknown> = {};
    for (const topic of TOPICS) {
      for (const mode of MODES) {
        const runs = rates.get(`${topic.name}\u0000${mode}`) ?? [];
        const xs = runs.map((r) => r.mbPerSec);
        const best = Math.max(...xs);
        const brokerCpu = median(runs.map((r) => r.brokerCpuPerGB));
        const clientCpu = median(runs.map((r) => r.clientCpuPerGB));
        table[`${topic.name} ${mode}`] = { runs, best, median: median(xs), brokerCpu, clientCpu };
        log(
          `| ${topic.name} (${topic.partitions} partition${topic.partitions > 1 ? 's' : ''}) | ${mode} | ${f0(best)} | ${f0(median(xs))} | ${xs.map(f0).join(', ')} | ${(best / loopback).toFixed(2)} | ${brokerCpu.toFixed(2)} | ${clientCpu.toFixed(2)} |`,
        );
      }
    }
    results.consume = table;

    if (PROFILE_MODE) {
      const profileDir = mkdtempSync(join(tmpdir(), 'fjord-consume-prof-'));
      const broker = await startFjord(
        { 'fjord.fetch.transfer': PROFILE_MODE },
        ['--cpu-prof', `--cpu-prof-dir=${profileDir}`],
        { logDir },
      );
      let r: Rate;
      try {
        r = await consume(binary, broker, TOPICS[0]!.name, TOPICS[0]!.partitions);
      } finally {
        await broker.stop();
      }
      log();
      log(
        `## CPU profile of the broker, consume ${TOPICS[0]!.name}, ${PROFILE_MODE}: ${f0(r.mbPerSec)} MB/s`,
      );
      for (const file of readdirSync(profileDir)
        .filter((f) => f.endsWith('.cpuprofile'))
        .sort()) {
        const thread = file.split('.')[4];
        log();
        log(`### ${thread === '0' ? 'main thread' : `worker thread ${thread}`} (${join(profileDir, file)})`);
        log();
        log(formatProfileSummary(summariseProfileFile(join(profileDir, file)), thread === '0' ? 20 : 8));
      }
      results.profileDir = profileDir;
    }
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
  results.loadAfter = load();
  log();
  log(`load average after: ${load()}`);
  if (process.env.FJORD_BENCH_JSON)
    writeFileSync(process.env.FJORD_BENCH_JSON, JSON.stringify(results, null, 2) + '\n');
}

await main();
