// Load the harness sends, built before the clock starts so that sending costs no per-record work: record
// sizes and keys drawn from their distributions, batches built by the protocol's record-batch builder, and
// whole Produce request frames encoded once. At send time a frame is only patched in place: correlation id,
// partition (keyless frames rotate over partitions), producer sequence (idempotence), and for end-to-end runs
// the send timestamp at the start of each value (then the batch CRC is recomputed).
//
// Values are random lowercase letters, so compression does something (about 60%, like text) without being
// trivial. Keys are "key-<n>".
import { partitionForKey } from '../client/producer/partitioner.js';
import { encodeRequest } from '../protocol/frame.js';
import { Produce } from '../protocol/messages/produce.js';
import {
  buildRecordBatch,
  computeRecordBatchCrc,
  CompressionType,
  RECORD_BATCH_HEADER_SIZE,
  type RecordInput,
} from '../protocol/records/record-batch.js';
import type { CompressionName, KeyDistribution, SizeDistribution } from './options.js';

/** Produce versions without flexible encoding (v3-v8) keep the records length a plain int32 before each batch. */
export const PRODUCE_MAX_VERSION = 8;
export const PRODUCE_MIN_VERSION = 3;

const CODECS: Record<CompressionName, CompressionType> = {
  none: CompressionType.NONE,
  gzip: CompressionType.GZIP,
  snappy: CompressionType.SNAPPY,
  lz4: CompressionType.LZ4,
  zstd: CompressionType.ZSTD,
};

export function codecOf(name: CompressionName): CompressionType {
  return CODECS[name];
}

/** A small, fast PRNG (mulberry32): reproducible loads from a seed, and cheaper than Math.random. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function sizeSampler(d: SizeDistribution, random: () => number): () => number {
  if (d.kind === 'fixed') return () => d.size;
  return () => d.min + Math.floor(random() * (d.max - d.min + 1));
}

/** Key index sampler: uniform over N, or Zipf (s = 1) over N by inverse CDF. null when keyless. */
export function keySampler(d: KeyDistribution, random: () => number): (() => number) | null {
  if (d.kind === 'none') return null;
  const n = d.count;
  if (d.kind === 'uniform') return () => Math.floor(random() * n);
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) cdf[i] = sum += 1 / (i + 1);
  for (let i = 0; i < n; i++) cdf[i]! /= sum;
  return () => {
    const u = random();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

export function keyBytes(index: number): Buffer {
  return Buffer.from(`key-${index}`);
}

function letters(size: number, random: () => number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = 97 + Math.floor(random() * 26);
  return b;
}

export interface BatchInfo {
  partition: number;
  /** Position of the batch in the frame. */
  offset: number;
  recordCount: number;
  /** Key + value bytes of the batch's records. */
  payloadBytes: number;
  /** Position in the frame of each record's value (uncompressed batches only; for timestamps). */
  valueOffsets: number[];
}

/** One Produce request to one leader. */
export interface FramePart {
  leader: string;
  frame: Buffer;
  records: number;
  /** Key + value bytes. */
  payloadBytes: number;
  batches: BatchInfo[];
  /** Keyless frames hold one batch whose partition is chosen at send time. */
  rotatePartition: boolean;
  /** For compressed end-to-end runs, which must rebuild the batch to stamp times into values. */
  inputs: RecordInput[][];
}

export interface FrameTemplate {
  parts: FramePart[];
  records: number;
  payloadBytes: number;
}

export interface TemplateSpec {
  topic: string;
  partitions: number[];
  leaderOf: (partition: number) => string;
  recordsPerRequest: number;
  recordSize: SizeDistribution;
  keys: KeyDistribution;
  compression: CompressionName;
  acks: number;
  timeoutMs: number;
  produceVersion: number;
  clientId: string;
  producerId?: number;
  producerEpoch?: number;
  seed: number;
}

/**
 * Walks the records of an uncompressed batch body (records from `start` to `end`), calling `onRecord` with
 * each record's offset delta, key length and value position/length. Returns the number of records seen.
 */
export function walkRecords(
  buf: Buffer,
  start: number,
  end: number,
  onRecord: (offsetDelta: number, keyLength: number, valueStart: number, valueLength: number) => void,
): number {
  let pos = start;
  let n = 0;
  const varint = (): number => {
    let raw = 0;
    let shift = 0;
    for (;;) {
      const byte = buf[pos++]!;
      raw += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) break;
      shift += 7;
      if (shift > 63) throw new Error('bad varint in record');
    }
    // zigzag
    return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
  };
  while (pos < end) {
    const length = varint();
    const next = pos + length;
    pos++; // attributes
    varint(); // timestampDelta
    const offsetDelta = varint();
    const keyLength = varint();
    if (keyLength > 0) pos += keyLength;
    const valueLength = varint();
    onRecord(offsetDelta, Math.max(0, keyLength), pos, valueLength);
    pos = next;
    n++;
  }
  return n;
}

