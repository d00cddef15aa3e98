// How record data goes from a segment file to a client socket on Fetch.
//
// A response is a list of chunks: Buffers (headers, encoded fields) and file regions (record batches still in
// a segment file). Three ways to send a region, chosen by `fjord.fetch.transfer`:
//   sendfile  the addon's sendfile(2) from the segment fd to the socket fd: zero copy in user space, done on
//             libuv's thread pool. Wins on real NICs.
//   mmap      map the region and hand the mapping to socket.write: one kernel copy, no read syscalls.
//   read      pread into a fresh buffer, then socket.write: the portable path, and the fallback when the
//             socket has no fd (or the addon is missing).
// Issue 7 measured loopback on this machine: sendfile ~2.0 GB/s, read+write ~2.6 GB/s, mmap+write ~3.8 GB/s,
// so the default is chosen by measurement there (see BENCHMARKS.md).
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

function pread(fd: number, length: number, position: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  return new Promise((resolve, reject) =>
    readFd(fd, buffer, 0, length, position, (error, bytesRead) =>
      error ? reject(error) : resolve(buffer.subarray(0, bytesRead)),
    ),
  );
}

async function sendByRead(socket: Socket, region: FilePart): Promise<void> {
  let sent = 0;
  while (sent < region.length) {
    const data = await pread(region.fd, Math.min(READ_CHUNK, region.length - sent), region.position + sent);
    if (data.length === 0) throw new Error(`segment ended ${region.length - sent} bytes early`);
    sent += data.length;
    if (!socket.write(data)) await drained(socket);
  }
}

async function sendByMmap(socket: Socket, region: FilePart): Promise<void> {
  const start = region.position - (region.position % PAGE_SIZE);
  const mapping = mmap(region.fd, start, region.length + (region.position - start), false);
  const view = mapping.subarray(region.position - start);
  await new Promise<void>((resolve, reject) =>
    socket.write(view, (error) => {
      munmap(mapping);
      if (error) reject(error);
      else resolve();
    }),
  );
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

const senders: Record<FileTransferMode, (socket: Socket, part: FilePart) => Promise<void>> = {
  sendfile: sendBySendfile,
  mmap: sendByMmap,
  read: sendByRead,
};

export function createFileRegionSender(mode: FileTransferMode): FileRegionSender {
  const send = senders[mode];
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
