// IncrementalAlterConfigs v0–1. Edits a topic's config overrides one config at a time: SET (0) a value,
// DELETE (1) the override (back to the default), APPEND (2) or SUBTRACT (3) items of a list config
// (cleanup.policy; starting from the override or Kafka's built-in default, as Kafka does). validateOnly checks
// without changing. The result is persisted in the topic registry and applied to the topic's open logs.
// v1: flexible.
// Errors as Kafka: UNKNOWN_TOPIC_OR_PARTITION, INVALID_TOPIC_EXCEPTION, INVALID_CONFIG (unknown names, bad
// values, APPEND/SUBTRACT on a config that is not a list), INVALID_REQUEST (unknown operation, a config or a
// resource named twice, a null value to SET, an unsupported resource type).
// BROKER resources: Fjord has no dynamic broker configs, so any change is refused with INVALID_REQUEST and a
// message saying to edit server.properties; an empty change succeeds. BROKER_LOGGER (8) is INVALID_REQUEST.
import { ConfigType, builtInTopicValue, topicConfigType } from '../../cluster/config-catalog.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import {
  IncrementalAlterConfigs,
  type IncrementalAlterConfigsRequest,
  type IncrementalAlterConfigsRequestAlterConfigsResource,
  type IncrementalAlterConfigsResponse,
} from '../../protocol/messages/incremental-alter-configs.js';
import type { BrokerContext } from '../broker-context.js';
import {
  BROKER_CONFIGS_STATIC,
  duplicateResources,
  resolveConfigResource,
  resourceKey,
} from './config-resource.js';
import { handler } from './define.js';

const OP = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;

type Outcome = { errorCode: number; errorMessage: string | null };
const fail = (errorCode: number, errorMessage: string): Outcome => ({ errorCode, errorMessage });

function errorResponse(
  request: IncrementalAlterConfigsRequest,
  errorCode: number,
): IncrementalAlterConfigsResponse {
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

const listItems = (text: string | undefined): string[] =>
  (text ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');

/** The topic's overrides after the operations, or why they cannot be applied. */
function applyOperations(
  current: Readonly<Record<string, string>>,
  r: IncrementalAlterConfigsRequestAlterConfigsResource,
): { configs: Record<string, string> } | { failure: Outcome } {
  const next: Record<string, string> = { ...current };
  for (const c of r.configs) {
    switch (c.configOperation) {
      case OP.SET:
        if (c.value === null)
          return { failure: fail(ErrorCode.INVALID_REQUEST, `Null value not supported for ${c.name}`) };
        next[c.name] = c.value;
        break;
      case OP.DELETE:
        delete next[c.name];
        break;
      case OP.APPEND:
      case OP.SUBTRACT: {
        if (topicConfigType(c.name) !== ConfigType.LIST) {
          const verb = c.configOperation === OP.APPEND ? 'append' : 'subtract';
          return {
            failure: fail(
              ErrorCode.INVALID_CONFIG,
              `Config value ${verb} is not allowed for config key: ${c.name}`,
            ),
          };
        }
        const items = listItems(next[c.name] ?? builtInTopicValue(c.name));
        const given = listItems(c.value ?? '');
        const result =
          c.configOperation === OP.APPEND
            ? [...items, ...given.filter((item) => !items.includes(item))]
            : items.filter((item) => !given.includes(item));
        next[c.name] = result.join(',');
        break;
      }
      default:
        return {
          failure: fail(
            ErrorCode.INVALID_REQUEST,
            `Unknown config operation ${c.configOperation} for ${c.name}`,
          ),
        };
    }
  }
  return { configs: next };
}

async function alter(
  r: IncrementalAlterConfigsRequestAlterConfigsResource,
  validateOnly: boolean,
  broker: BrokerContext,
): Promise<Outcome> {
  const names = r.configs.map((c) => c.name);
  if (new Set(names).size !== names.length) {
    return fail(ErrorCode.INVALID_REQUEST, 'Error due to duplicate config keys');
  }
  const resource = resolveConfigResource(r.resourceType, r.resourceName, broker);
  if (resource.kind === 'error') return resource;
  if (resource.kind === 'broker') {
    return r.configs.length === 0
      ? { errorCode: ErrorCode.NONE, errorMessage: null }
      : fail(ErrorCode.INVALID_REQUEST, BROKER_CONFIGS_STATIC);
  }
  const next = applyOperations(resource.topic.configs, r);
  if ('failure' in next) return next.failure;
  const outcome = await broker.topics.alterConfigs(resource.topic.name, next.configs, validateOnly);
  return { errorCode: outcome.errorCode, errorMessage: outcome.errorMessage };
}

export const incrementalAlterConfigsHandler = handler(
  IncrementalAlterConfigs,
  { min: 0, max: 1 },
  async (request, { broker }) => {
    const duplicates = duplicateResources(request.resources);
    const responses: IncrementalAlterConfigsResponse['responses'] = [];
    for (const r of request.resources) {
      const outcome = duplicates.has(resourceKey(r))
        ? fail(ErrorCode.INVALID_REQUEST, 'Duplicate resource in request.')
        : await alter(r, request.validateOnly, broker);
      responses.push({ ...outcome, resourceType: r.resourceType, resourceName: r.resourceName });
    }
    return { throttleTimeMs: 0, responses };
  },
  errorResponse,
);
