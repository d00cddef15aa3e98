// Ring throughput and round-trip latency between threads, SharedArrayBuffer ring vs the postMessage fallback.
//
//   npx tsc -p tsconfig.json && node dist/bench/ring.bench.js     (or: npx tsx bench/ring.bench.ts)
//   FJORD_BENCH_MS=500 shortens each throughput case (default 1000 ms).
//
// Throughput: a producer worker copies a prepared payload into the ring (one memcpy, like copying a produce
// batch out of the socket buffer) as fast as the ring takes it; a consumer worker reads every frame, touches
// its first and last byte and releases every 32 frames. Both block when they have to (Atomics.wait), as
// partition workers do. Reported: messages/s and payload MB/s (10^6 bytes) seen by the consumer.
// Latency: the main thread sends one 100-byte request to an echo worker and awaits the completion on the
// second ring (Atomics.waitAsync on the main thread, Atomics.wait in the worker); one request in flight.
// memcpy of the same total bytes is printed as the machine's reference point.
import { cpus } from 'node:os';
import { pathToFileURL } from 'node:url';
import { isMainThread, MessageChannel, parentPort, Worker, workerData } from 'node:worker_threads';
import type { TransferListItem } from 'node:worker_threads';
import { createRing, openRing } from '../src/partition/ring.js';
import type { Ring, RingHandle, RingTransport } from '../src/partition/ring.js';

const RING_BYTES = 1 << 20;
const SIZES = [100, 1024, 16 * 1024];
const END = 1;
const DATA = 0;
const DURATION_MS = Number(process.env.FJORD_BENCH_MS ?? 1000);
const ROUND_TRIPS = 20_000;

type Role =
  | { role: 'produce'; ring: RingHandle; size: number; durationMs: number }
  | { role: 'consume'; ring: RingHandle }
  | { role: 'echo'; ring: RingHandle; completions: RingHandle };

interface ThroughputResult {
  messages: number;
  bytes: number;
  ms: number;
}

// ---- worker side ----

async function waitReadable(ring: Ring): Promise<boolean> {
  return ring.canBlock ? ring.waitReadableSync(1000) : ring.waitReadable(1000);
}

async function waitForSpace(ring: Ring, length: number): Promise<boolean> {
  return ring.canBlock ? ring.waitForSpaceSync(length, 1000) : ring.waitForSpace(length, 1000);
}

async function produceFor(ring: Ring, size: number, durationMs: number): Promise<void> {
  const payload = new Uint8Array(size).fill(0x5a);
  const deadline = performance.now() + durationMs;
  for (let sent = 0; ; sent++) {
    // Checking the clock every 256 frames keeps it out of the per-message cost.
    if ((sent & 255) === 0 && performance.now() > deadline) break;
    while (!ring.tryWrite(DATA, payload)) await waitForSpace(ring, size);
  }
  while (!ring.tryWrite(END, new Uint8Array(0))) await waitForSpace(ring, 0);
}

async function consumeAll(ring: Ring): Promise<ThroughputResult> {
  let messages = 0;
  let bytes = 0;
  let checksum = 0;
  let start = 0;
  for (;;) {
    const message = ring.read();
    if (message === null) {
      ring.release();
      await waitReadable(ring);
      continue;
    }
    if (message.type === END) break;
    if (messages === 0) start = performance.now();
    const payload = message.payload;
    checksum += payload[0]! + payload[payload.length - 1]!;
    messages++;
    bytes += payload.length;
    if ((messages & 31) === 0) ring.release();
  }
  ring.release();
  if (checksum !== messages * 0xb4) throw new Error('bench: payload bytes were not what was sent');
  return { messages, bytes, ms: performance.now() - start };
}

async function echoForever(requests: Ring, completions: Ring): Promise<void> {
  for (;;) {
    const message = requests.read();
    if (message === null) {
      requests.release();
      if (!(await waitReadable(requests)) && requests.closed) return;
      continue;
    }
    if (message.type === END) return;
    while (!completions.tryWrite(message.type, message.payload)) {
      await waitForSpace(completions, message.payload.length);
    }
    requests.release();
  }
}

async function runWorker(data: Role): Promise<void> {
  const ring = openRing(data.ring);
  if (data.role === 'produce') {
    await produceFor(ring, data.size, data.durationMs);
    parentPort!.postMessage('done');
  } else if (data.role === 'consume') {
    parentPort!.postMessage(await consumeAll(ring));
  } else {
    await echoForever(ring, openRing(data.completions));
    parentPort!.postMessage('done');
  }
}

// ---- main side ----

const underTsx = import.meta.url.endsWith('.ts');

