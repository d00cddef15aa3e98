// The leader epoch -> start offset cache of one partition, persisted as `leader-epoch-checkpoint` (format in
// checkpoint.ts). An entry (epoch, startOffset) says: the first offset written under `epoch` is startOffset.
// Invariants: epochs strictly increase and start offsets never decrease. Serves OffsetForLeaderEpoch and
// follower truncation; truncated together with the log in both directions.
// Runs on the owning partition worker only.
import * as path from 'node:path';
import {
  LEADER_EPOCH_CHECKPOINT,
  readEpochCheckpoint,
  writeEpochCheckpoint,
  type EpochEntry,
} from './checkpoint.js';

export class LeaderEpochCache {
  #entries: EpochEntry[];
  readonly file: string;

  constructor(partitionDir: string, onProblem: (message: string) => void = () => {}) {
    this.file = path.join(partitionDir, LEADER_EPOCH_CHECKPOINT);
    let entries: EpochEntry[] = [];
    try {
      entries = readEpochCheckpoint(this.file);
    } catch (error) {
      onProblem(`${(error as Error).message}; starting with an empty leader epoch cache`);
    }
    this.#entries = entries;
  }

  get entries(): readonly EpochEntry[] {
    return this.#entries;
  }

  get latestEpoch(): number {
    return this.#entries.at(-1)?.epoch ?? -1;
  }

  /** Records that `epoch` starts at `startOffset` (no-op if the epoch is already known). */
  assign(epoch: number, startOffset: number): void {
    if (epoch < 0) return;
    const last = this.#entries.at(-1);
    if (last && epoch <= last.epoch) return;
    this.#entries = this.#entries.filter((entry) => entry.startOffset < startOffset);
    this.#entries.push({ epoch, startOffset });
    this.flush();
  }

  /**
   * OffsetForLeaderEpoch: the end offset of `epoch` (the start offset of the next larger epoch, or the log end
   * offset for the latest one), with the largest known epoch <= the requested one.
   */
  endOffsetFor(epoch: number, logEndOffset: number): { epoch: number; endOffset: number } {
    let found = -1;
    for (let i = 0; i < this.#entries.length; i++) if (this.#entries[i]!.epoch <= epoch) found = i;
    if (found < 0) return { epoch: -1, endOffset: -1 };
    const next = this.#entries[found + 1];
    return { epoch: this.#entries[found]!.epoch, endOffset: next ? next.startOffset : logEndOffset };
  }

  /** Drops epochs starting at or after `offset` (log truncated to `offset`). */
  truncateFromEnd(offset: number): void {
    const kept = this.#entries.filter((entry) => entry.startOffset < offset);
    if (kept.length !== this.#entries.length) {
      this.#entries = kept;
      this.flush();
    }
  }

  /** Log start moved to `offset`: the epoch covering it now starts there. */
  truncateFromStart(offset: number): void {
    let changed = false;
    while (this.#entries.length > 1 && this.#entries[1]!.startOffset <= offset) {
      this.#entries.shift();
      changed = true;
    }
    const first = this.#entries[0];
    if (first && first.startOffset < offset) {
      first.startOffset = offset;
      changed = true;
    }
    if (changed) this.flush();
  }

  clear(): void {
    this.#entries = [];
    this.flush();
  }

  flush(): void {
    writeEpochCheckpoint(this.file, this.#entries);
  }
}
