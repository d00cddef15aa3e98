// Storage engine throughput, each figure beside its raw limit measured in the same run (MB = 10^6 bytes):
//   - append of 16 KiB and 1 MiB batches through PartitionLog vs plain writeSync of the same bytes to a file
//   - flush.messages=1 (fdatasync before each append returns) vs write + fdatasync of the same bytes
//   - sequential fetch: read() regions sent with sendfile to a loopback socket vs sendfile of the same file
//     in 1 MiB pieces without Fjord (same sink, a byte-counting TCP server in a worker thread)
//   - offset index lookups per second, and read() position resolutions per second
//
//   npx tsx bench/storage.bench.ts            (compiled: node dist/bench/storage.bench.js)
//   FJORD_BENCH_DIR=/data/dir puts the logs on that disk (default: the OS temp dir)
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { nativeAvailable, sendfile } from '../src/native/index.js';
import { buildRecordBatchSync } from '../src/protocol/records/record-batch.js';
import { resolveLogConfig } from '../src/storage/log-config.js';
import { OffsetIndex } from '../src/storage/offset-index.js';
import { PartitionLog } from '../src/storage/partition-log.js';

const MiB = 1 << 20;
const ROUNDS = 3;
/** Append and write contenders alternate, best of PAIR_ROUNDS each: a shared machine's noise hits both alike. */
const PAIR_ROUNDS = 5;
const baseDir = process.env.FJORD_BENCH_DIR ?? tmpdir();
const now = (): number => performance.now();
const mbps = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1000);

function scratch(): string {
  return fs.mkdtempSync(join(baseDir, 'fjord-storage-bench-'));
}

/** Batches of about `batchBytes` (10 records each), built once and reused: append patches them in place. */
function makeBatches(batchBytes: number, count: number): Buffer[] {
  const value = Buffer.alloc(Math.floor(batchBytes / 10) - 20, 0x61);
  return Array.from({ length: count }, (_, i) =>
    buildRecordBatchSync(
      Array.from({ length: 10 }, (_, r) => ({
        key: Buffer.from(`key-${i}-${r}`),
        value,
        timestamp: 1_700_000_000_000 + i,
      })),
    ),
  );
}

const config = (extra: Record<string, string | number> = {}) =>
  resolveLogConfig({
    'segment.bytes': 1024 * MiB,
    'max.message.bytes': 2 * MiB,
    'file.delete.delay.ms': 0,
    ...extra,
  });

/** One round: append `totalBytes` through a fresh PartitionLog. */
function appendRate(
  batches: Buffer[],
  totalBytes: number,
  extra: Record<string, string | number> = {},
  verifyCrc = true,
): number {
  let best = 0;
  {
    const dir = scratch();
    const log = PartitionLog.open({ dir, topic: 'bench', partition: 0, config: config(extra) });
    let written = 0;
    const start = now();
    for (let i = 0; written < totalBytes; i++) {
      const batch = batches[i % batches.length]!;
      const result = log.append(batch, { verifyCrc });
      if (!result.ok) throw new Error(result.message);
      written += batch.length;
    }
    best = Math.max(best, mbps(written, now() - start));
    log.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return best;
}

/** One round: the same bytes with positional writeSync (and fdatasync after each, if asked). */
function writeRate(batches: Buffer[], totalBytes: number, sync: boolean): number {
  let best = 0;
  {
    const dir = scratch();
    const fd = fs.openSync(join(dir, 'raw.log'), 'w');
    let written = 0;
    const start = now();
    for (let i = 0; written < totalBytes; i++) {
      const batch = batches[i % batches.length]!;
      let done = 0;
      while (done < batch.length) done += fs.writeSync(fd, batch, done, batch.length - done, written + done);
      if (sync) fs.fdatasyncSync(fd);
      written += batch.length;
    }
    best = Math.max(best, mbps(written, now() - start));
    fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return best;
}

function pair(fjord: () => number, raw: () => number): [number, number] {
  let bestFjord = 0;
  let bestRaw = 0;
  for (let round = 0; round < PAIR_ROUNDS; round++) {
    bestFjord = Math.max(bestFjord, fjord());
    bestRaw = Math.max(bestRaw, raw());
  }
  return [bestFjord, bestRaw];
}

// ---- loopback sink -------------------------------------------------------------------------------------------

const SINK = `
const net = require('node:net');
const { parentPort } = require('node:worker_threads');
const server = net.createServer((socket) => {
  let bytes = 0;
  socket.on('data', (chunk) => { bytes += chunk.length; });
  socket.on('end', () => { parentPort.postMessage({ bytes }); socket.end(); });
  socket.on('error', () => {});
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
parentPort.on('message', () => server.close(() => process.exit(0)));
`;

/** Rates `pump` (which sends over the socket fd) by what the sink received, best of ROUNDS. */
async function rateToSink(pump: (fd: number) => Promise<void>): Promise<number> {
  const worker = new Worker(SINK, { eval: true });
  const [{ port }] = (await once(worker, 'message')) as [{ port: number }];
  let best = 0;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const socket = net.connect(port, '127.0.0.1');
      await once(socket, 'connect');
      const fd = (socket as unknown as { _handle: { fd: number } })._handle.fd;
      const counted = once(worker, 'message') as Promise<[{ bytes: number }]>;
      const start = now();
      await pump(fd);
      socket.end();
      const [{ bytes }] = await counted;
      best = Math.max(best, mbps(bytes, now() - start));
      socket.destroy();
    }
  } finally {
    worker.postMessage('close');
    await once(worker, 'exit');
  }
  return best;
}

