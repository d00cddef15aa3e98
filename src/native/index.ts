// The only module that loads the C++ addon (build/Release/fjord_native.node). Every function here has a
// pure TypeScript fallback with the same signature in fallback.ts; FJORD_NO_NATIVE=1 forces the fallbacks.
//
// Contract (the rest of Fjord depends on exactly this):
//   crc32c(data, initial = 0): number                 CRC32C (Castagnoli) as an unsigned 32-bit number;
//                                                     crc32c(b, crc32c(a)) === crc32c(a ++ b)
//   sendfile(outFd, inFd, position, length): Promise<number>
//                                                     copies a file region to a (possibly non-blocking)
//                                                     socket fd off the event loop; resolves to bytes sent
//                                                     (less than length only at end of file)
//   mmap(fd, offset, length, writable): Buffer        a file region as a Buffer (MAP_SHARED when writable)
//   flushMapping(buf): void                           makes writes to a writable mapping durable in the file
//   munmap(buf): void                                 releases the mapping now (a finalizer also does it)
//   fdatasync(fd): void                               blocking: call from a worker, not the main thread
//   fallocate(fd, offset, length): void               preallocates, extending the file size if needed
//
// Rules both implementations follow (the shared argument checks below enforce them):
//   - Arguments are checked here: fds are integers 0..2^31-1, positions and lengths safe integers >= 0,
//     `initial` a uint32. Violations throw TypeError/RangeError with code ERR_INVALID_ARG_TYPE/ERR_OUT_OF_RANGE.
//   - Syscall failures throw (or reject with) an Error carrying Node's `code` ('EBADF', 'EPIPE', ...),
//     `errno` (negative, as in Node) and `syscall`.
//   - sendfile: before calling it on a socket, everything earlier written through the net.Socket must have been
//     flushed (write callback), and the socket must not be destroyed until the promise settles: the fd number
//     could otherwise be reused. A socket that takes no byte for 60 s rejects with ETIMEDOUT. The native
//     version occupies one libuv thread-pool thread while it waits on a slow reader.
//   - mmap: any offset (no page alignment needed); offset + length must lie within the file's current size
//     (RangeError otherwise: touching a mapped page past the end of a file is SIGBUS). length 0 gives an
//     empty Buffer. The file must not be truncated below the mapping while it is alive. Writing into a
//     read-only native mapping crashes the process (the pages are PROT_READ).
//   - munmap: afterwards the buffer (and every view on it) is detached and reads as empty; calling it again,
//     or on a buffer that is not a mapping, does nothing. Only call it once nothing (a pending socket.write)
//     still uses the memory. A writable fallback mapping is written back to the file here.
//   - flushMapping: only on a live buffer returned by mmap() (not a subarray); otherwise it throws.
//   - fallocate: length 0 does nothing. The fallback only extends the size (sparse, nothing reserved).
import { existsSync, fstatSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getSystemErrorMap } from 'node:util';
import * as fallback from './fallback.js';

export interface NativeApi {
  crc32c(data: Uint8Array, initial?: number): number;
  sendfile(outFd: number, inFd: number, position: number, length: number): Promise<number>;
  mmap(fd: number, offset: number, length: number, writable: boolean): Buffer;
  flushMapping(buf: Buffer): void;
  munmap(buf: Buffer): void;
  fdatasync(fd: number): void;
  fallocate(fd: number, offset: number, length: number): void;
}

/** The addon's API as Fjord uses it, plus what tests and benchmarks need to see the C++ table path. */
export interface NativeAddon extends NativeApi {
  /** The C++ slice-by-8 path, even where the CPU has SSE4.2. */
  crc32cTable(data: Uint8Array, initial?: number): number;
  /** Whether the addon's crc32c uses the SSE4.2 instruction on this CPU. */
  readonly crc32cHardware: boolean;
}

// What native/addon.cc exports: failures come back as -errno numbers.
interface RawAddon {
  crc32c(data: Uint8Array, initial: number): number;
  crc32cTable(data: Uint8Array, initial: number): number;
  readonly crc32cHardware: boolean;
  sendfile(outFd: number, inFd: number, position: number, length: number): Promise<number>;
  mmap(fd: number, offset: number, length: number, writable: boolean): Buffer | number;
  munmap(buf: Buffer): number;
  flushMapping(buf: Buffer): number;
  fdatasync(fd: number): number;
  fallocate(fd: number, offset: number, length: number): number;
}

