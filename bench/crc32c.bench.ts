// CRC32C throughput: the addon (SSE4.2, and its C++ table path) against the TypeScript fallback, next to a
// memcpy of the same size measured in the same run, all in MB/s (10^6 bytes).
//
//   npx tsx bench/crc32c.bench.ts        (compiled: node dist/bench/crc32c.bench.js)
import Benchmark from 'benchmark';
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import * as fallback from '../src/native/fallback.js';
import { addonLoadErrorForTests, loadAddonForTests } from '../src/native/index.js';

const SIZES = [
  ['1 KiB', 1 << 10],
  ['16 KiB', 16 << 10],
  ['1 MiB', 1 << 20],
] as const;

const addon = loadAddonForTests();
if (!addon) console.warn(`native addon not loaded (${addonLoadErrorForTests()}): fallback and memcpy only`);

type Case = { name: string; size: number; label: string; run: () => void };
const cases: Case[] = [];
let sink = 0; // keeps results observable so nothing is optimised away

for (const [label, size] of SIZES) {
  const data = randomBytes(size);
  const target = Buffer.allocUnsafe(size);
  if (addon) {
    cases.push({ name: 'native', size, label, run: () => (sink ^= addon.crc32c(data)) });
    cases.push({ name: 'native c++ table', size, label, run: () => (sink ^= addon.crc32cTable(data)) });
  }
  cases.push({ name: 'typescript fallback', size, label, run: () => (sink ^= fallback.crc32c(data)) });
  cases.push({ name: 'memcpy (Buffer.copy)', size, label, run: () => (sink ^= data.copy(target)) });
}

const results = new Map<string, number>(); // `${label}/${name}` -> MB/s
const suite = new Benchmark.Suite('crc32c');
for (const c of cases) {
  suite.add(`${c.label} ${c.name}`, c.run, {
    maxTime: 1,
    minSamples: 5,
    onComplete(event: Benchmark.Event) {
      const bench = event.target as unknown as Benchmark;
      results.set(`${c.label}/${c.name}`, ((bench.hz ?? 0) * c.size) / 1e6);
    },
  });
}
suite.run();

const names = [...new Set(cases.map((c) => c.name))];
console.log(
  `${cpus().length} x ${cpus()[0]?.model}, Node ${process.version}` +
    (addon ? `, native crc32c uses ${addon.crc32cHardware ? 'SSE4.2' : 'the C++ table'}` : ''),
);
console.log(`| size | ${names.join(' | ')} | native / memcpy |`);
console.log(`| --- | ${names.map(() => '---:').join(' | ')} | ---: |`);
for (const [label] of SIZES) {
  const row = names.map((name) => (results.get(`${label}/${name}`) ?? 0).toFixed(0));
  const nativeRate = results.get(`${label}/native`);
  const memcpyRate = results.get(`${label}/memcpy (Buffer.copy)`) ?? 1;
  const ratio = nativeRate === undefined ? 'n/a' : (nativeRate / memcpyRate).toFixed(2);
  console.log(`| ${label} | ${row.join(' | ')} | ${ratio} |`);
}
if (sink === 0.5) console.log(sink);