/** Builds `count` request templates (each one request per leader) for a producer thread. */
export async function buildTemplates(
  spec: TemplateSpec,
  count: number,
  recordsPerRequest = spec.recordsPerRequest,
): Promise<FrameTemplate[]> {
  const random = rng(spec.seed);
  const nextSize = sizeSampler(spec.recordSize, random);
  const nextKey = keySampler(spec.keys, random);
  const codec = codecOf(spec.compression);
  const templates: FrameTemplate[] = [];
  // A pool of values shared by the templates, so building many templates stays cheap.
  const valuePool: Buffer[] = [];
  const meanSize =
    spec.recordSize.kind === 'fixed' ? spec.recordSize.size : (spec.recordSize.min + spec.recordSize.max) / 2;
  // At most ~4 MiB of distinct values: big records would otherwise cost seconds of set-up.
  const poolSize = Math.max(
    1,
    Math.min(64, count * recordsPerRequest, Math.floor((4 << 20) / Math.max(1, meanSize))),
  );
  for (let i = 0; i < poolSize; i++) valuePool.push(letters(nextSize(), random));
  const baseTimestamp = Date.now();
  for (let t = 0; t < count; t++) {
    const byPartition = new Map<number, RecordInput[]>();
    const keyless = nextKey === null;
    for (let i = 0; i < recordsPerRequest; i++) {
      const pooled = valuePool[Math.floor(random() * valuePool.length)]!;
      const size = nextSize();
      const value = size <= pooled.length ? pooled.subarray(0, size) : letters(size, random);
      const key = keyless ? null : keyBytes(nextKey());
      const partition =
        key === null ? spec.partitions[0]! : spec.partitions[partitionForKey(key, spec.partitions.length)]!;
      let list = byPartition.get(partition);
      if (!list) byPartition.set(partition, (list = []));
      // Own copies: end-to-end runs write timestamps into values in place.
      list.push({ key, value: Buffer.from(value), timestamp: baseTimestamp });
    }
    const byLeader = new Map<string, [number, RecordInput[]][]>();
    for (const [partition, records] of byPartition) {
      const leader = spec.leaderOf(partition);
      let list = byLeader.get(leader);
      if (!list) byLeader.set(leader, (list = []));
      list.push([partition, records]);
    }
    const parts: FramePart[] = [];
    for (const [leader, entries] of byLeader) {
      parts.push(await buildPart(spec, leader, entries, codec, keyless));
    }
    templates.push({
      parts,
      records: parts.reduce((s, p) => s + p.records, 0),
      payloadBytes: parts.reduce((s, p) => s + p.payloadBytes, 0),
    });
  }
  return templates;
}

