// DeleteTopics v0–6. Deletes topics by name (v0–5: topicNames) or, from v6, by name or topic id.
// v1: throttle time; v4: flexible; v5: error messages; v6: topics as { name, topicId } (one of the two).
// Errors as Kafka: UNKNOWN_TOPIC_OR_PARTITION (no such name), UNKNOWN_TOPIC_ID (no such id),
// TOPIC_DELETION_DISABLED (delete.topic.enable=false), INVALID_REQUEST (both or neither of name and id, or a
// topic named twice). The partitions' logs are gone when the response leaves (Kafka renames them and deletes
// asynchronously; Fjord's storage keeps in-flight reads working for file.delete.delay.ms).
import { ErrorCode } from '../../protocol/error-codes.js';
import { ZERO_UUID } from '../../protocol/messages/common.js';
import {
  DeleteTopics,
  type DeleteTopicsRequest,
  type DeleteTopicsResponse,
  type DeleteTopicsResponseDeletableTopicResult,
} from '../../protocol/messages/delete-topics.js';
import { handler } from './define.js';

interface Wanted {
  name: string | null;
  topicId: string;
}

function wantedTopics(request: DeleteTopicsRequest, version: number): Wanted[] {
  return version >= 6
    ? request.topics.map((t) => ({ name: t.name, topicId: t.topicId }))
    : request.topicNames.map((name) => ({ name, topicId: ZERO_UUID }));
}

const result = (
  version: number,
  wanted: Wanted,
  errorCode: number,
  errorMessage: string | null,
): DeleteTopicsResponseDeletableTopicResult => ({
  // Before v6 the name is not nullable; an id-only entry cannot occur there.
  name: wanted.name ?? (version >= 6 ? null : ''),
  topicId: version >= 6 ? wanted.topicId : ZERO_UUID,
  errorCode,
  errorMessage: version >= 5 ? errorMessage : null,
});

function errorResponse(
  request: DeleteTopicsRequest,
  errorCode: number,
  version: number,
): DeleteTopicsResponse {
  return {
    throttleTimeMs: 0,
    responses: wantedTopics(request, version).map((w) => result(version, w, errorCode, null)),
  };
}

export const deleteTopicsHandler = handler(
  DeleteTopics,
  { min: 0, max: 6 },
  async (request, { broker, version }) => {
    const wanted = wantedTopics(request, version);
    const seen = new Map<string, number>();
    for (const w of wanted) {
      const key = w.name ?? `id:${w.topicId}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    const responses: DeleteTopicsResponseDeletableTopicResult[] = [];
    for (const w of wanted) {
      if (seen.get(w.name ?? `id:${w.topicId}`)! > 1) {
        responses.push(
          result(version, w, ErrorCode.INVALID_REQUEST, 'The topic is named more than once in the request.'),
        );
        continue;
      }
      const byId = w.topicId !== ZERO_UUID;
      if (byId === (w.name !== null)) {
        responses.push(
          result(
            version,
            w,
            ErrorCode.INVALID_REQUEST,
            'Each topic needs exactly one of a name and a topic id.',
          ),
        );
        continue;
      }
      let name = w.name;
      if (byId) {
        const topic = broker.topics.registry.byId(w.topicId);
        if (!topic) {
          responses.push(
            result(version, w, ErrorCode.UNKNOWN_TOPIC_ID, 'This server does not host this topic ID.'),
          );
          continue;
        }
        name = topic.name;
      }
      const outcome = await broker.topics.delete(name!);
      // A topic re-created under this name must not resume at the old committed offsets.
      if (outcome.errorCode === ErrorCode.NONE) await broker.groups.deleteTopicOffsets(name!);
      const topicId = outcome.topic?.topicId ?? w.topicId;
      responses.push(result(version, { name, topicId }, outcome.errorCode, outcome.errorMessage));
    }
    return { throttleTimeMs: 0, responses };
  },
  errorResponse,
);
