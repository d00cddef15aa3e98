// Every envelope that crosses a partition ring, in one place.
//
// Requests (main -> worker) and completions (worker -> main) are ring frames whose `type` is the operation.
// Every payload starts with a uint32 request id that the completion echoes. The two hot operations have
// fixed binary layouts (little-endian, offsets are float64 because JS numbers hold offsets exactly up to
// 2^53); everything else is JSON, since it runs at control-plane rates.
//
//   APPEND   request:    [id u32][partition u32][record batches ...]            (the one copy of produce data)
//            completion: [id u32][status u8][flags u8][pad 2][baseOffset f64][logAppendTime f64][logStartOffset f64]
//                        [logEndOffset f64][message utf8 ...]                   (message only on failure)
//                        flags bit 0: a duplicate (idempotent retry answered with the original offsets)
//   APPEND_SHARED request: [id u32][partition u32][arenaOffset u32][length u32]   (batches already in the
//            receive arena, read there straight from the socket; completion as APPEND)
//   READ     request:    [id u32][partition u32][fetchOffset f64][maxBytes i32][flags u32]
//            completion: [id u32][status u8][pad 3][highWatermark f64][lastStableOffset f64]
//                        [logStartOffset f64][logEndOffset f64][nextOffset f64][regions u32] then per region
//                        [position f64][length u32][pathBytes u32][path utf8]
//                        (nextOffset: the offset after the last batch returned, or fetchOffset if none)
//   CONTROL  request:    [id u32][json]   completion: [id u32][json]           ({ ok, value } | { ok: false, error })
import type { AppendOutcome, HostFailure, ReadOutcome } from './partition-host.js';

export const Op = { APPEND: 1, READ: 2, CONTROL: 3, APPEND_SHARED: 4 } as const;

/** Status byte of APPEND/READ completions: 0 is success, the rest name the failure. */
const FAILURES: readonly HostFailure[] = [
  'corrupt-message',
  'record-too-large',
  'invalid-record',
  'invalid-timestamp',
  'out-of-order-offsets',
  'unknown-partition',
  'offset-out-of-range',
  'storage-error',
  // Appended last: the status bytes above keep their values.
  'out-of-order-sequence',
  'invalid-producer-epoch',
];
const APPEND_DUPLICATE_FLAG = 1;
const statusOf = (reason: HostFailure): number => FAILURES.indexOf(reason) + 1;
const reasonOf = (status: number): HostFailure => FAILURES[status - 1] ?? 'storage-error';

export const READ_COMMITTED_FLAG = 1;
/**
 * maxBytes is a hard limit, even for a first batch larger than it. Kafka (KIP-74) lets only the first
 * non-empty partition of a fetch exceed its limits, so later partitions are read with this flag.
 */
export const STRICT_MAX_BYTES_FLAG = 2;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const view = (bytes: Uint8Array): DataView => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

export const APPEND_HEADER_BYTES = 8;

export function writeAppendHeader(target: Uint8Array, id: number, partition: number): void {
  const v = view(target);
  v.setUint32(0, id, true);
  v.setUint32(4, partition, true);
}

export function readAppendRequest(payload: Uint8Array): {
  id: number;
  partition: number;
  records: Uint8Array;
} {
  const v = view(payload);
  return {
    id: v.getUint32(0, true),
    partition: v.getUint32(4, true),
    records: payload.subarray(APPEND_HEADER_BYTES),
  };
}

export const APPEND_SHARED_REQUEST_BYTES = 16;

export function encodeAppendSharedRequest(
  target: Uint8Array,
  id: number,
  partition: number,
  arenaOffset: number,
  length: number,
): void {
  const v = view(target);
  v.setUint32(0, id, true);
  v.setUint32(4, partition, true);
  v.setUint32(8, arenaOffset, true);
  v.setUint32(12, length, true);
}

export function decodeAppendSharedRequest(payload: Uint8Array): {
  id: number;
  partition: number;
  arenaOffset: number;
  length: number;
} {
  const v = view(payload);
  return {
    id: v.getUint32(0, true),
    partition: v.getUint32(4, true),
    arenaOffset: v.getUint32(8, true),
    length: v.getUint32(12, true),
  };
}

export function encodeAppendCompletion(id: number, outcome: AppendOutcome): Uint8Array {
  const message = outcome.ok ? new Uint8Array(0) : encoder.encode(outcome.message);
  const out = new Uint8Array(40 + message.length);
  const v = view(out);
  v.setUint32(0, id, true);
  if (outcome.ok) {
    if (outcome.duplicate) out[5] = APPEND_DUPLICATE_FLAG;
    v.setFloat64(8, outcome.baseOffset, true);
    v.setFloat64(16, outcome.logAppendTime, true);
    v.setFloat64(24, outcome.logStartOffset, true);
    v.setFloat64(32, outcome.logEndOffset, true);
  } else {
    out[4] = statusOf(outcome.reason);
    out.set(message, 40);
  }
  return out;
}

export function decodeAppendCompletion(payload: Uint8Array): { id: number; outcome: AppendOutcome } {
  const v = view(payload);
  const id = v.getUint32(0, true);
  const status = payload[4]!;
  if (status !== 0) {
    return {
      id,
      outcome: { ok: false, reason: reasonOf(status), message: decoder.decode(payload.subarray(40)) },
    };
  }
  return {
    id,
    outcome: {
      ok: true,
      baseOffset: v.getFloat64(8, true),
      logAppendTime: v.getFloat64(16, true),
      logStartOffset: v.getFloat64(24, true),
      logEndOffset: v.getFloat64(32, true),
      ...((payload[5]! & APPEND_DUPLICATE_FLAG) !== 0 && { duplicate: true }),
    },
  };
}