async function main(): Promise<void> {
  const lines: string[] = [];
  const row = (name: string, fjord: number, raw: number, unit = 'MB/s'): void => {
    lines.push(
      `| ${name} | ${fjord.toFixed(0)} ${unit} | ${raw.toFixed(0)} ${unit} | ${(fjord / raw).toFixed(2)} |`,
    );
  };
  const total = 256 * MiB;

  const small = makeBatches(16 * 1024, 64);
  const large = makeBatches(MiB, 8);
  const cases: [string, Buffer[], number, Record<string, string | number>, boolean, boolean][] = [
    ['append 16 KiB batches (CRC checked) vs writeSync', small, total, {}, true, false],
    ['append 16 KiB batches (no CRC check) vs writeSync', small, total, {}, false, false],
    ['append 1 MiB batches (CRC checked) vs writeSync', large, total, {}, true, false],
    ['append 1 MiB batches (no CRC check) vs writeSync', large, total, {}, false, false],
    [
      'flush.messages=1, 16 KiB batches vs write+fdatasync',
      small,
      8 * MiB,
      { 'flush.messages': 1 },
      true,
      true,
    ],
    [
      'flush.messages=1, 1 MiB batches vs write+fdatasync',
      large,
      32 * MiB,
      { 'flush.messages': 1 },
      true,
      true,
    ],
  ];
  for (const [name, batches, bytes, extra, verifyCrc, sync] of cases) {
    const [fjord, raw] = pair(
      () => appendRate(batches, bytes, extra, verifyCrc),
      () => writeRate(batches, bytes, sync),
    );
    row(name, fjord, raw);
  }

  // Sequential fetch of a 128 MiB log of 16 KiB batches, 1 MiB per fetch, against raw sendfile of the file.
  const dir = scratch();
  const log = PartitionLog.open({ dir, topic: 'bench', partition: 0, config: config() });
  for (let written = 0, i = 0; written < 128 * MiB; i++) {
    const batch = small[i % small.length]!;
    log.append(batch, { verifyCrc: false });
    written += batch.length;
  }
  log.flush();
  const segmentPath = log.segments[0]!.path;
  const segmentSize = log.segments[0]!.size;
  fs.readFileSync(segmentPath); // into the page cache for both contenders
  const fjordRead = await rateToSink(async (socketFd) => {
    let offset = log.logStartOffset;
    while (offset < log.logEndOffset) {
      const result = log.read(offset, MiB);
      if (!result.ok) throw new Error('out of range');
      for (const region of result.regions) {
        await sendfile(socketFd, region.fd, region.position, region.length);
        offset = region.lastOffset + 1;
      }
    }
  });
  const rawFd = fs.openSync(segmentPath, 'r');
  const rawRead = await rateToSink(async (socketFd) => {
    for (let position = 0; position < segmentSize; position += MiB) {
      await sendfile(socketFd, rawFd, position, Math.min(MiB, segmentSize - position));
    }
  });
  fs.closeSync(rawFd);
  row('fetch 1 MiB at a time via read()+sendfile vs sendfile of the file', fjordRead, rawRead);

  // Position resolution: read(randomOffset, 1) = index lookup + header scan; and raw index lookups.
  const end = log.logEndOffset;
  let state = 12345;
  const nextRandom = (): number => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state;
  };
  const readCount = 200_000;
  let start = now();
  for (let i = 0; i < readCount; i++) log.read(nextRandom() % end, 1);
  const readsPerSecond = readCount / ((now() - start) / 1000);
  log.close();
  fs.rmSync(dir, { recursive: true, force: true });

  const indexDir = scratch();
  const index = new OffsetIndex(join(indexDir, '00000000000000000000.index'), 0, 10 * MiB, true);
  for (let i = 0; i < index.maxEntries; i++) index.append(i * 10 + 9, i * 16_384);
  const lookups = 2_000_000;
  let sink = 0;
  start = now();
  for (let i = 0; i < lookups; i++) sink += index.lookup(nextRandom() % (index.maxEntries * 10)).position;
  const lookupsPerSecond = lookups / ((now() - start) / 1000);
  index.close();
  fs.rmSync(indexDir, { recursive: true, force: true });

  console.log(
    `${cpus().length} x ${cpus()[0]?.model}, Node ${process.version}, native addon: ${nativeAvailable}, dir: ${baseDir}`,
  );
  console.log('| figure | Fjord | raw | ratio |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const line of lines) console.log(line);
  console.log(
    `| offset index lookups (${(10 * MiB) / 8} entries, random) | ${(lookupsPerSecond / 1e6).toFixed(2)} M/s | | |`,
  );
  console.log(
    `| read() position resolutions (random offset, 128 MiB log) | ${(readsPerSecond / 1e3).toFixed(0)} k/s | | |`,
  );
  if (sink === 0.5) console.log(sink);
}

await main();
