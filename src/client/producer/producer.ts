// The producer: records are appended to a per-partition batch, a batch is sent when it reaches batch.size or
// has waited linger.ms, and each partition's leader gets one Produce request holding a batch for each of its
// partitions that is ready. Up to max.in.flight requests per partition are pipelined on the leader's
// connection. With idempotence (the default when the broker has InitProducerId) every batch carries the
// producer id, epoch and the partition's next sequence number, so a retried batch is never written twice.
// After a retriable failure a partition sends one batch at a time until it succeeds again, which keeps the
// retried batches in sequence order.
// When the broker's sequences for this producer and ours part (it forgot or expired the producer, or a batch
// that will never be acknowledged left a gap), the producer bumps its epoch as Java's does since KIP-360: it
// stops sending, settles batches whose answer was lost (at their old epoch, so none is written twice), then
// InitProducerId with its id and epoch, and every partition starts again at sequence 0 with the unacknowledged
// batches in their original order.
// Memory: at most buffer.memory bytes of records are held unacknowledged; further sends wait, in call order,
// for up to max.block.ms (Java's BufferExhaustedException becomes ClientError BUFFER_EXHAUSTED).
import { InitProducerId, Produce, type ProduceResponse } from '../../protocol/messages/index.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { buildRecordBatch, CompressionType, type RecordInput } from '../../protocol/records/record-batch.js';
import { Cluster, type ClientOptions, type TopicInfo } from '../cluster.js';
import { ClientError, KafkaError, isRetriable, needsMetadataRefresh } from '../errors.js';
import { DefaultPartitioner, type Partitioner } from './partitioner.js';

/** Compression codecs a producer can use. */
export type CompressionName = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

/** Producer options; names follow Kafka's producer configs in camelCase. */
export interface ProducerOptions extends ClientOptions {
  /** acks: 0 (no response), 1 (leader) or 'all' / -1 (all in-sync replicas; default). */
  acks?: 0 | 1 | -1 | 'all';
  /** linger.ms: how long a batch may wait for more records (default 5). */
  lingerMs?: number;
  /** batch.size: a batch is sent once its records reach this many bytes (default 16384). */
  batchSize?: number;
  /** compression.type (default 'none'). */
  compression?: CompressionName;
  /**
   * enable.idempotence (default true when the broker supports InitProducerId; then acks must be 'all').
   * With `true` set explicitly and a broker without InitProducerId, the producer warns once and goes on
   * without it.
   */
  idempotent?: boolean;
  /** max.in.flight.requests.per.connection (default 5; at most 5 with idempotence). */
  maxInFlight?: number;
  /** delivery.timeout.ms: a record that is not acknowledged by then fails (default 120000). */
  deliveryTimeoutMs?: number;
  /**
   * retries: how often a batch is sent again after a retriable error before its records fail with that
   * error (default: unlimited, so delivery.timeout.ms decides, as in Java). Also caps metadata retries.
   */
  retries?: number;
  /**
   * Where records without an explicit partition go: 'sticky' (default: keyed records by murmur2 like the
   * Java client, keyless ones stick to a partition until its batch is sent), 'round-robin' (keyless ones
   * rotate), or a function.
   */
  partitioner?: 'sticky' | 'round-robin' | Partitioner;
  /**
   * max.block.ms: how long `send` may wait, for the topic's metadata and then for room in the buffer, before
   * it rejects (ClientError CONNECTION_ERROR, not retriable, when no bootstrap broker answers;
   * METADATA_UNAVAILABLE; BUFFER_EXHAUSTED; default 60000).
   */
  maxBlockMs?: number;
  /**
   * buffer.memory: the most record bytes (keys, values, headers and per-record overhead, before compression)
   * the producer holds unacknowledged (default 32 MiB). A send that does not fit waits, in call order, until
   * acknowledged or failed records free room, and rejects with BUFFER_EXHAUSTED after maxBlockMs. A record
   * larger than the whole buffer rejects at once with RECORD_TOO_LARGE.
   */
  bufferMemory?: number;
  /** Ask the broker to create unknown topics (it does so only when auto.create.topics.enable is on; default true). */
  allowAutoTopicCreation?: boolean;
}

/** A record header value; strings are UTF-8 encoded. */
export type HeaderValue = Buffer | string | null;

