// OffsetDelete v0. Deletes committed offsets of an Empty group, or of topics no member of a live consumer
// group subscribes to (subscribed ones: GROUP_SUBSCRIBED_TO_TOPIC); a live group of another protocol type
// answers NON_EMPTY_GROUP, an unknown group GROUP_ID_NOT_FOUND. Unknown topics: UNKNOWN_TOPIC_OR_PARTITION.
import { ErrorCode } from '../../protocol/error-codes.js';
import {
  OffsetDelete,
  type OffsetDeleteRequest,
  type OffsetDeleteResponse,
} from '../../protocol/messages/offset-delete.js';
import { handler } from './define.js';

function errorResponse(_request: OffsetDeleteRequest, errorCode: number): OffsetDeleteResponse {
  return { errorCode, throttleTimeMs: 0, topics: [] };
}

export const offsetDeleteHandler = handler(
  OffsetDelete,
  { min: 0, max: 0 },
  async (request, { broker }): Promise<OffsetDeleteResponse> => {
    const known = (topic: string, partition: number) =>
      broker.topics.partitionId(topic, partition) !== undefined;
    const wanted = request.topics.flatMap((t) =>
      t.partitions
        .filter((p) => known(t.name, p.partitionIndex))
        .map((p) => ({ topic: t.name, partition: p.partitionIndex })),
    );
    const result = await broker.groups.deleteOffsets(request.groupId, wanted);
    if (result.errorCode !== ErrorCode.NONE)
      return { errorCode: result.errorCode, throttleTimeMs: 0, topics: [] };
    const codes = new Map(result.partitions.map((p) => [`${p.topic}\0${p.partition}`, p.errorCode]));
    return {
      errorCode: ErrorCode.NONE,
      throttleTimeMs: 0,
      topics: request.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partitionIndex,
          errorCode: codes.get(`${t.name}\0${p.partitionIndex}`) ?? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        })),
      })),
    };
  },
  errorResponse,
);
