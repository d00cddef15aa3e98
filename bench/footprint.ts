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
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Admin } from '../src/client/index.js';

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

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}
const FJORD = join(repoRoot(), 'bin', 'fjord.js');

export interface ProcessMemory {
  rssMb: number;
  anonMb: number;
  fileMb: number;
  threads: number;
}

/** VmRSS and its parts for a process (Linux /proc). */
export function processMemory(pid: number): ProcessMemory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return {
    rssMb: kb('VmRSS') / 1024,
    anonMb: kb('RssAnon') / 1024,
    fileMb: (kb('RssFile') + kb('RssShmem')) / 1024,
    threads: kb('Threads'),
  };
}

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((done) => server.close(done));
  return port;
}

const API_VERSIONS_V0 = (() => {
  const clientId = Buffer.from('footprint');
  const frame = Buffer.alloc(4 + 2 + 2 + 4 + 2 + clientId.length);
  frame.writeInt32BE(frame.length - 4, 0);
  frame.writeInt16BE(18, 4); // ApiVersions
  frame.writeInt16BE(0, 6);
  frame.writeInt32BE(1, 8); // correlation id
  frame.writeInt16BE(clientId.length, 12);
  clientId.copy(frame, 14);
  return frame;
})();

/** One ApiVersions v0 round trip; resolves to whether a well-formed answer (error code 0) came back. */
function apiVersions(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve(ok);
    };
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
    socket.setTimeout(2000, () => finish(false));
    socket.on('connect', () => socket.write(API_VERSIONS_V0));
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 10 && received.length >= 4 + received.readInt32BE(0)) {
        finish(received.readInt32BE(4) === 1 && received.readInt16BE(8) === 0);
      }
    });
  });
}

interface Started {
  child: ChildProcess;
  port: number;
  /** Spawn to first answered request. */
  ms: number;
}

async function startFjord(dataDir: string): Promise<Started> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      FJORD,
      'start',
      '--override',
      `log.dirs=${dataDir}`,
      '--override',
      `listeners=PLAINTEXT://127.0.0.1:${port}`,
      ...args.override.flatMap((o) => ['--override', o]),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const exited = once(child, 'exit');
  for (;;) {
    if (await apiVersions(port)) return { child, port, ms: performance.now() - started };
    if (child.exitCode !== null) throw new Error(`fjord start exited with ${child.exitCode}: ${stderr}`);
    await Promise.race([new Promise((done) => setTimeout(done, 2)), exited]);
  }
}

async function stopFjord(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

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
