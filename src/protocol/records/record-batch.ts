// RecordBatch v2 (magic 2), the unit Kafka stores on disk and sends on the wire, byte for byte.
//
//   offset size  field
//        0    8  baseOffset            int64
//        8    4  batchLength           int32, bytes after this field (so the batch is 12 + batchLength bytes)
//       12    4  partitionLeaderEpoch  int32
//       16    1  magic                 int8, 2
//       17    4  crc                   uint32, CRC32C of bytes 21 .. end of batch
//       21    2  attributes            int16: bits 0-2 compression, 3 timestamp type (1 = log append time),
//                                      4 transactional, 5 control, 6 delete horizon (baseTimestamp is it)
//       23    4  lastOffsetDelta       int32
//       27    8  baseTimestamp         int64
//       35    8  maxTimestamp          int64
//       43    8  producerId            int64
//       51    2  producerEpoch         int16
//       53    4  baseSequence          int32
//       57    4  recordCount           int32
//       61       records (compressed as one unit when attributes say so)
//
//   record: length varint (bytes after it), attributes int8 (unused), timestampDelta varlong, offsetDelta
//   varint, keyLength varint (-1 = null), key, valueLength varint (-1 = null), value, headerCount varint,
//   headers: keyLength varint, key (UTF-8), valueLength varint (-1 = null), value.
//
// baseOffset and partitionLeaderEpoch lie before the CRC range, so the broker can stamp them without
// recomputing it. Int64 header fields are JS numbers on the hot path; a value beyond 2^53 is a ProtocolError.
// Record decoding allocates only the key/value subarrays (zero-copy views of the records buffer) and the
// header key strings.
import { crc32c } from '../../native/index.js';
import { ProtocolError } from '../primitives/protocol-error.js';
import { at, readBytes, readVarint, readVarlong } from './record-fields.js';
import {
  CompressionType,
  compress,
  decompress,
  gzipCompressSync,
  gzipDecompressSync,
  type DecompressOptions,
} from './compression.js';

export { CompressionType } from './compression.js';

export const RECORD_BATCH_HEADER_SIZE = 61;
export const LOG_OVERHEAD = 12;
export const CURRENT_MAGIC = 2;

const PARTITION_LEADER_EPOCH_OFFSET = 12;
const MAGIC_OFFSET = 16;
const CRC_OFFSET = 17;
const ATTRIBUTES_OFFSET = 21;
const LAST_OFFSET_DELTA_OFFSET = 23;
const BASE_TIMESTAMP_OFFSET = 27;
const MAX_TIMESTAMP_OFFSET = 35;
const PRODUCER_ID_OFFSET = 43;
const PRODUCER_EPOCH_OFFSET = 51;
const BASE_SEQUENCE_OFFSET = 53;
const RECORD_COUNT_OFFSET = 57;
/** batchLength of a batch with no records. */
const MIN_BATCH_LENGTH = RECORD_BATCH_HEADER_SIZE - LOG_OVERHEAD;
/** The smallest encoded record: length, attributes, timestampDelta, offsetDelta, key/value lengths, header count. */
const MIN_RECORD_SIZE = 7;

const COMPRESSION_MASK = 0x07;
const TIMESTAMP_TYPE_MASK = 0x08;
const TRANSACTIONAL_MASK = 0x10;
const CONTROL_MASK = 0x20;
const DELETE_HORIZON_MASK = 0x40;

export const TimestampType = { CREATE_TIME: 0, LOG_APPEND_TIME: 1 } as const;
export type TimestampType = (typeof TimestampType)[keyof typeof TimestampType];

