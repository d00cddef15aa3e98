// A consumer with manual assignment (assign, seek) or group membership (subscribe): read with poll() or
// `for await`. Each poll sends one Fetch to each leader of the assigned partitions; while the application
// handles one poll's records the iterator already has the next Fetch in flight. Positions advance as
// batches are decoded, so a fetch from the middle of a batch (the broker returns the whole batch) skips
// the records before the position.
//
// With a groupId and subscribe(), the consumer joins a classic consumer group (group-membership.ts). Rejoins
// happen inside poll, never while the iterator has handed out records it has not had back, so partitions are
// revoked (and their offsets committed) only after the application finished with their records. A record
// counts as consumed once the application asks for the next one (or, with poll(), once poll returns it).
//
// Cooperative assignors (cooperative-sticky) make rebalances incremental: the consumer keeps its partitions
// while it rejoins and revokes only those the new assignment leaves out, then rejoins once more.
//
// Not yet: read_committed filtering of aborted transactions (control batches are skipped, aborted records
// are not), fetch sessions, and topic-id (v13+) fetches.
import { Fetch, ListOffsets, type FetchRequest } from '../../protocol/messages/index.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { isControlBatch, iterateBatches } from '../../protocol/records/record-batch.js';
import { Cluster, type ClientOptions } from '../cluster.js';
import { ClientError, KafkaError, isRetriable, needsMetadataRefresh } from '../errors.js';
import { ASSIGNORS, type Assignor } from './assignors.js';
import { GroupMembership, type TopicPartition } from './group-membership.js';
import { decodeBatchInto, type ConsumerRecord } from './record-decoder.js';

export type { ConsumerRecord };

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

/** Group options (with subscribe()); names follow Kafka's consumer configs in camelCase. */
export interface ConsumerGroupOptions {
  /** group.id: needed for subscribe() and commits. */
  groupId?: string;
  /** group.instance.id: a static member keeps its assignment across restarts within the session timeout. */
  groupInstanceId?: string;
  /** session.timeout.ms (default 45000). */
  sessionTimeoutMs?: number;
  /**
   * max.poll.interval.ms, sent as the rebalance timeout (default 300000). A member that holds a poll's records
   * longer than this leaves the group; its partitions are lost (RebalanceListener.onPartitionsLost).
   */
  rebalanceTimeoutMs?: number;
  /** heartbeat.interval.ms (default 3000). */
  heartbeatIntervalMs?: number;
  /** enable.auto.commit (default true with a groupId). */
  enableAutoCommit?: boolean;
  /** auto.commit.interval.ms (default 5000). */
  autoCommitIntervalMs?: number;
  /**
   * partition.assignment.strategy, in order of preference (default ['range', 'roundrobin']). Rebalances are
   * incremental only when every assignor listed is cooperative (as in Kafka).
   */
  partitionAssignors?: ('range' | 'roundrobin' | 'cooperative-sticky' | Assignor)[];
}

/** Called around rebalances, between polls; the consumer waits for a returned promise. */
export interface RebalanceListener {
  /**
   * Partitions this member gives up in a rebalance, after what was consumed from them was committed (with
   * auto commit); the place to commit manually tracked offsets.
   */
  onPartitionsRevoked?(partitions: TopicPartition[]): void | Promise<void>;
  onPartitionsAssigned?(partitions: TopicPartition[]): void | Promise<void>;
  /**
   * Partitions this member lost without a clean revoke: the coordinator no longer counted it in the group
   * (session timeout, removed by an admin, fenced by another instance with its group.instance.id) or it held
   * records longer than max.poll.interval.ms. Other members may own them already, so nothing is committed
   * for them. Without this callback, onPartitionsRevoked is called instead (as in Kafka's Java client).
   */
  onPartitionsLost?(partitions: TopicPartition[]): void | Promise<void>;
}

/** An offset to commit: the next offset the group should read. */
export interface OffsetToCommit {
  topic: string;
  partition: number;
  offset: number;
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
  readonly #options: Required<Omit<ConsumerOptions, keyof ClientOptions | keyof ConsumerGroupOptions>>;
  readonly #assigned = new Map<string, Assigned>();
  #generation = 0;
  #closed = false;
  readonly #groupOptions: ConsumerGroupOptions;
  readonly #autoCommit: boolean;
  readonly #autoCommitIntervalMs: number;
  #membership: GroupMembership | undefined;
  /** Every configured assignor is cooperative: rebalances are incremental. */
  #cooperative = false;
  #subscription: string[] | undefined;
  #listener: RebalanceListener = {};
  #rejoining: Promise<void> | undefined;
  /** Next offset per partition of records the application has had (what auto commit commits). */
  readonly #consumed = new Map<string, OffsetToCommit>();
  readonly #lastCommitted = new Map<string, number>();
  #lastAutoCommit = Date.now();
  /** When the application got records it has not finished with (undefined: it is waiting for records). */
  #handedOutAt: number | undefined;

