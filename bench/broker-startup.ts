// Broker.start() time on a fresh data dir and on a restart of it, and RSS after start, for a few configs.
//   npx tsc -p tsconfig.json && node dist/bench/broker-startup.js
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker } from '../src/server/broker.js';
import { SILENT_LOGGER } from '../src/util/logger.js';

const configs: [string, Record<string, string>][] = [
  ['defaults', {}],
  ['offsets.topic.num.partitions=1', { 'offsets.topic.num.partitions': '1' }],
  ['... and num.io.threads=1', { 'offsets.topic.num.partitions': '1', 'num.io.threads': '1' }],
];

console.log(`load average ${loadavg()[0]!.toFixed(1)}`);
console.log('| config | fresh start ms | restart ms | RSS after start MB |');
console.log('| --- | ---: | ---: | ---: |');
for (const [name, config] of configs) {
  const dataDir = mkdtempSync(join(tmpdir(), 'fjord-startup-'));
  const times: number[] = [];
  let rss = 0;
  for (let round = 0; round < 2; round++) {
    const started = performance.now();
    const broker = await Broker.start({ dataDir, port: 0, log: SILENT_LOGGER, config });
    times.push(performance.now() - started);
    rss = process.memoryUsage().rss / 1e6;
    await broker.stop();
  }
  rmSync(dataDir, { recursive: true, force: true });
  console.log(`| ${name} | ${times[0]!.toFixed(0)} | ${times[1]!.toFixed(0)} | ${rss.toFixed(0)} |`);
}
