// DescribeConfigs v0–4. Topic (2) and broker (4) configs with values, sources, synonyms and types.
// v0: isDefault instead of a source; v1: configSource, synonyms (only when includeSynonyms); v2: same as v1;
// v3: configType, documentation (always null: Fjord keeps Kafka's prose out); v4: flexible.
// Topics: every topic config Fjord implements (src/cluster/config-catalog.ts), DYNAMIC_TOPIC_CONFIG for
// overrides, STATIC_BROKER_CONFIG where server.properties sets the default, else DEFAULT_CONFIG; read-only
// false; not sensitive. Brokers: the properties Fjord reads, all read-only (Fjord has no dynamic broker configs;
// Kafka marks some dynamically updatable); "" (the cluster-wide dynamic defaults) has no configs, as on a Kafka
// cluster where none were set.
// Differs from Kafka: topic configs Fjord does not implement (remote storage, throttled replicas,
// message.downconversion.enable, ...) are not listed; BROKER_LOGGER (8) is INVALID_REQUEST.
import {
  ConfigSource,
  describeBrokerConfigs,
  describeTopicConfigs,
  type ConfigEntry,
} from '../../cluster/config-catalog.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import {
  DescribeConfigs,
  type DescribeConfigsRequest,
  type DescribeConfigsResponse,
  type DescribeConfigsResponseDescribeConfigsResourceResult,
} from '../../protocol/messages/describe-configs.js';
import { resolveConfigResource } from './config-resource.js';
import { handler } from './define.js';

function errorResponse(request: DescribeConfigsRequest, errorCode: number): DescribeConfigsResponse {
  return {
    throttleTimeMs: 0,
    results: request.resources.map((r) => ({
      errorCode,
      errorMessage: null,
      resourceType: r.resourceType,
      resourceName: r.resourceName,
      configs: [],
    })),
  };
}

function toWire(
  entry: ConfigEntry,
  version: number,
  includeSynonyms: boolean,
): DescribeConfigsResponseDescribeConfigsResourceResult {
  return {
    name: entry.name,
    value: entry.value,
    readOnly: entry.readOnly,
    isDefault: version === 0 && entry.source === ConfigSource.DEFAULT_CONFIG,
    configSource: version >= 1 ? entry.source : -1,
    isSensitive: entry.isSensitive,
    synonyms: version >= 1 && includeSynonyms ? entry.synonyms.map((s) => ({ ...s })) : [],
    configType: version >= 3 ? entry.type : 0,
    documentation: version >= 3 ? null : '',
  };
}

export const describeConfigsHandler = handler(
  DescribeConfigs,
  { min: 0, max: 4 },
  (request, { broker, version }) => ({
    throttleTimeMs: 0,
    results: request.resources.map((r) => {
      const resource = resolveConfigResource(r.resourceType, r.resourceName, broker);
      const base = { resourceType: r.resourceType, resourceName: r.resourceName };
      if (resource.kind === 'error') {
        return { ...base, errorCode: resource.errorCode, errorMessage: resource.errorMessage, configs: [] };
      }
      let entries =
        resource.kind === 'topic'
          ? describeTopicConfigs(resource.topic.configs, broker.config)
          : resource.clusterDefault
            ? []
            : describeBrokerConfigs(broker.config);
      if (r.configurationKeys !== null) {
        const wanted = new Set(r.configurationKeys);
        entries = entries.filter((e) => wanted.has(e.name));
      }
      return {
        ...base,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        configs: entries.map((e) => toWire(e, version, request.includeSynonyms)),
      };
    }),
  }),
  errorResponse,
);