const fallbackApi: NativeApi = fallback;

// ---- errors ------------------------------------------------------------------------------------------------

const systemErrors = getSystemErrorMap();

function errnoError(negativeErrno: number, syscall: string): NodeJS.ErrnoException {
  const [code, description] = systemErrors.get(negativeErrno) ?? [
    `Unknown system error ${negativeErrno}`,
    '',
  ];
  const error: NodeJS.ErrnoException = new Error(`${code}: ${description}, ${syscall}`);
  error.errno = negativeErrno;
  error.code = code;
  error.syscall = syscall;
  return error;
}

function check(result: number, syscall: string): void {
  if (result < 0) throw errnoError(result, syscall);
}

function argError(kind: 'type' | 'range', message: string): Error {
  const error = kind === 'type' ? new TypeError(message) : new RangeError(message);
  (error as NodeJS.ErrnoException).code = kind === 'type' ? 'ERR_INVALID_ARG_TYPE' : 'ERR_OUT_OF_RANGE';
  return error;
}

function checkInteger(name: string, value: unknown, max: number): void {
  if (typeof value !== 'number') throw argError('type', `${name} must be a number, got ${typeof value}`);
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw argError('range', `${name} must be an integer in 0..${max}, got ${value}`);
  }
}

const checkFd = (name: string, fd: unknown) => checkInteger(name, fd, 0x7fffffff);
const checkSize = (name: string, value: unknown) => checkInteger(name, value, Number.MAX_SAFE_INTEGER);

function checkBuffer(name: string, value: unknown): void {
  if (!Buffer.isBuffer(value)) throw argError('type', `${name} must be a Buffer`);
}

// ---- the addon behind the contract -------------------------------------------------------------------------

function adaptAddon(raw: RawAddon): NativeAddon {
  return {
    crc32c: (data, initial = 0) => raw.crc32c(data, initial),
    crc32cTable: (data, initial = 0) => raw.crc32cTable(data, initial),
    crc32cHardware: raw.crc32cHardware,
    async sendfile(outFd, inFd, position, length) {
      const result = await raw.sendfile(outFd, inFd, position, length);
      if (result < 0) throw errnoError(result, 'sendfile');
      return result;
    },
    mmap(fd, offset, length, writable) {
      const result = raw.mmap(fd, offset, length, writable);
      if (typeof result === 'number') throw errnoError(result, 'mmap');
      return result;
    },
    flushMapping: (buf) => check(raw.flushMapping(buf), 'msync'),
    munmap: (buf) => check(raw.munmap(buf), 'munmap'),
    fdatasync: (fd) => check(raw.fdatasync(fd), 'fdatasync'),
    fallocate: (fd, offset, length) => check(raw.fallocate(fd, offset, length), 'fallocate'),
  };
}

/** Wraps an implementation with the argument checks and mapping bookkeeping that both must share. */
function guarded<T extends NativeApi>(impl: T): T {
  // Buffers returned by mmap() whose mapping is still live; munmap() and flushMapping() consult it so that
  // neither implementation ever sees a stale or foreign buffer.
  const live = new WeakSet<Buffer>();
  return {
    ...impl,
    crc32c(data: Uint8Array, initial = 0): number {
      if (!(data instanceof Uint8Array)) throw argError('type', 'crc32c: data must be a Uint8Array');
      checkInteger('crc32c: initial', initial, 0xffffffff);
      return impl.crc32c(data, initial);
    },
    sendfile(outFd: number, inFd: number, position: number, length: number): Promise<number> {
      try {
        checkFd('sendfile: outFd', outFd);
        checkFd('sendfile: inFd', inFd);
        checkSize('sendfile: position', position);
        checkSize('sendfile: length', length);
      } catch (error) {
        return Promise.reject(error);
      }
      return length === 0 ? Promise.resolve(0) : impl.sendfile(outFd, inFd, position, length);
    },
    mmap(fd: number, offset: number, length: number, writable: boolean): Buffer {
      checkFd('mmap: fd', fd);
      checkSize('mmap: offset', offset);
      checkSize('mmap: length', length);
      if (typeof writable !== 'boolean') throw argError('type', 'mmap: writable must be a boolean');
      const size = fstatSync(fd).size;
      if (offset + length > size) {
        throw argError(
          'range',
          `mmap: [${offset}, ${offset + length}) extends past the end of the file (${size})`,
        );
      }
      const buf = length === 0 ? Buffer.alloc(0) : impl.mmap(fd, offset, length, writable);
      live.add(buf);
      return buf;
    },
    flushMapping(buf: Buffer): void {
      checkBuffer('flushMapping: buf', buf);
      if (!live.has(buf)) throw argError('type', 'flushMapping: buf is not a live buffer returned by mmap()');
      if (buf.length > 0) impl.flushMapping(buf);
    },
    munmap(buf: Buffer): void {
      checkBuffer('munmap: buf', buf);
      if (!live.delete(buf)) return;
      if (buf.length > 0) impl.munmap(buf);
    },
    fdatasync(fd: number): void {
      checkFd('fdatasync: fd', fd);
      impl.fdatasync(fd);
    },
    fallocate(fd: number, offset: number, length: number): void {
      checkFd('fallocate: fd', fd);
      checkSize('fallocate: offset', offset);
      checkSize('fallocate: length', length);
      if (length > 0) impl.fallocate(fd, offset, length);
    },
  };
}