export interface RecordBatchHeader {
  baseOffset: number;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

export interface RecordInput {
  key: Buffer | null;
  value: Buffer | null;
  headers?: RecordHeader[];
  timestamp?: number;
  offsetDelta?: number;
}

export interface BuildBatchOptions {
  baseOffset?: number;
  baseTimestamp?: number;
  compression?: CompressionType;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  transactional?: boolean;
  control?: boolean;
  partitionLeaderEpoch?: number;
  /** Keeps the original last offset when compaction has dropped the batch's last records. */
  lastOffsetDelta?: number;
  timestampType?: 0 | 1;
  /** Sets the delete-horizon attribute (baseTimestamp is then the horizon), as the log cleaner does. */
  deleteHorizon?: boolean;
}

export interface Record {
  offset: number;
  timestamp: number;
  offsetDelta: number;
  timestampDelta: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

export interface DecodeOptions extends DecompressOptions {
  /** Check the CRC first and throw ProtocolError on a mismatch (default false: storage checks it itself). */
  verifyCrc?: boolean;
}

export interface DecodedRecordBatch {
  header: RecordBatchHeader;
  records: Record[];
}

// --- attributes -------------------------------------------------------------------------------------------

export function compressionOf(attributes: number): CompressionType {
  return (attributes & COMPRESSION_MASK) as CompressionType;
}
export function isTransactional(attributes: number): boolean {
  return (attributes & TRANSACTIONAL_MASK) !== 0;
}
export function isControlBatch(attributes: number): boolean {
  return (attributes & CONTROL_MASK) !== 0;
}
export function timestampTypeOf(attributes: number): TimestampType {
  return (attributes & TIMESTAMP_TYPE_MASK) !== 0 ? 1 : 0;
}
export function hasDeleteHorizon(attributes: number): boolean {
  return (attributes & DELETE_HORIZON_MASK) !== 0;
}

// --- fixed-width big-endian helpers (no DataView allocation per call) -----------------------------------

function readInt32(buf: Uint8Array, pos: number): number {
  return (buf[pos]! << 24) | (buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!;
}
function readInt16(buf: Uint8Array, pos: number): number {
  return ((buf[pos]! << 24) | (buf[pos + 1]! << 16)) >> 16;
}
function readInt64(buf: Uint8Array, pos: number, field: string): number {
  const value = readInt32(buf, pos) * 4294967296 + (readInt32(buf, pos + 4) >>> 0);
  if (!Number.isSafeInteger(value)) throw new ProtocolError(`${field} is outside the safe integer range`);
  return value;
}
function writeInt32(buf: Uint8Array, pos: number, value: number): void {
  buf[pos] = value >>> 24;
  buf[pos + 1] = value >>> 16;
  buf[pos + 2] = value >>> 8;
  buf[pos + 3] = value;
}
function writeInt16(buf: Uint8Array, pos: number, value: number): void {
  buf[pos] = value >>> 8;
  buf[pos + 1] = value;
}
function writeInt64(buf: Uint8Array, pos: number, value: number): void {
  const high = Math.floor(value / 4294967296);
  writeInt32(buf, pos, high);
  writeInt32(buf, pos + 4, value - high * 4294967296);
}

function checkInt64(value: number, field: string): void {
  if (!Number.isSafeInteger(value)) throw new RangeError(`${field} must be a safe integer, got ${value}`);
}

// --- header -----------------------------------------------------------------------------------------------

function legacyError(magic: number): ProtocolError {
  return new ProtocolError(`legacy message format v0/v1 (magic ${magic}) is not supported`);
}

export function readRecordBatchHeader(buf: Uint8Array, offset = 0): RecordBatchHeader {
  if (offset < 0 || buf.length - offset < RECORD_BATCH_HEADER_SIZE) {
    // A legacy message set can be shorter than a v2 header: name the real problem when the magic is visible.
    if (offset >= 0 && buf.length - offset > MAGIC_OFFSET) {
      const magic = buf[offset + MAGIC_OFFSET]!;
      if (magic === 0 || magic === 1) throw legacyError(magic);
    }
    throw new ProtocolError(
      `record batch header needs ${RECORD_BATCH_HEADER_SIZE} bytes, ${Math.max(0, buf.length - offset)} remain`,
    );
  }
  const magic = (buf[offset + MAGIC_OFFSET]! << 24) >> 24;
  if (magic !== CURRENT_MAGIC) {
    if (magic === 0 || magic === 1) throw legacyError(magic);
    throw new ProtocolError(`unknown record batch magic ${magic}`);
  }
  return {
    baseOffset: readInt64(buf, offset, 'baseOffset'),
    batchLength: readInt32(buf, offset + 8),
    partitionLeaderEpoch: readInt32(buf, offset + PARTITION_LEADER_EPOCH_OFFSET),
    magic,
    crc: readInt32(buf, offset + CRC_OFFSET) >>> 0,
    attributes: readInt16(buf, offset + ATTRIBUTES_OFFSET),
    lastOffsetDelta: readInt32(buf, offset + LAST_OFFSET_DELTA_OFFSET),
    baseTimestamp: readInt64(buf, offset + BASE_TIMESTAMP_OFFSET, 'baseTimestamp'),
    maxTimestamp: readInt64(buf, offset + MAX_TIMESTAMP_OFFSET, 'maxTimestamp'),
    producerId: readInt64(buf, offset + PRODUCER_ID_OFFSET, 'producerId'),
    producerEpoch: readInt16(buf, offset + PRODUCER_EPOCH_OFFSET),
    baseSequence: readInt32(buf, offset + BASE_SEQUENCE_OFFSET),
    recordCount: readInt32(buf, offset + RECORD_COUNT_OFFSET),
  };
}

/** The whole batch's size in bytes (LOG_OVERHEAD + batchLength), from its first 12 bytes. */
export function recordBatchSize(buf: Uint8Array, offset = 0): number {
  if (offset < 0 || buf.length - offset < LOG_OVERHEAD) {
    throw new ProtocolError(`record batch size needs ${LOG_OVERHEAD} bytes`);
  }
  return LOG_OVERHEAD + readInt32(buf, offset + 8);
}

function batchEnd(buf: Uint8Array, offset: number): number {
  const size = recordBatchSize(buf, offset);
  if (size < RECORD_BATCH_HEADER_SIZE)
    throw new ProtocolError(`record batch length ${size - LOG_OVERHEAD} too small`);
  if (offset + size > buf.length) {
    throw new ProtocolError(`record batch of ${size} bytes truncated to ${buf.length - offset}`);
  }
  return offset + size;
}

export function computeRecordBatchCrc(buf: Uint8Array, offset = 0): number {
  return crc32c(buf.subarray(offset + ATTRIBUTES_OFFSET, batchEnd(buf, offset)));
}

export function isRecordBatchCrcValid(buf: Uint8Array, offset = 0): boolean {
  if (buf.length - offset < RECORD_BATCH_HEADER_SIZE) return false;
  let end: number;
  try {
    end = batchEnd(buf, offset);
  } catch {
    return false;
  }
  return crc32c(buf.subarray(offset + ATTRIBUTES_OFFSET, end)) === readInt32(buf, offset + CRC_OFFSET) >>> 0;
}

export function setBaseOffset(buf: Uint8Array, offset: number, baseOffset: number): void {
  checkInt64(baseOffset, 'baseOffset');
  writeInt64(buf, offset, baseOffset);
}

export function setPartitionLeaderEpoch(buf: Uint8Array, offset: number, epoch: number): void {
  writeInt32(buf, offset + PARTITION_LEADER_EPOCH_OFFSET, epoch);
}

/** Marks the batch as log-append-time stamped with `timestamp` (in maxTimestamp), as a broker does. */
export function setLogAppendTime(buf: Uint8Array, offset: number, timestamp: number): void {
  checkInt64(timestamp, 'timestamp');
  const attributes = readInt16(buf, offset + ATTRIBUTES_OFFSET) | TIMESTAMP_TYPE_MASK;
  writeInt16(buf, offset + ATTRIBUTES_OFFSET, attributes);
  writeInt64(buf, offset + MAX_TIMESTAMP_OFFSET, timestamp);
  writeInt32(buf, offset + CRC_OFFSET, computeRecordBatchCrc(buf, offset));
}

// --- record encoding --------------------------------------------------------------------------------------

function varintSize(value: number): number {
  let v = ((value << 1) ^ (value >> 31)) >>> 0;
  let size = 1;
  while (v >= 0x80) {
    v >>>= 7;
    size++;
  }
  return size;
}

/** Keeps the zig-zag mapping of a timestamp delta (2|delta|) within the safe integer range. */
const MAX_TIMESTAMP_DELTA = 2 ** 51;

function zigzag64(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1;
}

function varlongSize(value: number): number {
  let v = zigzag64(value);
  let size = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    size++;
  }
  return size;
}

function writeVarint(buf: Uint8Array, pos: number, value: number): number {
  let v = ((value << 1) ^ (value >> 31)) >>> 0;
  while (v >= 0x80) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

function writeVarlong(buf: Uint8Array, pos: number, value: number): number {
  let v = zigzag64(value);
  while (v >= 0x80) {
    buf[pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[pos++] = v;
  return pos;
}

function bytesSize(data: Buffer | null): number {
  return data === null ? 1 : varintSize(data.length) + data.length;
}

interface Prepared {
  bodySizes: Int32Array;
  headerKeys: (Buffer[] | null)[];
  timestamps: Float64Array;
  offsetDeltas: Int32Array;
  totalSize: number;
  baseTimestamp: number;
  maxTimestamp: number;
}

function prepare(records: RecordInput[], options: BuildBatchOptions): Prepared {
  const count = records.length;
  const now = Date.now();
  const first = records[0];
  const baseTimestamp = options.baseTimestamp ?? first?.timestamp ?? now;
  checkInt64(baseTimestamp, 'baseTimestamp');
  const bodySizes = new Int32Array(count);
  const headerKeys: (Buffer[] | null)[] = new Array(count);
  const timestamps = new Float64Array(count);
  const offsetDeltas = new Int32Array(count);
  let maxTimestamp = count === 0 ? baseTimestamp : -Infinity;
  let totalSize = 0;
  for (let i = 0; i < count; i++) {
    const record = records[i]!;
    const timestamp = record.timestamp ?? now;
    checkInt64(timestamp, 'timestamp');
    const offsetDelta = record.offsetDelta ?? i;
    if ((offsetDelta | 0) !== offsetDelta)
      throw new RangeError(`offsetDelta must be an int32, got ${offsetDelta}`);
    if (Math.abs(timestamp - baseTimestamp) > MAX_TIMESTAMP_DELTA) {
      throw new RangeError(`timestamp ${timestamp} is too far from baseTimestamp ${baseTimestamp}`);
    }
    timestamps[i] = timestamp;
    offsetDeltas[i] = offsetDelta;
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
    let size = 1 + varlongSize(timestamp - baseTimestamp) + varintSize(offsetDelta);
    size += bytesSize(record.key) + bytesSize(record.value);
    const headers = record.headers;
    if (headers !== undefined && headers.length > 0) {
      const keys: Buffer[] = new Array(headers.length);
      size += varintSize(headers.length);
      for (let h = 0; h < headers.length; h++) {
        const header = headers[h]!;
        const key = Buffer.from(header.key, 'utf8');
        keys[h] = key;
        size += varintSize(key.length) + key.length + bytesSize(header.value);
      }
      headerKeys[i] = keys;
    } else {
      headerKeys[i] = null;
      size += 1;
    }
    bodySizes[i] = size;
    totalSize += varintSize(size) + size;
  }
  return { bodySizes, headerKeys, timestamps, offsetDeltas, totalSize, baseTimestamp, maxTimestamp };
}

function writeBytes(buf: Uint8Array, pos: number, data: Buffer | null): number {
  if (data === null) {
    buf[pos] = 1; // zig-zag -1
    return pos + 1;
  }
  pos = writeVarint(buf, pos, data.length);
  buf.set(data, pos);
  return pos + data.length;
}

function writeRecords(records: RecordInput[], prepared: Prepared, buf: Uint8Array, pos: number): number {
  const { bodySizes, headerKeys, timestamps, offsetDeltas, baseTimestamp } = prepared;
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    pos = writeVarint(buf, pos, bodySizes[i]!);
    buf[pos++] = 0; // record attributes: unused
    pos = writeVarlong(buf, pos, timestamps[i]! - baseTimestamp);
    pos = writeVarint(buf, pos, offsetDeltas[i]!);
    pos = writeBytes(buf, pos, record.key);
    pos = writeBytes(buf, pos, record.value);
    const keys = headerKeys[i];
    if (keys === null || keys === undefined) {
      buf[pos++] = 0;
      continue;
    }
    const headers = record.headers!;
    pos = writeVarint(buf, pos, headers.length);
    for (let h = 0; h < headers.length; h++) {
      pos = writeBytes(buf, pos, keys[h]!);
      pos = writeBytes(buf, pos, headers[h]!.value);
    }
  }
  return pos;
}

function writeHeader(
  buf: Buffer,
  records: RecordInput[],
  prepared: Prepared,
  options: BuildBatchOptions,
  compression: number,
): void {
  const count = records.length;
  const lastOffsetDelta = options.lastOffsetDelta ?? (count > 0 ? prepared.offsetDeltas[count - 1]! : 0);
  let attributes = compression & COMPRESSION_MASK;
  if (options.timestampType === 1) attributes |= TIMESTAMP_TYPE_MASK;
  if (options.transactional) attributes |= TRANSACTIONAL_MASK;
  if (options.control) attributes |= CONTROL_MASK;
  if (options.deleteHorizon) attributes |= DELETE_HORIZON_MASK;
  const baseOffset = options.baseOffset ?? 0;
  checkInt64(baseOffset, 'baseOffset');
  const producerId = options.producerId ?? -1;
  checkInt64(producerId, 'producerId');
  writeInt64(buf, 0, baseOffset);
  writeInt32(buf, 8, buf.length - LOG_OVERHEAD);
  writeInt32(buf, PARTITION_LEADER_EPOCH_OFFSET, options.partitionLeaderEpoch ?? -1);
  buf[MAGIC_OFFSET] = CURRENT_MAGIC;
  writeInt16(buf, ATTRIBUTES_OFFSET, attributes);
  writeInt32(buf, LAST_OFFSET_DELTA_OFFSET, lastOffsetDelta);
  writeInt64(buf, BASE_TIMESTAMP_OFFSET, prepared.baseTimestamp);
  writeInt64(buf, MAX_TIMESTAMP_OFFSET, prepared.maxTimestamp);
  writeInt64(buf, PRODUCER_ID_OFFSET, producerId);
  writeInt16(buf, PRODUCER_EPOCH_OFFSET, options.producerEpoch ?? -1);
  writeInt32(buf, BASE_SEQUENCE_OFFSET, options.baseSequence ?? -1);
  writeInt32(buf, RECORD_COUNT_OFFSET, count);
  writeInt32(buf, CRC_OFFSET, crc32c(buf.subarray(ATTRIBUTES_OFFSET)));
}

function encodeRecords(records: RecordInput[], prepared: Prepared): Buffer {
  const body = Buffer.allocUnsafe(prepared.totalSize);
  const end = writeRecords(records, prepared, body, 0);
  if (end !== body.length) throw new Error(`record size mismatch: wrote ${end}, sized ${body.length}`);
  return body;
}

function assemble(
  records: RecordInput[],
  prepared: Prepared,
  options: BuildBatchOptions,
  compression: number,
  payload: Buffer,
): Buffer {
  const batch = Buffer.allocUnsafe(RECORD_BATCH_HEADER_SIZE + payload.length);
  batch.set(payload, RECORD_BATCH_HEADER_SIZE);
  writeHeader(batch, records, prepared, options, compression);
  return batch;
}

/** Builds a batch synchronously: uncompressed or gzip only (the other codecs' bindings are async). */
export function buildRecordBatchSync(records: RecordInput[], options: BuildBatchOptions = {}): Buffer {
  const compression = options.compression ?? CompressionType.NONE;
  const prepared = prepare(records, options);
  if (compression === CompressionType.NONE) {
    const batch = Buffer.allocUnsafe(RECORD_BATCH_HEADER_SIZE + prepared.totalSize);
    const end = writeRecords(records, prepared, batch, RECORD_BATCH_HEADER_SIZE);
    if (end !== batch.length) throw new Error(`record size mismatch: wrote ${end}, sized ${batch.length}`);
    writeHeader(batch, records, prepared, options, compression);
    return batch;
  }
  if (compression === CompressionType.GZIP) {
    return assemble(
      records,
      prepared,
      options,
      compression,
      gzipCompressSync(encodeRecords(records, prepared)),
    );
  }
  throw new RangeError(`buildRecordBatchSync supports no compression or gzip, not type ${compression}`);
}

export async function buildRecordBatch(
  records: RecordInput[],
  options: BuildBatchOptions = {},
): Promise<Buffer> {
  const compression = options.compression ?? CompressionType.NONE;
  if (compression === CompressionType.NONE) return buildRecordBatchSync(records, options);
  const prepared = prepare(records, options);
  const payload = await compress(compression, encodeRecords(records, prepared));
  return assemble(records, prepared, options, compression, payload);
}

// --- record decoding --------------------------------------------------------------------------------------

// Records without headers share one frozen empty array: most records have none, and this saves an allocation
// per record on the hot path. Callers must copy before adding headers.
const NO_HEADERS = Object.freeze([]) as unknown as RecordHeader[];

function decodeRecords(buf: Buffer, start: number, end: number, header: RecordBatchHeader): Record[] {
  const count = header.recordCount;
  if (count < 0) throw new ProtocolError(`negative record count ${count}`);
  if (count > (end - start) / MIN_RECORD_SIZE) {
    throw new ProtocolError(`record count ${count} cannot fit in ${end - start} bytes`);
  }
  const { baseOffset, baseTimestamp } = header;
  // Kafka clients report log-append-time batches' records at the batch's maxTimestamp (set by the broker).
  const logAppendTime = (header.attributes & TIMESTAMP_TYPE_MASK) !== 0;
  const records: Record[] = [];
  at.pos = start;
  for (let i = 0; i < count; i++) {
    const bodyLength = readVarint(buf, end);
    if (bodyLength < MIN_RECORD_SIZE - 1 || bodyLength > end - at.pos) {
      throw new ProtocolError(`bad record length ${bodyLength}`);
    }
    const recordEnd = at.pos + bodyLength;
    at.pos++; // attributes
    const timestampDelta = readVarlong(buf, recordEnd);
    const offsetDelta = readVarint(buf, recordEnd);
    const key = readBytes(buf, recordEnd, 'key');
    const value = readBytes(buf, recordEnd, 'value');
    const headerCount = readVarint(buf, recordEnd);
    if (headerCount < 0 || headerCount > (recordEnd - at.pos) / 2) {
      throw new ProtocolError(`bad header count ${headerCount}`);
    }
    const headers: RecordHeader[] = headerCount === 0 ? NO_HEADERS : new Array(headerCount);
    for (let h = 0; h < headerCount; h++) {
      const keyLength = readVarint(buf, recordEnd);
      if (keyLength < 0 || keyLength > recordEnd - at.pos) {
        throw new ProtocolError(`bad header key length ${keyLength}`);
      }
      const headerKey = buf.toString('utf8', at.pos, at.pos + keyLength);
      at.pos += keyLength;
      headers[h] = { key: headerKey, value: readBytes(buf, recordEnd, 'header value') };
    }
    if (at.pos !== recordEnd) {
      throw new ProtocolError(
        `record length ${bodyLength} disagrees with its fields (${recordEnd - at.pos} left)`,
      );
    }
    const offset = baseOffset + offsetDelta;
    const timestamp = logAppendTime ? header.maxTimestamp : baseTimestamp + timestampDelta;
    if (!Number.isSafeInteger(timestamp) || !Number.isSafeInteger(offset)) {
      throw new ProtocolError('record offset or timestamp outside the safe integer range');
    }
    records.push({ offset, timestamp, offsetDelta, timestampDelta, key, value, headers });
  }
  if (at.pos !== end) {
    throw new ProtocolError(`${end - at.pos} bytes left after ${count} records`);
  }
  return records;
}

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function checkedHeader(
  buf: Uint8Array,
  offset: number,
  options: DecodeOptions,
): { header: RecordBatchHeader; end: number } {
  const header = readRecordBatchHeader(buf, offset);
  if (header.batchLength < MIN_BATCH_LENGTH) {
    throw new ProtocolError(`record batch length ${header.batchLength} too small`);
  }
  const end = offset + LOG_OVERHEAD + header.batchLength;
  if (end > buf.length) {
    throw new ProtocolError(`record batch of ${end - offset} bytes truncated to ${buf.length - offset}`);
  }
  if (options.verifyCrc) {
    const actual = crc32c(buf.subarray(offset + ATTRIBUTES_OFFSET, end));
    if (actual !== header.crc) {
      throw new ProtocolError(`record batch CRC mismatch: stored ${header.crc}, computed ${actual}`);
    }
  }
  return { header, end };
}

/**
 * Decodes a batch's records, decompressing them when needed. Keys and values are views into `buf` (or into
 * the decompressed buffer). Checks the CRC only with `verifyCrc`.
 */
export async function decodeRecordBatch(
  buf: Uint8Array,
  offset = 0,
  options: DecodeOptions = {},
): Promise<DecodedRecordBatch> {
  const { header, end } = checkedHeader(buf, offset, options);
  const compression = header.attributes & COMPRESSION_MASK;
  const data = asBuffer(buf);
  if (compression === CompressionType.NONE) {
    return { header, records: decodeRecords(data, offset + RECORD_BATCH_HEADER_SIZE, end, header) };
  }
  if (header.recordCount < 0) throw new ProtocolError(`negative record count ${header.recordCount}`);
  // An empty batch may carry its codec bit with no payload at all: there is nothing to inflate.
  if (header.recordCount === 0 && end === offset + RECORD_BATCH_HEADER_SIZE) return { header, records: [] };
  const limit = options.maxDecompressedSize;
  const inflated = await decompress(compression, data.subarray(offset + RECORD_BATCH_HEADER_SIZE, end), {
    maxDecompressedSize: limit,
  });
  return { header, records: decodeRecords(inflated, 0, inflated.length, header) };
}

/** decodeRecordBatch for uncompressed and gzip batches, synchronously. */
export function decodeRecordBatchSync(
  buf: Uint8Array,
  offset = 0,
  options: DecodeOptions = {},
): DecodedRecordBatch {
  const { header, end } = checkedHeader(buf, offset, options);
  const compression = header.attributes & COMPRESSION_MASK;
  const data = asBuffer(buf);
  if (compression === CompressionType.NONE) {
    return { header, records: decodeRecords(data, offset + RECORD_BATCH_HEADER_SIZE, end, header) };
  }
  if (header.recordCount < 0) throw new ProtocolError(`negative record count ${header.recordCount}`);
  if (header.recordCount === 0 && end === offset + RECORD_BATCH_HEADER_SIZE) return { header, records: [] };
  if (compression === CompressionType.GZIP) {
    const inflated = gzipDecompressSync(
      data.subarray(offset + RECORD_BATCH_HEADER_SIZE, end),
      options.maxDecompressedSize,
    );
    return { header, records: decodeRecords(inflated, 0, inflated.length, header) };
  }
  throw new ProtocolError(`decodeRecordBatchSync cannot decompress compression type ${compression}`);
}

/**
 * Thrown by iterateBatches for a complete-looking but impossible batch (bad length or magic, a zero-filled
 * preallocated tail, int64 fields out of range). `position` is where the bad batch starts, so log recovery
 * can truncate there.
 */
export class CorruptRecordBatchError extends ProtocolError {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(`${message} (at position ${position})`);
  }
}

/**
 * Walks a buffer of concatenated batches (a segment, a produce request's records, a fetch response). Stops
 * quietly at a trailing partial batch, which a fetch response may legitimately end with; a batch whose header
 * is impossible throws CorruptRecordBatchError. Checks neither CRCs nor records.
 */
export function* iterateBatches(
  buf: Uint8Array,
): Generator<{ position: number; size: number; header: RecordBatchHeader }> {
  let position = 0;
  while (buf.length - position >= LOG_OVERHEAD) {
    const batchLength = readInt32(buf, position + 8);
    // Zeros (a preallocated segment's unwritten tail) are corruption, not a legacy message.
    if (batchLength <= 0) throw new CorruptRecordBatchError(`record batch length ${batchLength}`, position);
    if (buf.length - position <= MAGIC_OFFSET) return;
    const magic = buf[position + MAGIC_OFFSET]!;
    if (magic !== CURRENT_MAGIC) {
      const why =
        magic === 0 || magic === 1 ? legacyError(magic).message : `unknown record batch magic ${magic}`;
      throw new CorruptRecordBatchError(why, position);
    }
    if (batchLength < MIN_BATCH_LENGTH) {
      throw new CorruptRecordBatchError(`record batch length ${batchLength} too small`, position);
    }
    const size = LOG_OVERHEAD + batchLength;
    if (position + size > buf.length) return;
    let header: RecordBatchHeader;
    try {
      header = readRecordBatchHeader(buf, position);
    } catch (err) {
      throw new CorruptRecordBatchError((err as Error).message, position);
    }
    yield { position, size, header };
    position += size;
  }
}
