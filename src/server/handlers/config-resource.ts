// Shared by the DescribeConfigs, AlterConfigs and IncrementalAlterConfigs handlers: which config resource a
// request names, or the Kafka error for one it cannot name. Not a handler itself.
//
// TOPIC (2): an existing topic (INVALID_TOPIC_EXCEPTION for an illegal name, UNKNOWN_TOPIC_OR_PARTITION for a
// missing one). BROKER (4): this broker's id, or "" for the cluster-wide defaults (INVALID_REQUEST for another
// id, as Kafka answers a broker asked about someone else). Every other type is INVALID_REQUEST.
import { ResourceType } from '../../cluster/config-catalog.js';
import type { TopicMetadata } from '../../cluster/topic-registry.js';
import { topicNameProblem } from '../../cluster/topic-registry.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import type { BrokerContext } from '../broker-context.js';

export type ConfigResource =
  | { kind: 'topic'; topic: TopicMetadata }
  | { kind: 'broker'; clusterDefault: boolean }
  | { kind: 'error'; errorCode: number; errorMessage: string };

export function resolveConfigResource(type: number, name: string, broker: BrokerContext): ConfigResource {
  if (type === ResourceType.TOPIC) {
    const problem = topicNameProblem(name);
    if (problem)
      return { kind: 'error', errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, errorMessage: problem };
    const topic = broker.topics.get(name);
    if (!topic) {
      return {
        kind: 'error',
        errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        errorMessage: `Topic ${name} does not exist.`,
      };
    }
    return { kind: 'topic', topic };
  }
  if (type === ResourceType.BROKER) {
    if (name === '') return { kind: 'broker', clusterDefault: true };
    if (/^-?\d+$/.test(name) && Number(name) === broker.nodeId)
      return { kind: 'broker', clusterDefault: false };
    return {
      kind: 'error',
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: `Unexpected broker id, expected ${broker.nodeId} or empty string, but received ${name}`,
    };
  }
  return {
    kind: 'error',
    errorCode: ErrorCode.INVALID_REQUEST,
    errorMessage: `Unsupported resource type ${type}: Fjord serves configs of topics (2) and brokers (4).`,
  };
}

/** Marks resources named more than once in one request (Kafka refuses each of them). */
export function duplicateResources(resources: { resourceType: number; resourceName: string }[]): Set<string> {
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const r of resources) {
    const key = resourceKey(r);
    if (seen.has(key)) duplicates.add(key);
    seen.add(key);
  }
  return duplicates;
}

export const resourceKey = (r: { resourceType: number; resourceName: string }): string =>
  `${r.resourceType}:${r.resourceName}`;

/** Why Fjord refuses to change broker configs (see the AlterConfigs handler headers). */
export const BROKER_CONFIGS_STATIC =
  'Fjord has no dynamic broker configs: set them in server.properties (or --override) and restart the broker.';
