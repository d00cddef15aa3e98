// kafkajs 2.2.4 as a test client: produce with any codec, and read partitions from a given offset.
//
// kafkajs ships only gzip; snappy, lz4 and zstd are plugins with a { compress, decompress } shape. These wrap
// the project's own codec dependencies (raw snappy, the LZ4 frame format, zstd), as the kafkajs-snappy/-lz4/
// -zstd plugins would (reading xerial-framed snappy too, as kafkajs-snappy does).
//
// kafkajs's Consumer always joins a consumer group, and Fjord has no group coordinator yet, so reading goes
// one level down: kafkajs's own Cluster and Broker objects send Fetch (its own encoder and decoder), and its
// consumer's Batch class drops the records before the fetch offset, exactly as its Consumer would.
import { createRequire } from 'node:module';
import type { TextRecord } from './broker-harness.js';

const require = createRequire(import.meta.url);
const kafkajs = require('kafkajs') as typeof import('kafkajs');
const { Kafka, CompressionTypes, CompressionCodecs, logLevel } = kafkajs;

export type KafkajsCodec = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

let registered = false;

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);

/**
 * Raw snappy, or the xerial framing Java clients (and Fjord) write: a 16-byte header, then blocks of int32
 * length + raw snappy. The kafkajs-snappy plugin reads both; so does this.
 */
function unwrapXerial(data: Buffer, uncompress: (block: Buffer) => Buffer): Buffer {
  if (data.length < 16 || !data.subarray(0, 8).equals(XERIAL_MAGIC)) return uncompress(data);
  const blocks: Buffer[] = [];
  for (let at = 16; at + 4 <= data.length;) {
    const length = data.readInt32BE(at);
    blocks.push(uncompress(data.subarray(at + 4, at + 4 + length)));
    at += 4 + length;
  }
  return Buffer.concat(blocks);
}

export async function registerKafkajsCodecs(): Promise<void> {
  if (registered) return;
  const snappy = (await import('snappy')).default;
  const lz4 = await import('lz4-napi');
  const zstd = await import('@mongodb-js/zstd');
  type Encoder = { buffer: Buffer };
  CompressionCodecs[CompressionTypes.Snappy] = () => ({
    compress: async (e: Encoder) => snappy.compress(e.buffer),
    decompress: async (b: Buffer) => unwrapXerial(b, (block) => snappy.uncompressSync(block) as Buffer),
  });
  CompressionCodecs[CompressionTypes.LZ4] = () => ({
    compress: async (e: Encoder) => lz4.compressFrame(e.buffer),
    decompress: async (b: Buffer) => lz4.decompressFrame(b),
  });
  CompressionCodecs[CompressionTypes.ZSTD] = () => ({
    compress: async (e: Encoder) => zstd.compress(e.buffer),
    decompress: async (b: Buffer) => zstd.decompress(b),
  });
  registered = true;
}

const CODEC_TYPES: Record<KafkajsCodec, number> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};

export function kafkajsClient(bootstrap: string): InstanceType<typeof Kafka> {
  return new Kafka({
    clientId: 'fjord-it-kafkajs',
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 2, initialRetryTime: 100 },
  });
}

type Headers = Record<string, Buffer | string | null | (Buffer | string | null)[] | undefined>;

/** kafkajs headers are an object; a repeated key becomes an array (in order). */
function toKafkajsHeaders(headers: [string, string | null][]): Headers {
  const out: Record<string, (string | null)[]> = {};
  for (const [k, v] of headers) (out[k] ??= []).push(v);
  return Object.fromEntries(Object.entries(out).map(([k, vs]) => [k, vs.length === 1 ? vs[0]! : vs]));
}

function fromKafkajsHeaders(headers: Headers | undefined): [string, string | null][] {
  const out: [string, string | null][] = [];
  for (const [k, v] of Object.entries(headers ?? {})) {
    for (const one of Array.isArray(v) ? v : [v])
      out.push([k, one === null || one === undefined ? null : one.toString()]);
  }
  return out;
}

/**
 * Produces the records in one send (kafkajs makes one batch per partition of it). Returns each partition's
 * base offset, and, when every record names its partition, each record's partition and offset in input order.
 */
