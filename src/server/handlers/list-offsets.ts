// ListOffsets v0–9. Offsets by time: -2 earliest (log start), -1 latest (high watermark, or the last
// stable offset under read_committed), -3 the record with the largest timestamp (v7+), -4 earliest local
// (v8+, the same as earliest: Fjord has no tiered storage), -5 latest tiered (v9+, -1: none), else the
// first record whose timestamp is at or after the given one.
// v0: "old style" offsets list (maxNumOffsets is honoured as 1); v1: single offset + timestamp;
// v2: isolation level; v4: leader epoch; v6: flexible.
import type { ListOffsetsSpec } from '../../storage/index.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import {
  ListOffsets,
  type ListOffsetsRequest,
  type ListOffsetsResponse,
  type ListOffsetsResponseListOffsetsPartitionResponse,
} from '../../protocol/messages/list-offsets.js';
import { handler } from './define.js';

function specFor(timestamp: bigint): ListOffsetsSpec | 'latest-tiered' {
  switch (timestamp) {
    case -2n:
    case -4n:
      return 'earliest';
    case -1n:
      return 'latest';
    case -3n:
      return 'max-timestamp';
    case -5n:
      return 'latest-tiered';
    default:
      return { timestamp: Number(timestamp) };
  }
}

function partitionResponse(
  partitionIndex: number,
  errorCode: number,
  version: number,
  found: { offset: number; timestamp: number; leaderEpoch: number } = {
    offset: -1,
    timestamp: -1,
    leaderEpoch: -1,
  },
): ListOffsetsResponseListOffsetsPartitionResponse {
  return {
    partitionIndex,
    errorCode,
    oldStyleOffsets: version === 0 && found.offset >= 0 ? [BigInt(found.offset)] : [],
    timestamp: version >= 1 ? BigInt(found.timestamp) : -1n,
    offset: version >= 1 ? BigInt(found.offset) : -1n,
    leaderEpoch: version >= 4 ? found.leaderEpoch : -1,
  };
}

function errorResponse(request: ListOffsetsRequest, errorCode: number, version: number): ListOffsetsResponse {
  return {
    throttleTimeMs: 0,
    topics: request.topics.map((topic) => ({
      name: topic.name,
      partitions: topic.partitions.map((p) => partitionResponse(p.partitionIndex, errorCode, version)),
    })),
  };
}

export const listOffsetsHandler = handler(
  ListOffsets,
  { min: 0, max: 9 },
  async (request, { broker, version }) => ({
    throttleTimeMs: 0,
    topics: await Promise.all(
      request.topics.map(async (topic) => ({
        name: topic.name,
        partitions: await Promise.all(
          topic.partitions.map(async (p) => {
            const id = broker.topics.partitionId(topic.name, p.partitionIndex);
            if (id === undefined)
              return partitionResponse(p.partitionIndex, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, version);
            const spec = specFor(p.timestamp);
            if (spec === 'latest-tiered') return partitionResponse(p.partitionIndex, ErrorCode.NONE, version);
            const outcome = await broker.partitions.listOffset(id, spec);
            if (!outcome.ok)
              return partitionResponse(p.partitionIndex, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, version);
            return partitionResponse(p.partitionIndex, ErrorCode.NONE, version, outcome);
          }),
        ),
      })),
    ),
  }),
  errorResponse,
);
