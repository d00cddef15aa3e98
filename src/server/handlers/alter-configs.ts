// AlterConfigs v0–2. Replaces a topic's config overrides with the given set (configs not named go back to
// their defaults); validateOnly checks without changing. The new overrides are persisted in the topic
// registry and applied to the topic's open logs (TopicManager.alterConfigs).
// v1: same as v0 (throttling behaviour); v2: flexible.
// Errors as Kafka: UNKNOWN_TOPIC_OR_PARTITION, INVALID_TOPIC_EXCEPTION, INVALID_CONFIG (unknown names, bad
// values), INVALID_REQUEST (a resource named twice, a config named twice, an unsupported resource type).
// A null value drops that config from the set, as Kafka does.
// BROKER resources: Fjord has no dynamic broker configs (DescribeConfigs reports them read-only), so any change
// is refused with INVALID_REQUEST and a message saying to edit server.properties; an empty change succeeds.
import { ErrorCode } from '../../protocol/error-codes.js';
import {
  AlterConfigs,
  type AlterConfigsRequest,
  type AlterConfigsRequestAlterConfigsResource,
  type AlterConfigsResponse,
} from '../../protocol/messages/alter-configs.js';
import type { BrokerContext } from '../broker-context.js';
import {
  BROKER_CONFIGS_STATIC,
  duplicateResources,
  resolveConfigResource,
  resourceKey,
} from './config-resource.js';
import { handler } from './define.js';

type Outcome = { errorCode: number; errorMessage: string | null };

function errorResponse(request: AlterConfigsRequest, errorCode: number): AlterConfigsResponse {
  return {
    throttleTimeMs: 0,
    responses: request.resources.map((r) => ({
      errorCode,
      errorMessage: null,
      resourceType: r.resourceType,
      resourceName: r.resourceName,
    })),
  };
}

async function alter(
  r: AlterConfigsRequestAlterConfigsResource,
  validateOnly: boolean,
  broker: BrokerContext,
): Promise<Outcome> {
  const names = r.configs.map((c) => c.name);
  if (new Set(names).size !== names.length) {
    return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Error due to duplicate config keys' };
  }
  const resource = resolveConfigResource(r.resourceType, r.resourceName, broker);
  if (resource.kind === 'error') return resource;
  if (resource.kind === 'broker') {
    return r.configs.length === 0
      ? { errorCode: ErrorCode.NONE, errorMessage: null }
      : { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: BROKER_CONFIGS_STATIC };
  }
  const configs: Record<string, string> = {};
  for (const c of r.configs) if (c.value !== null) configs[c.name] = c.value;
  const outcome = await broker.topics.alterConfigs(resource.topic.name, configs, validateOnly);
  return { errorCode: outcome.errorCode, errorMessage: outcome.errorMessage };
}

export const alterConfigsHandler = handler(
  AlterConfigs,
  { min: 0, max: 2 },
  async (request, { broker }) => {
    const duplicates = duplicateResources(request.resources);
    const responses: AlterConfigsResponse['responses'] = [];
    for (const r of request.resources) {
      const outcome = duplicates.has(resourceKey(r))
        ? { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate resource in request.' }
        : await alter(r, request.validateOnly, broker);
      responses.push({ ...outcome, resourceType: r.resourceType, resourceName: r.resourceName });
    }
    return { throttleTimeMs: 0, responses };
  },
  errorResponse,
);
