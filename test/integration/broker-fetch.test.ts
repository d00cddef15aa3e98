// Fetch semantics against an embedded broker (num.io.threads=2): a waiting fetch completes as soon as
// min.bytes arrive, not when max.wait.ms runs out; max.bytes and partition max bytes bound the response,
// except that the first batch of the first non-empty partition is always returned whole (KIP-74).
// No tight timing: waits are asserted against bounds seconds away from what is expected.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import type { FetchResponse } from '../../src/protocol/messages/fetch.js';
import { iterateBatches } from '../../src/protocol/records/record-batch.js';
import { sleep, startTestBroker, type TestBroker } from '../tools/broker-harness.js';
import { kafkajsConsume } from '../tools/kafkajs-client.js';
import {
  decodeRecords,
  ensureTopic,
  fetchPartitions,
  produce,
  recordBatch,
  type FetchedRecord,
  type TestRecord,
} from '../tools/raw-client.js';
import { WireClient } from '../tools/wire-client.js';

let b: TestBroker;
let client: WireClient;
before(async () => {
  b = await startTestBroker({ 'num.io.threads': '2', 'num.partitions': '4' });
  client = await WireClient.connect(b.broker.port);
});
after(async () => {
  client?.close();
  await b?.close();
});

async function produceTo(topic: string, partition: number, records: TestRecord[]): Promise<number> {
  const answer = await produce(client, topic, partition, await recordBatch(records));
  assert.equal(answer.errorCode, ErrorCode.NONE);
  return Number(answer.baseOffset);
}

/** Settles-or-not probe for a promise, without waiting. */
function tracked<T>(promise: Promise<T>): { promise: Promise<T>; settled: () => boolean } {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  return { promise, settled: () => done };
}

function partitionOf(response: FetchResponse, partition: number) {
  const data = response.responses[0]?.partitions.find((p) => p.partitionIndex === partition);
  assert.ok(data, `partition ${partition} in the response`);
  assert.equal(data.errorCode, ErrorCode.NONE);
  return data;
}

test('a fetch parked with max.wait.ms=5000 returns a record produced 200 ms later, long before 5 s', async (t) => {
  const topic = 'wait-for-it';
  await ensureTopic(client, topic);
  const waiting = await WireClient.connect(b.broker.port);
  try {
    const started = Date.now();
    const fetch = tracked(
      fetchPartitions(waiting, topic, [{ partition: 0, offset: 0 }], { maxWaitMs: 5000, minBytes: 1 }),
    );
    await sleep(200);
    assert.equal(fetch.settled(), false, 'the fetch waits: there is nothing to read yet');
    await produceTo(topic, 0, [{ key: 'late', value: 'arrived after 200 ms' }]);
    const response = await fetch.promise;
    const elapsed = Date.now() - started;
    t.diagnostic(`the parked fetch was answered after ${elapsed} ms`);
    assert.deepEqual(await decodeRecords(partitionOf(response, 0).records), [
      { offset: 0, key: 'late', value: 'arrived after 200 ms' },
    ]);
    assert.ok(elapsed < 4500, `answered after ${elapsed} ms, not at max.wait.ms`);
  } finally {
    waiting.close();
  }
});

test('a real client (kafkajs) waiting with maxWaitTime=5000 gets a record produced while it waits', async () => {
  const topic = 'wait-kafkajs';
  await ensureTopic(client, topic);
  const started = Date.now();
  const consumed = kafkajsConsume(b.bootstrap, topic, [0], 0, 1, { maxWaitTime: 5000, timeoutMs: 20_000 });
  await sleep(1000);
  await produceTo(topic, 0, [{ key: 'k', value: 'for kafkajs' }]);
  const records = await consumed;
  const elapsed = Date.now() - started;
  assert.deepEqual(
    records.map((r) => [r.offset, r.key, r.value]),
    [[0, 'k', 'for kafkajs']],
  );
  // kafkajs connects and fetches metadata first, then parks its fetch: well under connect + 5 s.
  assert.ok(elapsed < 5500, `kafkajs got the record after ${elapsed} ms`);
});

test('min.bytes: a fetch keeps waiting while less has arrived, and completes once enough has', async () => {
  const topic = 'min-bytes';
  await ensureTopic(client, topic);
  const waiting = await WireClient.connect(b.broker.port);
  try {
    const fetch = tracked(
      fetchPartitions(waiting, topic, [{ partition: 0, offset: 0 }], { maxWaitMs: 10_000, minBytes: 3000 }),
    );
    await sleep(100);
    await produceTo(topic, 0, [{ key: 'small', value: 'not enough' }]);
    await sleep(500);
    assert.equal(fetch.settled(), false, 'a few dozen bytes do not satisfy min.bytes=3000');
    await produceTo(
      topic,
      0,
      Array.from({ length: 10 }, (_, i) => ({ key: `big-${i}`, value: 'y'.repeat(400) })),
    );
    const response = await fetch.promise;
    const records = await decodeRecords(partitionOf(response, 0).records);
    assert.deepEqual(
      records.map((r) => r.key),
      ['small', ...Array.from({ length: 10 }, (_, i) => `big-${i}`)],
    );
  } finally {
    waiting.close();
  }
  // Not enough ever arrives: max.wait.ms ends the wait with what there is.
  const response = await fetchPartitions(client, topic, [{ partition: 0, offset: 0 }], {
    maxWaitMs: 300,
    minBytes: 1 << 20,
  });
  assert.equal((await decodeRecords(partitionOf(response, 0).records)).length, 11);
});