function spawn(data: Role, transferList: TransferListItem[]): Promise<unknown> {
  const options = { workerData: data, transferList };
  // Node 20 does not apply --import hooks (tsx) to workers, so under tsx the worker registers tsx itself.
  const worker = underTsx
    ? new Worker(
        `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(import.meta.url)}); })`,
        { ...options, eval: true },
      )
    : new Worker(new URL(import.meta.url), options);
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) =>
      code === 0 ? undefined : reject(new Error(`bench worker exited ${code}`)),
    );
  });
}

async function throughput(transport: RingTransport, size: number): Promise<ThroughputResult> {
  // Both ends are workers; the creator's local end is only used to hand the ring over.
  const { handle, transferList } = createRing(RING_BYTES, transport);
  let consumerHandle: RingHandle = handle;
  let producerHandle: RingHandle = handle;
  let consumerTransfer: TransferListItem[] = [];
  let producerTransfer: TransferListItem[] = [];
  if (handle.kind === 'port') {
    // A PortRing's two ends are the two ports of a channel: hand each worker one of them.
    const { port1, port2 } = new MessageChannel();
    producerHandle = { kind: 'port', port: port1, capacityBytes: handle.capacityBytes };
    consumerHandle = { kind: 'port', port: port2, capacityBytes: handle.capacityBytes };
    producerTransfer = [port1];
    consumerTransfer = [port2];
    handle.port.close();
  } else {
    producerTransfer = consumerTransfer = transferList;
  }
  const consumer = spawn({ role: 'consume', ring: consumerHandle }, consumerTransfer);
  const producer = spawn(
    { role: 'produce', ring: producerHandle, size, durationMs: DURATION_MS },
    producerTransfer,
  );
  const [result] = await Promise.all([consumer, producer]);
  return result as ThroughputResult;
}

async function latency(transport: RingTransport): Promise<{ p50: number; p99: number; mean: number }> {
  const requests = createRing(64 * 1024, transport);
  const completions = createRing(64 * 1024, transport);
  const echo = spawn({ role: 'echo', ring: requests.handle, completions: completions.handle }, [
    ...requests.transferList,
    ...completions.transferList,
  ]);
  const payload = new Uint8Array(100).fill(7);
  const samples = new Float64Array(ROUND_TRIPS);
  for (let i = -1000; i < ROUND_TRIPS; i++) {
    const start = performance.now();
    while (!requests.local.tryWrite(DATA, payload)) await requests.local.waitForSpace(payload.length);
    let message = completions.local.read();
    while (message === null) {
      await completions.local.waitReadable();
      message = completions.local.read();
    }
    if (message.payload.length !== payload.length) throw new Error('bench: wrong completion');
    completions.local.release();
    if (i >= 0) samples[i] = (performance.now() - start) * 1000;
  }
  requests.local.tryWrite(END, new Uint8Array(0));
  await echo;
  samples.sort();
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  return { p50: samples[samples.length >> 1]!, p99: samples[Math.floor(samples.length * 0.99)]!, mean };
}

function memcpyMBps(totalBytes: number): number {
  const source = Buffer.alloc(16 << 20, 0x5a);
  const target = Buffer.alloc(16 << 20);
  source.copy(target);
  const rounds = Math.max(1, Math.ceil(totalBytes / source.length));
  const start = performance.now();
  for (let i = 0; i < rounds; i++) source.copy(target);
  return (rounds * source.length) / 1e6 / ((performance.now() - start) / 1000);
}

export async function runRingBench(log: (line: string) => void = console.log): Promise<void> {
  log(`ring bench: node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}`);
  log(`ring ${RING_BYTES / 1024} KiB, ${DURATION_MS} ms per case, worker -> worker`);
  log(`memcpy reference: ${memcpyMBps(256 << 20).toFixed(0)} MB/s`);
  log('transport  size     messages/s      MB/s');
  for (const transport of ['sab', 'port'] as const) {
    for (const size of SIZES) {
      const { messages, bytes, ms } = await throughput(transport, size);
      const rate = messages / (ms / 1000);
      const mbps = bytes / 1e6 / (ms / 1000);
      log(
        `${transport.padEnd(9)}  ${String(size).padStart(5)}  ${rate.toFixed(0).padStart(13)}  ${mbps.toFixed(0).padStart(8)}`,
      );
    }
  }
  log(`round trip, main -> worker -> main, 100 B, ${ROUND_TRIPS} sequential requests (µs):`);
  for (const transport of ['sab', 'port'] as const) {
    const { p50, p99, mean } = await latency(transport);
    log(`${transport.padEnd(9)}  p50 ${p50.toFixed(1)}  p99 ${p99.toFixed(1)}  mean ${mean.toFixed(1)}`);
  }
}

if (!isMainThread) {
  await runWorker(workerData as Role);
} else if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runRingBench();
}