export const READ_REQUEST_BYTES = 24;

export function encodeReadRequest(
  target: Uint8Array,
  id: number,
  partition: number,
  fetchOffset: number,
  maxBytes: number,
  flags: number,
): void {
  const v = view(target);
  v.setUint32(0, id, true);
  v.setUint32(4, partition, true);
  v.setFloat64(8, fetchOffset, true);
  v.setInt32(16, maxBytes, true);
  v.setUint32(20, flags, true);
}

export function decodeReadRequest(payload: Uint8Array): {
  id: number;
  partition: number;
  fetchOffset: number;
  maxBytes: number;
  flags: number;
} {
  const v = view(payload);
  return {
    id: v.getUint32(0, true),
    partition: v.getUint32(4, true),
    fetchOffset: v.getFloat64(8, true),
    maxBytes: v.getInt32(16, true),
    flags: v.getUint32(20, true),
  };
}

const READ_COMPLETION_HEADER_BYTES = 52;

export function encodeReadCompletion(id: number, outcome: ReadOutcome): Uint8Array {
  const paths = outcome.ok ? outcome.regions.map((region) => encoder.encode(region.path)) : [];
  const size = READ_COMPLETION_HEADER_BYTES + paths.reduce((sum, path) => sum + 16 + path.length, 0);
  const out = new Uint8Array(size);
  const v = view(out);
  v.setUint32(0, id, true);
  if (!outcome.ok) out[4] = statusOf(outcome.reason);
  if ('highWatermark' in outcome) {
    v.setFloat64(8, outcome.highWatermark, true);
    v.setFloat64(16, outcome.lastStableOffset, true);
    v.setFloat64(24, outcome.logStartOffset, true);
    v.setFloat64(32, outcome.logEndOffset, true);
  }
  if (outcome.ok) {
    v.setFloat64(40, outcome.nextOffset, true);
    v.setUint32(48, outcome.regions.length, true);
    let at = READ_COMPLETION_HEADER_BYTES;
    outcome.regions.forEach((region, i) => {
      const path = paths[i]!;
      v.setFloat64(at, region.position, true);
      v.setUint32(at + 8, region.length, true);
      v.setUint32(at + 12, path.length, true);
      out.set(path, at + 16);
      at += 16 + path.length;
    });
  }
  return out;
}

export function decodeReadCompletion(payload: Uint8Array): { id: number; outcome: ReadOutcome } {
  const v = view(payload);
  const id = v.getUint32(0, true);
  const status = payload[4]!;
  const offsets = {
    highWatermark: v.getFloat64(8, true),
    lastStableOffset: v.getFloat64(16, true),
    logStartOffset: v.getFloat64(24, true),
    logEndOffset: v.getFloat64(32, true),
  };
  if (status !== 0) {
    const reason = reasonOf(status);
    if (reason === 'offset-out-of-range') return { id, outcome: { ok: false, reason, ...offsets } };
    return { id, outcome: { ok: false, reason: 'unknown-partition' } };
  }
  const nextOffset = v.getFloat64(40, true);
  const count = v.getUint32(48, true);
  const regions = [];
  let bytes = 0;
  let at = READ_COMPLETION_HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    const position = v.getFloat64(at, true);
    const length = v.getUint32(at + 8, true);
    const pathLength = v.getUint32(at + 12, true);
    const path = decoder.decode(payload.subarray(at + 16, at + 16 + pathLength));
    regions.push({ path, position, length });
    bytes += length;
    at += 16 + pathLength;
  }
  return { id, outcome: { ok: true, regions, bytes, nextOffset, ...offsets } };
}

/** The control operations, by method name: arguments and result. */
export interface ControlMethods {
  open: { args: { specs: import('./partition-host.js').PartitionSpec[] }; result: null };
  delete: { args: { ids: number[] }; result: null };
  listOffset: {
    args: { id: number; spec: import('../storage/index.js').ListOffsetsSpec };
    result: import('./partition-host.js').ListOffsetOutcome;
  };
  deleteRecords: {
    args: { id: number; offset: number };
    result: ReturnType<import('./partition-host.js').PartitionHost['deleteRecords']>;
  };
  offsets: { args: { id: number }; result: import('./partition-host.js').PartitionOffsets | null };
  epochEndOffset: {
    args: { id: number; epoch: number };
    result: import('./partition-host.js').EpochEndOffsetOutcome;
  };
  sizes: { args: Record<string, never>; result: import('./partition-host.js').PartitionSize[] };
  checkpoint: { args: Record<string, never>; result: null };
  close: { args: Record<string, never>; result: null };
}
export type ControlMethod = keyof ControlMethods;

export function encodeControl(id: number, body: unknown): Uint8Array {
  const json = encoder.encode(JSON.stringify(body));
  const out = new Uint8Array(4 + json.length);
  view(out).setUint32(0, id, true);
  out.set(json, 4);
  return out;
}

export function decodeControl<T>(payload: Uint8Array): { id: number; body: T } {
  return { id: view(payload).getUint32(0, true), body: JSON.parse(decoder.decode(payload.subarray(4))) as T };
}