/** Five ~1 kB batches on each of partitions 0..2 of `topic`; returns the records per partition. */
async function fillLimitsTopic(topic: string): Promise<Map<number, FetchedRecord[]>> {
  await ensureTopic(client, topic);
  const written = new Map<number, FetchedRecord[]>();
  for (let partition = 0; partition < 3; partition++) {
    const list: FetchedRecord[] = [];
    for (let batch = 0; batch < 5; batch++) {
      const records = Array.from({ length: 10 }, (_, i) => ({
        key: `p${partition}-b${batch}-${i}`,
        value: `${batch}:${i}:`.padEnd(80, '.'),
      }));
      const base = await produceTo(topic, partition, records);
      list.push(...records.map((r, i) => ({ ...r, offset: base + i })));
    }
    written.set(partition, list);
  }
  return written;
}

/** Sizes of the whole batches in a partition's records (a trailing partial batch would be dropped). */
function batchSizes(records: Buffer | null): number[] {
  return records ? [...iterateBatches(records)].map((batch) => batch.size) : [];
}

test('partition max bytes and max.bytes bound a fetch response', async () => {
  const topic = 'limits';
  const written = await fillLimitsTopic(topic);
  const all = [0, 1, 2].map((partition) => ({ partition, offset: 0 }));
  const batchSize = batchSizes(
    (await fetchPartitions(client, topic, [all[0]!])).responses[0]!.partitions[0]!.records,
  )[0]!;
  assert.ok(batchSize > 900 && batchSize < 1100, `a batch is ~1 kB (${batchSize})`);

  // Partition max bytes: 2.5 batches' worth per partition -> two whole batches from each.
  let response = await fetchPartitions(client, topic, all, {
    partitionMaxBytes: Math.floor(2.5 * batchSize),
  });
  for (let partition = 0; partition < 3; partition++) {
    const data = partitionOf(response, partition);
    assert.equal(data.records?.length ?? 0, 2 * batchSize, `partition ${partition}: two batches`);
    assert.deepEqual(await decodeRecords(data.records), written.get(partition)!.slice(0, 20));
  }

  // max.bytes: 3.5 batches' worth for the whole response -> 3 from partition 0, nothing beyond the budget.
  response = await fetchPartitions(client, topic, all, { maxBytes: Math.floor(3.5 * batchSize) });
  const sizes = [0, 1, 2].map((p) => partitionOf(response, p).records?.length ?? 0);
  assert.ok(
    sizes.reduce((a, c) => a + c, 0) <= 3.5 * batchSize,
    `the response's records stay within max.bytes: ${sizes.join(' + ')}`,
  );
  assert.equal(sizes[0], 3 * batchSize, 'the first partition fills what it can');
  // Every partition still reports its offsets, data or not.
  for (let partition = 0; partition < 3; partition++) {
    assert.equal(partitionOf(response, partition).highWatermark, 50n);
  }
});

test('a first batch larger than the limits is still returned whole, but only for the first non-empty partition', async () => {
  const topic = 'first-batch';
  await ensureTopic(client, topic);
  // Partition 1 holds one 20 kB batch; partitions 2 and 3 hold one ~1 kB batch each; partition 0 is empty.
  const big = Array.from({ length: 20 }, (_, i) => ({ key: `big-${i}`, value: 'z'.repeat(1000) }));
  await produceTo(topic, 1, big);
  await produceTo(topic, 2, [{ key: 'two', value: 'x'.repeat(900) }]);
  await produceTo(topic, 3, [{ key: 'three', value: 'x'.repeat(900) }]);
  const response = await fetchPartitions(
    client,
    topic,
    [0, 1, 2, 3].map((partition) => ({ partition, offset: 0 })),
    { maxBytes: 500, partitionMaxBytes: 500 },
  );
  assert.equal(partitionOf(response, 0).records?.length ?? 0, 0, 'partition 0 is empty');
  assert.deepEqual(
    (await decodeRecords(partitionOf(response, 1).records)).map((r) => r.key),
    big.map((r) => r.key),
    'the first non-empty partition returns its whole 20 kB batch despite the 500-byte limits',
  );
  for (const partition of [2, 3]) {
    assert.equal(
      partitionOf(response, partition).records?.length ?? 0,
      0,
      `partition ${partition}: max.bytes is used up, so its batch waits for the next fetch`,
    );
    assert.equal(partitionOf(response, partition).highWatermark, 1n);
  }
  // With only the partition limit tight (max.bytes cannot bind, so the partitions are read at once), the same
  // rule holds: later partitions' batches over their limit wait for the next fetch.
  const parallel = await fetchPartitions(
    client,
    topic,
    [0, 1, 2, 3].map((partition) => ({ partition, offset: 0 })),
    { partitionMaxBytes: 500 },
  );
  assert.equal(
    (await decodeRecords(partitionOf(parallel, 1).records)).length,
    big.length,
    'the first non-empty partition returns its whole batch',
  );
  for (const partition of [0, 2, 3]) {
    assert.equal(partitionOf(parallel, partition).records?.length ?? 0, 0, `partition ${partition}`);
  }
  // A fetch that starts at partition 2 gets that batch, past the limits, being the first non-empty one.
  const next = await fetchPartitions(
    client,
    topic,
    [2, 3].map((partition) => ({ partition, offset: 0 })),
    {
      maxBytes: 500,
      partitionMaxBytes: 500,
    },
  );
  assert.deepEqual(
    (await decodeRecords(partitionOf(next, 2).records)).map((r) => r.key),
    ['two'],
  );
  assert.equal(partitionOf(next, 3).records?.length ?? 0, 0);
});
