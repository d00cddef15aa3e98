// Control batches: the commit/abort markers a transaction coordinator has written into each partition it
// touched. A control batch has the control and transactional attributes set, the transaction's producer id
// and epoch, and exactly one record:
//   key   = version int16 (0) + type int16 (0 = ABORT, 1 = COMMIT; KRaft uses higher types in its own log)
//   value = version int16 (0) + coordinatorEpoch int32   (for ABORT/COMMIT, the "end transaction marker")
// Consumers never see control records; read_committed consumers use them to drop aborted data.
import { ProtocolError } from '../primitives/protocol-error.js';
import {
  buildRecordBatchSync,
  isControlBatch,
  isTransactional,
  type RecordBatchHeader,
  type RecordInput,
} from './record-batch.js';

export const ControlRecordType = { ABORT: 0, COMMIT: 1 } as const;
export type ControlRecordType = (typeof ControlRecordType)[keyof typeof ControlRecordType];

const CONTROL_KEY_SIZE = 4;
const END_TXN_MARKER_SIZE = 6;

export interface EndTransactionMarker {
  type: ControlRecordType;
  coordinatorEpoch: number;
}

export interface ControlBatchOptions {
  producerId: number;
  producerEpoch: number;
  baseOffset?: number;
  partitionLeaderEpoch?: number;
  timestamp?: number;
}

export function encodeControlKey(type: number): Buffer {
  const key = Buffer.alloc(CONTROL_KEY_SIZE);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(type, 2);
  return key;
}

export function encodeEndTransactionMarkerValue(coordinatorEpoch: number): Buffer {
  const value = Buffer.alloc(END_TXN_MARKER_SIZE);
  value.writeInt16BE(0, 0);
  value.writeInt32BE(coordinatorEpoch, 2);
  return value;
}

/** The control record type of a record key; ProtocolError if the key is not a control key. */
export function readControlRecordType(key: Uint8Array | null): number {
  if (key === null || key.length < CONTROL_KEY_SIZE) throw new ProtocolError('control record key too short');
  const version = (((key[0]! << 8) | key[1]!) << 16) >> 16;
  if (version < 0) throw new ProtocolError(`bad control record key version ${version}`);
  return (((key[2]! << 8) | key[3]!) << 16) >> 16;
}

/** Decodes a control record as an end-transaction marker; ProtocolError for other control types. */
export function readEndTransactionMarker(
  key: Uint8Array | null,
  value: Uint8Array | null,
): EndTransactionMarker {
  const type = readControlRecordType(key);
  if (type !== ControlRecordType.ABORT && type !== ControlRecordType.COMMIT) {
    throw new ProtocolError(`control record type ${type} is not an end-transaction marker`);
  }
  if (value === null || value.length < END_TXN_MARKER_SIZE) {
    throw new ProtocolError('end-transaction marker value too short');
  }
  const version = (((value[0]! << 8) | value[1]!) << 16) >> 16;
  if (version < 0) throw new ProtocolError(`bad end-transaction marker version ${version}`);
  const coordinatorEpoch = (value[2]! << 24) | (value[3]! << 16) | (value[4]! << 8) | value[5]!;
  return { type, coordinatorEpoch };
}

/** Builds the one-record control batch a coordinator appends to end a transaction in a partition. */
export function buildEndTransactionMarkerBatch(
  marker: EndTransactionMarker,
  options: ControlBatchOptions,
): Buffer {
  const record: RecordInput = {
    key: encodeControlKey(marker.type),
    value: encodeEndTransactionMarkerValue(marker.coordinatorEpoch),
    timestamp: options.timestamp ?? Date.now(),
  };
  return buildRecordBatchSync([record], {
    baseOffset: options.baseOffset ?? 0,
    partitionLeaderEpoch: options.partitionLeaderEpoch ?? -1,
    producerId: options.producerId,
    producerEpoch: options.producerEpoch,
    baseSequence: -1,
    transactional: true,
    control: true,
  });
}

/** True for a transaction marker batch (control and transactional attributes both set). */
export function isTransactionMarkerBatch(header: RecordBatchHeader): boolean {
  return isControlBatch(header.attributes) && isTransactional(header.attributes);
}
