// Where the coordinator keeps its records: the compacted internal topic __consumer_offsets, one partition per
// slice of the group id space (see partition-for.ts). Records go in as uncompressed RecordBatches appended
// through the partition workers, and come back at start by reading each partition from its log start.
// The topic is created on the first group write, as Kafka creates it on first use (see group-coordinator.ts).
//
// Main thread; must not block.
import { open } from 'node:fs/promises';
import type { TopicManager } from '../cluster/topic-manager.js';
import type { PartitionPool } from '../partition/partition-pool.js';
import {
  buildRecordBatch,
  decodeRecordBatch,
  isControlBatch,
  iterateBatches,
} from '../protocol/records/record-batch.js';
import type { CoordinatorRecord } from './group-records.js';

export const OFFSETS_TOPIC = '__consumer_offsets';

export type GroupLogAppendResult =
  { ok: true; offset: number } | { ok: false; reason: 'record-too-large' | 'unavailable'; message: string };

export interface GroupLog {
  /** The topic's partition count, or undefined while it does not exist. */
  existing(): Promise<number | undefined>;
  /** Makes sure the topic exists (creating it with `partitions` when missing); resolves to its partition count. */
  open(partitions: number): Promise<number>;
  append(partition: number, records: CoordinatorRecord[], timestamp: number): Promise<GroupLogAppendResult>;
  /** Calls `onRecord` for every record of the partition, in offset order. */
  load(partition: number, onRecord: (key: Buffer, value: Buffer | null) => void): Promise<void>;
}

const READ_CHUNK_BYTES = 1 << 20;

/** The GroupLog over this broker's own partitions. */
export class PartitionGroupLog implements GroupLog {
  readonly #topics: TopicManager;
  readonly #pool: PartitionPool;

  constructor(topics: TopicManager, pool: PartitionPool) {
    this.#topics = topics;
    this.#pool = pool;
  }

  async existing(): Promise<number | undefined> {
    return this.#topics.get(OFFSETS_TOPIC)?.partitions;
  }

  async open(partitions: number): Promise<number> {
    const existing = this.#topics.get(OFFSETS_TOPIC);
    if (existing) return existing.partitions;
    // Replication factor 1: there is one broker, whatever offsets.topic.replication.factor says.
    const result = await this.#topics.create(OFFSETS_TOPIC, partitions, 1, {
      'cleanup.policy': 'compact',
      'compression.type': 'producer',
      'segment.bytes': '104857600',
    });
    const topic = result.topic ?? this.#topics.get(OFFSETS_TOPIC);
    if (!topic) throw new Error(`cannot create ${OFFSETS_TOPIC}: ${result.errorMessage ?? result.errorCode}`);
    return topic.partitions;
  }

  async append(
    partition: number,
    records: CoordinatorRecord[],
    timestamp: number,
  ): Promise<GroupLogAppendResult> {
    const id = this.#topics.partitionId(OFFSETS_TOPIC, partition);
    if (id === undefined)
      return { ok: false, reason: 'unavailable', message: `no ${OFFSETS_TOPIC}-${partition}` };
    const batch = await buildRecordBatch(
      records.map((r) => ({ key: r.key, value: r.value, timestamp })),
      { baseTimestamp: timestamp },
    );
    const outcome = await this.#pool.append(id, batch);
    if (outcome.ok) return { ok: true, offset: outcome.baseOffset };
    const tooLarge = outcome.reason === 'record-too-large';
    return { ok: false, reason: tooLarge ? 'record-too-large' : 'unavailable', message: outcome.message };
  }

  async load(partition: number, onRecord: (key: Buffer, value: Buffer | null) => void): Promise<void> {
    const id = this.#topics.partitionId(OFFSETS_TOPIC, partition);
    if (id === undefined) return;
    const offsets = await this.#pool.offsets(id);
    if (!offsets) return;
    let next = offsets.logStartOffset;
    while (next < offsets.highWatermark) {
      const outcome = await this.#pool.read(id, next, READ_CHUNK_BYTES, 0);
      if (!outcome.ok) {
        // Retention or compaction moved the log start past us meanwhile: carry on from there.
        if (outcome.reason === 'offset-out-of-range' && outcome.logStartOffset > next) {
          next = outcome.logStartOffset;
          continue;
        }
        return;
      }
      const before = next;
      for (const region of outcome.regions) {
        const bytes = await readRegion(region.path, region.position, region.length);
        for (const { position, header } of iterateBatches(bytes)) {
          const lastOffset = header.baseOffset + header.lastOffsetDelta;
          if (lastOffset < next) continue;
          if (!isControlBatch(header.attributes)) {
            const { records } = await decodeRecordBatch(bytes, position);
            for (const record of records) {
              if (record.offset >= next && record.key !== null) onRecord(record.key, record.value);
            }
          }
          next = lastOffset + 1;
        }
      }
      if (next === before) return;
    }
  }
}

async function readRegion(path: string, position: number, length: number): Promise<Buffer> {
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await file.read(buffer, done, length - done, position + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return buffer.subarray(0, done);
  } finally {
    await file.close();
  }
}
