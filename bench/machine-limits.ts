// This machine's limits, measured in the same run as whatever benchmark imports them, so Fjord's numbers can
// be reported as a fraction of what the hardware did at that moment (other load on a shared machine moves
// both). Every function resolves to MB/s with MB = 10^6 bytes; sizes are in MiB.
//
//   npx tsx bench/machine-limits.ts      prints the table (compiled: node dist/bench/machine-limits.js)
//
// Each time-based figure is the best of ROUNDS runs of about durationMs / ROUNDS: on a shared machine the
// best round is the closest to what the hardware can do, and a single run can land on a busy moment.
// The socket benchmarks send to a sink running in a worker thread, so sender and receiver get a core each
// (like a broker and a separate client process), and count only bytes the sink received.
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as native from '../src/native/index.js';
import type { NativeApi } from '../src/native/index.js';

const MiB = 1 << 20;
const CHUNK = MiB;
const DEFAULT_DURATION_MS = 1200;
const ROUNDS = 3;

const mbps = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1000);
const now = (): number => performance.now();

/** Buffer.copy of 64 MiB: the best of `rounds` copies (after a warm-up copy that faults the pages in). */
export async function memcpyMBps(rounds = 5): Promise<number> {
  const source = Buffer.alloc(64 * MiB, 0x5a);
  const target = Buffer.alloc(64 * MiB);
  source.copy(target);
  let best = Infinity;
  for (let i = 0; i < rounds; i++) {
    const start = now();
    source.copy(target);
    best = Math.min(best, now() - start);
  }
  return mbps(source.length, best);
}

// ---- a byte-counting TCP sink in a worker thread -------------------------------------------------------------