/** One record to send. */
export interface ProducerRecord {
  topic: string;
  /** The value; a string is UTF-8 encoded; null is a tombstone. */
  value: Buffer | string | null;
  key?: Buffer | string | null;
  /** An explicit partition; otherwise the partitioner picks one. */
  partition?: number;
  /** Headers, as an object or as ordered pairs (pairs allow repeated keys). */
  headers?: Record<string, HeaderValue> | [string, HeaderValue][];
  /** CreateTime in ms since the epoch (default: now). */
  timestamp?: number;
}

/** Where a record was written. */
export interface RecordMetadata {
  topic: string;
  partition: number;
  /** The record's offset; -1 with acks=0, which gets no answer. */
  offset: number;
  /** The record's timestamp: its CreateTime, or the broker's LogAppendTime when the topic uses that. */
  timestamp: number;
}

interface Delivery {
  resolve(metadata: RecordMetadata): void;
  reject(error: Error): void;
}

/** A send waiting for room in the buffer (buffer.memory). */
interface BlockedSend {
  topic: string;
  partition: number;
  record: RecordInput;
  bytes: number;
  delivery: Delivery;
  count: number;
  timer: NodeJS.Timeout;
}

interface Batch {
  id: number;
  topic: string;
  partition: number;
  records: RecordInput[];
  deliveries: Delivery[];
  bytes: number;
  createdAt: number;
  baseSequence: number;
  /** The producer epoch the sequence was assigned in (meaningful while baseSequence >= 0). */
  producerEpoch: number;
  built?: Promise<Buffer>;
  lastError?: unknown;
  /**
   * The last attempt ended without an answer (lost connection, timeout): the broker may have written it.
   * Such a batch is resolved with its old epoch and sequence before an epoch bump, or it could be written twice.
   */
  maybeWritten: boolean;
  /** Sends that ended in a retriable error. */
  retries: number;
}

interface PartitionQueue {
  topic: string;
  partition: number;
  open: Batch | undefined;
  ready: Batch[];
  inFlight: number;
  /** After a retriable failure, send one batch at a time until one succeeds. */
  recovering: boolean;
  nextSequence: number;
  /** The last sequence the broker acknowledged in the current epoch (-1: none yet). */
  lastAckedSequence: number;
}

const CODECS: Record<CompressionName, CompressionType> = {
  none: CompressionType.NONE,
  gzip: CompressionType.GZIP,
  snappy: CompressionType.SNAPPY,
  lz4: CompressionType.LZ4,
  zstd: CompressionType.ZSTD,
};

/** Produce errors that mean the broker's idea of this producer's sequences differs from ours. */
const SEQUENCE_ERRORS: ReadonlySet<number> = new Set([
  ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
  ErrorCode.UNKNOWN_PRODUCER_ID,
  ErrorCode.INVALID_PRODUCER_EPOCH,
]);

// A record's bytes in a batch beyond its key, value and headers (length, attributes, deltas, lengths).
const RECORD_OVERHEAD = 21;

let nextBatchId = 0;

/**
 * A Kafka producer. `new Producer({ brokers: ['127.0.0.1:9092'] })`, then `await producer.send(record)`;
 * `close()` flushes and disconnects.
 */
export class Producer {
  readonly #cluster: Cluster;
  readonly #acks: number;
  readonly #lingerMs: number;
  readonly #batchSize: number;
  readonly #compression: CompressionType;
  readonly #maxInFlight: number;
  readonly #deliveryTimeoutMs: number;
  readonly #retries: number;
  readonly #maxBlockMs: number;
  readonly #bufferMemory: number;
  /** Record bytes appended and not yet acknowledged or failed. */
  #bufferedBytes = 0;
  /** Sends waiting for buffer room, oldest first; they are appended strictly in this order. */
  readonly #blocked: BlockedSend[] = [];
  readonly #roomWaiters: (() => void)[] = [];
  readonly #partitioner: DefaultPartitioner;
  readonly #custom: Partitioner | undefined;
  /** Per topic, the partitions' queues by partition index. */
  readonly #queues = new Map<string, PartitionQueue[]>();
  readonly #allQueues: PartitionQueue[] = [];
  readonly #metadataWaits = new Map<string, Promise<TopicInfo>>();
  /** 'pending' until InitProducerId has been tried; 'off' when idempotence is disabled. */
  #idempotence: 'pending' | 'initializing' | 'on' | 'off';
  readonly #idempotenceExplicit: boolean;
  #producerId = -1n;
  #producerEpoch = -1;
  /**
   * The broker's sequence state and ours diverged (KIP-360): once nothing is in flight, bump the epoch (or get
   * a new id) and restart every partition's sequences at 0.
   */
  #bumpNeeded = false;
  #bumping = false;
  #epochBumps = 0;
  #lingerTimer: NodeJS.Timeout | undefined;
  #drainScheduled = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #outstanding = 0;
  readonly #idleWaiters: (() => void)[] = [];
  #closing = false;
  #fatal: Error | undefined;

