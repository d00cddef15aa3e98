// CreatePartitions v0–3. Grows topics to a new partition count; validateOnly checks without changing.
// v1: same as v0 (Kafka bumped it for throttling behaviour); v2: flexible; v3: same as v2.
// Errors as Kafka: UNKNOWN_TOPIC_OR_PARTITION, INVALID_PARTITIONS (the count is not larger than the
// current one), INVALID_REPLICA_ASSIGNMENT (an assignment list whose length is not the number of new
// partitions, or whose replica lists are empty, uneven with the topic's replication factor, repeat a
// broker, or name a broker that does not exist), INVALID_REQUEST (a topic named twice).
// On a single broker the only valid replica list is [this broker].
import { ErrorCode } from '../../protocol/error-codes.js';
import {
  CreatePartitions,
  type CreatePartitionsRequest,
  type CreatePartitionsRequestCreatePartitionsTopic,
  type CreatePartitionsResponse,
} from '../../protocol/messages/create-partitions.js';
import type { BrokerContext } from '../broker-context.js';
import { handler } from './define.js';

function errorResponse(request: CreatePartitionsRequest, errorCode: number): CreatePartitionsResponse {
  return {
    throttleTimeMs: 0,
    results: request.topics.map((t) => ({ name: t.name, errorCode, errorMessage: null })),
  };
}

/** Why a manual assignment of the new partitions is refused, or null when it is fine. */
function assignmentProblem(
  topic: CreatePartitionsRequestCreatePartitionsTopic,
  current: number,
  broker: BrokerContext,
): string | null {
  if (topic.assignments === null) return null;
  const added = topic.count - current;
  if (topic.assignments.length !== added) {
    return `Increasing the number of partitions by ${added} but ${topic.assignments.length} assignments provided.`;
  }
  const live = new Set(broker.brokers().map((b) => b.nodeId));
  // Every partition of a topic has the same number of replicas: one, on a single broker.
  const factor = 1;
  for (const [i, assignment] of topic.assignments.entries()) {
    const partition = current + i;
    if (assignment.brokerIds.length !== factor)
      return `Inconsistent replication factor between partitions, partition 0 has ${factor} while partition ${partition} has replicas ${JSON.stringify(assignment.brokerIds)}.`;
    if (new Set(assignment.brokerIds).size !== assignment.brokerIds.length)
      return `Duplicate brokers not allowed in replica assignment: ${assignment.brokerIds.join(', ')} for partition id ${partition}.`;
    const unknown = assignment.brokerIds.filter((id) => !live.has(id));
    if (unknown.length > 0) return `Unknown broker(s) in replica assignment: ${unknown.join(', ')}.`;
  }
  return null;
}

export const createPartitionsHandler = handler(
  CreatePartitions,
  { min: 0, max: 3 },
  async (request, { broker }) => {
    const counts = new Map<string, number>();
    for (const topic of request.topics) counts.set(topic.name, (counts.get(topic.name) ?? 0) + 1);
    const results: CreatePartitionsResponse['results'] = [];
    for (const topic of request.topics) {
      const reply = (errorCode: number, errorMessage: string | null) =>
        results.push({ name: topic.name, errorCode, errorMessage });
      if (counts.get(topic.name)! > 1) {
        reply(ErrorCode.INVALID_REQUEST, 'Duplicate topic in request.');
        continue;
      }
      const existing = broker.topics.get(topic.name);
      if (existing && topic.count > existing.partitions) {
        const problem = assignmentProblem(topic, existing.partitions, broker);
        if (problem) {
          reply(ErrorCode.INVALID_REPLICA_ASSIGNMENT, problem);
          continue;
        }
      }
      const outcome = await broker.topics.createPartitions(topic.name, topic.count, request.validateOnly);
      reply(outcome.errorCode, outcome.errorMessage);
    }
    return { throttleTimeMs: 0, results };
  },
  errorResponse,
);
