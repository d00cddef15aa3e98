// Issue 7's soak: a `fjord start` broker under a steady produce load for a long time, its RSS sampled every few
// seconds, to show whether memory stays flat. Retention is set low so the run also rolls and deletes segments
// (new index mappings, closed ones unmapped) instead of only growing one segment per partition.
//
//   npx tsc -p tsconfig.json && node dist/bench/footprint-soak.js [--duration 10m] [--rate 20MB/s]
//       [--partitions 16] [--record-size 1KiB] [--acks 1] [--sample-ms 5000]
//
// The load comes from `fjord perf produce` in a separate process; `--rate unthrottled` drives it flat out.
// Printed: RSS per minute, and over everything after the first minute (warm-up) min, max, and the slope of a
// least-squares line through the samples, in MB per minute.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FJORD, processMemory, startFjord, stopFjord, type ProcessMemory } from './footprint-process.js';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10m' },
    rate: { type: 'string', default: '20MB/s' },
    partitions: { type: 'string', default: '16' },
    'record-size': { type: 'string', default: '1KiB' },
    acks: { type: 'string', default: '1' },
    'sample-ms': { type: 'string', default: '5000' },
  },
});
const SAMPLE_MS = Number(args['sample-ms']);

function parseDurationMs(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(text);
  if (!match) throw new Error(`bad duration ${text}`);
  return Number(match[1]) * { ms: 1, s: 1000, m: 60_000 }[match[2] as 'ms' | 's' | 'm'];
}
const durationMs = parseDurationMs(args.duration);

const dataDir = mkdtempSync(join(tmpdir(), 'fjord-soak-'));
const broker = await startFjord(dataDir, [
  // 64 MiB segments, at most 256 MiB per partition, checked every 10 s: the disk holds ~4 GB at most.
  'log.segment.bytes=67108864',
  'log.retention.bytes=268435456',
  'log.retention.check.interval.ms=10000',
]);
const pid = broker.child.pid!;
console.log(
  `load average at start ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log(
  `broker pid ${pid}; load: fjord perf produce --rate ${args.rate} --record-size ${args['record-size']} ` +
    `--acks ${args.acks} --partitions ${args.partitions} --duration ${args.duration}`,
);

const samples: { atMs: number; memory: ProcessMemory }[] = [];
const started = performance.now();
samples.push({ atMs: 0, memory: processMemory(pid) });
const sampler = setInterval(() => {
  samples.push({ atMs: performance.now() - started, memory: processMemory(pid) });
}, SAMPLE_MS);

const perfArgs = [
  FJORD,
  'perf',
  'produce',
  '--brokers',
  `127.0.0.1:${broker.port}`,
  '--topic',
  'soak',
  '--partitions',
  args.partitions,
  '--record-size',
  args['record-size'],
  '--acks',
  args.acks,
  '--duration',
  args.duration,
  '--quiet',
  '--json',
  ...(args.rate === 'unthrottled' ? [] : ['--rate', args.rate]),
];
const perf = spawn(process.execPath, perfArgs, { stdio: ['ignore', 'pipe', 'inherit'] });
let perfOutput = '';
perf.stdout.on('data', (chunk: Buffer) => (perfOutput += chunk.toString()));
const [perfExit] = (await once(perf, 'exit')) as [number | null];
clearInterval(sampler);
samples.push({ atMs: performance.now() - started, memory: processMemory(pid) });
const loadAtEnd = loadavg();
await stopFjord(broker.child);
rmSync(dataDir, { recursive: true, force: true });

let produced = '';
try {
  const result = JSON.parse(perfOutput) as Record<string, unknown>;
  const summary = (result.produce ?? result) as Record<string, number>;
  produced = Object.entries(summary)
    .filter(([, v]) => typeof v === 'number')
    .slice(0, 12)
    .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(2)}`)
    .join(' ');
} catch {
  produced = perfOutput.slice(0, 500);
}
console.log(`fjord perf exit ${perfExit}; ${produced}`);

console.log('\n| minute | RSS MB | anon MB | file MB | threads |');
console.log('| ---: | ---: | ---: | ---: | ---: |');
for (let minute = 0; minute * 60_000 <= durationMs; minute++) {
  const sample = samples.find((s) => s.atMs >= minute * 60_000) ?? samples.at(-1)!;
  const m = sample.memory;
  console.log(
    `| ${minute} | ${m.rssMb.toFixed(0)} | ${m.anonMb.toFixed(0)} | ${m.fileMb.toFixed(0)} | ${m.threads} |`,
  );
}

const warm = samples.filter((s) => s.atMs >= Math.min(60_000, durationMs / 10));
const xs = warm.map((s) => s.atMs / 60_000);
const ys = warm.map((s) => s.memory.rssMb);
const meanX = xs.reduce((a, b) => a + b, 0) / xs.length;
const meanY = ys.reduce((a, b) => a + b, 0) / ys.length;
let covariance = 0;
let varianceX = 0;
for (let i = 0; i < xs.length; i++) {
  covariance += (xs[i]! - meanX) * (ys[i]! - meanY);
  varianceX += (xs[i]! - meanX) ** 2;
}
const slope = varianceX === 0 ? 0 : covariance / varianceX;
console.log(
  `\nafter warm-up (${warm.length} samples every ${SAMPLE_MS} ms): RSS min ${Math.min(...ys).toFixed(0)} MB, ` +
    `max ${Math.max(...ys).toFixed(0)} MB, first ${ys[0]!.toFixed(0)} MB, last ${ys.at(-1)!.toFixed(0)} MB, ` +
    `slope ${slope.toFixed(2)} MB/min`,
);
console.log(`load average at end ${loadAtEnd.map((l) => l.toFixed(2)).join(' ')}`);
