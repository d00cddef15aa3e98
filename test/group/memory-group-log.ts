// An in-memory GroupLog for coordinator tests: records per partition, optionally failing or stalling.
import type { GroupLog, GroupLogAppendResult } from '../../src/group/group-log.js';
import type { CoordinatorRecord } from '../../src/group/group-records.js';

export class MemoryGroupLog implements GroupLog {
  readonly partitions = new Map<number, CoordinatorRecord[]>();
  partitionCount = 0;
  /** When set, append() answers this instead of storing. */
  failWith: GroupLogAppendResult | undefined;
  /** When set, load() waits for this promise first (to observe COORDINATOR_LOAD_IN_PROGRESS). */
  loadGate: Promise<void> | undefined;
  /** How many append() calls were made (batches written). */
  appends = 0;
  /** How many times open() created the topic. */
  creations = 0;
  /** When set, open() fails with this error (the topic stays missing). */
  openFailure: Error | undefined;

  async existing(): Promise<number | undefined> {
    return this.partitionCount === 0 ? undefined : this.partitionCount;
  }

  async open(partitions: number): Promise<number> {
    await Promise.resolve();
    if (this.openFailure) throw this.openFailure;
    if (this.partitionCount === 0) {
      this.partitionCount = partitions;
      this.creations++;
    }
    return this.partitionCount;
  }

  async append(partition: number, records: CoordinatorRecord[]): Promise<GroupLogAppendResult> {
    this.appends++;
    await Promise.resolve();
    if (this.failWith) return this.failWith;
    const list = this.partitions.get(partition) ?? [];
    const offset = list.length;
    list.push(...records);
    this.partitions.set(partition, list);
    return { ok: true, offset };
  }

  async load(partition: number, onRecord: (key: Buffer, value: Buffer | null) => void): Promise<void> {
    if (this.loadGate) await this.loadGate;
    for (const record of this.partitions.get(partition) ?? []) onRecord(record.key, record.value);
  }

  get all(): CoordinatorRecord[] {
    return [...this.partitions.values()].flat();
  }
}
