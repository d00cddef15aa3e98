import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ConfigSource, ConfigType, ResourceType } from '../../../src/cluster/config-catalog.js';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { DescribeConfigs } from '../../../src/protocol/messages/describe-configs.js';
import { createTopics, startTestBroker, type TestBroker } from './helpers.js';

let t: TestBroker;
before(async () => {
  t = await startTestBroker({ 'log.retention.hours': '24', 'log.segment.bytes': '1048576' });
  await createTopics(t.client, ['described'], 1, {
    'cleanup.policy': 'compact',
    'max.message.bytes': '5000',
  });
});
after(() => t.close());

const describe = (
  version: number,
  resources: { resourceType: number; resourceName: string; configurationKeys: string[] | null }[],
  includeSynonyms = false,
) =>
  t.client.send(DescribeConfigs, version, {
    resources,
    includeSynonyms: version >= 1 && includeSynonyms,
    includeDocumentation: false,
  });

test('v4 topic configs: sources, types, synonyms, documentation', async () => {
  const response = await describe(
    4,
    [{ resourceType: ResourceType.TOPIC, resourceName: 'described', configurationKeys: null }],
    true,
  );
  const result = response.results[0]!;
  assert.equal(result.errorCode, ErrorCode.NONE);
  assert.equal(result.errorMessage, null);
  const configs = new Map(result.configs.map((c) => [c.name, c]));
  assert.ok(configs.size >= 20, `${configs.size} topic configs`);
  assert.deepEqual(configs.get('cleanup.policy'), {
    name: 'cleanup.policy',
    value: 'compact',
    readOnly: false,
    isDefault: false,
    configSource: ConfigSource.DYNAMIC_TOPIC_CONFIG,
    isSensitive: false,
    synonyms: [
      { name: 'cleanup.policy', value: 'compact', source: ConfigSource.DYNAMIC_TOPIC_CONFIG },
      { name: 'log.cleanup.policy', value: 'delete', source: ConfigSource.DEFAULT_CONFIG },
    ],
    configType: ConfigType.LIST,
    documentation: null,
  });
  const retention = configs.get('retention.ms')!;
  assert.equal(retention.value, '86400000');
  assert.equal(retention.configSource, ConfigSource.STATIC_BROKER_CONFIG);
  assert.equal(retention.configType, ConfigType.LONG);
  assert.deepEqual(retention.synonyms, [
    { name: 'log.retention.hours', value: '24', source: ConfigSource.STATIC_BROKER_CONFIG },
    { name: 'log.retention.hours', value: '168', source: ConfigSource.DEFAULT_CONFIG },
  ]);
  assert.equal(configs.get('segment.bytes')!.value, '1048576');
  assert.equal(configs.get('segment.bytes')!.configType, ConfigType.INT);
  assert.equal(configs.get('max.message.bytes')!.value, '5000');
  const flush = configs.get('flush.messages')!;
  assert.equal(flush.configSource, ConfigSource.DEFAULT_CONFIG);
  assert.equal(flush.value, '9223372036854775807');
  assert.equal(configs.get('preallocate')!.configType, ConfigType.BOOLEAN);
  assert.equal(configs.get('min.cleanable.dirty.ratio')!.configType, ConfigType.DOUBLE);
  for (const c of result.configs) assert.equal(c.isSensitive, false);
});

