// CreateTopics v0–7. Creates topics with a partition count and replication factor, or with a manual replica
// assignment, and optional config overrides; validateOnly checks everything and creates nothing.
// v1: validateOnly, error messages; v4: -1 partitions / replication factor mean the broker defaults
// (num.partitions, default.replication.factor), accepted at every version as Kafka does; v5: flexible, and
// each result carries the topic's partition count, replication factor and configs (as DescribeConfigs would
// report them); v7: topic ids (the zero uuid under validateOnly, as Kafka answers).
// Errors as Kafka: INVALID_TOPIC_EXCEPTION (illegal or colliding name), TOPIC_ALREADY_EXISTS,
// INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR (including more than the live brokers),
// INVALID_REPLICA_ASSIGNMENT (gaps in partition indexes, uneven or duplicate replica lists, brokers that do
// not exist), INVALID_CONFIG (unknown names, bad values), INVALID_REQUEST (a topic named twice, a null
// config value, or both a count and an assignment).
// Not implemented: create-topic policies (no POLICY_VIOLATION); timeoutMs is not needed since creation is
// complete when the response leaves.
import { describeTopicConfigs } from '../../cluster/config-catalog.js';
import type { TopicResult } from '../../cluster/topic-manager.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { ZERO_UUID } from '../../protocol/messages/common.js';
import {
  CreateTopics,
  type CreateTopicsRequest,
  type CreateTopicsRequestCreatableTopic,
  type CreateTopicsResponse,
  type CreateTopicsResponseCreatableTopicResult,
} from '../../protocol/messages/create-topics.js';
import type { BrokerContext } from '../broker-context.js';
import { handler } from './define.js';

type Failure = { errorCode: number; errorMessage: string };

const result = (
  name: string,
  errorCode: number,
  errorMessage: string | null,
): CreateTopicsResponseCreatableTopicResult => ({
  name,
  topicId: ZERO_UUID,
  errorCode,
  errorMessage,
  topicConfigErrorCode: ErrorCode.NONE,
  numPartitions: -1,
  replicationFactor: -1,
  configs: null,
});

function errorResponse(request: CreateTopicsRequest, errorCode: number): CreateTopicsResponse {
  return { throttleTimeMs: 0, topics: request.topics.map((t) => result(t.name, errorCode, null)) };
}

/** Partition count and replication factor of a manual assignment, or why it is refused. */
function checkAssignment(
  topic: CreateTopicsRequestCreatableTopic,
  brokerIds: Set<number>,
): { partitions: number; replicationFactor: number } | Failure {
  if (topic.numPartitions !== -1 || topic.replicationFactor !== -1) {
    return {
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage:
        'Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.',
    };
  }
  const sorted = [...topic.assignments].sort((a, b) => a.partitionIndex - b.partitionIndex);
  const factor = sorted[0]!.brokerIds.length;
  for (const [index, assignment] of sorted.entries()) {
    const invalid = (errorMessage: string): Failure => ({
      errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
      errorMessage,
    });
    if (assignment.partitionIndex !== index)
      return invalid('Partitions should be consecutive, starting at 0, with no gaps or duplicates.');
    if (assignment.brokerIds.length === 0) return invalid(`Partition ${index} has an empty replica list.`);
    if (assignment.brokerIds.length !== factor)
      return invalid('All partitions should have the same number of replicas.');
    if (new Set(assignment.brokerIds).size !== assignment.brokerIds.length)
      return invalid(`Partition ${index} lists a broker more than once.`);
    const unknown = assignment.brokerIds.find((id) => !brokerIds.has(id));
    if (unknown !== undefined)
      return invalid(`Partition ${index} names broker ${unknown}, which is not a live broker.`);
  }
  return { partitions: sorted.length, replicationFactor: factor };
}

/** One topic of the request: validated, then created unless validateOnly. */
async function createOne(
  topic: CreateTopicsRequestCreatableTopic,
  validateOnly: boolean,
  version: number,
  broker: BrokerContext,
): Promise<CreateTopicsResponseCreatableTopicResult> {
  let partitions = topic.numPartitions;
  let replicationFactor = topic.replicationFactor;
  if (topic.assignments.length > 0) {
    const checked = checkAssignment(topic, new Set(broker.brokers().map((b) => b.nodeId)));
    if ('errorCode' in checked) return result(topic.name, checked.errorCode, checked.errorMessage);
    ({ partitions, replicationFactor } = checked);
  }
  const configs: Record<string, string> = {};
  for (const config of topic.configs) {
    if (config.value === null) {
      return result(
        topic.name,
        ErrorCode.INVALID_REQUEST,
        `Null value not supported for topic config ${config.name}`,
      );
    }
    configs[config.name] = config.value;
  }
  const outcome: TopicResult = await broker.topics.create(
    topic.name,
    partitions,
    replicationFactor,
    configs,
    validateOnly,
  );
  if (outcome.errorCode !== ErrorCode.NONE)
    return result(topic.name, outcome.errorCode, outcome.errorMessage);
  const response = result(topic.name, ErrorCode.NONE, null);
  if (version >= 5) {
    response.numPartitions = partitions === -1 ? broker.config.numPartitions : partitions;
    response.replicationFactor =
      replicationFactor === -1 ? broker.config.defaultReplicationFactor : replicationFactor;
    response.configs = describeTopicConfigs(outcome.topic?.configs ?? configs, broker.config).map(
      (entry) => ({
        name: entry.name,
        value: entry.value,
        readOnly: entry.readOnly,
        configSource: entry.source,
        isSensitive: entry.isSensitive,
      }),
    );
  }
  if (version >= 7 && outcome.topic) response.topicId = outcome.topic.topicId;
  return response;
}

export const createTopicsHandler = handler(
  CreateTopics,
  { min: 0, max: 7 },
  async (request, { broker, version }) => {
    const counts = new Map<string, number>();
    for (const topic of request.topics) counts.set(topic.name, (counts.get(topic.name) ?? 0) + 1);
    const validateOnly = version >= 1 && request.validateOnly;
    const topics: CreateTopicsResponseCreatableTopicResult[] = [];
    // One at a time, in request order: a later entry must see the topics created by earlier ones.
    for (const topic of request.topics) {
      if (counts.get(topic.name)! > 1) {
        topics.push(
          result(
            topic.name,
            ErrorCode.INVALID_REQUEST,
            `Topic '${topic.name}' is named more than once in the request.`,
          ),
        );
        continue;
      }
      topics.push(await createOne(topic, validateOnly, version, broker));
    }
    return { throttleTimeMs: 0, topics };
  },
  errorResponse,
);
