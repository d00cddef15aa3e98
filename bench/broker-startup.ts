// Broker.start() time on a fresh data dir and on a restart of it, and RSS after start, for a few configs.
//   npx tsc -p tsconfig.json && node dist/bench/broker-startup.js [--rounds 5]
//   npx tsx bench/broker-startup.ts        (slower: every partition worker compiles the sources with tsx)
//
// Each config runs `rounds` times (fresh start, stop, restart, stop); the table gives the median and, in
// brackets, the fastest round: on a shared machine the fastest is the closest to what start-up costs. The
// CPU ms is the CPU time of the whole process (every thread) during the start: on a loaded machine it moves
// far less than the wall time, and on an idle 2-core one the wall time is about half of it or more. The
// "with __consumer_offsets" row commits an offset through a group first, so the restart loads its partitions
// (__consumer_offsets is created on first use, so a fresh broker has none).
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Broker } from '../src/server/broker.js';
import { SILENT_LOGGER } from '../src/util/logger.js';

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '5' } } });
const ROUNDS = Number(args.rounds);

interface Config {
  name: string;
  config: Record<string, string>;
  /** Runs against the first broker before it stops. */
  prepare?: (broker: Broker) => Promise<void>;
}

async function commitOnce(broker: Broker): Promise<void> {
  const admin = broker.admin();
  await admin.createTopics([{ topic: 'startup', numPartitions: 1, replicationFactor: 1 }]);
  await admin.alterOffsets('startup-group', [
    { topic: 'startup', partitions: [{ partition: 0, offset: 1 }] },
  ]);
  await admin.close();
}

const configs: Config[] = [
  { name: 'defaults (2 workers here)', config: {} },
  { name: 'num.io.threads=1', config: { 'num.io.threads': '1' } },
  { name: 'defaults, with __consumer_offsets (50 partitions)', config: {}, prepare: commitOnce },
  {
    name: 'offsets.topic.num.partitions=1, with __consumer_offsets',
    config: { 'offsets.topic.num.partitions': '1' },
    prepare: commitOnce,
  },
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const cell = (xs: number[]) => `${median(xs).toFixed(0)} [${Math.min(...xs).toFixed(0)}]`;

console.log(
  `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}; ${ROUNDS} rounds`,
);
console.log(
  '| config | fresh start ms | fresh CPU ms | restart ms | restart CPU ms | RSS after restart MB |',
);
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const { name, config, prepare } of configs) {
  const fresh: number[] = [];
  const restart: number[] = [];
  const freshCpu: number[] = [];
  const restartCpu: number[] = [];
  const rss: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const dataDir = mkdtempSync(join(tmpdir(), 'fjord-startup-'));
    for (const [times, cpu] of [
      [fresh, freshCpu],
      [restart, restartCpu],
    ] as const) {
      const started = performance.now();
      const cpuBefore = process.cpuUsage();
      const broker = await Broker.start({ dataDir, port: 0, log: SILENT_LOGGER, config });
      times.push(performance.now() - started);
      const used = process.cpuUsage(cpuBefore);
      cpu.push((used.user + used.system) / 1000);
      if (times === fresh) await prepare?.(broker);
      else rss.push(process.memoryUsage().rss / 1e6);
      await broker.stop();
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
  console.log(
    `| ${name} | ${cell(fresh)} | ${cell(freshCpu)} | ${cell(restart)} | ${cell(restartCpu)} | ` +
      `${median(rss).toFixed(0)} |`,
  );
}
console.log(
  `load average at end ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
