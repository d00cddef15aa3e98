import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ConfigSource, ResourceType } from '../../../src/cluster/config-catalog.js';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { DescribeConfigs } from '../../../src/protocol/messages/describe-configs.js';
import { IncrementalAlterConfigs } from '../../../src/protocol/messages/incremental-alter-configs.js';
import { createTopics, produce, startTestBroker, type TestBroker } from './helpers.js';

const SET = 0;
const DELETE = 1;
const APPEND = 2;
const SUBTRACT = 3;

let t: TestBroker;
before(async () => {
  t = await startTestBroker();
  await createTopics(t.client, ['edited'], 1, { 'retention.ms': '1000000', 'segment.ms': '3600000' });
});
after(() => t.close());

const edit = (
  version: number,
  topic: string,
  configs: [string, number, string | null][],
  validateOnly = false,
  resourceType: number = ResourceType.TOPIC,
) =>
  t.client.send(IncrementalAlterConfigs, version, {
    resources: [
      {
        resourceType,
        resourceName: topic,
        configs: configs.map(([name, configOperation, value]) => ({ name, configOperation, value })),
      },
    ],
    validateOnly,
  });

async function overrides(topic: string): Promise<Record<string, string>> {
  const response = await t.client.send(DescribeConfigs, 4, {
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

test('SET and DELETE edit single overrides, keep the rest, apply and persist', async () => {
  const response = await edit(1, 'edited', [
    ['max.message.bytes', SET, '300'],
    ['segment.ms', DELETE, null],
  ]);
  assert.equal(response.responses[0]!.errorCode, ErrorCode.NONE);
  assert.equal(response.responses[0]!.errorMessage, null);
  assert.deepEqual(await overrides('edited'), { 'max.message.bytes': '300', 'retention.ms': '1000000' });
  assert.equal(
    (await produce(t.client, 'edited', 0, ['y'.repeat(600)])).errorCode,
    ErrorCode.MESSAGE_TOO_LARGE,
  );
  await t.restart();
  assert.deepEqual(await overrides('edited'), { 'max.message.bytes': '300', 'retention.ms': '1000000' });
  await edit(0, 'edited', [['max.message.bytes', DELETE, null]]);
  assert.equal((await produce(t.client, 'edited', 0, ['y'.repeat(600)])).errorCode, ErrorCode.NONE);
});

test('APPEND and SUBTRACT work on list configs, from the default', async () => {
  assert.equal(
    (await edit(1, 'edited', [['cleanup.policy', APPEND, 'compact']])).responses[0]!.errorCode,
    ErrorCode.NONE,
  );
  assert.equal((await overrides('edited'))['cleanup.policy'], 'delete,compact');
  assert.equal(
    (await edit(1, 'edited', [['cleanup.policy', APPEND, 'compact']])).responses[0]!.errorCode,
    ErrorCode.NONE,
  );
  assert.equal((await overrides('edited'))['cleanup.policy'], 'delete,compact');
  await edit(1, 'edited', [['cleanup.policy', SUBTRACT, 'delete']]);
  assert.equal((await overrides('edited'))['cleanup.policy'], 'compact');
  const notAList = await edit(1, 'edited', [['retention.ms', APPEND, '5']]);
  assert.equal(notAList.responses[0]!.errorCode, ErrorCode.INVALID_CONFIG);
});

test('validateOnly and errors change nothing', async () => {
  const before = await overrides('edited');
  const results = [
    await edit(1, 'edited', [['retention.ms', SET, '42']], true),
    await edit(1, 'edited', [['retention.ms', SET, 'soon']]),
    await edit(1, 'edited', [['unknown.config', SET, '1']]),
    await edit(1, 'edited', [['retention.ms', 7, '1']]),
    await edit(1, 'edited', [['retention.ms', SET, null]]),
    await edit(1, 'edited', [
      ['retention.ms', SET, '1'],
      ['retention.ms', DELETE, null],
    ]),
    await edit(1, 'missing', [['retention.ms', SET, '1']]),
    await edit(
      1,
      String(t.broker.config.nodeId),
      [['log.retention.ms', SET, '1']],
      false,
      ResourceType.BROKER,
    ),
    await edit(1, '0', [['kafka.server', SET, 'DEBUG']], false, ResourceType.BROKER_LOGGER),
  ];
  assert.deepEqual(
    results.map((r) => r.responses[0]!.errorCode),
    [
      ErrorCode.NONE,
      ErrorCode.INVALID_CONFIG,
      ErrorCode.INVALID_CONFIG,
      ErrorCode.INVALID_REQUEST,
      ErrorCode.INVALID_REQUEST,
      ErrorCode.INVALID_REQUEST,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      ErrorCode.INVALID_REQUEST,
      ErrorCode.INVALID_REQUEST,
    ],
  );
  assert.deepEqual(await overrides('edited'), before);
});
