// `.timeindex`: the sparse time index of one segment, e.g. 00000000000000000050.timeindex.
//
// Entry (12 bytes, big-endian):  int64 timestamp | int32 relativeOffset
//   timestamp       the largest batch max-timestamp seen in the segment so far
//   relativeOffset  the last offset of the batch that was appended when the entry was written, minus the
//                   segment's base offset
// Entries are written at the same moments as offset-index entries, but only when the timestamp grew, and
// once more when the segment rolls or closes, so the last entry holds the segment's largest timestamp.
// Invariants: timestamps strictly increase; relative offsets never decrease. Meaning of an entry (T, o):
// no record at an offset <= o has a timestamp > T. Not checksummed: rebuilt from the log by recovery.
// Runs on the owning partition worker only.
import { CorruptIndexError, MappedIndex } from './mapped-index.js';

export const TIME_INDEX_ENTRY_SIZE = 12;

export interface TimestampOffset {
  timestamp: number;
  offset: number;
}

export class TimeIndex extends MappedIndex {
  constructor(path: string, baseOffset: number, maxIndexBytes: number, active: boolean) {
    super(path, baseOffset, TIME_INDEX_ENTRY_SIZE, maxIndexBytes, active);
  }

  // Two 32-bit halves instead of getBigInt64: no BigInt allocation on the append and lookup paths.
  #timestampAt = (slot: number): number => {
    const at = slot * TIME_INDEX_ENTRY_SIZE;
    return this.view.getInt32(at) * 4294967296 + this.view.getUint32(at + 4);
  };

  entryAt(slot: number): TimestampOffset {
    const at = slot * TIME_INDEX_ENTRY_SIZE;
    return {
      timestamp: this.#timestampAt(slot),
      offset: this.baseOffset + this.view.getInt32(at + 8),
    };
  }

  get lastEntry(): TimestampOffset {
    return this.entries === 0 ? { timestamp: -1, offset: this.baseOffset } : this.entryAt(this.entries - 1);
  }

  /** Appends (timestamp, offset) if the timestamp is larger than the last entry's. */
  maybeAppend(timestamp: number, offset: number): void {
    if (this.entries > 0 && timestamp <= this.#timestampAt(this.entries - 1)) return;
    if (this.isFull) return;
    this.appendRaw((view, at) => {
      const high = Math.floor(timestamp / 4294967296);
      view.setInt32(at, high);
      view.setUint32(at + 4, timestamp - high * 4294967296);
      view.setInt32(at + 8, offset - this.baseOffset);
    });
  }

  /** The last entry with timestamp <= target, or (-1, baseOffset) when there is none. */
  lookup(target: number): TimestampOffset {
    const slot = this.searchFloor(target, this.#timestampAt);
    return slot < 0 ? { timestamp: -1, offset: this.baseOffset } : this.entryAt(slot);
  }

  /** The last entry with timestamp < target, or (-1, baseOffset). Everything up to its offset is older. */
  lookupBelow(target: number): TimestampOffset {
    return this.lookup(target - 1);
  }

  /** Removes entries for offsets >= offset. */
  truncateTo(offset: number): void {
    let count = this.entries;
    while (count > 0 && this.entryAt(count - 1).offset >= offset) count--;
    this.truncateEntries(count);
  }

  sanityCheck(_logSize: number): void {
    if (this.misalignedOnOpen) {
      throw new CorruptIndexError(this.path, `file size is not a multiple of ${TIME_INDEX_ENTRY_SIZE}`);
    }
    let prevTimestamp = -Infinity;
    let prevOffset = -1;
    for (let slot = 0; slot < this.entries; slot++) {
      const entry = this.entryAt(slot);
      if (entry.timestamp <= prevTimestamp || entry.offset < prevOffset || entry.offset < this.baseOffset) {
        throw new CorruptIndexError(
          this.path,
          `entry ${slot} (timestamp ${entry.timestamp}, offset ${entry.offset}) is out of order`,
        );
      }
      prevTimestamp = entry.timestamp;
      prevOffset = entry.offset;
    }
  }
}
