// Decodes a fetched record batch straight into the consumer's records. record-batch.ts's decodeRecordBatch
// builds a generic Record per record, which the consumer then copied into a ConsumerRecord: two objects per
// record, and the records before the fetch position (a fetch from the middle of a batch returns the whole
// batch) were built only to be dropped. This decoder makes one object per delivered record and none for the
// skipped ones, with the same checks as decodeRecordBatch (lengths, counts, the safe integer range).
import { ProtocolError } from '../../protocol/primitives/protocol-error.js';
import { decompress } from '../../protocol/records/compression.js';
import { at, readBytes, readVarint, readVarlong, skipBytes } from '../../protocol/records/record-fields.js';
import {
  LOG_OVERHEAD,
  RECORD_BATCH_HEADER_SIZE,
  type RecordBatchHeader,
  type RecordHeader,
} from '../../protocol/records/record-batch.js';

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

// A record is at least: length, attributes, timestamp delta, offset delta, key length, value length and
// header count, one byte each.
const MIN_RECORD_SIZE = 7;
const COMPRESSION_MASK = 0x07;
const TIMESTAMP_TYPE_MASK = 0x08;
const NO_HEADERS: RecordHeader[] = [];

/**
 * Appends to `out` the records of the batch at `position` in `buf` whose offset is at least `from`.
 * `header` is the batch's header (from iterateBatches, which only yields complete batches).
 */
export async function decodeBatchInto(
  buf: Buffer,
  position: number,
  header: RecordBatchHeader,
  topic: string,
  partition: number,
  from: number,
  out: ConsumerRecord[],
): Promise<void> {
  const end = position + LOG_OVERHEAD + header.batchLength;
  if (end > buf.length) {
    throw new ProtocolError(`record batch of ${end - position} bytes truncated to ${buf.length - position}`);
  }
  const start = position + RECORD_BATCH_HEADER_SIZE;
  const compression = header.attributes & COMPRESSION_MASK;
  if (compression === 0) {
    decodeRecords(buf, start, end, header, topic, partition, from, out);
    return;
  }
  if (header.recordCount < 0) throw new ProtocolError(`negative record count ${header.recordCount}`);
  if (header.recordCount === 0 && end === start) return;
  const inflated = await decompress(compression, buf.subarray(start, end));
  decodeRecords(inflated, 0, inflated.length, header, topic, partition, from, out);
}

function decodeRecords(
  buf: Buffer,
  start: number,
  end: number,
  header: RecordBatchHeader,
  topic: string,
  partition: number,
  from: number,
  out: ConsumerRecord[],
): void {
  const count = header.recordCount;
  if (count < 0) throw new ProtocolError(`negative record count ${count}`);
  if (count > (end - start) / MIN_RECORD_SIZE) {
    throw new ProtocolError(`record count ${count} cannot fit in ${end - start} bytes`);
  }
  const { baseOffset, baseTimestamp } = header;
  // Kafka clients report log-append-time batches' records at the batch's maxTimestamp (set by the broker).
  const logAppendTime = (header.attributes & TIMESTAMP_TYPE_MASK) !== 0;
  at.pos = start;
  for (let i = 0; i < count; i++) {
    const bodyLength = readVarint(buf, end);
    if (bodyLength < MIN_RECORD_SIZE - 1 || bodyLength > end - at.pos) {
      throw new ProtocolError(`bad record length ${bodyLength}`);
    }
    const recordEnd = at.pos + bodyLength;
    at.pos++; // attributes
    const timestampDelta = readVarlong(buf, recordEnd);
    const offset = baseOffset + readVarint(buf, recordEnd);
    const timestamp = logAppendTime ? header.maxTimestamp : baseTimestamp + timestampDelta;
    if (!Number.isSafeInteger(timestamp) || !Number.isSafeInteger(offset)) {
      throw new ProtocolError('record offset or timestamp outside the safe integer range');
    }
    const wanted = offset >= from;
    let key: Buffer | null = null;
    let value: Buffer | null = null;
    if (wanted) {
      key = readBytes(buf, recordEnd, 'key');
      value = readBytes(buf, recordEnd, 'value');
    } else {
      skipBytes(buf, recordEnd, 'key');
      skipBytes(buf, recordEnd, 'value');
    }
    const headerCount = readVarint(buf, recordEnd);
    if (headerCount < 0 || headerCount > (recordEnd - at.pos) / 2) {
      throw new ProtocolError(`bad header count ${headerCount}`);
    }
    const headers: RecordHeader[] = headerCount === 0 || !wanted ? NO_HEADERS : new Array(headerCount);
    for (let h = 0; h < headerCount; h++) {
      const keyLength = readVarint(buf, recordEnd);
      if (keyLength < 0 || keyLength > recordEnd - at.pos) {
        throw new ProtocolError(`bad header key length ${keyLength}`);
      }
      if (wanted) {
        const headerKey = buf.toString('utf8', at.pos, at.pos + keyLength);
        at.pos += keyLength;
        headers[h] = { key: headerKey, value: readBytes(buf, recordEnd, 'header value') };
      } else {
        at.pos += keyLength;
        skipBytes(buf, recordEnd, 'header value');
      }
    }
    if (at.pos !== recordEnd) {
      throw new ProtocolError(
        `record length ${bodyLength} disagrees with its fields (${recordEnd - at.pos} left)`,
      );
    }
    if (wanted) out.push({ topic, partition, offset, timestamp, key, value, headers });
  }
  if (at.pos !== end) {
    throw new ProtocolError(`${end - at.pos} bytes left after ${count} records`);
  }
}
