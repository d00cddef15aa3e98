// Issue 7's footprint figures for a standalone broker (`fjord start` in a child process, so the harness's own
// memory is not counted):
//   - time from spawning `fjord start` to its first answered request (an ApiVersions v0), fresh and restart;
//   - the broker process's RSS once idle, then with 1 000 more partitions, then after a restart with them;
//   - the first group write (an OffsetCommit through the admin client), which creates __consumer_offsets.
//
//   npx tsc -p tsconfig.json && node dist/bench/footprint.js      (needs dist/: it runs bin/fjord.js)
//   npx tsx bench/footprint.ts [--partitions 1000] [--rounds 3] [--idle-ms 3000]
//
// RSS is read from /proc/<pid>/status (VmRSS, split into anonymous and file-backed pages) and the thread
// count from the same file. Load average (`os.loadavg()`) is printed first: on a shared 2-core machine it
// moves every time figure.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Admin } from '../src/client/index.js';
import {
  processMemory,
  startFjord as startWith,
  stopFjord,
  type ProcessMemory,
} from './footprint-process.js';

const { values: args } = parseArgs({
  options: {
    partitions: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '3' },
    'idle-ms': { type: 'string', default: '3000' },
    override: { type: 'string', multiple: true, default: [] },
  },
});
const PARTITIONS = Number(args.partitions);
const ROUNDS = Number(args.rounds);
const IDLE_MS = Number(args['idle-ms']);
const startFjord = (dataDir: string) => startWith(dataDir, args.override);

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (m: ProcessMemory) =>
  `${m.rssMb.toFixed(0)} | ${m.anonMb.toFixed(0)} | ${m.fileMb.toFixed(0)} | ${m.threads}`;

console.log(
  `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
if (args.override.length > 0) console.log(`overrides: ${args.override.join(' ')}`);

// 1. Start-up to first served request, ROUNDS fresh data dirs, each then restarted once.
const fresh: number[] = [];
const restart: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const dataDir = mkdtempSync(join(tmpdir(), 'fjord-footprint-'));
  const first = await startFjord(dataDir);
  fresh.push(first.ms);
  await stopFjord(first.child);
  const second = await startFjord(dataDir);
  restart.push(second.ms);
  await stopFjord(second.child);
  rmSync(dataDir, { recursive: true, force: true });
}
console.log(
  `\n\`fjord start\` to first answered ApiVersions, ms (median of ${ROUNDS}): fresh ${median(fresh).toFixed(0)} ` +
    `[${fresh.map((t) => t.toFixed(0)).join(', ')}], restart ${median(restart).toFixed(0)} ` +
    `[${restart.map((t) => t.toFixed(0)).join(', ')}]`,
);

// 2. Memory: idle, after the first group write, with PARTITIONS more partitions, and after a restart.
const dataDir = mkdtempSync(join(tmpdir(), 'fjord-footprint-'));
const rows: [string, string][] = [];
let broker = await startFjord(dataDir);
await sleep(IDLE_MS);
rows.push(['idle, fresh data dir', fmt(processMemory(broker.child.pid!))]);

const admin = new Admin({ brokers: [`127.0.0.1:${broker.port}`] });
await admin.createTopics([{ topic: 'x', numPartitions: 1, replicationFactor: 1 }]);
let t = performance.now();
await admin.alterOffsets('footprint-group', [{ topic: 'x', partitions: [{ partition: 0, offset: 1 }] }]);
const firstCommitMs = performance.now() - t;
t = performance.now();
await admin.alterOffsets('footprint-group', [{ topic: 'x', partitions: [{ partition: 0, offset: 2 }] }]);
const secondCommitMs = performance.now() - t;
await sleep(IDLE_MS);
rows.push([
  'idle, after the first OffsetCommit (creates __consumer_offsets)',
  fmt(processMemory(broker.child.pid!)),
]);

t = performance.now();
await admin.createTopics([{ topic: 'footprint', numPartitions: PARTITIONS, replicationFactor: 1 }]);
const createMs = performance.now() - t;
await sleep(IDLE_MS);
rows.push([`idle, with a ${PARTITIONS}-partition topic`, fmt(processMemory(broker.child.pid!))]);
await admin.close();
await stopFjord(broker.child);

broker = await startFjord(dataDir);
const restartWithPartitionsMs = broker.ms;
await sleep(IDLE_MS);
rows.push([`idle, restarted with the ${PARTITIONS}-partition topic`, fmt(processMemory(broker.child.pid!))]);
await stopFjord(broker.child);
rmSync(dataDir, { recursive: true, force: true });

console.log(
  `first OffsetCommit ${firstCommitMs.toFixed(0)} ms (second ${secondCommitMs.toFixed(0)} ms); ` +
    `CreateTopics with ${PARTITIONS} partitions ${createMs.toFixed(0)} ms; ` +
    `restart with them to first answered request ${restartWithPartitionsMs.toFixed(0)} ms`,
);
console.log(`\n| broker process (\`fjord start\`) | RSS MB | anon MB | file MB | threads |`);
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const [name, values] of rows) console.log(`| ${name} | ${values} |`);
console.log(
  `\nload average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