  constructor(options: ProducerOptions) {
    this.#cluster = new Cluster(
      { retries: Number.MAX_SAFE_INTEGER, ...options },
      {
        allowAutoTopicCreation: options.allowAutoTopicCreation ?? true,
      },
    );
    const acks = options.acks === 'all' || options.acks === undefined ? -1 : options.acks;
    if (![0, 1, -1].includes(acks))
      throw new ClientError('INVALID_ARGUMENT', `acks must be 0, 1 or 'all', not ${String(options.acks)}`);
    this.#acks = acks;
    this.#idempotenceExplicit = options.idempotent !== undefined;
    let idempotent = options.idempotent ?? acks === -1;
    if (idempotent && acks !== -1) {
      throw new ClientError('INVALID_ARGUMENT', 'an idempotent producer needs acks=all');
    }
    this.#maxInFlight = options.maxInFlight ?? 5;
    if (idempotent && this.#maxInFlight > 5) {
      if (this.#idempotenceExplicit)
        throw new ClientError(
          'INVALID_ARGUMENT',
          'an idempotent producer allows at most 5 requests in flight',
        );
      idempotent = false;
    }
    this.#idempotence = idempotent ? 'pending' : 'off';
    this.#lingerMs = options.lingerMs ?? 5;
    this.#batchSize = options.batchSize ?? 16_384;
    const codec = CODECS[options.compression ?? 'none'];
    if (codec === undefined)
      throw new ClientError('INVALID_ARGUMENT', `unknown compression ${String(options.compression)}`);
    this.#compression = codec;
    this.#deliveryTimeoutMs = options.deliveryTimeoutMs ?? 120_000;
    this.#retries = options.retries ?? Number.MAX_SAFE_INTEGER;
    this.#maxBlockMs = options.maxBlockMs ?? 60_000;
    this.#bufferMemory = options.bufferMemory ?? 32 * 1024 * 1024;
    if (!(this.#bufferMemory > 0))
      throw new ClientError('INVALID_ARGUMENT', `bufferMemory must be positive, not ${options.bufferMemory}`);
    const partitioner = options.partitioner ?? 'sticky';
    this.#custom = typeof partitioner === 'function' ? partitioner : undefined;
    this.#partitioner = new DefaultPartitioner(partitioner === 'round-robin' ? 'round-robin' : 'sticky');
  }

  /** Whether batches carry a producer id and sequence numbers (known after the first send). */
  get idempotent(): boolean {
    return this.#idempotence === 'on';
  }

  /** Record bytes held unacknowledged (at most bufferMemory). */
  get bufferedBytes(): number {
    return this.#bufferedBytes;
  }

  /** How many send() calls are waiting for room in the buffer. */
  get blockedSends(): number {
    return this.#blocked.length;
  }

  /**
   * Resolves once no send() is waiting for buffer room (at once when none is). send() does not block its
   * caller the way Java's does, so a loop that produces faster than the broker acknowledges awaits this
   * when `blockedSends > 0` to keep its own memory bounded by bufferMemory.
   */
  waitForRoom(): Promise<void> {
    if (this.#blocked.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  /** The producer id from InitProducerId, or -1. */
  get producerId(): bigint {
    return this.#producerId;
  }

  /** The current producer epoch, or -1. */
  get producerEpoch(): number {
    return this.#producerEpoch;
  }

  /** How many times this producer bumped its epoch (or took a new id) to recover its sequences. */
  get epochBumps(): number {
    return this.#epochBumps;
  }

  /** Connects to a bootstrap broker and loads metadata; optional, `send` connects on demand. */
  async connect(): Promise<void> {
    await this.#cluster.withRetries(() => this.#cluster.refreshMetadata(), 5);
  }

  /** Sends one record; resolves once the broker acknowledged it (per `acks`). */
  send(record: ProducerRecord): Promise<RecordMetadata> {
    // Not an async function: the common path (metadata cached) allocates one promise per record, not three.
    if (this.#closing) return Promise.reject(new ClientError('CLIENT_CLOSED', 'the producer is closed'));
    if (this.#fatal) return Promise.reject(this.#fatal);
    this.#cluster.refreshIfStale();
    const topic = this.#cluster.topic(record.topic);
    if (topic !== undefined) return this.#enqueue(record, topic.partitions.length, undefined);
    // Every send waiting for a topic's metadata waits on the same promise, so records keep their order.
    const deadline = Date.now() + this.#maxBlockMs;
    let waiting = this.#metadataWaits.get(record.topic);
    if (waiting === undefined) {
      waiting = this.#cluster.topicMetadata(record.topic, deadline).finally(() => {
        this.#metadataWaits.delete(record.topic);
      });
      this.#metadataWaits.set(record.topic, waiting);
    }
    return waiting.then((info) => this.#enqueue(record, info.partitions.length, deadline));
  }

  /** `deadline`: when max.block.ms ends for this send (undefined: it starts now). */
  #enqueue(record: ProducerRecord, count: number, deadline: number | undefined): Promise<RecordMetadata> {
    const key = toBuffer(record.key ?? null);
    const value = toBuffer(record.value);
    let partition = record.partition;
    if (partition === undefined) {
      partition = this.#custom
        ? this.#custom({ topic: record.topic, key, value, partitionCount: count })
        : this.#partitioner.partition(record.topic, key, count);
    }
    if (!Number.isInteger(partition) || partition < 0 || partition >= count) {
      return Promise.reject(
        new ClientError(
          'INVALID_ARGUMENT',
          `partition ${partition} of ${record.topic} does not exist (it has ${count})`,
        ),
      );
    }
    const input: RecordInput = { key, value, timestamp: record.timestamp ?? Date.now() };
    let bytes = RECORD_OVERHEAD + (key?.length ?? 0) + (value?.length ?? 0);
    if (record.headers !== undefined) {
      const headers = normalizeHeaders(record.headers);
      if (headers.length > 0) {
        input.headers = headers;
        for (const h of headers) bytes += Buffer.byteLength(h.key) + (h.value?.length ?? 0) + 4;
      }
    }
    if (bytes > this.#bufferMemory) {
      return Promise.reject(
        new ClientError(
          'RECORD_TOO_LARGE',
          `a record of ${bytes} bytes for ${record.topic} is larger than the whole producer buffer (bufferMemory ${this.#bufferMemory})`,
        ),
      );
    }
    const target = partition;
    return new Promise<RecordMetadata>((resolve, reject) => {
      this.#outstanding++;
      // Earlier sends still waiting go first, even if this one would fit: records keep their call order.
      if (this.#blocked.length === 0 && this.#bufferedBytes + bytes <= this.#bufferMemory) {
        this.#bufferedBytes += bytes;
        this.#append(record.topic, target, input, bytes, { resolve, reject }, count);
        return;
      }
      const wait = Math.max(0, (deadline ?? Date.now() + this.#maxBlockMs) - Date.now());
      const blocked: BlockedSend = {
        topic: record.topic,
        partition: target,
        record: input,
        bytes,
        delivery: { resolve, reject },
        count,
        timer: setTimeout(() => {
          const at = this.#blocked.indexOf(blocked);
          if (at < 0) return;
          this.#blocked.splice(at, 1);
          reject(
            new ClientError(
              'BUFFER_EXHAUSTED',
              `no room in the producer buffer for ${wait} ms (max.block.ms ${this.#maxBlockMs}): ` +
                `${this.#bufferedBytes} of bufferMemory ${this.#bufferMemory} bytes are waiting for acknowledgement`,
            ),
          );
          this.#settled(1);
          // Sends behind this one may fit now.
          this.#unblock();
          if (this.#blocked.length === 0) for (const waiter of this.#roomWaiters.splice(0)) waiter();
        }, wait),
      };
      this.#blocked.push(blocked);
    });
  }

  /** Appends waiting sends, oldest first, while they fit in the buffer. */
  #unblock(): void {
    while (this.#blocked.length > 0) {
      const next = this.#blocked[0]!;
      if (this.#fatal === undefined && this.#bufferedBytes + next.bytes > this.#bufferMemory) return;
      this.#blocked.shift();
      clearTimeout(next.timer);
      if (this.#fatal !== undefined) {
        next.delivery.reject(this.#fatal);
        this.#settled(1);
        continue;
      }
      this.#bufferedBytes += next.bytes;
      this.#append(next.topic, next.partition, next.record, next.bytes, next.delivery, next.count);
    }
    for (const waiter of this.#roomWaiters.splice(0)) waiter();
  }

  /** Sends several records; resolves to their metadata in the same order. */
  sendBatch(records: ProducerRecord[]): Promise<RecordMetadata[]> {
    return Promise.all(records.map((r) => this.send(r)));
  }

  #append(
    topic: string,
    partition: number,
    record: RecordInput,
    bytes: number,
    delivery: Delivery,
    count: number,
  ): void {
    let byPartition = this.#queues.get(topic);
    if (byPartition === undefined) {
      byPartition = [];
      this.#queues.set(topic, byPartition);
    }
    let queue = byPartition[partition];
    if (queue === undefined) {
      queue = {
        topic,
        partition,
        open: undefined,
        ready: [],
        inFlight: 0,
        recovering: false,
        nextSequence: 0,
        lastAckedSequence: -1,
      };
      byPartition[partition] = queue;
      this.#allQueues.push(queue);
    }
    let batch = queue.open;
    if (batch !== undefined && batch.bytes + bytes > this.#batchSize && batch.records.length > 0) {
      this.#close(queue, count);
      batch = undefined;
    }
    if (batch === undefined) {
      batch = {
        id: nextBatchId++,
        topic,
        partition,
        records: [],
        deliveries: [],
        bytes: 0,
        createdAt: Date.now(),
        baseSequence: -1,
        producerEpoch: -1,
        maybeWritten: false,
        retries: 0,
      };
      queue.open = batch;
    }
    batch.records.push(record);
    batch.deliveries.push(delivery);
    batch.bytes += bytes;
    if (batch.bytes >= this.#batchSize) {
      this.#close(queue, count);
      this.#scheduleDrain();
    } else if (this.#lingerMs <= 0) {
      this.#scheduleDrain();
    } else {
      this.#lingerTimer ??= setTimeout(() => {
        this.#lingerTimer = undefined;
        this.#closeAll();
        this.#scheduleDrain();
      }, this.#lingerMs);
    }
  }

  #close(queue: PartitionQueue, count?: number): void {
    const batch = queue.open;
    if (batch === undefined) return;
    queue.open = undefined;
    queue.ready.push(batch);
    const partitions = count ?? this.#cluster.topic(queue.topic)?.partitions.length ?? 1;
    this.#partitioner.onNewBatch(queue.topic, queue.partition, partitions);
  }

  #closeAll(): void {
    for (const queue of this.#allQueues) this.#close(queue);
  }

  #scheduleDrain(): void {
    if (this.#drainScheduled) return;
    this.#drainScheduled = true;
    // Records appended in the same tick join the same request.
    setImmediate(() => {
      this.#drainScheduled = false;
      this.#drain();
    });
  }

  #drain(): void {
    if (this.#idempotence === 'pending') {
      this.#idempotence = 'initializing';
      void this.#initProducerId().finally(() => this.#scheduleDrain());
      return;
    }
    if (this.#idempotence === 'initializing' || this.#bumping) return;
    // Without linger a batch holds whatever arrived before this drain.
    if (this.#lingerMs <= 0) this.#closeAll();
    if (this.#bumpNeeded && this.#drainForBump()) return;
    const byLeader = new Map<number, Batch[]>();
    let waitingForLeader = false;
    const now = Date.now();
    for (const queue of this.#allQueues) {
      while (queue.ready.length > 0 && queue.inFlight < (queue.recovering ? 1 : this.#maxInFlight)) {
        const batch = queue.ready[0]!;
        if (now - batch.createdAt > this.#deliveryTimeoutMs) {
          queue.ready.shift();
          this.#fail(
            batch,
            new ClientError(
              'DELIVERY_TIMEOUT',
              `records for ${batch.topic}-${batch.partition} were not acknowledged within ${this.#deliveryTimeoutMs} ms`,
              { cause: batch.lastError },
            ),
          );
          continue;
        }
        const leader = this.#cluster.leaderFor(queue.topic, queue.partition);
        if (leader === undefined) {
          waitingForLeader = true;
          break;
        }
        const forLeader = byLeader.get(leader) ?? [];
        // Kafka takes at most one batch per partition in one Produce request.
        if (forLeader.some((b) => b.topic === batch.topic && b.partition === batch.partition)) break;
        queue.ready.shift();
        queue.inFlight++;
        if (batch.baseSequence < 0 && this.#idempotence === 'on') {
          batch.baseSequence = queue.nextSequence;
          batch.producerEpoch = this.#producerEpoch;
          queue.nextSequence = (queue.nextSequence + batch.records.length) % 0x80000000;
        }
        forLeader.push(batch);
        byLeader.set(leader, forLeader);
      }
    }
    for (const [leader, batches] of byLeader) void this.#sendToLeader(leader, batches);
    if (waitingForLeader) this.#retryLater(true);
    // A queue still holding ready batches (per-request limit of one batch per partition) goes again.
    else if (
      byLeader.size > 0 &&
      this.#allQueues.some((q) => q.ready.length > 0 && q.inFlight < (q.recovering ? 1 : this.#maxInFlight))
    ) {
      this.#scheduleDrain();
    }
  }

  #retryLater(refresh: boolean, attempt = 0): void {
    if (this.#retryTimer !== undefined) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      const next = refresh ? this.#cluster.refreshMetadata().catch(() => undefined) : Promise.resolve();
      void next.then(() => this.#drain());
    }, this.#cluster.backoff(attempt));
  }

  /**
   * While an epoch bump is due: sends only batches that may already be in the log (oldest first, one per
   * partition, at their old epoch and sequence) so the broker's answer settles them, and bumps once nothing
   * is in flight. Returns true when the normal drain must not run.
   */
  #drainForBump(): boolean {
    if (this.#allQueues.some((q) => q.inFlight > 0)) return true;
    const unsettled = (b: Batch) =>
      b.maybeWritten && b.baseSequence >= 0 && b.producerEpoch === this.#producerEpoch;
    const unresolved = this.#allQueues.filter((q) => q.ready.some(unsettled));
    if (unresolved.length === 0) {
      // Nothing waiting to be sent needs the bump yet: it happens with the next batch.
      if (this.#allQueues.every((q) => q.ready.length === 0)) return false;
      this.#bumping = true;
      void this.#bumpEpoch().finally(() => {
        this.#bumping = false;
        this.#scheduleDrain();
      });
      return true;
    }
    const byLeader = new Map<number, Batch[]>();
    let waitingForLeader = false;
    for (const queue of unresolved) {
      // Alone, with its old epoch and sequence, the broker answers it definitely: a duplicate (written: it is
      // acknowledged with its offset) or a sequence error (not written: it is rebuilt after the bump). The
      // batches before it that got an answer are known not written and wait for the bump.
      const at = queue.ready.findIndex(unsettled);
      const batch = queue.ready[at]!;
      const leader = this.#cluster.leaderFor(queue.topic, queue.partition);
      if (leader === undefined) {
        waitingForLeader = true;
        continue;
      }
      queue.ready.splice(at, 1);
      queue.inFlight++;
      byLeader.set(leader, [...(byLeader.get(leader) ?? []), batch]);
    }
    for (const [leader, batches] of byLeader) void this.#sendToLeader(leader, batches);
    if (waitingForLeader) this.#retryLater(true);
    return true;
  }

  /**
   * KIP-360 for an idempotent producer without a transactional id: InitProducerId with the current id and
   * epoch (v3+) bumps the epoch and keeps the id; an older broker, or one that refuses the bump, gives a new
   * id. Either way every partition starts again at sequence 0, and the batches not yet acknowledged are
   * rebuilt with the new epoch and sequences, in their original order.
   */
  async #bumpEpoch(): Promise<void> {
    try {
      const response = await this.#cluster.withRetries(async () => {
        const { connection } = await this.#cluster.anyConnection();
        const version = connection.versionFor(InitProducerId);
        if (version === undefined)
          throw new ClientError(
            'UNSUPPORTED_API',
            `${connection.host}:${connection.port} no longer supports InitProducerId`,
          );
        const bump = version >= 3;
        const request = (producerId: bigint, producerEpoch: number) =>
          connection.request(
            InitProducerId,
            { transactionalId: null, transactionTimeoutMs: 2_147_483_647, producerId, producerEpoch },
            { version },
          );
        let r = await request(bump ? this.#producerId : -1n, bump ? this.#producerEpoch : -1);
        if (bump && r.errorCode !== ErrorCode.NONE && !new KafkaError(r.errorCode).retriable) {
          // The broker will not bump this id (fenced, unknown, exhausted): start over with a new one.
          r = await request(-1n, -1);
        }
        if (r.errorCode !== ErrorCode.NONE)
          throw new KafkaError(r.errorCode, { apiKey: InitProducerId.apiKey });
        return r;
      }, 10);
      this.#producerId = response.producerId;
      this.#producerEpoch = response.producerEpoch;
      this.#epochBumps++;
      this.#bumpNeeded = false;
      for (const queue of this.#allQueues) {
        queue.nextSequence = 0;
        queue.lastAckedSequence = -1;
        for (const batch of queue.ready) {
          batch.baseSequence = -1;
          batch.producerEpoch = -1;
          batch.built = undefined;
          batch.maybeWritten = false;
        }
      }
    } catch (error) {
      this.#failAll(error);
    }
  }

  /** Without a usable producer id nothing can be sent idempotently: fail what is queued and every later send. */
  #failAll(error: unknown): void {
    this.#idempotence = 'off';
    this.#fatal = error instanceof Error ? error : new Error(String(error));
    for (const queue of this.#allQueues) {
      this.#close(queue);
      for (const batch of queue.ready.splice(0)) this.#fail(batch, this.#fatal);
    }
  }

  async #initProducerId(): Promise<void> {
    try {
      const { connection } = await this.#cluster.withRetries(() => this.#cluster.anyConnection(), 10);
      if (connection.versionFor(InitProducerId) === undefined) {
        this.#cluster.options.logger.warn(
          `broker ${connection.host}:${connection.port} does not support InitProducerId: idempotence is off for this producer`,
        );
        this.#idempotence = 'off';
        return;
      }
      const response = await this.#cluster.withRetries(async () => {
        const { connection: c } = await this.#cluster.anyConnection();
        const r = await c.request(InitProducerId, {
          transactionalId: null,
          transactionTimeoutMs: 2_147_483_647,
          producerId: -1n,
          producerEpoch: -1,
        });
        if (r.errorCode !== 0) throw new KafkaError(r.errorCode, { apiKey: InitProducerId.apiKey });
        return r;
      }, 10);
      this.#producerId = response.producerId;
      this.#producerEpoch = response.producerEpoch;
      this.#idempotence = 'on';
    } catch (error) {
      this.#failAll(error);
    }
  }

