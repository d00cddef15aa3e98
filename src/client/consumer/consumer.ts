// A consumer with manual assignment (no group yet): assign partitions, seek, and read with poll() or
// `for await`. Each poll sends one Fetch to each leader of the assigned partitions; while the application
// handles one poll's records the iterator already has the next Fetch in flight. Positions advance as
// batches are decoded, so a fetch from the middle of a batch (the broker returns the whole batch) skips
// the records before the position.
//
// Not yet: consumer groups and commits, read_committed filtering of aborted transactions (control batches
// are skipped, aborted records are not), fetch sessions, and topic-id (v13+) fetches.
import { Fetch, ListOffsets, type FetchRequest } from '../../protocol/messages/index.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import {
  decodeRecordBatch,
  isControlBatch,
  iterateBatches,
  type RecordHeader,
} from '../../protocol/records/record-batch.js';
import { Cluster, type ClientOptions } from '../cluster.js';
import { ClientError, KafkaError, isRetriable, needsMetadataRefresh } from '../errors.js';

/** Consumer options; names follow Kafka's consumer configs in camelCase. */
export interface ConsumerOptions extends ClientOptions {
  /** fetch.max.wait.ms (default 500). */
  maxWaitMs?: number;
  /** fetch.min.bytes (default 1). */
  minBytes?: number;
  /** fetch.max.bytes (default 52428800). */
  maxBytes?: number;
  /** max.partition.fetch.bytes (default 1048576). */
  maxPartitionBytes?: number;
  /** Where to start without a position, or after OFFSET_OUT_OF_RANGE (default 'latest', as Kafka). */
  autoOffsetReset?: 'earliest' | 'latest' | 'none';
  /** isolation.level (default 'read_uncommitted'). */
  isolationLevel?: 'read_uncommitted' | 'read_committed';
}

/** One consumed record. */
export interface ConsumerRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

/** A partition to read, optionally from a given offset. */
export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  offset?: number;
}

interface Assigned {
  topic: string;
  partition: number;
  /** Next offset to fetch; undefined until reset by autoOffsetReset. */
  position: number | undefined;
  paused: boolean;
}

const EARLIEST = -2n;
const LATEST = -1n;
// Fetch v13+ names topics by id; versions up to 12 carry names, which is all this consumer needs yet.
const MAX_FETCH_VERSION = 12;

export class Consumer {
  readonly #cluster: Cluster;
  readonly #options: Required<Omit<ConsumerOptions, keyof ClientOptions>>;
  readonly #assigned = new Map<string, Assigned>();
  #generation = 0;
  #closed = false;

