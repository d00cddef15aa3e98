import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ConfigSource, ResourceType } from '../../../src/cluster/config-catalog.js';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { AlterConfigs } from '../../../src/protocol/messages/alter-configs.js';
import { DescribeConfigs } from '../../../src/protocol/messages/describe-configs.js';
import { createTopics, produce, startTestBroker, type TestBroker } from './helpers.js';

let t: TestBroker;
before(async () => {
  t = await startTestBroker();
  await createTopics(t.client, ['altered', 'other'], 1, { 'retention.ms': '1000000' });
});
after(() => t.close());

const alter = (
  version: number,
  resources: { resourceType: number; resourceName: string; configs: [string, string | null][] }[],
  validateOnly = false,
) =>
  t.client.send(AlterConfigs, version, {
    resources: resources.map((r) => ({
      resourceType: r.resourceType,
      resourceName: r.resourceName,
      configs: r.configs.map(([name, value]) => ({ name, value })),
    })),
    validateOnly,
  });

async function overrides(topic: string): Promise<Record<string, string>> {
  const response = await t.client.send(DescribeConfigs, 2, {
    resources: [{ resourceType: ResourceType.TOPIC, resourceName: topic, configurationKeys: null }],
    includeSynonyms: false,
    includeDocumentation: false,
  });
  return Object.fromEntries(
    response.results[0]!.configs.filter((c) => c.configSource === ConfigSource.DYNAMIC_TOPIC_CONFIG).map(
      (c) => [c.name, c.value!],
    ),
  );
}

test('replaces the whole override set, applies it to the log and persists it', async () => {
  const response = await alter(2, [
    {
      resourceType: ResourceType.TOPIC,
      resourceName: 'altered',
      configs: [
        ['max.message.bytes', '200'],
        ['segment.ms', null],
      ],
    },
  ]);
  assert.deepEqual(response.responses, [
    {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      resourceType: ResourceType.TOPIC,
      resourceName: 'altered',
    },
  ]);
  // retention.ms was not named, so it went back to its default.
  assert.deepEqual(await overrides('altered'), { 'max.message.bytes': '200' });
  const tooLarge = await produce(t.client, 'altered', 0, ['x'.repeat(500)]);
  assert.equal(tooLarge.errorCode, ErrorCode.MESSAGE_TOO_LARGE);
  assert.equal((await produce(t.client, 'other', 0, ['x'.repeat(500)])).errorCode, ErrorCode.NONE);
  await t.restart();
  assert.deepEqual(await overrides('altered'), { 'max.message.bytes': '200' });
  assert.equal(
    (await produce(t.client, 'altered', 0, ['x'.repeat(500)])).errorCode,
    ErrorCode.MESSAGE_TOO_LARGE,
  );
});

test('validateOnly changes nothing', async () => {
  const response = await alter(
    0,
    [{ resourceType: ResourceType.TOPIC, resourceName: 'other', configs: [['retention.ms', '5']] }],
    true,
  );
  assert.equal(response.responses[0]!.errorCode, ErrorCode.NONE);
  assert.deepEqual(await overrides('other'), { 'retention.ms': '1000000' });
});

test("Kafka's error codes; broker configs are static", async () => {
  const nodeId = String(t.broker.config.nodeId);
  const response = await alter(1, [
    { resourceType: ResourceType.TOPIC, resourceName: 'other', configs: [['no.such.config', '1']] },
    { resourceType: ResourceType.TOPIC, resourceName: 'nope', configs: [['retention.ms', '5']] },
    { resourceType: ResourceType.TOPIC, resourceName: 'other', configs: [['retention.ms', 'never']] },
    { resourceType: ResourceType.BROKER, resourceName: nodeId, configs: [['log.retention.ms', '5']] },
    { resourceType: ResourceType.BROKER, resourceName: '', configs: [] },
    {
      resourceType: ResourceType.TOPIC,
      resourceName: 'altered',
      configs: [
        ['retention.ms', '5'],
        ['retention.ms', '6'],
      ],
    },
    { resourceType: 3, resourceName: 'group', configs: [] },
  ]);
  assert.deepEqual(
    response.responses.map((r) => r.errorCode),
    [
      ErrorCode.INVALID_REQUEST, // 'other' is named three times
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      ErrorCode.INVALID_REQUEST,
      ErrorCode.INVALID_REQUEST,
      ErrorCode.NONE,
      ErrorCode.INVALID_REQUEST,
      ErrorCode.INVALID_REQUEST,
    ],
  );
  assert.match(response.responses[3]!.errorMessage!, /server\.properties/);
  const single = await Promise.all([
    alter(2, [
      { resourceType: ResourceType.TOPIC, resourceName: 'other', configs: [['no.such.config', '1']] },
    ]),
    alter(2, [
      { resourceType: ResourceType.TOPIC, resourceName: 'other', configs: [['retention.ms', 'never']] },
    ]),
  ]);
  assert.deepEqual(
    single.map((r) => r.responses[0]!.errorCode),
    [ErrorCode.INVALID_CONFIG, ErrorCode.INVALID_CONFIG],
  );
  assert.deepEqual(await overrides('other'), { 'retention.ms': '1000000' });
});
