import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadOrCreateMetaProperties } from '../../src/cluster/meta-properties.js';
import { TopicRegistry, topicNameProblem } from '../../src/cluster/topic-registry.js';

const dir = mkdtempSync(join(tmpdir(), 'fjord-registry-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('topics, ids and configs survive reopening the registry', () => {
  const registry = new TopicRegistry(dir);
  const orders = registry.create('orders', 8, { 'retention.ms': '1000' });
  registry.create('payments.v1', 1, {});
  registry.update('orders', { partitions: 12 });
  registry.delete('payments.v1');
  const reopened = new TopicRegistry(dir);
  assert.deepEqual(reopened.list(), [
    { name: 'orders', topicId: orders.topicId, partitions: 12, configs: { 'retention.ms': '1000' } },
  ]);
  assert.equal(reopened.byId(orders.topicId)?.name, 'orders');
  assert.equal(orders.topicId.length, 22);
});

test('Kafka topic name rules', () => {
  assert.equal(topicNameProblem('good.name_1-x'), null);
  assert.match(topicNameProblem('')!, /empty/);
  assert.match(topicNameProblem('..')!, /'\.' or '\.\.'/);
  assert.match(topicNameProblem('a'.repeat(250))!, /249/);
  assert.match(topicNameProblem('bad name')!, /illegal/);
  assert.match(topicNameProblem('bad/name')!, /illegal/);
  const registry = new TopicRegistry(mkdtempSync(join(dir, 'c-')));
  registry.create('metrics.cpu', 1, {});
  assert.equal(registry.collision('metrics_cpu')?.name, 'metrics.cpu');
  assert.equal(registry.collision('metrics.cpu'), undefined);
});

test('meta.properties keeps the cluster id and refuses another node id', () => {
  const metaDir = mkdtempSync(join(dir, 'meta-'));
  const first = loadOrCreateMetaProperties(metaDir, 1);
  assert.deepEqual(loadOrCreateMetaProperties(metaDir, 1), first);
  assert.throws(() => loadOrCreateMetaProperties(metaDir, 2), /node\.id 1/);
});
