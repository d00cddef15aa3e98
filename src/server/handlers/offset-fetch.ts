// OffsetFetch v0–9. v0 (offsets from ZooKeeper in old Kafka) is answered from the same store as v1;
// v1–1: group errors go into every partition; v2: a top-level errorCode (partitions then empty) and
// topics=null for "every partition the group has committed"; v3: throttle; v5: committedLeaderEpoch; v6:
// flexible; v7: requireStable (no transactional offsets exist yet, so nothing is ever unstable); v8: many
// groups per request, each with its own error; v9: member id and epoch (KIP-848 groups only; ignored).
// A partition without a committed offset answers offset -1, metadata "" and no error.
import type { FetchOffsetsResult } from '../../group/index.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import {
  OffsetFetch,
  type OffsetFetchRequest,
  type OffsetFetchResponse,
  type OffsetFetchResponseTopic,
} from '../../protocol/messages/offset-fetch.js';
import { handler } from './define.js';

const toTopics = (result: FetchOffsetsResult, version: number): OffsetFetchResponseTopic[] =>
  result.topics.map((t) => ({
    name: t.name,
    partitions: t.partitions.map((p) => ({
      partitionIndex: p.partition,
      committedOffset: BigInt(p.offset),
      committedLeaderEpoch: version >= 5 ? p.leaderEpoch : -1,
      metadata: p.metadata,
      errorCode: p.errorCode,
    })),
  }));

function errorResponse(request: OffsetFetchRequest, errorCode: number, version: number): OffsetFetchResponse {
  if (version >= 8) {
    return {
      throttleTimeMs: 0,
      topics: [],
      errorCode: 0,
      groups: request.groups.map((g) => ({ groupId: g.groupId, topics: [], errorCode })),
    };
  }
  return { throttleTimeMs: 0, topics: [], errorCode: version >= 2 ? errorCode : 0, groups: [] };
}

export const offsetFetchHandler = handler(
  OffsetFetch,
  { min: 0, max: 9 },
  (request, { broker, version }): OffsetFetchResponse => {
    if (version >= 8) {
      return {
        throttleTimeMs: 0,
        topics: [],
        errorCode: 0,
        groups: request.groups.map((g) => {
          const result = broker.groups.fetchOffsets(
            g.groupId,
            g.topics === null
              ? null
              : g.topics.map((t) => ({ name: t.name, partitions: t.partitionIndexes })),
          );
          if (result.errorCode !== ErrorCode.NONE)
            return { groupId: g.groupId, topics: [], errorCode: result.errorCode };
          return {
            groupId: g.groupId,
            errorCode: ErrorCode.NONE,
            topics: result.topics.map((t) => ({
              name: t.name,
              partitions: t.partitions.map((p) => ({
                partitionIndex: p.partition,
                committedOffset: BigInt(p.offset),
                committedLeaderEpoch: p.leaderEpoch,
                metadata: p.metadata,
                errorCode: p.errorCode,
              })),
            })),
          };
        }),
      };
    }
    const topics =
      request.topics === null
        ? null
        : request.topics.map((t) => ({ name: t.name, partitions: t.partitionIndexes }));
    const result = broker.groups.fetchOffsets(request.groupId, topics);
    if (result.errorCode !== ErrorCode.NONE && version >= 2) {
      return { throttleTimeMs: 0, topics: [], errorCode: result.errorCode, groups: [] };
    }
    // v0–1 carry a group error in every partition (fetchOffsets already put it there).
    return { throttleTimeMs: 0, topics: toTopics(result, version), errorCode: 0, groups: [] };
  },
  errorResponse,
);
