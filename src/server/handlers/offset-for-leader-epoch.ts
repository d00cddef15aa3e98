// OffsetForLeaderEpoch v0–4. For each partition, the end offset of the requested leader epoch, from the
// partition's leader-epoch cache (followers truncate to it; consumers check for log truncation, KIP-320).
// v1: the epoch found (the largest known at or below the requested one); v2: currentLeaderEpoch fencing,
// throttle time; v3: replicaId (followers; -1 for consumers, -2 for debugging tools); v4: flexible.
// A single broker is the leader of every partition at epoch 0 (LEADER_EPOCH), so currentLeaderEpoch above 0 is
// UNKNOWN_LEADER_EPOCH and below 0 (other than -1, "no check") is FENCED_LEADER_EPOCH, as Kafka's rules give.
// Lookup rules: see PartitionHost.epochEndOffset; no answer is epoch -1, end offset -1 with no error.
import { ErrorCode } from '../../protocol/error-codes.js';
import {
  OffsetForLeaderEpoch,
  type OffsetForLeaderEpochRequest,
  type OffsetForLeaderEpochResponse,
  type OffsetForLeaderEpochResponseEpochEndOffset,
} from '../../protocol/messages/offset-for-leader-epoch.js';
import { LEADER_EPOCH } from '../../partition/partition-host.js';
import type { BrokerContext } from '../broker-context.js';
import { handler } from './define.js';

type Failure = 'unknown-partition' | 'unknown-leader-epoch' | 'fenced-leader-epoch' | 'storage-error';

/** The one place where OffsetForLeaderEpoch failures become Kafka error codes. */
function errorCodeFor(reason: Failure): number {
  switch (reason) {
    case 'unknown-partition':
      return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    case 'unknown-leader-epoch':
      return ErrorCode.UNKNOWN_LEADER_EPOCH;
    case 'fenced-leader-epoch':
      return ErrorCode.FENCED_LEADER_EPOCH;
    case 'storage-error':
      return ErrorCode.KAFKA_STORAGE_ERROR;
  }
}

const answer = (
  partition: number,
  errorCode: number,
  leaderEpoch = -1,
  endOffset = -1,
): OffsetForLeaderEpochResponseEpochEndOffset => ({
  errorCode,
  partition,
  leaderEpoch,
  endOffset: BigInt(endOffset),
});

function errorResponse(
  request: OffsetForLeaderEpochRequest,
  errorCode: number,
): OffsetForLeaderEpochResponse {
  return {
    throttleTimeMs: 0,
    topics: request.topics.map((t) => ({
      topic: t.topic,
      partitions: t.partitions.map((p) => answer(p.partition, errorCode)),
    })),
  };
}

async function lookUp(
  topic: string,
  partition: number,
  currentLeaderEpoch: number,
  epoch: number,
  version: number,
  broker: BrokerContext,
): Promise<OffsetForLeaderEpochResponseEpochEndOffset> {
  const failed = (reason: Failure) => answer(partition, errorCodeFor(reason));
  const id = broker.topics.partitionId(topic, partition);
  if (id === undefined) return failed('unknown-partition');
  if (currentLeaderEpoch !== -1) {
    if (currentLeaderEpoch > LEADER_EPOCH) return failed('unknown-leader-epoch');
    if (currentLeaderEpoch < LEADER_EPOCH) return failed('fenced-leader-epoch');
  }
  try {
    const outcome = await broker.partitions.epochEndOffset(id, epoch);
    if (!outcome.ok) return failed(outcome.reason);
    // v0 has no leader epoch in its answer.
    return answer(partition, ErrorCode.NONE, version >= 1 ? outcome.leaderEpoch : -1, outcome.endOffset);
  } catch (error) {
    broker.log.warn(`OffsetForLeaderEpoch ${topic}-${partition}: ${(error as Error).message}`);
    return failed('storage-error');
  }
}

export const offsetForLeaderEpochHandler = handler(
  OffsetForLeaderEpoch,
  { min: 0, max: 4 },
  async (request, { broker, version }) => ({
    throttleTimeMs: 0,
    topics: await Promise.all(
      request.topics.map(async (t) => ({
        topic: t.topic,
        partitions: await Promise.all(
          t.partitions.map((p) =>
            lookUp(t.topic, p.partition, p.currentLeaderEpoch, p.leaderEpoch, version, broker),
          ),
        ),
      })),
    ),
  }),
  errorResponse,
);