export async function kafkajsProduce(
  bootstrap: string,
  topic: string,
  records: TextRecord[],
  options: { codec?: KafkajsCodec; acks?: number } = {},
): Promise<{
  batches: { partition: number; baseOffset: number }[];
  acks: { partition: number; offset: number }[];
}> {
  await registerKafkajsCodecs();
  const producer = kafkajsClient(bootstrap).producer({ allowAutoTopicCreation: true });
  await producer.connect();
  try {
    const metadata = await producer.send({
      topic,
      acks: options.acks ?? -1,
      compression: CODEC_TYPES[options.codec ?? 'none'],
      messages: records.map((r) => ({
        key: r.key,
        value: r.value,
        headers: toKafkajsHeaders(r.headers) as never,
        ...(r.partition !== undefined ? { partition: r.partition } : {}),
      })),
    });
    const batches = metadata.map((m) => ({ partition: m.partition, baseOffset: Number(m.baseOffset) }));
    if (records.some((r) => r.partition === undefined)) return { batches, acks: [] };
    // Records of one partition follow its base offset in send order.
    const next = new Map(batches.map((b) => [b.partition, b.baseOffset]));
    const acks = records.map((r) => {
      const offset = next.get(r.partition!)!;
      next.set(r.partition!, offset + 1);
      return { partition: r.partition!, offset };
    });
    return { batches, acks };
  } finally {
    await producer.disconnect();
  }
}

interface KafkajsMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: Headers;
}

interface KafkajsBroker {
  fetch(request: unknown): Promise<{
    responses: {
      topicName: string;
      partitions: {
        partition: number;
        errorCode: number;
        highWatermark: string;
        messages: KafkajsMessage[];
      }[];
    }[];
  }>;
}

interface KafkajsCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  refreshMetadata(): Promise<void>;
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(options: { nodeId: string }): Promise<KafkajsBroker>;
}

type BatchClass = new (
  topic: string,
  fetchedOffset: string,
  partitionData: unknown,
) => { messages: KafkajsMessage[]; isEmptyIncludingFiltered(): boolean; lastOffset(): string };

/**
 * Reads `partitions` of `topic` from `from` (an offset, or 'beginning' = 0) until `count` records arrived or
 * `timeoutMs` passed. Each fetch asks for at most `maxBytes` per partition.
 */
export async function kafkajsConsume(
  bootstrap: string,
  topic: string,
  partitions: number[],
  from: number,
  count: number,
  options: { timeoutMs?: number; maxBytes?: number; maxWaitTime?: number } = {},
): Promise<TextRecord[]> {
  await registerKafkajsCodecs();
  const kafka = kafkajsClient(bootstrap);
  const createCluster = Object.getOwnPropertySymbols(kafka).find(
    (s) => s.description === 'private:Kafka:createCluster',
  );
  if (!createCluster) throw new Error('kafkajs internals changed: no createCluster');
  const cluster = (kafka as unknown as Record<symbol, (options: object) => KafkajsCluster>)[createCluster]!(
    {},
  );
  const Batch = require('kafkajs/src/consumer/batch.js') as BatchClass;
  await cluster.connect();
  await cluster.addTargetTopic(topic);
  const offsets = new Map(partitions.map((p) => [p, String(from)]));
  const records: TextRecord[] = [];
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  try {
    while (records.length < count && Date.now() < deadline) {
      const leaders = cluster.findLeaderForPartitions(topic, partitions);
      for (const [nodeId, owned] of Object.entries(leaders)) {
        const broker = await cluster.findBroker({ nodeId });
        const response = await broker.fetch({
          replicaId: -1,
          isolationLevel: 1,
          maxWaitTime: options.maxWaitTime ?? 200,
          minBytes: 1,
          maxBytes: 50 << 20,
          topics: [
            {
              topic,
              partitions: owned.map((partition) => ({
                partition,
                fetchOffset: offsets.get(partition)!,
                maxBytes: options.maxBytes ?? 1 << 20,
              })),
            },
          ],
        });
        for (const topicResponse of response.responses) {
          for (const data of topicResponse.partitions) {
            if (data.errorCode !== 0)
              throw new Error(`fetch ${topic}-${data.partition}: error ${data.errorCode}`);
            const batch = new Batch(topic, offsets.get(data.partition)!, data);
            for (const m of batch.messages) {
              records.push({
                partition: data.partition,
                offset: Number(m.offset),
                key: m.key === null ? null : m.key.toString(),
                value: m.value === null ? null : m.value.toString(),
                headers: fromKafkajsHeaders(m.headers),
              });
            }
            if (!batch.isEmptyIncludingFiltered()) {
              offsets.set(data.partition, String(Number(batch.lastOffset()) + 1));
            }
          }
        }
      }
    }
  } finally {
    await cluster.disconnect();
  }
  return records;
}