// ---- loading -----------------------------------------------------------------------------------------------

const here = dirname(fileURLToPath(import.meta.url));
// src/native/ under tsx, dist/src/native/ when compiled: the build folder is at the package root either way.
const ADDON_PATHS = [
  join(here, '..', '..', 'build', 'Release', 'fjord_native.node'),
  join(here, '..', '..', '..', 'build', 'Release', 'fjord_native.node'),
];

let rawLoad: { addon: RawAddon | undefined; error: string | undefined } | undefined;

function loadRawAddon(): { addon: RawAddon | undefined; error: string | undefined } {
  if (rawLoad) return rawLoad;
  const path = ADDON_PATHS.find((candidate) => existsSync(candidate));
  if (!path) {
    rawLoad = {
      addon: undefined,
      error: 'build/Release/fjord_native.node is missing (build it with `node scripts/build-native.mjs`)',
    };
  } else {
    try {
      rawLoad = { addon: createRequire(import.meta.url)(path) as RawAddon, error: undefined };
    } catch (error) {
      rawLoad = { addon: undefined, error: `loading ${path} failed: ${(error as Error).message}` };
    }
  }
  return rawLoad;
}

const disabled = process.env.FJORD_NO_NATIVE === '1' || process.env.FJORD_NO_NATIVE === 'true';
const selectedRaw = disabled ? undefined : loadRawAddon().addon;

export const nativeAvailable: boolean = selectedRaw !== undefined;
export const nativeLoadError: string | undefined = disabled
  ? 'FJORD_NO_NATIVE=1 is set'
  : loadRawAddon().error;
/** Which CRC32C code runs behind crc32c(): for logs and benchmark reports. */
export const crc32cImplementation: 'sse4.2' | 'c++ table' | 'typescript' = selectedRaw
  ? selectedRaw.crc32cHardware
    ? 'sse4.2'
    : 'c++ table'
  : 'typescript';

const selected: NativeApi = guarded(selectedRaw ? adaptAddon(selectedRaw) : fallbackApi);

export const { crc32c, sendfile, mmap, flushMapping, munmap, fdatasync, fallocate } = selected;

let warned = false;

/** Logs once per process, when Fjord runs on the fallbacks, that it does and why. Call at broker start. */
export function warnIfFallback(log: (msg: string) => void): void {
  if (nativeAvailable || warned) return;
  warned = true;
  log(
    `native addon not in use (${nativeLoadError}): running on the pure TypeScript fallbacks, ` +
      'so CRC32C, sendfile and mmap are slower',
  );
}

/** The addon behind the same checks as the exported API, whether or not FJORD_NO_NATIVE selected it;
 *  undefined when it cannot be loaded. For the native-vs-fallback equivalence tests and benchmarks. */
export function loadAddonForTests(): NativeAddon | undefined {
  const { addon } = loadRawAddon();
  return addon ? guarded(adaptAddon(addon)) : undefined;
}

/** Why loadAddonForTests() returned undefined. */
export function addonLoadErrorForTests(): string | undefined {
  return loadRawAddon().error;
}
