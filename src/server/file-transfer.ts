// How record data goes from a segment file to a client socket on Fetch.
//
// A response is a list of chunks: Buffers (headers, encoded fields) and file regions (record batches still in
// a segment file). Three ways to send a region, chosen by `fjord.fetch.transfer`:
//   sendfile  the addon's sendfile(2) from the segment fd to the socket fd: zero copy in user space, done on
//             libuv's thread pool. Wins on real NICs.
//   mmap      map the region and hand the mapping to socket.write: one kernel copy, no read syscalls.
//   read      pread into a recycled buffer, then socket.write: the portable path, and the fallback when the
//             socket has no fd (or the addon is missing).
// The issue 7 machine-limit figures (mmap+write ~3.8 GB/s, read+write ~2.6, sendfile ~2.0 on loopback) came
// from one mapping re-read over and over, which no consumer does: each page is streamed once, so mmap pays a
// page fault per page plus the munmap, and was the slowest of the three per 1 MiB in bench/machine-limits.ts
// when measured beside Fjord. Inside Fjord (bench/consume.bench.ts, rdkafka_performance -C) the three were
// within run-to-run noise in MB/s on this shared 2-core machine, and sendfile cost the broker the least CPU
// per GB (about 20% less than mmap, 10% less than read), which is what bounds consume when the client and
// broker share the cores.
//
// Main thread; must not block.
import { read as readFd } from 'node:fs';
import type { Socket } from 'node:net';
import { mmap, munmap, sendfile } from '../native/index.js';

/** Byte ranges of open files, sent back to back (a partition's records may span segments). `release` is
 *  called once the bytes have left, or failed to. `byteLength` is the sum of the parts' lengths. */
export interface FileRegion {
  readonly byteLength: number;
  readonly parts: readonly FilePart[];
  readonly release?: () => void;
}

export interface FilePart {
  readonly fd: number;
  readonly position: number;
  readonly length: number;
}

export type ResponseChunk = Buffer | FileRegion;

export function isFileRegion(chunk: ResponseChunk): chunk is FileRegion {
  return !Buffer.isBuffer(chunk);
}

export type FileTransferMode = 'sendfile' | 'mmap' | 'read';

export interface FileRegionSender {
  readonly mode: FileTransferMode;
  /** Sends the region after everything already written to the socket; resolves when the bytes are handed off. */
  send(socket: Socket, region: FileRegion): Promise<void>;
}

const READ_CHUNK = 1 << 20;
const PAGE_SIZE = 4096;

function socketFd(socket: Socket): number | undefined {
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

const EMPTY = Buffer.alloc(0);

/** Resolves once every byte written to the socket so far has been handed to the kernel: write callbacks run in
 *  order, so an empty write's callback runs after all earlier writes completed. */
function drained(socket: Socket): Promise<void> {
  if (socket.writableLength === 0) return Promise.resolve();
  return new Promise((resolve, reject) =>
    socket.write(EMPTY, (error) => (error ? reject(error) : resolve())),
  );
}

// pread targets are recycled once their write completes: a fresh 1 MiB buffer per read made the kernel
// fault in and zero new pages on every read (most of the read path's system time).
const spareReadBuffers: Buffer[] = [];
const MAX_SPARE_READ_BUFFERS = 4;

function readBuffer(): Buffer {
  return spareReadBuffers.pop() ?? Buffer.allocUnsafeSlow(READ_CHUNK);
}

function recycleReadBuffer(buffer: Buffer): void {
  if (spareReadBuffers.length < MAX_SPARE_READ_BUFFERS) spareReadBuffers.push(buffer);
}

function pread(fd: number, buffer: Buffer, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) =>
    readFd(fd, buffer, 0, length, position, (error, bytesRead) =>
      error ? reject(error) : resolve(bytesRead),
    ),
  );
}

async function sendByRead(socket: Socket, region: FilePart): Promise<void> {
  let sent = 0;
  while (sent < region.length) {
    const buffer = readBuffer();
    let bytesRead: number;
    try {
      bytesRead = await pread(
        region.fd,
        buffer,
        Math.min(READ_CHUNK, region.length - sent),
        region.position + sent,
      );
    } catch (error) {
      recycleReadBuffer(buffer);
      throw error;
    }
    if (bytesRead === 0) {
      recycleReadBuffer(buffer);
      throw new Error(`segment ended ${region.length - sent} bytes early`);
    }
    sent += bytesRead;
    if (!socket.write(buffer.subarray(0, bytesRead), () => recycleReadBuffer(buffer))) await drained(socket);
  }
}

/**
 * Maps each part of the region and writes the mappings corked, so they leave in one writev, then waits until
 * the socket has taken them all before unmapping. (Keeping mappings of 8 MiB windows across fetches instead
 * was measured too: no better, since a consumer streams each page once, so the page faults stay and only
 * the mmap/munmap calls go, and V8 counted the mappings as external memory and collected more often.)
 */
async function sendRegionByMmap(socket: Socket, region: FileRegion): Promise<void> {
  const mappings: Buffer[] = [];
  try {
    socket.cork();
    try {
      for (const part of region.parts) {
        if (part.length === 0) continue;
        const start = part.position - (part.position % PAGE_SIZE);
        const mapping = mmap(part.fd, start, part.length + (part.position - start), false);
        mappings.push(mapping);
        socket.write(mapping.subarray(part.position - start));
      }
    } finally {
      socket.uncork();
    }
    // Write callbacks run in order: this one runs after every mapping above has been written (or failed).
    await new Promise<void>((resolve, reject) =>
      socket.write(EMPTY, (error) => (error ? reject(error) : resolve())),
    );
  } finally {
    for (const mapping of mappings) munmap(mapping);
  }
}

// The addon's sendfile runs on libuv's thread pool, and while a client is not reading, its thread waits for
// the socket (up to a minute). A few stalled clients would hold every pool thread, and every other fetch
// (and every fs call in the process) would queue behind them. So only half the pool may be in sendfile at
// once; past that a region goes by read+write, which waits for 'drain' without holding a thread.
const THREAD_POOL_SIZE = Number(process.env.UV_THREADPOOL_SIZE) || 4;
const MAX_SENDFILE_IN_FLIGHT = Math.max(1, Math.floor(THREAD_POOL_SIZE / 2));
let sendfileInFlight = 0;

async function sendBySendfile(socket: Socket, region: FilePart): Promise<void> {
  const fd = socketFd(socket);
  if (fd === undefined) return sendByRead(socket, region);
  await drained(socket);
  if (sendfileInFlight >= MAX_SENDFILE_IN_FLIGHT) return sendByRead(socket, region);
  sendfileInFlight++;
  try {
    const sent = await sendfile(fd, region.fd, region.position, region.length);
    if (sent !== region.length) throw new Error(`segment ended ${region.length - sent} bytes early`);
  } finally {
    sendfileInFlight--;
  }
}

const partSenders: Record<'sendfile' | 'read', (socket: Socket, part: FilePart) => Promise<void>> = {
  sendfile: sendBySendfile,
  read: sendByRead,
};

export function createFileRegionSender(mode: FileTransferMode): FileRegionSender {
  if (mode === 'mmap') {
    return {
      mode,
      async send(socket, region) {
        try {
          await sendRegionByMmap(socket, region);
        } finally {
          region.release?.();
        }
      },
    };
  }
  const send = partSenders[mode];
  return {
    mode,
    async send(socket, region) {
      try {
        for (const part of region.parts) if (part.length > 0) await send(socket, part);
      } finally {
        region.release?.();
      }
    },
  };
}