const SINK_SOURCE = `
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

interface Sink {
  port: number;
  /** Resolves to what the sink received on the next connection that ends. */
  nextCount(): Promise<number>;
  close(): Promise<void>;
}

async function startSink(): Promise<Sink> {
  const worker = new Worker(SINK_SOURCE, { eval: true });
  const [{ port }] = (await once(worker, 'message')) as [{ port: number }];
  return {
    port,
    async nextCount() {
      const [{ bytes }] = (await once(worker, 'message')) as [{ bytes: number }];
      return bytes;
    },
    async close() {
      worker.postMessage('close');
      await once(worker, 'exit');
    },
  };
}

/** Opens a connection to a sink ROUNDS times, lets `pump` write for its share of `durationMs` each time, and
 *  rates what the sink received from the first write until it saw the end of the stream. Best round wins. */
async function rateToSink(
  durationMs: number,
  pump: (socket: net.Socket, fd: number, until: number) => Promise<void>,
): Promise<number> {
  const sink = await startSink();
  try {
    let best = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const socket = net.connect(sink.port, '127.0.0.1');
      await once(socket, 'connect');
      socket.setNoDelay(true);
      const fd = (socket as unknown as { _handle: { fd: number } })._handle.fd;
      const counted = sink.nextCount();
      const start = now();
      await pump(socket, fd, start + durationMs / ROUNDS);
      socket.end();
      const bytes = await counted;
      best = Math.max(best, mbps(bytes, now() - start));
      socket.destroy();
    }
    return best;
  } finally {
    await sink.close();
  }
}

async function writeChunk(socket: net.Socket, chunk: Buffer): Promise<void> {
  if (!socket.write(chunk)) await once(socket, 'drain');
}

/** net.Socket writes of one 1 MiB buffer, over and over, for about `durationMs`. */
export async function loopbackTcpMBps(durationMs = DEFAULT_DURATION_MS): Promise<number> {
  const chunk = Buffer.alloc(CHUNK, 0x42);
  return rateToSink(durationMs, async (socket, _fd, until) => {
    while (now() < until) await writeChunk(socket, chunk);
  });
}

export interface FileWriteOptions {
  /** fdatasync after every 1 MiB write (what flush.messages=1 costs at that batch size). */
  fdatasync: boolean;
  /** Where the scratch file goes; defaults to the OS temp dir. Point it at the log.dirs disk. */
  dir?: string;
  durationMs?: number;
}

/** Sequential 1 MiB writes to a scratch file for about `durationMs` (best round). The file wraps at 256 MiB so a fast
 *  disk cannot fill up, and is deleted afterwards. Without fdatasync this is the page-cache write rate. */
export async function fileWriteMBps(options: FileWriteOptions): Promise<number> {
  const dir = fs.mkdtempSync(join(options.dir ?? tmpdir(), 'fjord-limits-'));
  const fd = fs.openSync(join(dir, 'scratch.log'), 'w');
  const chunk = Buffer.alloc(CHUNK, 0x33);
  const wrapAt = 256 * MiB;
  try {
    let best = 0;
    const roundMs = (options.durationMs ?? DEFAULT_DURATION_MS) / ROUNDS;
    for (let round = 0, written = 0; round < ROUNDS; round++) {
      let roundBytes = 0;
      const start = now();
      while (now() < start + roundMs) {
        const n = fs.writeSync(fd, chunk, 0, chunk.length, written % wrapAt);
        if (options.fdatasync) fs.fdatasyncSync(fd);
        written += n;
        roundBytes += n;
      }
      best = Math.max(best, mbps(roundBytes, now() - start));
    }
    return best;
  } finally {
    fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---- file -> socket --------------------------------------------------------------------------------------------

const SOURCE_FILE_SIZE = 64 * MiB;

export interface FileToSocketOptions {
  durationMs?: number;
  /** The implementation to use for sendfile/mmap; defaults to the one src/native/index.ts selected. */
  api?: NativeApi;
}

/** A 64 MiB file that has just been written and read, so it sits in the page cache. */
function withCachedFile<T>(run: (fd: number) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(join(tmpdir(), 'fjord-limits-'));
  const path = join(dir, 'segment.log');
  fs.writeFileSync(path, Buffer.alloc(SOURCE_FILE_SIZE, 0x61));
  fs.readFileSync(path);
  const fd = fs.openSync(path, 'r');
  return run(fd).finally(() => {
    fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true, force: true });
  });
}

/** The addon's sendfile (or the fallback's read+write, if that is what is selected), 1 MiB per call. */
export function sendfileToSocketMBps(options: FileToSocketOptions = {}): Promise<number> {
  const api = options.api ?? native;
  return withCachedFile((fileFd) =>
    rateToSink(options.durationMs ?? DEFAULT_DURATION_MS, async (_socket, socketFd, until) => {
      for (let position = 0; now() < until; position = (position + CHUNK) % SOURCE_FILE_SIZE) {
        await api.sendfile(socketFd, fileFd, position, CHUNK);
      }
    }),
  );
}

/** pread into a fresh 1 MiB buffer, then socket.write, waiting for 'drain' only when write says so. */
export function readWriteToSocketMBps(options: FileToSocketOptions = {}): Promise<number> {
  return withCachedFile((fileFd) =>
    rateToSink(options.durationMs ?? DEFAULT_DURATION_MS, async (socket, _fd, until) => {
      for (let position = 0; now() < until; position = (position + CHUNK) % SOURCE_FILE_SIZE) {
        const buffer = Buffer.allocUnsafe(CHUNK);
        const read = await new Promise<number>((resolve, reject) =>
          fs.read(fileFd, buffer, 0, CHUNK, position, (error, n) => (error ? reject(error) : resolve(n))),
        );
        await writeChunk(socket, buffer.subarray(0, read));
      }
    }),
  );
}

/** mmap each 1 MiB region, socket.write the mapping, munmap it in the write callback (what a fetch does).
 *  With `wholeFile`, the 64 MiB file is mapped once and 1 MiB views of it are written. */
export function mmapWriteToSocketMBps(
  options: FileToSocketOptions & { wholeFile?: boolean } = {},
): Promise<number> {
  const api = options.api ?? native;
  return withCachedFile(async (fileFd) => {
    const whole = options.wholeFile ? api.mmap(fileFd, 0, SOURCE_FILE_SIZE, false) : undefined;
    try {
      return await rateToSink(options.durationMs ?? DEFAULT_DURATION_MS, async (socket, _fd, until) => {
        for (let position = 0; now() < until; position = (position + CHUNK) % SOURCE_FILE_SIZE) {
          let flushed: boolean;
          if (whole) {
            flushed = socket.write(whole.subarray(position, position + CHUNK));
          } else {
            const mapping = api.mmap(fileFd, position, CHUNK, false);
            flushed = socket.write(mapping, () => api.munmap(mapping));
          }
          if (!flushed) await once(socket, 'drain');
        }
        // Every write must have completed before the whole-file mapping goes away.
        await new Promise((resolve) => socket.write(Buffer.alloc(0), resolve));
      });
    } finally {
      if (whole) api.munmap(whole);
    }
  });
}

// ---- all of them ---------------------------------------------------------------------------------------------

export interface MachineLimits {
  memcpy: number;
  loopbackTcp: number;
  fileWrite: number;
  fileWriteFdatasync: number;
  sendfileToSocket: number;
  readWriteToSocket: number;
  mmapWriteToSocket: number;
  mmapOnceWriteToSocket: number;
}

export async function measureMachineLimits(options: { dir?: string } = {}): Promise<MachineLimits> {
  return {
    memcpy: await memcpyMBps(),
    loopbackTcp: await loopbackTcpMBps(),
    fileWrite: await fileWriteMBps({ fdatasync: false, dir: options.dir }),
    fileWriteFdatasync: await fileWriteMBps({ fdatasync: true, dir: options.dir }),
    sendfileToSocket: await sendfileToSocketMBps(),
    readWriteToSocket: await readWriteToSocketMBps(),
    mmapWriteToSocket: await mmapWriteToSocketMBps(),
    mmapOnceWriteToSocket: await mmapWriteToSocketMBps({ wholeFile: true }),
  };
}

export function machineDescription(): string {
  const cpu = cpus();
  return (
    `${cpu.length} x ${cpu[0]?.model ?? 'unknown CPU'}, Node ${process.version}, ` +
    `native addon ${native.nativeAvailable ? 'loaded' : `not used (${native.nativeLoadError})`}`
  );
}

const LABELS: Record<keyof MachineLimits, string> = {
  memcpy: 'memcpy (Buffer.copy 64 MiB)',
  loopbackTcp: 'loopback TCP (1 MiB writes)',
  fileWrite: 'file write (1 MiB writes, page cache)',
  fileWriteFdatasync: 'file write + fdatasync every 1 MiB',
  sendfileToSocket: 'file -> socket, sendfile 1 MiB',
  readWriteToSocket: 'file -> socket, pread + write 1 MiB',
  mmapWriteToSocket: 'file -> socket, mmap + write + munmap 1 MiB',
  mmapOnceWriteToSocket: 'file -> socket, one 64 MiB mmap, write 1 MiB views',
};

export function formatLimits(limits: MachineLimits): string {
  const rows = (Object.keys(LABELS) as Array<keyof MachineLimits>).map(
    (key) => `| ${LABELS[key]} | ${limits[key].toFixed(0)} |`,
  );
  return ['| limit | MB/s |', '| --- | ---: |', ...rows].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dir = process.argv[2];
  console.log(machineDescription());
  console.log(formatLimits(await measureMachineLimits({ dir })));
}