  constructor(options: ConsumerOptions & ConsumerGroupOptions) {
    this.#cluster = new Cluster(options);
    this.#groupOptions = options;
    this.#autoCommit = options.groupId !== undefined && (options.enableAutoCommit ?? true);
    this.#autoCommitIntervalMs = options.autoCommitIntervalMs ?? 5000;
    this.#options = {
      maxWaitMs: options.maxWaitMs ?? 500,
      minBytes: options.minBytes ?? 1,
      maxBytes: options.maxBytes ?? 52_428_800,
      maxPartitionBytes: options.maxPartitionBytes ?? 1_048_576,
      autoOffsetReset: options.autoOffsetReset ?? 'latest',
      isolationLevel: options.isolationLevel ?? 'read_uncommitted',
    };
  }

  /**
   * Joins the consumer group (groupId) with these topics; the first poll does the join. Replaces an earlier
   * subscription (the group rebalances).
   */
  subscribe(topics: string[], listener: RebalanceListener = {}): void {
    const groupId = this.#groupOptions.groupId;
    if (groupId === undefined) throw new ClientError('INVALID_ARGUMENT', 'subscribe() needs a groupId');
    if (topics.length === 0)
      throw new ClientError('INVALID_ARGUMENT', 'subscribe() needs at least one topic');
    this.#subscription = [...new Set(topics)];
    this.#listener = listener;
    this.#cluster.addTopics(this.#subscription);
    if (this.#membership === undefined) {
      const g = this.#groupOptions;
      const assignors = (g.partitionAssignors ?? ['range', 'roundrobin']).map((a) => {
        const found = typeof a === 'string' ? ASSIGNORS[a] : a;
        if (found === undefined) throw new ClientError('INVALID_ARGUMENT', `unknown assignor ${String(a)}`);
        return found;
      });
      this.#cooperative = assignors.every((a) => a.cooperative === true);
      const sessionTimeoutMs = g.sessionTimeoutMs ?? 45_000;
      const rebalanceTimeoutMs = g.rebalanceTimeoutMs ?? 300_000;
      this.#membership = new GroupMembership(this.#cluster, {
        groupId,
        sessionTimeoutMs,
        rebalanceTimeoutMs,
        pollTimedOut: () =>
          this.#handedOutAt !== undefined && Date.now() - this.#handedOutAt > rebalanceTimeoutMs,
        heartbeatIntervalMs: g.heartbeatIntervalMs ?? Math.min(3000, Math.floor(sessionTimeoutMs / 3)),
        groupInstanceId: g.groupInstanceId ?? null,
        assignors,
      });
    }
    this.#membership.requestRejoin();
  }

  /**
   * The group's member id and generation (undefined without a subscription); `rejoinNeeded` is true from the
   * moment the coordinator asked for a rebalance (or forgot this member) until the next poll has rejoined.
   */
  get groupMember():
    { memberId: string; generationId: number; protocol: string | null; rejoinNeeded: boolean } | undefined {
    const m = this.#membership;
    return (
      m && {
        memberId: m.memberId,
        generationId: m.generationId,
        protocol: m.protocol,
        rejoinNeeded: m.needsJoin,
      }
    );
  }

  /** Replaces the assignment. Partitions without an offset start per autoOffsetReset. */
  assign(partitions: TopicPartitionOffset[]): void {
    if (this.#subscription !== undefined)
      throw new ClientError('INVALID_ARGUMENT', 'assign() cannot be used with subscribe()');
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

  /**
   * One fetch round over all assigned, unpaused partitions; resolves to the records (maybe none). With a
   * subscription, joins or rejoins the group first when needed, and auto-commits when due.
   */
  async poll(): Promise<ConsumerRecord[]> {
    this.#handedOutAt = undefined;
    const records = await this.#poll(true);
    for (const r of records) this.#markConsumed(r);
    // As in Kafka, max.poll.interval.ms runs from one poll's return to the next call.
    this.#handedOutAt = Date.now();
    return records;
  }

  /** `mayRejoin` is false while the application still holds records of the current assignment. */
  async #poll(mayRejoin: boolean): Promise<ConsumerRecord[]> {
    if (this.#closed) throw new ClientError('CLIENT_CLOSED', 'the consumer is closed');
    if (this.#membership !== undefined) {
      if (this.#membership.needsJoin) {
        if (!mayRejoin) return [];
        await this.#rejoin();
      }
      if (this.#autoCommit && Date.now() - this.#lastAutoCommit >= this.#autoCommitIntervalMs) {
        this.#lastAutoCommit = Date.now();
        this.#commitConsumed().catch((error: unknown) =>
          this.#cluster.options.logger.warn(`auto commit failed: ${String(error)}`),
        );
      }
    }
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
          if (!isControlBatch(header.attributes))
            await decodeBatchInto(records, position, header, a.topic, a.partition, a.position!, out);
          a.position = next;
        }
      }
    }
    return out;
  }

  /**
   * Records one at a time, forever (until close()); the next fetch is in flight while records are handled.
   * A record counts as consumed once the application asks for the next one (or leaves the loop).
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<ConsumerRecord> {
    return this.#records();
  }

  /**
   * The record iterator, plus `take()`: the next record when the current poll still has one (marking the
   * previous one consumed), else undefined and next() must wait. run() uses it to skip a promise per record.
   */
  #records(): AsyncIterableIterator<ConsumerRecord> & {
    take(): ConsumerRecord | undefined;
    drop(): void;
  } {
    // Hand-written rather than an async generator: a generator's per-record step (resuming its frame, its
    // request queue) was a large share of the consumer's CPU per record. Records of the current poll are
    // handed out from `records` without touching the network; `refill` waits for the next poll.
    const DONE: IteratorReturnResult<undefined> = { value: undefined, done: true };
    let next: Promise<ConsumerRecord[]> | undefined;
    let records: ConsumerRecord[] = [];
    let index = 0;
    let generation = this.#generation;
    let held: ConsumerRecord | undefined;
    let finished = false;
    /** A refill in progress: a next() called meanwhile (not by for-await) waits for it. */
    let busy: Promise<IteratorResult<ConsumerRecord>> | undefined;
    const finish = (): IteratorReturnResult<undefined> => {
      finished = true;
      records = [];
      return DONE;
    };
    const refill = async (): Promise<IteratorResult<ConsumerRecord>> => {
      for (;;) {
        if (this.#closed) return finish();
        if (records.length > 0 && this.#generation !== generation && next !== undefined) {
          // A seek or rebalance while the application held records: the prefetched data is for old positions.
          await next.catch(() => undefined);
          next = undefined;
        }
        records = [];
        index = 0;
        this.#handedOutAt = undefined;
        let got: ConsumerRecord[];
        try {
          got = await (next ?? this.#poll(true));
        } catch (error) {
          finish();
          if (this.#closed) return DONE;
          throw error;
        }
        generation = this.#generation;
        next = this.#closed ? Promise.resolve([]) : this.#poll(got.length === 0);
        // Keep a rejected prefetch from being reported as unhandled if the loop ends first.
        next.catch(() => undefined);
        if (got.length === 0) continue;
        // One poll's records count as one poll for max.poll.interval.ms, as in Kafka.
        this.#handedOutAt = Date.now();
        records = got;
        index = 1;
        held = got[0]!;
        return { value: held, done: false };
      }
    };
    const take = (): ConsumerRecord | undefined => {
      if (busy !== undefined) return undefined;
      if (held !== undefined) {
        this.#markConsumed(held);
        held = undefined;
      }
      if (finished) return undefined;
      if (index < records.length && this.#generation === generation && !this.#closed) {
        held = records[index++]!;
        return held;
      }
      return undefined;
    };
    const iterator = {
      take,
      /** Forgets the record the application holds without marking it consumed (its handler failed). */
      drop: (): void => {
        held = undefined;
      },
      next: (): Promise<IteratorResult<ConsumerRecord>> => {
        if (busy !== undefined) return busy.then(() => iterator.next());
        const record = take();
        if (record !== undefined) return Promise.resolve({ value: record, done: false });
        if (finished) return Promise.resolve(DONE);
        busy = refill().finally(() => {
          busy = undefined;
        });
        return busy;
      },
      return: (): Promise<IteratorResult<ConsumerRecord>> => {
        if (held !== undefined) {
          this.#markConsumed(held);
          held = undefined;
        }
        return Promise.resolve(finish());
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  /**
   * Each poll's records as one array (empty polls are skipped), with the next fetch in flight while the
   * caller handles the current one: cheaper per record than the record iterator.
   */
  async *batches(): AsyncGenerator<ConsumerRecord[]> {
    let next = this.#poll(true);
    while (!this.#closed) {
      let records: ConsumerRecord[];
      this.#handedOutAt = undefined;
      try {
        records = await next;
      } catch (error) {
        if (this.#closed) return;
        throw error;
      }
      const generation = this.#generation;
      next = this.#closed ? Promise.resolve([]) : this.#poll(records.length === 0);
      next.catch(() => undefined);
      if (records.length > 0) {
        this.#handedOutAt = Date.now();
        try {
          yield records;
        } finally {
          for (const r of records) this.#markConsumed(r);
        }
      }
      if (this.#generation !== generation) {
        // A seek while the caller held the batch: the prefetched data is for the old positions.
        await next.catch(() => undefined);
        next = this.#poll(true);
      }
    }
  }

  /**
   * Callback style, for code written against kafkajs-like APIs: calls `eachMessage` for every record, or
   * `eachBatch` for every fetched batch, awaiting each call before the next, until close() (which resolves it)
   * or a handler throws (which rejects it; the record that threw is not marked consumed).
   */
  async run(handlers: {
    eachMessage?: (record: ConsumerRecord) => void | Promise<void>;
    eachBatch?: (records: ConsumerRecord[]) => void | Promise<void>;
  }): Promise<void> {
    const { eachMessage, eachBatch } = handlers;
    if ((eachMessage === undefined) === (eachBatch === undefined)) {
      throw new ClientError('INVALID_ARGUMENT', 'run() needs exactly one of eachMessage and eachBatch');
    }
    if (eachBatch) {
      for await (const records of this.batches()) await eachBatch(records);
      return;
    }
    // The record iterator without its promise per record: a synchronous handler's records are handed out in
    // a plain loop until the current poll runs out.
    const records = this.#records();
    try {
      for (;;) {
        let record = records.take();
        if (record === undefined) {
          const result = await records.next();
          if (result.done === true) return;
          record = result.value;
        }
        const handled = eachMessage!(record);
        if (handled !== undefined) await handled;
      }
    } catch (error) {
      records.drop();
      throw error;
    } finally {
      await records.return!();
    }
  }

  /** The shared connection layer (for tests and tools). */
  get cluster(): Cluster {
    return this.#cluster;
  }

  #markConsumed(record: ConsumerRecord): void {
    if (this.#membership === undefined) return;
    const k = key(record.topic, record.partition);
    if (!this.#assigned.has(k)) return;
    this.#consumed.set(k, { topic: record.topic, partition: record.partition, offset: record.offset + 1 });
  }

  /** Revokes the current assignment (committing what was consumed), joins, and starts at committed offsets. */
  #rejoin(): Promise<void> {
    this.#rejoining ??= (async () => {
      const membership = this.#membership!;
      // Eager: give everything up before joining. Cooperative: keep fetching what is owned. Either way, when
      // the coordinator forgot this member its partitions may already be someone else's: they are lost.
      if (membership.lost) await this.#lose();
      else if (!this.#cooperative || membership.generationId < 0) await this.#revoke();
      const owned = [...this.#assigned.values()].map(({ topic, partition }) => ({ topic, partition }));
      const assignment = await membership.join(this.#subscription ?? [], owned);
      const now = new Set(assignment.map((tp) => key(tp.topic, tp.partition)));
      const revoked = owned.filter((tp) => !now.has(key(tp.topic, tp.partition)));
      if (revoked.length > 0) {
        await this.#revoke(revoked);
        // What this member gave up goes to its new owner in a follow-up rebalance.
        membership.requestRejoin();
      }
      const assigned = assignment.filter((tp) => !this.#assigned.has(key(tp.topic, tp.partition)));
      if (assigned.length === 0 && revoked.length === 0 && owned.length > 0) return;
      const committed = await membership.committed(assigned);
      for (const tp of assigned) {
        const k = key(tp.topic, tp.partition);
        this.#assigned.set(k, { ...tp, position: committed.get(k), paused: false });
        const offset = committed.get(k);
        if (offset !== undefined) this.#lastCommitted.set(k, offset);
      }
      this.#cluster.addTopics(assigned.map((tp) => tp.topic));
      this.#generation++;
      await this.#callListener('onPartitionsAssigned', assigned);
    })().finally(() => {
      this.#rejoining = undefined;
    });
    return this.#rejoining;
  }

  /** Gives up `partitions` (default: all), committing what was consumed first when auto commit is on. */
  async #revoke(partitions?: TopicPartition[]): Promise<void> {
    const previous =
      partitions ?? [...this.#assigned.values()].map(({ topic, partition }) => ({ topic, partition }));
    if (this.#autoCommit) {
      await this.#commitConsumed().catch((error: unknown) =>
        this.#cluster.options.logger.warn(`commit before rebalance failed: ${String(error)}`),
      );
    }
    if (previous.length > 0) await this.#callListener('onPartitionsRevoked', previous);
    for (const tp of previous) {
      const k = key(tp.topic, tp.partition);
      this.#assigned.delete(k);
      this.#consumed.delete(k);
      this.#lastCommitted.delete(k);
    }
    this.#generation++;
  }

  /** Drops every partition without committing, telling the listener they were lost. */
  async #lose(): Promise<void> {
    const lost = [...this.#assigned.values()].map(({ topic, partition }) => ({ topic, partition }));
    if (lost.length > 0) {
      const name = this.#listener.onPartitionsLost ? 'onPartitionsLost' : 'onPartitionsRevoked';
      await this.#callListener(name, lost);
    }
    this.#assigned.clear();
    this.#consumed.clear();
    this.#lastCommitted.clear();
    this.#generation++;
  }

  async #callListener(name: keyof RebalanceListener, partitions: TopicPartition[]): Promise<void> {
    try {
      await this.#listener[name]?.(partitions);
    } catch (error) {
      this.#cluster.options.logger.warn(`${name} threw: ${String(error)}`);
    }
  }

  async #commitConsumed(): Promise<void> {
    const due = [...this.#consumed].filter(([k, o]) => this.#lastCommitted.get(k) !== o.offset);
    if (due.length === 0 || this.#membership === undefined) return;
    await this.#membership.commit(due.map(([, o]) => o));
    for (const [k, o] of due) this.#lastCommitted.set(k, o.offset);
  }

  /**
   * Commits `offsets` (each the next offset to read), or else the offsets after every record the application
   * has had; resolves once the coordinator stored them, rejects with the KafkaError that stopped it.
   */
  async commit(offsets?: OffsetToCommit[]): Promise<void> {
    if (this.#membership === undefined) {
      throw new ClientError('INVALID_ARGUMENT', 'commit() needs a groupId and subscribe()');
    }
    if (offsets === undefined) return this.#commitConsumed();
    await this.#membership.commit(offsets);
    for (const o of offsets) this.#lastCommitted.set(key(o.topic, o.partition), o.offset);
  }

  /** commit() without waiting: the outcome goes to `callback` (or, for a failure without one, the logger). */
  commitAsync(offsets?: OffsetToCommit[], callback?: (error: Error | null) => void): void {
    this.commit(offsets).then(
      () => callback?.(null),
      (error: unknown) => {
        const e = error instanceof Error ? error : new Error(String(error));
        if (callback) callback(e);
        else this.#cluster.options.logger.warn(`commitAsync failed: ${e.message}`);
      },
    );
  }

  /** The group's committed offsets for partitions (absent: none committed). */
  async committed(partitions: TopicPartition[]): Promise<OffsetToCommit[]> {
    if (this.#membership === undefined)
      throw new ClientError('INVALID_ARGUMENT', 'committed() needs a subscription');
    const found = await this.#membership.committed(partitions);
    return partitions.flatMap((tp) => {
      const offset = found.get(key(tp.topic, tp.partition));
      return offset === undefined ? [] : [{ ...tp, offset }];
    });
  }

  /**
   * Closes the consumer: with a group, commits what was consumed (auto commit), calls onPartitionsRevoked,
   * and leaves the group; then closes every connection. An iterator ends after its current record.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const membership = this.#membership;
    if (membership !== undefined) {
      // A join in progress may wait for the whole group; leaving (and closing the connections) ends it.
      if (this.#rejoining === undefined && this.#assigned.size > 0) {
        if (membership.lost) await this.#lose();
        else await this.#revoke();
      }
      await membership.leave();
    }
    this.#cluster.close();
  }
}

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