export async function buildPart(
  spec: TemplateSpec,
  leader: string,
  entries: [number, RecordInput[]][],
  codec: CompressionType,
  rotatePartition: boolean,
): Promise<FramePart> {
  const batches: Buffer[] = [];
  for (const [, records] of entries) {
    batches.push(
      await buildRecordBatch(records, {
        compression: codec,
        producerId: spec.producerId ?? -1,
        producerEpoch: spec.producerEpoch ?? -1,
        baseSequence: spec.producerId === undefined ? -1 : 0,
      }),
    );
  }
  const frame = encodeRequest(Produce, spec.produceVersion, 0, spec.clientId, {
    transactionalId: null,
    acks: spec.acks,
    timeoutMs: spec.timeoutMs,
    topicData: [
      { name: spec.topic, partitionData: entries.map(([index], i) => ({ index, records: batches[i]! })) },
    ],
  });
  const infos: BatchInfo[] = [];
  let searchFrom = 0;
  let records = 0;
  let payloadBytes = 0;
  for (let i = 0; i < entries.length; i++) {
    const batch = batches[i]!;
    const offset = frame.indexOf(batch, searchFrom);
    if (offset < 0) throw new Error('batch not found in its own frame');
    searchFrom = offset + batch.length;
    const valueOffsets: number[] = [];
    if (codec === CompressionType.NONE) {
      walkRecords(frame, offset + RECORD_BATCH_HEADER_SIZE, offset + batch.length, (_d, _k, valueStart) => {
        valueOffsets.push(valueStart);
      });
    }
    const inputs = entries[i]![1];
    records += inputs.length;
    let batchBytes = 0;
    for (const r of inputs) batchBytes += (r.key?.length ?? 0) + (r.value?.length ?? 0);
    payloadBytes += batchBytes;
    infos.push({
      partition: entries[i]![0],
      offset,
      recordCount: inputs.length,
      payloadBytes: batchBytes,
      valueOffsets,
    });
  }
  return {
    leader,
    frame,
    records,
    payloadBytes,
    batches: infos,
    rotatePartition,
    inputs: entries.map(([, r]) => r),
  };
}

// Offsets inside a batch (see record-batch.ts): the CRC covers everything from attributes on.
const CRC_OFFSET = 17;
const BASE_TIMESTAMP_OFFSET = 27;
const MAX_TIMESTAMP_OFFSET = 35;
const BASE_SEQUENCE_OFFSET = 53;

/** Sets a keyless one-batch frame's partition: the int32 just before the batch's int32 length (v3-v8). */
export function patchPartition(part: FramePart, partition: number): void {
  const batch = part.batches[0]!;
  part.frame.writeInt32BE(partition, batch.offset - 8);
  batch.partition = partition;
}

/**
 * Stamps each record's value with its intended send time (µs since the epoch, float64 big-endian, the
 * first 8 bytes), sets the batch timestamps to now, and fixes the CRC. `timeOf(i)` gives record i's time.
 */
export function stampBatch(
  frame: Buffer,
  batch: BatchInfo,
  timeOf: (i: number) => number,
  nowMs: number,
): void {
  for (let i = 0; i < batch.valueOffsets.length; i++) frame.writeDoubleBE(timeOf(i), batch.valueOffsets[i]!);
  frame.writeBigInt64BE(BigInt(nowMs), batch.offset + BASE_TIMESTAMP_OFFSET);
  frame.writeBigInt64BE(BigInt(nowMs), batch.offset + MAX_TIMESTAMP_OFFSET);
}

export function setSequence(frame: Buffer, batch: BatchInfo, sequence: number): void {
  frame.writeInt32BE(sequence, batch.offset + BASE_SEQUENCE_OFFSET);
}

export function fixCrc(frame: Buffer, batch: BatchInfo): void {
  frame.writeUInt32BE(computeRecordBatchCrc(frame, batch.offset) >>> 0, batch.offset + CRC_OFFSET);
}

/** Wall-clock microseconds comparable across threads of one process (and, roughly, across processes). */
export function nowMicros(): number {
  return (performance.timeOrigin + performance.now()) * 1000;
}
