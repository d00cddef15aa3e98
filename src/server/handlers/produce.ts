// Produce v0–11. Appends each partition's record batches on the partition's worker.
// v0–2 carry message formats v0/v1, which Fjord does not store: they are advertised all the same, because
// librdkafka (up to 2.11) only compresses with gzip, snappy or lz4 when the broker's Produce range includes
// v0, and otherwise silently sends those batches uncompressed. It produces at v3+ itself; a client that
// really sends v0–2 gets UNSUPPORTED_VERSION on every partition. v3: transactional id (transactions are not
// implemented yet; such batches are appended as they are, with the idempotence checks); v5: log start offset;
// v8: per-batch record errors and an error message; v9: flexible; v10+: current leader / node endpoints
// (only sent on NOT_LEADER_OR_FOLLOWER, which a single broker never returns).
// Idempotent producers (batches with a producer id): a retried batch is answered NONE with its original
// base offset (and, as in Kafka, its batch timestamp as logAppendTime) and not written again; a sequence gap
// gets OUT_OF_ORDER_SEQUENCE_NUMBER and a stale epoch INVALID_PRODUCER_EPOCH (partition-host.ts).
// acks=0 gets no response at all; acks=1 and acks=-1 are answered after the append (on a single broker the
// ISR is this broker alone, so "all" is satisfied by the local append, and min.insync.replicas > 1 yields
// NOT_ENOUGH_REPLICAS as in Kafka).
import type { HostFailure } from '../../partition/partition-host.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import {
  Produce,
  type ProduceRequest,
  type ProduceResponse,
  type ProduceResponsePartitionProduceResponse,
} from '../../protocol/messages/produce.js';
import { CURRENT_MAGIC, LOG_OVERHEAD } from '../../protocol/records/record-batch.js';
import { handler } from './define.js';

// Where the magic byte sits in a batch: base offset (8), length (4), partition leader epoch (4).
const MAGIC_OFFSET = 16;

/** The one place storage failures become Produce error codes. */
function produceErrorCode(reason: HostFailure): number {
  switch (reason) {
    case 'corrupt-message':
      return ErrorCode.CORRUPT_MESSAGE;
    case 'record-too-large':
      return ErrorCode.MESSAGE_TOO_LARGE;
    case 'invalid-record':
      return ErrorCode.INVALID_RECORD;
    case 'invalid-timestamp':
      return ErrorCode.INVALID_TIMESTAMP;
    case 'unknown-partition':
      return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    case 'storage-error':
      return ErrorCode.KAFKA_STORAGE_ERROR;
    case 'out-of-order-sequence':
      return ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER;
    // Since Kafka 2.7 a stale epoch on the produce path is INVALID_PRODUCER_EPOCH at every version
    // (PRODUCER_FENCED belongs to the transaction coordinator's APIs).
    case 'invalid-producer-epoch':
      return ErrorCode.INVALID_PRODUCER_EPOCH;
    default:
      return ErrorCode.UNKNOWN_SERVER_ERROR;
  }
}

/**
 * The magic of the first batch that is not a v2 RecordBatch, if any. Produce v3+ may carry only v2 batches;
 * Kafka refuses others with INVALID_RECORD before they reach the log (storage would call them corrupt).
 * Reads one byte per batch header.
 */
function legacyMagic(records: Buffer): number | undefined {
  for (let position = 0; position + MAGIC_OFFSET < records.length;) {
    const magic = records[position + MAGIC_OFFSET]!;
    if (magic !== CURRENT_MAGIC) return magic;
    const batchLength = records.readInt32BE(position + LOG_OVERHEAD - 4);
    // A nonsensical length is left for storage to refuse as corrupt.
    if (batchLength <= 0) return undefined;
    position += LOG_OVERHEAD + batchLength;
  }
  return undefined;
}

function partitionResponse(
  index: number,
  errorCode: number,
  version: number,
  fields: { baseOffset?: number; logAppendTime?: number; logStartOffset?: number; message?: string } = {},
): ProduceResponsePartitionProduceResponse {
  return {
    index,
    errorCode,
    baseOffset: BigInt(fields.baseOffset ?? -1),
    logAppendTimeMs: BigInt(fields.logAppendTime ?? -1),
    logStartOffset: BigInt(fields.logStartOffset ?? -1),
    recordErrors: [],
    errorMessage: version >= 8 && errorCode !== ErrorCode.NONE ? (fields.message ?? null) : null,
    currentLeader: { leaderId: -1, leaderEpoch: -1 },
  };
}

function errorResponse(request: ProduceRequest, errorCode: number, version: number): ProduceResponse {
  return {
    responses: request.topicData.map((topic) => ({
      name: topic.name,
      partitionResponses: topic.partitionData.map((p) => partitionResponse(p.index, errorCode, version)),
    })),
    throttleTimeMs: 0,
    nodeEndpoints: [],
  };
}

export const produceHandler = handler(
  Produce,
  { min: 0, max: 11 },
  async (request, { broker, version }) => {
    const acks = request.acks;
    if (version < 3)
      return acks === 0 ? null : errorResponse(request, ErrorCode.UNSUPPORTED_VERSION, version);
    if (acks !== 0 && acks !== 1 && acks !== -1) {
      return errorResponse(request, ErrorCode.INVALID_REQUIRED_ACKS, version);
    }
    const responses = await Promise.all(
      request.topicData.map(async (topic) => ({
        name: topic.name,
        partitionResponses: await Promise.all(
          topic.partitionData.map(async (data): Promise<ProduceResponsePartitionProduceResponse> => {
            const id = broker.topics.partitionId(topic.name, data.index);
            if (id === undefined)
              return partitionResponse(data.index, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, version);
            if (data.records === null || data.records.length === 0) {
              return partitionResponse(data.index, ErrorCode.CORRUPT_MESSAGE, version, {
                message: 'no records',
              });
            }
            const magic = legacyMagic(data.records);
            if (magic !== undefined) {
              return partitionResponse(data.index, ErrorCode.INVALID_RECORD, version, {
                message: `Produce requests with version ${version} may only contain record batches with magic 2 (got magic ${magic})`,
              });
            }
            if (acks === -1 && broker.topics.logConfig(topic.name).minInsyncReplicas > 1) {
              return partitionResponse(data.index, ErrorCode.NOT_ENOUGH_REPLICAS, version, {
                message: `min.insync.replicas is ${broker.topics.logConfig(topic.name).minInsyncReplicas}, but the ISR has 1 replica`,
              });
            }
            const outcome = await broker.partitions.append(id, data.records);
            if (!outcome.ok) {
              broker.log.debug(`produce to ${topic.name}-${data.index} refused: ${outcome.message}`);
              return partitionResponse(data.index, produceErrorCode(outcome.reason), version, {
                message: outcome.message,
              });
            }
            // A duplicate (idempotent retry) carries the original offsets and wrote nothing.
            if (!outcome.duplicate) broker.fetchWaiters.notify(id, data.records.length);
            return partitionResponse(data.index, ErrorCode.NONE, version, outcome);
          }),
        ),
      })),
    );
    if (acks === 0) return null;
    return { responses, throttleTimeMs: 0, nodeEndpoints: [] };
  },
  errorResponse,
);