test('v0 reports isDefault; v1 without includeSynonyms has none; configurationKeys filters', async () => {
  const keys = ['cleanup.policy', 'segment.ms', 'retention.ms', 'not.a.config'];
  const v0 = await describe(0, [
    { resourceType: ResourceType.TOPIC, resourceName: 'described', configurationKeys: keys },
  ]);
  assert.deepEqual(
    v0.results[0]!.configs.map((c) => [c.name, c.value, c.isDefault]),
    [
      ['cleanup.policy', 'compact', false],
      ['retention.ms', '86400000', false],
      ['segment.ms', '604800000', true],
    ],
  );
  const v1 = await describe(1, [
    { resourceType: ResourceType.TOPIC, resourceName: 'described', configurationKeys: keys },
  ]);
  assert.deepEqual(
    v1.results[0]!.configs.map((c) => [c.name, c.configSource, c.synonyms.length, c.isDefault]),
    [
      ['cleanup.policy', ConfigSource.DYNAMIC_TOPIC_CONFIG, 0, false],
      ['retention.ms', ConfigSource.STATIC_BROKER_CONFIG, 0, false],
      ['segment.ms', ConfigSource.DEFAULT_CONFIG, 0, false],
    ],
  );
});

test('broker configs: static values, defaults, all read-only', async () => {
  const nodeId = String(t.broker.config.nodeId);
  const response = await describe(
    4,
    [{ resourceType: ResourceType.BROKER, resourceName: nodeId, configurationKeys: null }],
    true,
  );
  const result = response.results[0]!;
  assert.equal(result.errorCode, ErrorCode.NONE);
  const configs = new Map(result.configs.map((c) => [c.name, c]));
  assert.deepEqual(
    [configs.get('log.retention.hours')!.value, configs.get('log.retention.hours')!.configSource],
    ['24', ConfigSource.STATIC_BROKER_CONFIG],
  );
  assert.deepEqual(
    [configs.get('log.segment.bytes')!.value, configs.get('log.segment.bytes')!.configSource],
    ['1048576', ConfigSource.STATIC_BROKER_CONFIG],
  );
  assert.deepEqual(
    [configs.get('num.partitions')!.value, configs.get('num.partitions')!.configSource],
    ['1', ConfigSource.DEFAULT_CONFIG],
  );
  assert.equal(configs.get('num.io.threads')!.value, '1');
  assert.equal(configs.get('log.dirs')!.value, t.dataDir);
  assert.equal(configs.get('log.retention.ms')!.value, null);
  assert.equal(configs.get('auto.create.topics.enable')!.configType, ConfigType.BOOLEAN);
  for (const c of result.configs) assert.equal(c.readOnly, true, c.name);
  const clusterDefaults = await describe(2, [
    { resourceType: ResourceType.BROKER, resourceName: '', configurationKeys: null },
  ]);
  assert.deepEqual(clusterDefaults.results[0]!.configs, []);
  assert.equal(clusterDefaults.results[0]!.errorCode, ErrorCode.NONE);
});

test('errors per resource', async () => {
  const response = await describe(3, [
    { resourceType: ResourceType.TOPIC, resourceName: 'no-such-topic', configurationKeys: null },
    { resourceType: ResourceType.TOPIC, resourceName: 'bad/name', configurationKeys: null },
    {
      resourceType: ResourceType.BROKER,
      resourceName: String(t.broker.config.nodeId + 1),
      configurationKeys: null,
    },
    { resourceType: ResourceType.BROKER, resourceName: 'zero', configurationKeys: null },
    { resourceType: ResourceType.BROKER_LOGGER, resourceName: '0', configurationKeys: null },
    { resourceType: ResourceType.TOPIC, resourceName: 'described', configurationKeys: ['retention.bytes'] },
  ]);
  assert.deepEqual(
    response.results.map((r) => [r.resourceName, r.errorCode, r.configs.length]),
    [
      ['no-such-topic', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 0],
      ['bad/name', ErrorCode.INVALID_TOPIC_EXCEPTION, 0],
      [String(t.broker.config.nodeId + 1), ErrorCode.INVALID_REQUEST, 0],
      ['zero', ErrorCode.INVALID_REQUEST, 0],
      ['0', ErrorCode.INVALID_REQUEST, 0],
      ['described', ErrorCode.NONE, 1],
    ],
  );
  for (const r of response.results.slice(0, 5)) assert.ok(r.errorMessage);
});
