// Pure TypeScript equivalents of every native function, with the same signatures (see index.ts).
// Used when the addon did not build, or when FJORD_NO_NATIVE=1.
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
    const { bytesRead } = await readAt(inFd, chunk, want, position + sent);
    if (bytesRead === 0) break; // end of file: report what was sent
    let written = 0;
    while (written < bytesRead) {
      try {
        written += await writeTo(outFd, chunk.subarray(written, bytesRead));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    }
    sent += bytesRead;
  }
  return sent;
}

function readAt(fd: number, buf: Buffer, length: number, position: number): Promise<{ bytesRead: number }> {
  return new Promise((resolve, reject) =>
    fs.read(fd, buf, 0, length, position, (error, bytesRead) =>
      error ? reject(error) : resolve({ bytesRead }),
    ),
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

/** Reads the region into memory. Writes to a writable "mapping" reach the file on flushMapping/munmap. */
export function mmap(fd: number, offset: number, length: number, writable: boolean): Buffer {
  const buf = Buffer.alloc(length);
  fs.readSync(fd, buf, 0, length, offset);
  mappings.set(buf, { fd, offset, writable });
  return buf;
}

export function flushMapping(buf: Buffer): void {
  const mapping = mappings.get(buf);
  if (mapping?.writable) fs.writeSync(mapping.fd, buf, 0, buf.length, mapping.offset);
}

export function munmap(buf: Buffer): void {
  flushMapping(buf);
  mappings.delete(buf);
}

export function fdatasync(fd: number): void {
  fs.fdatasyncSync(fd);
}

/** Makes sure bytes [offset, offset+length) are allocated; extends the file size like fallocate(mode 0). */
export function fallocate(fd: number, offset: number, length: number): void {
  const size = fs.fstatSync(fd).size;
  if (offset + length > size) fs.ftruncateSync(fd, offset + length);
}
