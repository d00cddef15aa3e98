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
import * as fallback from './fallback.js';

export type NativeApi = typeof fallback;

export const nativeAvailable = false;
export const nativeLoadError: string | undefined = 'the native addon is not built yet';

export const { crc32c, sendfile, mmap, flushMapping, munmap, fdatasync, fallocate } = fallback;
