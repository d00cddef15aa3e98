import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Broker } from '../../src/server/broker.js';
import { SILENT_LOGGER } from '../../src/util/logger.js';

const dir = mkdtempSync(join(tmpdir(), 'fjord-embedded-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('an embedded broker hands out connected admin, producer and group consumer with no other setup', async () => {
  const broker = await Broker.start({
    dataDir: dir,
    port: 0,
    log: SILENT_LOGGER,
    config: {
      'offsets.topic.num.partitions': '1',
      'group.initial.rebalance.delay.ms': '0',
      'num.io.threads': '1',
    },
  });
  const admin = broker.admin();
  const producer = broker.producer();
  const consumer = broker.consumer({
    groupId: 'embedded',
    sessionTimeoutMs: 6000,
    autoOffsetReset: 'earliest',
  });
  try {
    await admin.createTopics([{ topic: 'embedded', numPartitions: 2 }]);
    const sent = await Promise.all(
      ['a', 'b', 'c', 'd'].map((value) => producer.send({ topic: 'embedded', key: value, value })),
    );
    assert.deepEqual(
      sent.map((r) => r.topic),
      ['embedded', 'embedded', 'embedded', 'embedded'],
    );
    consumer.subscribe(['embedded']);
    const seen: string[] = [];
    for await (const record of consumer) {
      seen.push(record.value!.toString());
      if (seen.length === 4) break;
    }
    assert.deepEqual(seen.sort(), ['a', 'b', 'c', 'd']);
  } finally {
    await consumer.close();
    await producer.close();
    await admin.close();
    await broker.stop();
  }
});
