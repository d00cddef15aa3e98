// `.index`: the sparse offset index of one segment, e.g. 00000000000000000050.index beside
// 00000000000000000050.log.
//
// Entry (8 bytes, big-endian):  int32 relativeOffset | int32 position
//   relativeOffset  the LAST offset of an indexed batch minus the segment's base offset
//   position        the byte position in the .log where that batch starts
// One entry is added whenever more than `index.interval.bytes` have been appended since the previous entry.
// Invariants: relative offsets strictly increase; positions strictly increase and lie inside the .log.
// Lookup: the last entry whose offset <= target gives a position at or before the batch holding target;
// the reader scans batch headers forward from there. Not checksummed: rebuilt from the log by recovery.
// Runs on the owning partition worker only.
import { CorruptIndexError, MappedIndex } from './mapped-index.js';

export const OFFSET_INDEX_ENTRY_SIZE = 8;

export interface OffsetPosition {
  offset: number;
  position: number;
}

export class OffsetIndex extends MappedIndex {
  constructor(path: string, baseOffset: number, maxIndexBytes: number, active: boolean) {
    super(path, baseOffset, OFFSET_INDEX_ENTRY_SIZE, maxIndexBytes, active);
  }

  #relativeAt = (slot: number): number => this.view.getInt32(slot * OFFSET_INDEX_ENTRY_SIZE);

  entryAt(slot: number): OffsetPosition {
    const at = slot * OFFSET_INDEX_ENTRY_SIZE;
    return { offset: this.baseOffset + this.view.getInt32(at), position: this.view.getInt32(at + 4) };
  }

  get lastEntry(): OffsetPosition {
    return this.entries === 0 ? { offset: this.baseOffset, position: 0 } : this.entryAt(this.entries - 1);
  }

  append(offset: number, position: number): void {
    const relative = offset - this.baseOffset;
    if (relative < 0 || relative > 0x7fffffff) {
      throw new Error(
        `${this.path}: offset ${offset} does not fit the index of base offset ${this.baseOffset}`,
      );
    }
    if (this.entries > 0 && relative <= this.#relativeAt(this.entries - 1)) return;
    this.appendRaw((view, at) => {
      view.setInt32(at, relative);
      view.setInt32(at + 4, position);
    });
  }

  /** The last entry with offset <= target, or (baseOffset, 0) when there is none. */
  lookup(target: number): OffsetPosition {
    const slot = this.searchFloor(target - this.baseOffset, this.#relativeAt);
    return slot < 0 ? { offset: this.baseOffset, position: 0 } : this.entryAt(slot);
  }

  #positionAt = (slot: number): number => this.view.getInt32(slot * OFFSET_INDEX_ENTRY_SIZE + 4);

  /** The last entry whose position is <= position, or (baseOffset, 0). Positions increase with offsets. */
  lookupByPosition(position: number): OffsetPosition {
    const slot = this.searchFloor(position, this.#positionAt);
    return slot < 0 ? { offset: this.baseOffset, position: 0 } : this.entryAt(slot);
  }

  /** Removes entries for offsets >= offset. */
  truncateTo(offset: number): void {
    const slot = this.searchFloor(offset - this.baseOffset - 1, this.#relativeAt);
    this.truncateEntries(slot + 1);
  }

  /** Removes entries whose position is >= position (log truncated by bytes). */
  truncateToPosition(position: number): void {
    let count = this.entries;
    while (count > 0 && this.view.getInt32((count - 1) * OFFSET_INDEX_ENTRY_SIZE + 4) >= position) count--;
    this.truncateEntries(count);
  }

  sanityCheck(logSize: number): void {
    if (this.misalignedOnOpen) {
      throw new CorruptIndexError(this.path, `file size is not a multiple of ${OFFSET_INDEX_ENTRY_SIZE}`);
    }
    let prevRelative = -1;
    let prevPosition = -1;
    for (let slot = 0; slot < this.entries; slot++) {
      const relative = this.#relativeAt(slot);
      const position = this.view.getInt32(slot * OFFSET_INDEX_ENTRY_SIZE + 4);
      if (relative <= prevRelative || position <= prevPosition || position >= logSize) {
        throw new CorruptIndexError(
          this.path,
          `entry ${slot} (offset ${this.baseOffset + relative}, position ${position}) is out of order ` +
            `or beyond the log size ${logSize}`,
        );
      }
      prevRelative = relative;
      prevPosition = position;
    }
  }
}
