// OffsetCommit v0–9. v0: no generation or member (a standalone commit); v1: generationId, memberId and a
// per-partition commitTimestamp (ignored: the broker's clock stamps commits, as Kafka does from v2);
// v2–4: retentionTimeMs (-1: offsets.retention.minutes); v3: throttle; v5: retention dropped; v6:
// committedLeaderEpoch; v7: groupInstanceId; v8: flexible; v9: no change for classic groups.
// Partitions of unknown topics get UNKNOWN_TOPIC_OR_PARTITION and are not committed; the rest are checked
// against the group (generation, member, state) and written to __consumer_offsets before the answer.
import { ErrorCode } from '../../protocol/error-codes.js';
import {
  OffsetCommit,
  type OffsetCommitRequest,
  type OffsetCommitResponse,
} from '../../protocol/messages/offset-commit.js';
import { handler } from './define.js';

function errorResponse(request: OffsetCommitRequest, errorCode: number): OffsetCommitResponse {
  return {
    throttleTimeMs: 0,
    topics: request.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })),
    })),
  };
}

export const offsetCommitHandler = handler(
  OffsetCommit,
  { min: 0, max: 9 },
  async (request, { broker, version }): Promise<OffsetCommitResponse> => {
    const known = (topic: string, partition: number) =>
      broker.topics.partitionId(topic, partition) !== undefined;
    const offsets = request.topics.flatMap((t) =>
      t.partitions
        .filter((p) => known(t.name, p.partitionIndex))
        .map((p) => ({
          topic: t.name,
          partition: p.partitionIndex,
          offset: Number(p.committedOffset),
          leaderEpoch: version >= 6 ? p.committedLeaderEpoch : -1,
          metadata: p.committedMetadata,
        })),
    );
    const codes = await broker.groups.commitOffsets({
      groupId: request.groupId,
      generationId: version >= 1 ? request.generationIdOrMemberEpoch : -1,
      memberId: version >= 1 ? request.memberId : '',
      groupInstanceId: version >= 7 ? request.groupInstanceId : null,
      retentionMs: version >= 2 && version <= 4 ? Number(request.retentionTimeMs) : -1,
      offsets,
    });
    let next = 0;
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partitionIndex,
          errorCode: known(t.name, p.partitionIndex) ? codes[next++]! : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        })),
      })),
    };
  },
  errorResponse,
);
