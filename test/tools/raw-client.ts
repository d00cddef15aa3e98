// Raw-socket helpers for broker tests that need bytes a real client would never send (garbage, truncated
// frames, absurd sizes, versions nobody speaks), plus typed Produce/Fetch shortcuts over wire-client.ts for
// checking afterwards that the broker still serves and has lost nothing.
import net from 'node:net';
import { ApiVersions } from '../../src/protocol/messages/api-versions.js';
import { ZERO_UUID } from '../../src/protocol/messages/common.js';
import { Metadata } from '../../src/protocol/messages/metadata.js';
import {
  Fetch,
  defaultFetchRequest,
  defaultFetchRequestFetchPartition,
  type FetchResponse,
} from '../../src/protocol/messages/fetch.js';
import {
  Produce,
  type ProduceResponsePartitionProduceResponse,
} from '../../src/protocol/messages/produce.js';
import {
  buildRecordBatch,
  decodeRecordBatch,
  iterateBatches,
  type CompressionType,
} from '../../src/protocol/records/record-batch.js';
import { WireClient } from './wire-client.js';

/** One TCP connection that writes arbitrary bytes and reads size-prefixed frames back. */
export class RawConnection {
  readonly socket: net.Socket;
  readonly closed: Promise<void>;
  #isClosed = false;
  #buffer = Buffer.alloc(0);
  #waiters: (() => void)[] = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('error', () => {});
    socket.on('data', (data) => {
      this.#buffer = Buffer.concat([this.#buffer, data]);
      this.#wake();
    });
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.#isClosed = true;
        this.#wake();
        resolve();
      }),
    );
  }

  static async connect(port: number, host = '127.0.0.1'): Promise<RawConnection> {
    const socket = net.connect(port, host);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawConnection(socket);
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** The next response frame (without its size prefix); rejects if the connection closes or time runs out. */
  async nextFrame(timeoutMs = 5000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.#buffer.length >= 4) {
        const size = this.#buffer.readInt32BE(0);
        if (this.#buffer.length >= 4 + size) {
          const frame = this.#buffer.subarray(4, 4 + size);
          this.#buffer = this.#buffer.subarray(4 + size);
          return frame;
        }
      }
      if (this.#isClosed) throw new Error('connection closed before a response arrived');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no response in time');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** True if the broker closed the connection within `timeoutMs`. */
  async closedWithin(timeoutMs = 5000): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const result = await Promise.race([this.closed.then(() => true as const), timedOut]);
    clearTimeout(timer);
    return result;
  }

  /** Bytes received so far and not yet taken as frames. */
  get pending(): Buffer {
    return this.#buffer;
  }

  destroy(): void {
    this.socket.destroy();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}

/** A size-prefixed frame. */
export function sizePrefixed(payload: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(payload.length);
  return Buffer.concat([size, payload]);
}

/**
 * A request header written by hand, for versions and keys the codecs refuse to encode. `flexible` adds the
 * (empty) tagged-field section of header v2.
 */
export function rawRequestHeader(
  apiKey: number,
  apiVersion: number,
  correlationId: number,
  clientId = 'raw',
  flexible = false,
): Buffer {
  const id = Buffer.from(clientId);
  const header = Buffer.alloc(10 + id.length + (flexible ? 1 : 0));
  header.writeInt16BE(apiKey, 0);
  header.writeInt16BE(apiVersion, 2);
  header.writeInt32BE(correlationId, 4);
  header.writeInt16BE(id.length, 8);
  id.copy(header, 10);
  return header;
}

export interface TestRecord {
  key: string | null;
  value: string | null;
}

export function recordBatch(
  records: TestRecord[],
  compression?: CompressionType,
  timestamp = Date.now(),
): Promise<Buffer> {
  return buildRecordBatch(
    records.map((r) => ({
      key: r.key === null ? null : Buffer.from(r.key),
      value: r.value === null ? null : Buffer.from(r.value),
      timestamp,
    })),
    compression === undefined ? {} : { compression },
  );
}

/** Produce one partition's records; resolves to that partition's response (acks=-1 unless given). */
export async function produce(
  client: WireClient,
  topic: string,
  partition: number,
  records: Buffer,
  options: { version?: number; acks?: number } = {},
): Promise<ProduceResponsePartitionProduceResponse> {
  const response = await client.send(Produce, options.version ?? 9, {
    transactionalId: null,
    acks: options.acks ?? -1,
    timeoutMs: 5000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
  });
  const answer = response.responses[0]?.partitionResponses[0];
  if (!answer) throw new Error('produce response without a partition');
  return answer;
}

export interface FetchOptions {
  version?: number;
  maxWaitMs?: number;
  minBytes?: number;
  maxBytes?: number;
  partitionMaxBytes?: number;
}

/** One Fetch for several partitions of one topic (in the order given), each from its own offset. */
export async function fetchPartitions(
  client: WireClient,
  topic: string,
  partitions: { partition: number; offset: number }[],
  options: FetchOptions = {},
): Promise<FetchResponse> {
  return client.send(Fetch, options.version ?? 11, {
    ...defaultFetchRequest(),
    replicaId: -1,
    maxWaitMs: options.maxWaitMs ?? 0,
    minBytes: options.minBytes ?? 1,
    maxBytes: options.maxBytes ?? 50 << 20,
    isolationLevel: 0,
    topics: [
      {
        topic,
        topicId: ZERO_UUID,
        partitions: partitions.map((p) => ({
          ...defaultFetchRequestFetchPartition(),
          partition: p.partition,
          fetchOffset: BigInt(p.offset),
          partitionMaxBytes: options.partitionMaxBytes ?? 1 << 20,
        })),
      },
    ],
  });
}

export interface FetchedRecord extends TestRecord {
  offset: number;
}

/** Decodes every complete batch of a fetch response's records, keeping records from `fromOffset` on. */
export async function decodeRecords(records: Buffer | null, fromOffset = 0): Promise<FetchedRecord[]> {
  const out: FetchedRecord[] = [];
  if (!records) return out;
  for (const { position } of iterateBatches(records)) {
    const batch = await decodeRecordBatch(records, position, { verifyCrc: true });
    for (const r of batch.records) {
      if (r.offset < fromOffset) continue;
      out.push({
        offset: r.offset,
        key: r.key === null ? null : r.key.toString(),
        value: r.value === null ? null : r.value.toString(),
      });
    }
  }
  return out;
}

/** Every record of a partition from `fromOffset` to the high watermark, fetched in as many rounds as needed. */
export async function readPartition(
  client: WireClient,
  topic: string,
  partition: number,
  fromOffset = 0,
): Promise<FetchedRecord[]> {
  const out: FetchedRecord[] = [];
  let offset = fromOffset;
  for (let round = 0; round < 10_000; round++) {
    const response = await fetchPartitions(client, topic, [{ partition, offset }]);
    const data = response.responses[0]?.partitions[0];
    if (!data) throw new Error('fetch response without the partition');
    if (data.errorCode !== 0)
      throw new Error(`fetch ${topic}-${partition}@${offset}: error ${data.errorCode}`);
    const records = await decodeRecords(data.records, offset);
    out.push(...records);
    if (records.length > 0) offset = records[records.length - 1]!.offset + 1;
    if (offset >= Number(data.highWatermark)) return out;
    if (records.length === 0) throw new Error(`no progress at ${topic}-${partition}@${offset}`);
  }
  throw new Error('readPartition did not finish');
}

/** Metadata with auto-creation: creates the topic with the broker's default partition count if missing. */
export async function ensureTopic(client: WireClient, topic: string): Promise<number> {
  const response = await client.send(Metadata, 9, {
    topics: [{ name: topic, topicId: ZERO_UUID }],
    allowAutoTopicCreation: true,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false,
  });
  const found = response.topics[0];
  if (!found || found.errorCode !== 0) throw new Error(`topic ${topic}: error ${found?.errorCode}`);
  return found.partitions.length;
}

/** ApiVersions v3 on a fresh connection: the cheapest proof that the broker still serves. */
export async function apiVersionsOk(port: number): Promise<boolean> {
  const client = await WireClient.connect(port);
  try {
    const response = await client.send(ApiVersions, 3, {
      clientSoftwareName: 'fjord-test',
      clientSoftwareVersion: '0',
    });
    return response.errorCode === 0 && response.apiKeys.length > 0;
  } finally {
    client.close();
  }
}
