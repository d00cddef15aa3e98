// Pure TypeScript equivalents of every native function, with the same signatures (see index.ts).
// Used when the addon did not build, or when FJORD_NO_NATIVE=1. index.ts validates arguments before calling
// these, for both implementations alike.
import * as fs from 'node:fs';

const CRC32C_POLY = 0x82f63b78; // Castagnoli, reflected

// Slice-by-8 tables: table[k][b] is the CRC of byte b followed by k zero bytes.
const TABLES: Uint32Array[] = (() => {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let b = 0; b < 256; b++) {
    let crc = b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ CRC32C_POLY : crc >>> 1;
    tables[0]![b] = crc >>> 0;
  }
  for (let b = 0; b < 256; b++) {
    for (let k = 1; k < 8; k++) {
      const prev = tables[k - 1]![b]!;
      tables[k]![b] = ((prev >>> 8) ^ tables[0]![prev & 0xff]!) >>> 0;
    }
  }
  return tables;
})();

export function crc32c(data: Uint8Array, initial = 0): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES as [
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
  ];
  let crc = ~initial >>> 0;
  let i = 0;
  const end8 = data.length - (data.length % 8);
  for (; i < end8; i += 8) {
    const lo = (crc ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24))) >>> 0;
    crc =
      t7[lo & 0xff]! ^
      t6[(lo >>> 8) & 0xff]! ^
      t5[(lo >>> 16) & 0xff]! ^
      t4[lo >>> 24]! ^
      t3[data[i + 4]!]! ^
      t2[data[i + 5]!]! ^
      t1[data[i + 6]!]! ^
      t0[data[i + 7]!]!;
  }
  for (; i < data.length; i++) crc = t0[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

const SENDFILE_CHUNK = 1 << 20;
// A full socket buffer (EAGAIN) is retried with a growing sleep: short enough to keep a fast reader busy,
// long enough not to spin on a slow one. Same give-up rule as the addon: no progress for a minute.
const EAGAIN_FIRST_WAIT_MS = 1;
const EAGAIN_MAX_WAIT_MS = 16;
const STALL_LIMIT_MS = 60_000;

/** Copies `length` bytes of `inFd` from `position` to `outFd` with read + write. Resolves to bytes written. */
export async function sendfile(
  outFd: number,
  inFd: number,
  position: number,
  length: number,
): Promise<number> {
  const chunk = Buffer.allocUnsafe(Math.min(SENDFILE_CHUNK, Math.max(length, 1)));
  let sent = 0;
  while (sent < length) {
    const want = Math.min(chunk.length, length - sent);
    const bytesRead = await readAt(inFd, chunk, want, position + sent);
    if (bytesRead === 0) break; // end of file: report what was sent
    await writeAll(outFd, chunk.subarray(0, bytesRead));
    sent += bytesRead;
  }
  return sent;
}

async function writeAll(fd: number, data: Buffer): Promise<void> {
  let written = 0;
  let waitMs = EAGAIN_FIRST_WAIT_MS;
  let stalledMs = 0;
  while (written < data.length) {
    try {
      written += await writeTo(fd, data.subarray(written));
      waitMs = EAGAIN_FIRST_WAIT_MS;
      stalledMs = 0;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EINTR') continue;
      if (code !== 'EAGAIN' && code !== 'EWOULDBLOCK') throw error;
      if (stalledMs >= STALL_LIMIT_MS) throw stallError();
      await new Promise((resolve) => setTimeout(resolve, waitMs));
      stalledMs += waitMs;
      waitMs = Math.min(waitMs * 2, EAGAIN_MAX_WAIT_MS);
    }
  }
}

function stallError(): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error('ETIMEDOUT: the socket took no bytes for 60 s, sendfile');
  error.code = 'ETIMEDOUT';
  error.syscall = 'sendfile';
  return error;
}

function readAt(fd: number, buf: Buffer, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) =>
    fs.read(fd, buf, 0, length, position, (error, bytesRead) => (error ? reject(error) : resolve(bytesRead))),
  );
}

function writeTo(fd: number, buf: Buffer): Promise<number> {
  return new Promise((resolve, reject) =>
    fs.write(fd, buf, 0, buf.length, null, (error, written) => (error ? reject(error) : resolve(written))),
  );
}

interface Mapping {
  fd: number;
  offset: number;
  writable: boolean;
}
const mappings = new WeakMap<Buffer, Mapping>();

/** Reads the region into memory. Writes to a writable "mapping" reach the file on flushMapping/munmap; unlike
 *  a real mapping it does not see later writes to the file by others. */
export function mmap(fd: number, offset: number, length: number, writable: boolean): Buffer {
  // Buffer.alloc never hands out a slice of the shared pool, so munmap can detach this buffer's memory.
  const buf = Buffer.alloc(length);
  let filled = 0;
  while (filled < length) {
    const n = fs.readSync(fd, buf, filled, length - filled, offset + filled);
    if (n === 0) break; // past the end of the file reads as zeros, like the tail of a mapped page
    filled += n;
  }
  mappings.set(buf, { fd, offset, writable });
  return buf;
}

export function flushMapping(buf: Buffer): void {
  const mapping = mappings.get(buf);
  if (!mapping?.writable) return;
  let written = 0;
  while (written < buf.length) {
    written += fs.writeSync(mapping.fd, buf, written, buf.length - written, mapping.offset + written);
  }
}

/** Writes a writable mapping back, then detaches the buffer (it reads as empty afterwards, like the addon's). */
export function munmap(buf: Buffer): void {
  if (!mappings.has(buf)) return;
  flushMapping(buf);
  mappings.delete(buf);
  const memory = buf.buffer as ArrayBuffer;
  if (memory.byteLength === buf.length && buf.length > 0) structuredClone(memory, { transfer: [memory] });
}

export function fdatasync(fd: number): void {
  fs.fdatasyncSync(fd);
}

/** Extends the file to cover [offset, offset+length) like fallocate(mode 0), but sparse: no blocks reserved. */
export function fallocate(fd: number, offset: number, length: number): void {
  const size = fs.fstatSync(fd).size;
  if (offset + length > size) fs.ftruncateSync(fd, offset + length);
}