  constructor(options: ConsumerOptions) {
    this.#cluster = new Cluster(options);
    this.#options = {
      maxWaitMs: options.maxWaitMs ?? 500,
      minBytes: options.minBytes ?? 1,
      maxBytes: options.maxBytes ?? 52_428_800,
      maxPartitionBytes: options.maxPartitionBytes ?? 1_048_576,
      autoOffsetReset: options.autoOffsetReset ?? 'latest',
      isolationLevel: options.isolationLevel ?? 'read_uncommitted',
    };
  }

  /** Replaces the assignment. Partitions without an offset start per autoOffsetReset. */
  assign(partitions: TopicPartitionOffset[]): void {
    this.#assigned.clear();
    for (const p of partitions) {
      this.#assigned.set(key(p.topic, p.partition), {
        topic: p.topic,
        partition: p.partition,
        position: p.offset,
        paused: false,
      });
    }
    this.#cluster.addTopics(partitions.map((p) => p.topic));
    this.#generation++;
  }

  /** The current assignment with positions (undefined: not yet resolved). */
  assignment(): { topic: string; partition: number; position: number | undefined }[] {
    return [...this.#assigned.values()].map(({ topic, partition, position }) => ({
      topic,
      partition,
      position,
    }));
  }

  /** Moves a partition's position; the next poll reads from `offset`. */
  seek(topic: string, partition: number, offset: number): void {
    const assigned = this.#assigned.get(key(topic, partition));
    if (assigned === undefined)
      throw new ClientError('INVALID_ARGUMENT', `${topic}-${partition} is not assigned`);
    assigned.position = offset;
    this.#generation++;
  }

  /** Moves assigned partitions of `topic` to the first offset with a timestamp >= `timestamp` (or the end). */
  async seekToTimestamp(topic: string, timestamp: number): Promise<void> {
    for (const a of this.#assigned.values()) {
      if (a.topic !== topic) continue;
      const found = await this.#listOffset(a.topic, a.partition, BigInt(timestamp));
      a.position = found >= 0 ? found : await this.#listOffset(a.topic, a.partition, LATEST);
    }
    this.#generation++;
  }

  pause(topic: string, partition: number): void {
    const a = this.#assigned.get(key(topic, partition));
    if (a) a.paused = true;
  }

  resume(topic: string, partition: number): void {
    const a = this.#assigned.get(key(topic, partition));
    if (a) a.paused = false;
  }

  async #listOffset(topic: string, partition: number, timestamp: bigint): Promise<number> {
    return this.#cluster.withRetries(async () => {
      await this.#cluster.topicMetadata(topic);
      const leader = this.#cluster.leaderFor(topic, partition);
      if (leader === undefined)
        throw new KafkaError(ErrorCode.LEADER_NOT_AVAILABLE, { message: `${topic}-${partition}` });
      const response = await this.#cluster.send(leader, ListOffsets, {
        replicaId: -1,
        isolationLevel: this.#options.isolationLevel === 'read_committed' ? 1 : 0,
        topics: [
          {
            name: topic,
            partitions: [{ partitionIndex: partition, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1 }],
          },
        ],
        timeoutMs: 30_000,
      });
      const p = response.topics[0]?.partitions[0];
      if (p === undefined)
        throw new ClientError('PROTOCOL_ERROR', `ListOffsets answer lacks ${topic}-${partition}`);
      if (p.errorCode !== 0)
        throw new KafkaError(p.errorCode, { apiKey: ListOffsets.apiKey, message: `${topic}-${partition}` });
      return Number(p.oldStyleOffsets[0] ?? p.offset);
    });
  }

  async #reset(a: Assigned): Promise<void> {
    const policy = this.#options.autoOffsetReset;
    if (policy === 'none') {
      throw new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, {
        message: `${a.topic}-${a.partition} has no valid position and autoOffsetReset is none`,
      });
    }
    a.position = await this.#listOffset(a.topic, a.partition, policy === 'earliest' ? EARLIEST : LATEST);
  }

  /** One fetch round over all assigned, unpaused partitions; resolves to the records (maybe none). */
  async poll(): Promise<ConsumerRecord[]> {
    if (this.#closed) throw new ClientError('CLIENT_CLOSED', 'the consumer is closed');
    const generation = this.#generation;
    const active = [...this.#assigned.values()].filter((a) => !a.paused);
    if (active.length === 0) {
      // Nothing to fetch: wait as a fetch would, so an iterator over nothing does not spin.
      await new Promise((resolve) => setTimeout(resolve, this.#options.maxWaitMs));
      return [];
    }
    for (const a of active) if (a.position === undefined) await this.#reset(a);
    const byLeader = new Map<number, Assigned[]>();
    let missingLeader = false;
    for (const a of active) {
      await this.#cluster.topicMetadata(a.topic);
      const leader = this.#cluster.leaderFor(a.topic, a.partition);
      if (leader === undefined) {
        missingLeader = true;
        continue;
      }
      byLeader.set(leader, [...(byLeader.get(leader) ?? []), a]);
    }
    if (missingLeader) await this.#cluster.refreshMetadata().catch(() => undefined);
    const results = await Promise.all(
      [...byLeader].map(([leader, list]) => this.#fetch(leader, list, generation)),
    );
    return results.flat();
  }

  async #fetch(leader: number, list: Assigned[], generation: number): Promise<ConsumerRecord[]> {
    const byTopic = new Map<string, Assigned[]>();
    for (const a of list) byTopic.set(a.topic, [...(byTopic.get(a.topic) ?? []), a]);
    let response;
    try {
      const connection = await this.#cluster.connection(leader);
      const negotiated = connection.versionFor(Fetch);
      if (negotiated === undefined)
        throw new ClientError(
          'UNSUPPORTED_API',
          `${connection.host}:${connection.port} has no usable Fetch version`,
        );
      const request: FetchRequest = {
        clusterId: null,
        replicaId: -1,
        replicaState: { replicaId: -1, replicaEpoch: -1n },
        maxWaitMs: this.#options.maxWaitMs,
        minBytes: this.#options.minBytes,
        maxBytes: this.#options.maxBytes,
        isolationLevel: this.#options.isolationLevel === 'read_committed' ? 1 : 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [...byTopic].map(([topic, parts]) => ({
          topic,
          topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
          partitions: parts.map((a) => ({
            partition: a.partition,
            currentLeaderEpoch: -1,
            fetchOffset: BigInt(a.position!),
            lastFetchedEpoch: -1,
            logStartOffset: -1n,
            partitionMaxBytes: this.#options.maxPartitionBytes,
            replicaDirectoryId: 'AAAAAAAAAAAAAAAAAAAAAA',
          })),
        })),
        forgottenTopicsData: [],
        rackId: '',
      };
      response = await connection.request(Fetch, request, {
        version: Math.min(MAX_FETCH_VERSION, negotiated),
        timeoutMs: this.#cluster.options.requestTimeoutMs + this.#options.maxWaitMs,
      });
    } catch (error) {
      if (!isRetriable(error)) throw error;
      if (needsMetadataRefresh(error)) await this.#cluster.refreshMetadata().catch(() => undefined);
      return [];
    }
    if (response.errorCode !== 0) throw new KafkaError(response.errorCode, { apiKey: Fetch.apiKey });
    const out: ConsumerRecord[] = [];
    for (const topicData of response.responses) {
      for (const p of topicData.partitions) {
        const a = this.#assigned.get(key(topicData.topic, p.partitionIndex));
        // A seek or a new assignment since this fetch left makes its data stale.
        if (a === undefined || this.#generation !== generation) continue;
        if (p.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
          await this.#reset(a);
          continue;
        }
        if (p.errorCode !== 0) {
          const error = new KafkaError(p.errorCode, {
            apiKey: Fetch.apiKey,
            message: `${a.topic}-${a.partition}`,
          });
          if (!error.retriable) throw error;
          if (needsMetadataRefresh(error)) await this.#cluster.refreshMetadata().catch(() => undefined);
          continue;
        }
        const records = p.records;
        if (records === null || records.length === 0) continue;
        for (const { position, header } of iterateBatches(records)) {
          const next = header.baseOffset + header.lastOffsetDelta + 1;
          if (next <= a.position!) continue;
          if (!isControlBatch(header.attributes)) {
            const decoded = await decodeRecordBatch(records, position);
            for (const r of decoded.records) {
              if (r.offset < a.position!) continue;
              out.push({
                topic: a.topic,
                partition: a.partition,
                offset: r.offset,
                timestamp: r.timestamp,
                key: r.key,
                value: r.value,
                headers: r.headers,
              });
            }
          }
          a.position = next;
        }
      }
    }
    return out;
  }

  /** Records one at a time, forever (until close()); the next fetch is in flight while records are handled. */
  async *[Symbol.asyncIterator](): AsyncGenerator<ConsumerRecord> {
    let next = this.poll();
    while (!this.#closed) {
      let records: ConsumerRecord[];
      try {
        records = await next;
      } catch (error) {
        if (this.#closed) return;
        throw error;
      }
      const generation = this.#generation;
      next = this.#closed ? Promise.resolve([]) : this.poll();
      // Keep a rejected prefetch from being reported as unhandled if the loop ends first.
      next.catch(() => undefined);
      for (const record of records) {
        yield record;
        if (this.#generation !== generation || this.#closed) break;
      }
      if (this.#generation !== generation) {
        await next.catch(() => undefined);
        next = this.poll();
      }
    }
  }

  /**
   * Each poll's records as one array (empty polls are skipped), with the next fetch in flight while the
   * caller handles the current one: cheaper per record than the record iterator.
   */
  async *batches(): AsyncGenerator<ConsumerRecord[]> {
    let next = this.poll();
    while (!this.#closed) {
      let records: ConsumerRecord[];
      try {
        records = await next;
      } catch (error) {
        if (this.#closed) return;
        throw error;
      }
      const generation = this.#generation;
      next = this.#closed ? Promise.resolve([]) : this.poll();
      next.catch(() => undefined);
      if (records.length > 0) yield records;
      if (this.#generation !== generation) {
        // A seek while the caller held the batch: the prefetched data is for the old positions.
        await next.catch(() => undefined);
        next = this.poll();
      }
    }
  }

  /** The shared connection layer (for tests and tools). */
  get cluster(): Cluster {
    return this.#cluster;
  }

  /** Closes every connection; an iterator ends after its current record. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#cluster.close();
  }
}

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