  #build(batch: Batch): Promise<Buffer> {
    batch.built ??= buildRecordBatch(batch.records, {
      compression: this.#compression,
      producerId: this.#idempotence === 'on' ? Number(this.#producerId) : -1,
      producerEpoch: this.#idempotence === 'on' ? batch.producerEpoch : -1,
      baseSequence: batch.baseSequence,
    });
    return batch.built;
  }

  async #sendToLeader(leader: number, batches: Batch[]): Promise<void> {
    let response: ProduceResponse | undefined;
    try {
      const topics = new Map<string, { index: number; records: Buffer }[]>();
      const built = await Promise.all(batches.map((b) => this.#build(b)));
      batches.forEach((b, i) => {
        const list = topics.get(b.topic) ?? [];
        list.push({ index: b.partition, records: built[i]! });
        topics.set(b.topic, list);
      });
      const connection = await this.#cluster.connection(leader);
      response = await connection.request(
        Produce,
        {
          transactionalId: null,
          acks: this.#acks,
          timeoutMs: this.#cluster.options.requestTimeoutMs,
          topicData: [...topics].map(([name, partitionData]) => ({ name, partitionData })),
        },
        { expectResponse: this.#acks !== 0 },
      );
    } catch (error) {
      for (const batch of batches) this.#onBatchError(batch, error);
      this.#afterResponses(batches, true);
      return;
    }
    if (this.#acks === 0 || response === undefined) {
      for (const batch of batches) this.#succeed(batch, -1, -1);
      this.#afterResponses(batches, false);
      return;
    }
    let refresh = false;
    for (const batch of batches) {
      const result = response.responses
        .find((t) => t.name === batch.topic)
        ?.partitionResponses.find((p) => p.index === batch.partition);
      if (result === undefined) {
        this.#onBatchError(
          batch,
          new ClientError('PROTOCOL_ERROR', `Produce response lacks ${batch.topic}-${batch.partition}`),
        );
        continue;
      }
      if (result.errorCode === ErrorCode.NONE || result.errorCode === ErrorCode.DUPLICATE_SEQUENCE_NUMBER) {
        this.#succeed(batch, Number(result.baseOffset), Number(result.logAppendTimeMs));
        continue;
      }
      const error = new KafkaError(result.errorCode, {
        apiKey: Produce.apiKey,
        message: result.errorMessage,
      });
      if (needsMetadataRefresh(error)) refresh = true;
      this.#onBatchError(batch, error);
    }
    this.#afterResponses(batches, refresh);
  }

  #afterResponses(batches: Batch[], refresh: boolean): void {
    const retrying = batches.some((b) => this.#queueOf(b).ready.includes(b));
    if (retrying) this.#retryLater(refresh);
    else this.#scheduleDrain();
  }

  #queueOf(batch: Batch): PartitionQueue {
    return this.#queues.get(batch.topic)![batch.partition]!;
  }

  #succeed(batch: Batch, baseOffset: number, logAppendTime: number): void {
    const queue = this.#queueOf(batch);
    queue.inFlight--;
    queue.recovering = false;
    if (batch.baseSequence >= 0 && batch.producerEpoch === this.#producerEpoch)
      queue.lastAckedSequence = (batch.baseSequence + batch.records.length - 1) % 0x80000000;
    batch.records.forEach((record, i) => {
      batch.deliveries[i]!.resolve({
        topic: batch.topic,
        partition: batch.partition,
        offset: baseOffset < 0 ? -1 : baseOffset + i,
        timestamp: logAppendTime >= 0 ? logAppendTime : (record.timestamp ?? -1),
      });
    });
    this.#release(batch);
  }

  #onBatchError(batch: Batch, error: unknown): void {
    const queue = this.#queueOf(batch);
    queue.inFlight--;
    batch.lastError = error;
    // Only a lost answer leaves it open whether the broker wrote the batch; any broker answer settles that.
    batch.maybeWritten =
      error instanceof ClientError &&
      (error.code === 'CONNECTION_CLOSED' || error.code === 'REQUEST_TIMEOUT');
    const sequenceError =
      error instanceof KafkaError &&
      this.#idempotence === 'on' &&
      batch.baseSequence >= 0 &&
      SEQUENCE_ERRORS.has(error.code);
    if (sequenceError && batch.producerEpoch === this.#producerEpoch) {
      // The oldest unacknowledged batch refused means the broker's state and ours diverged (it lost or
      // expired this producer, or a failed batch left a gap). A later batch refused after an earlier one
      // failed is just out of order: it goes again once the earlier one is through.
      const expected = (queue.lastAckedSequence + 1) % 0x80000000;
      if (batch.baseSequence === expected) this.#bumpNeeded = true;
    }
    const expired = Date.now() - batch.createdAt > this.#deliveryTimeoutMs;
    // Waiting behind a refused earlier batch is not this batch's failure: only retriable errors count.
    const retriesLeft = sequenceError || batch.retries++ < this.#retries;
    if ((isRetriable(error) || sequenceError) && retriesLeft && !expired && !this.#cluster.closed) {
      queue.recovering = true;
      // Retried batches go back in their original order (sequence order when idempotent).
      let at = 0;
      while (at < queue.ready.length && queue.ready[at]!.id < batch.id) at++;
      queue.ready.splice(at, 0, batch);
      return;
    }
    this.#fail(
      batch,
      expired && isRetriable(error)
        ? new ClientError(
            'DELIVERY_TIMEOUT',
            `records for ${batch.topic}-${batch.partition} were not acknowledged within ${this.#deliveryTimeoutMs} ms`,
            { cause: error },
          )
        : error instanceof Error
          ? error
          : new Error(String(error)),
    );
  }

  #fail(batch: Batch, error: Error): void {
    // A sequence that will never be acknowledged leaves a gap the broker would refuse the next batch for.
    if (this.#idempotence === 'on' && batch.baseSequence >= 0 && batch.producerEpoch === this.#producerEpoch)
      this.#bumpNeeded = true;
    for (const delivery of batch.deliveries) delivery.reject(error);
    this.#release(batch);
  }

  /** A settled batch frees its bytes, which may let waiting sends in. */
  #release(batch: Batch): void {
    this.#bufferedBytes -= batch.bytes;
    this.#settled(batch.records.length);
    if (this.#blocked.length > 0) this.#unblock();
  }

  #settled(count: number): void {
    this.#outstanding -= count;
    if (this.#outstanding === 0) for (const waiter of this.#idleWaiters.splice(0)) waiter();
  }

  /** Sends every batched record now and resolves once all records sent so far are settled. */
  async flush(): Promise<void> {
    if (this.#outstanding === 0) return;
    if (this.#lingerTimer !== undefined) {
      clearTimeout(this.#lingerTimer);
      this.#lingerTimer = undefined;
    }
    this.#closeAll();
    this.#scheduleDrain();
    await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Flushes, then closes every connection. Sending afterwards rejects with CLIENT_CLOSED. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    await this.flush();
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#cluster.close();
  }

  /** The shared connection layer (for tests and tools). */
  get cluster(): Cluster {
    return this.#cluster;
  }
}

function toBuffer(value: Buffer | string | null): Buffer | null {
  if (value === null) return null;
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

function normalizeHeaders(headers: ProducerRecord['headers']): { key: string; value: Buffer | null }[] {
  if (headers === undefined) return [];
  const pairs = Array.isArray(headers) ? headers : Object.entries(headers);
  return pairs.map(([key, value]) => ({ key, value: toBuffer(value) }));
}
