// Metadata v0–12. Brokers, cluster id, controller, and topics with their partitions.
// v0: an empty topic list means all topics; v1+: null means all, empty means none. v1: controller id,
// internal flag; v2: cluster id; v4: allowAutoTopicCreation; v5: offline replicas; v7: leader epoch;
// v8: authorized operations (Fjord has no ACLs: it reports "not requested", as Kafka does without them);
// v9: flexible; v10: topic ids; v12: topics may be named by id alone.
// Unknown topics are auto-created when auto.create.topics.enable and the request allows it. Unlike Kafka,
// which answers LEADER_NOT_AVAILABLE until the new partitions have leaders, Fjord creates them before
// answering and returns them ready.
import type { TopicMetadata } from '../../cluster/topic-registry.js';
import { INTERNAL_TOPICS } from '../../cluster/topic-manager.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { ZERO_UUID } from '../../protocol/messages/common.js';
import { Metadata, type MetadataResponseTopic } from '../../protocol/messages/metadata.js';
import { handler } from './define.js';

const NO_OPERATIONS = -2147483648;

export const metadataHandler = handler(
  Metadata,
  { min: 0, max: 12 },
  async (request, { broker, version }) => {
    const all = request.topics === null || (version === 0 && request.topics.length === 0);
    const topics: MetadataResponseTopic[] = [];
    const describe = (topic: TopicMetadata): MetadataResponseTopic => ({
      errorCode: ErrorCode.NONE,
      name: topic.name,
      topicId: version >= 10 ? topic.topicId : ZERO_UUID,
      isInternal: INTERNAL_TOPICS.has(topic.name),
      partitions: Array.from({ length: topic.partitions }, (_, partitionIndex) => ({
        errorCode: ErrorCode.NONE,
        partitionIndex,
        leaderId: broker.nodeId,
        leaderEpoch: 0,
        replicaNodes: [broker.nodeId],
        isrNodes: [broker.nodeId],
        offlineReplicas: [],
      })),
      topicAuthorizedOperations: NO_OPERATIONS,
    });
    const missing = (name: string | null, topicId: string, errorCode: number): MetadataResponseTopic => ({
      errorCode,
      name,
      topicId,
      isInternal: false,
      partitions: [],
      topicAuthorizedOperations: NO_OPERATIONS,
    });

    if (all) {
      for (const topic of broker.topics.registry.list()) topics.push(describe(topic));
    } else {
      const autoCreate = version < 4 || request.allowAutoTopicCreation;
      for (const wanted of request.topics ?? []) {
        if (wanted.name === null) {
          const topic = broker.topics.registry.byId(wanted.topicId);
          topics.push(topic ? describe(topic) : missing(null, wanted.topicId, ErrorCode.UNKNOWN_TOPIC_ID));
          continue;
        }
        const topic = autoCreate ? await broker.topics.ensure(wanted.name) : broker.topics.get(wanted.name);
        if (topic) topics.push(describe(topic));
        else {
          const invalid =
            broker.topics.validate(wanted.name, 1, 1, {}).errorCode === ErrorCode.INVALID_TOPIC_EXCEPTION;
          topics.push(
            missing(
              wanted.name,
              ZERO_UUID,
              invalid ? ErrorCode.INVALID_TOPIC_EXCEPTION : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            ),
          );
        }
      }
    }
    return {
      throttleTimeMs: 0,
      brokers: broker.brokers(),
      clusterId: broker.clusterId,
      controllerId: broker.controllerId(),
      topics,
      clusterAuthorizedOperations: NO_OPERATIONS,
    };
  },
);
