// DeleteRecords v0–2. Moves partitions' log start offsets forward (deleting the segments wholly below), and
// answers each partition's new low watermark (log start offset).
// v1: same as v0 (throttling behaviour); v2: flexible.
// Offsets: -1 means "up to the high watermark"; an offset above the high watermark, or below -1, is
// OFFSET_OUT_OF_RANGE; one at or below the current log start changes nothing and answers it.
// Errors as Kafka: UNKNOWN_TOPIC_OR_PARTITION, OFFSET_OUT_OF_RANGE, POLICY_VIOLATION (a topic whose
// cleanup.policy does not include delete), KAFKA_STORAGE_ERROR (the partition worker failed).
import { ErrorCode } from '../../protocol/error-codes.js';
import {
  DeleteRecords,
  type DeleteRecordsRequest,
  type DeleteRecordsResponse,
  type DeleteRecordsResponseDeleteRecordsPartitionResult,
} from '../../protocol/messages/delete-records.js';
import type { BrokerContext } from '../broker-context.js';
import { handler } from './define.js';

type Failure = 'unknown-partition' | 'offset-out-of-range' | 'policy' | 'storage-error';

/** The one place where DeleteRecords failures become Kafka error codes. */
function errorCodeFor(reason: Failure): number {
  switch (reason) {
    case 'unknown-partition':
      return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    case 'offset-out-of-range':
      return ErrorCode.OFFSET_OUT_OF_RANGE;
    case 'policy':
      return ErrorCode.POLICY_VIOLATION;
    case 'storage-error':
      return ErrorCode.KAFKA_STORAGE_ERROR;
  }
}

function errorResponse(request: DeleteRecordsRequest, errorCode: number): DeleteRecordsResponse {
  return {
    throttleTimeMs: 0,
    topics: request.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({
        partitionIndex: p.partitionIndex,
        lowWatermark: -1n,
        errorCode,
      })),
    })),
  };
}

async function deleteOne(
  topic: string,
  partitionIndex: number,
  offset: bigint,
  broker: BrokerContext,
): Promise<DeleteRecordsResponseDeleteRecordsPartitionResult> {
  const failed = (reason: Failure) => ({
    partitionIndex,
    lowWatermark: -1n,
    errorCode: errorCodeFor(reason),
  });
  const id = broker.topics.partitionId(topic, partitionIndex);
  if (id === undefined) return failed('unknown-partition');
  if (!broker.topics.logConfig(topic).cleanupPolicy.delete) return failed('policy');
  if (offset < -1n || offset > BigInt(Number.MAX_SAFE_INTEGER)) return failed('offset-out-of-range');
  try {
    const outcome = await broker.partitions.deleteRecords(id, Number(offset));
    if (!outcome.ok) return failed(outcome.reason);
    return { partitionIndex, lowWatermark: BigInt(outcome.logStartOffset), errorCode: ErrorCode.NONE };
  } catch (error) {
    broker.log.warn(`DeleteRecords ${topic}-${partitionIndex} to ${offset}: ${(error as Error).message}`);
    return failed('storage-error');
  }
}

export const deleteRecordsHandler = handler(
  DeleteRecords,
  { min: 0, max: 2 },
  async (request, { broker }) => ({
    throttleTimeMs: 0,
    topics: await Promise.all(
      request.topics.map(async (t) => ({
        name: t.name,
        partitions: await Promise.all(
          t.partitions.map((p) => deleteOne(t.name, p.partitionIndex, p.offset, broker)),
        ),
      })),
    ),
  }),
  errorResponse,
);
