// Shared machinery of the two sparse segment indexes (offset-index.ts, time-index.ts): a file of fixed-size
// big-endian entries, memory-mapped through the native addon.
//
// File layout: `entries * entrySize` bytes, nothing else (no header, no checksum). While its segment is active
// the file is preallocated to `segment.index.bytes` (rounded down to a whole entry) and the bytes after the
// last entry are zero. When the segment rolls or the log closes cleanly the file is trimmed to its entries,
// so on open the entry count is `file size / entrySize`. After a crash an active index still has its
// zero-filled tail; recovery never trusts it: every segment from the recovery point on is rescanned and its
// indexes rebuilt from the log, and an index failing its sanity check is rebuilt wherever it is.
//
// The file is preallocated and mapped only when an entry is first read or written, and the preallocation is an
// ftruncate (a sparse file: no blocks written). A partition whose active segment has no entries yet (every
// new partition, and every one holding less than `index.interval.bytes`) then costs two open descriptors: no
// mapping, no resizing on open or close. Mapping 2 x 10 MiB per partition up front made creating
// __consumer_offsets' 50 partitions the largest part of broker start-up (V8 counts each mapping as external
// memory and collects garbage more often), and 1 000 partitions took seconds to create.
//
// Runs on the owning partition worker only.
import * as fs from 'node:fs';
import { flushMapping, fdatasync, mmap, munmap } from '../native/index.js';

/** An index file that fails its sanity check. Recovery catches this and rebuilds the index from the log. */
export class CorruptIndexError extends Error {
  override readonly name = 'CorruptIndexError';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
  }
}

const EMPTY = Buffer.alloc(0);
const EMPTY_VIEW = new DataView(new ArrayBuffer(0));

export abstract class MappedIndex {
  #fd: number;
  #path: string;
  #buf: Buffer = EMPTY;
  #view: DataView = EMPTY_VIEW;
  /** The length the file has while mapped (the preallocated size when active); mapped on first use. */
  #length = 0;
  /** The file's size on disk (it becomes #length when mapped, and shrinks at once when trimmed). */
  #fileSize = 0;
  #entries = 0;
  #maxEntries = 0;
  #dirty = false;
  /** Set when the file size on open was not a whole number of entries. */
  readonly misalignedOnOpen: boolean;

  constructor(
    path: string,
    readonly baseOffset: number,
    readonly entrySize: number,
    maxIndexBytes: number,
    active: boolean,
  ) {
    this.#path = path;
    this.#fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
    const size = fs.fstatSync(this.#fd).size;
    this.#fileSize = size;
    this.misalignedOnOpen = size % entrySize !== 0;
    this.#entries = Math.floor(size / entrySize);
    this.#setLength(
      active
        ? Math.max(this.#roundDown(maxIndexBytes), this.#entries * entrySize)
        : this.#entries * entrySize,
    );
  }

  get path(): string {
    return this.#path;
  }
  get entries(): number {
    return this.#entries;
  }
  get maxEntries(): number {
    return this.#maxEntries;
  }
  get isFull(): boolean {
    return this.#entries >= this.#maxEntries;
  }
  /** Bytes of real entries (what the file is trimmed to). */
  get sizeInBytes(): number {
    return this.#entries * this.entrySize;
  }
  protected get view(): DataView {
    if (this.#buf === EMPTY && this.#length > 0) this.#map();
    return this.#view;
  }

  #roundDown(bytes: number): number {
    return bytes - (bytes % this.entrySize);
  }

  /** Sets the mapping length (unmapped: the next access maps it). A file longer than that is trimmed now. */
  #setLength(length: number): void {
    if (this.#fileSize > length) this.#truncateFile(length);
    this.#length = length;
    this.#maxEntries = Math.floor(length / this.entrySize);
  }

  #truncateFile(length: number): void {
    fs.ftruncateSync(this.#fd, length);
    this.#fileSize = length;
  }

  #map(): void {
    if (this.#fileSize !== this.#length) this.#truncateFile(this.#length);
    this.#buf = mmap(this.#fd, 0, this.#length, true);
    this.#view = new DataView(this.#buf.buffer, this.#buf.byteOffset, this.#buf.byteLength);
  }

  #unmap(): void {
    if (this.#buf !== EMPTY) {
      if (this.#dirty) flushMapping(this.#buf);
      munmap(this.#buf);
    }
    this.#dirty = false;
    this.#buf = EMPTY;
    this.#view = EMPTY_VIEW;
  }

  /** Changes the file (and mapping) size; entries beyond it are dropped. */
  resize(bytes: number): void {
    const length = this.#roundDown(bytes);
    this.#unmap();
    this.#entries = Math.min(this.#entries, length / this.entrySize);
    this.#setLength(length);
  }

  /** Trims the preallocated tail (segment roll, clean close). */
  trimToValidSize(): void {
    if (this.#maxEntries !== this.#entries) this.resize(this.#entries * this.entrySize);
  }

  protected appendRaw(write: (view: DataView, at: number) => void): void {
    if (this.isFull) throw new Error(`${this.#path}: index is full (${this.#entries} entries)`);
    write(this.view, this.#entries * this.entrySize);
    this.#entries++;
    this.#dirty = true;
  }

  /** Keeps the first `count` entries and zeroes the rest of the mapping. */
  protected truncateEntries(count: number): void {
    if (count >= this.#entries) return;
    if (this.#buf === EMPTY) this.#map();
    this.#buf.fill(0, count * this.entrySize, this.#entries * this.entrySize);
    this.#entries = count;
    this.#dirty = true;
  }

  /** Drops every entry (before a rebuild). */
  reset(): void {
    this.truncateEntries(0);
  }

  /** Largest entry index whose key is <= target, or -1. Keys must be non-decreasing. */
  protected searchFloor(target: number, keyAt: (slot: number) => number): number {
    let lo = 0;
    let hi = this.#entries - 1;
    if (hi < 0 || keyAt(0) > target) return -1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (keyAt(mid) <= target) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Writes the mapping to the file and syncs it. */
  flush(): void {
    if (this.#buf !== EMPTY && this.#dirty) flushMapping(this.#buf);
    this.#dirty = false;
    fdatasync(this.#fd);
  }

  close(): void {
    this.trimToValidSize();
    this.#unmap();
    fs.closeSync(this.#fd);
    this.#fd = -1;
  }

  /** Closes without trimming (used when the file is about to be deleted or replaced). */
  closeQuietly(): void {
    this.#unmap();
    if (this.#fd >= 0) fs.closeSync(this.#fd);
    this.#fd = -1;
  }

  renameTo(path: string): void {
    fs.renameSync(this.#path, path);
    this.#path = path;
  }

  abstract sanityCheck(logSize: number): void;
}
