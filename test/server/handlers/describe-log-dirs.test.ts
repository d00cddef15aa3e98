import assert from 'node:assert/strict';
import { statfsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { DescribeLogDirs } from '../../../src/protocol/messages/describe-log-dirs.js';
import { createTopics, produce, startTestBroker, type TestBroker } from './helpers.js';

let t: TestBroker;
before(async () => {
  t = await startTestBroker();
  await createTopics(t.client, ['sized'], 3);
  await createTopics(t.client, ['empty'], 1);
  await produce(t.client, 'sized', 0, ['x'.repeat(1000)]);
  await produce(t.client, 'sized', 2, ['y'.repeat(100), 'z'.repeat(100)]);
});
after(() => t.close());

test('v4 lists every partition with its size, plus the dir totals', async () => {
  const response = await t.client.send(DescribeLogDirs, 4, { topics: null });
  assert.equal(response.errorCode, ErrorCode.NONE);
  assert.equal(response.results.length, 1);
  const dir = response.results[0]!;
  assert.equal(dir.errorCode, ErrorCode.NONE);
  assert.equal(dir.logDir, t.broker.logDir);
  // Internal topics (__consumer_offsets) are there too; this test looks at its own.
  const own = dir.topics.filter((topic) => !topic.name.startsWith('__'));
  assert.deepEqual(
    own.map((topic) => [topic.name, topic.partitions.map((p) => p.partitionIndex)]),
    [
      ['empty', [0]],
      ['sized', [0, 1, 2]],
    ],
  );
  const sized = own[1]!.partitions;
  // One batch: 61 bytes of batch header, a ~1 KB record.
  assert.ok(
    sized[0]!.partitionSize > 1000n && sized[0]!.partitionSize < 1100n,
    String(sized[0]!.partitionSize),
  );
  assert.equal(sized[1]!.partitionSize, 0n);
  assert.ok(sized[2]!.partitionSize > 200n && sized[2]!.partitionSize < 300n);
  for (const p of sized) {
    assert.equal(p.offsetLag, 0n);
    assert.equal(p.isFutureKey, false);
  }
  const fs = statfsSync(t.broker.logDir, { bigint: true });
  assert.equal(dir.totalBytes, fs.blocks * fs.bsize);
  assert.ok(dir.usableBytes > 0n && dir.usableBytes <= dir.totalBytes);
});

test('named topics and partitions; unknown ones are left out; v0 has no totals', async () => {
  const response = await t.client.send(DescribeLogDirs, 0, {
    topics: [
      { topic: 'sized', partitions: [2, 9] },
      { topic: 'missing', partitions: [0] },
    ],
  });
  const dir = response.results[0]!;
  assert.deepEqual(
    dir.topics.map((topic) => [topic.name, topic.partitions.map((p) => p.partitionIndex)]),
    [['sized', [2]]],
  );
  assert.equal(dir.totalBytes, -1n);
  const none = await t.client.send(DescribeLogDirs, 3, { topics: [] });
  assert.deepEqual(none.results[0]!.topics, []);
  assert.equal(none.errorCode, ErrorCode.NONE);
});

test('every version answers with the same partitions', async () => {
  for (let version = 0; version <= 4; version++) {
    const response = await t.client.send(DescribeLogDirs, version, {
      topics: [{ topic: 'sized', partitions: [0, 1] }],
    });
    assert.deepEqual(
      response.results[0]!.topics.map((topic) => [topic.name, topic.partitions.map((p) => p.partitionIndex)]),
      [['sized', [0, 1]]],
      `v${version}`,
    );
    assert.equal(response.results[0]!.totalBytes > 0n, version >= 4, `v${version}`);
  }
});
