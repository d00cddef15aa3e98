// Producer backpressure (buffer.memory + max.block.ms): send() waits for room in the buffer, appends in call
// order once acknowledgements free room, and rejects with BUFFER_EXHAUSTED when no room comes in time.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker } from '../../src/server/broker.js';
import { Admin } from '../../src/client/admin/admin.js';
import { Producer, type RecordMetadata } from '../../src/client/producer/producer.js';
import { ClientError } from '../../src/client/errors.js';
import type { Logger } from '../../src/util/logger.js';
import { brokerKinds, readAll, TEST_BROKER_CONFIG, type Target } from './helpers.js';

const silent = { warn() {} };
const quiet: Logger = { info() {}, warn() {}, error() {}, debug() {} };
// 100-byte values: each record counts 121 bytes against the buffer (21 bytes of record framing).
const VALUE_BYTES = 100;
const RECORD_BYTES = 121;
const value = (i: number) => `${i}`.padStart(VALUE_BYTES, '0');

for (const kind of brokerKinds) {
  describe(`producer buffer against ${kind.name}`, () => {
    let target: Target;
    before(async () => {
      target = await kind.start([{ name: 'tiny-buffer', partitions: 1 }]);
    });
    after(() => target.stop());

    test('with a tiny buffer.memory, send() waits for room; every record arrives once, in call order', async () => {
      const bufferMemory = 1000;
      const producer = new Producer({
        brokers: [target.bootstrap],
        bufferMemory,
        lingerMs: 0,
        logger: silent,
      });
      try {
        await producer.send({ topic: 'tiny-buffer', value: value(-1) });
        assert.equal(producer.bufferedBytes, 0);
        let highest = 0;
        const sends: Promise<RecordMetadata>[] = [];
        for (let i = 0; i < 60; i++) {
          sends.push(
            producer.send({ topic: 'tiny-buffer', value: value(i) }).then((m) => {
              highest = Math.max(highest, producer.bufferedBytes);
              return m;
            }),
          );
        }
        // Metadata is cached, so sends are appended (or blocked) synchronously: 8 fit, 52 wait.
        const fit = Math.floor(bufferMemory / RECORD_BYTES);
        assert.equal(producer.bufferedBytes, fit * RECORD_BYTES);
        assert.equal(producer.blockedSends, 60 - fit);
        const metadata = await Promise.all(sends);
        assert.ok(highest <= bufferMemory, `buffered ${highest} bytes`);
        assert.equal(producer.blockedSends, 0);
        assert.equal(producer.bufferedBytes, 0);
        assert.deepEqual(
          metadata.map((m) => m.offset),
          metadata.map((_, i) => i + 1),
        );
        const read = await readAll(target.bootstrap, 'tiny-buffer', 0);
        assert.deepEqual(
          read.map((r) => [r.offset, r.value]),
          [-1, ...Array.from({ length: 60 }, (_, i) => i)].map((v, offset) => [offset, value(v)]),
        );
      } finally {
        await producer.close();
      }
    });

    test('a loop that awaits waitForRoom() when sends are blocked never holds more than one waiting send', async () => {
      const producer = new Producer({ brokers: [target.bootstrap], bufferMemory: 1000, logger: silent });
      try {
        await producer.send({ topic: 'tiny-buffer', value: 'warm-up' });
        const start = (await readAll(target.bootstrap, 'tiny-buffer', 0)).length;
        const sends: Promise<RecordMetadata>[] = [];
        let waits = 0;
        for (let i = 0; i < 100; i++) {
          sends.push(producer.send({ topic: 'tiny-buffer', value: value(1000 + i) }));
          assert.ok(producer.blockedSends <= 1, `${producer.blockedSends} sends waiting`);
          if (producer.blockedSends > 0) {
            waits++;
            await producer.waitForRoom();
            assert.equal(producer.blockedSends, 0);
          }
        }
        const metadata = await Promise.all(sends);
        assert.ok(waits > 0);
        assert.deepEqual(
          metadata.map((m) => m.offset),
          metadata.map((_, i) => start + i),
        );
        const read = await readAll(target.bootstrap, 'tiny-buffer', 0, start);
        assert.deepEqual(
          read.map((r) => r.value),
          Array.from({ length: 100 }, (_, i) => value(1000 + i)),
        );
      } finally {
        await producer.close();
      }
    });

    test('a record larger than the whole buffer rejects at once with RECORD_TOO_LARGE', async () => {
      const producer = new Producer({ brokers: [target.bootstrap], bufferMemory: 1000, logger: silent });
      try {
        await producer.send({ topic: 'tiny-buffer', value: 'warm-up' });
        await assert.rejects(
          producer.send({ topic: 'tiny-buffer', value: 'x'.repeat(1000) }),
          (e: unknown) => e instanceof ClientError && e.code === 'RECORD_TOO_LARGE' && !e.retriable,
        );
        assert.equal(producer.bufferedBytes, 0);
        assert.equal(producer.blockedSends, 0);
      } finally {
        await producer.close();
      }
    });
  });
}

// The mock cluster cannot be stopped and brought back on the same port (and advertises its own ports, so a
// pausing proxy in front of it would be bypassed): this runs on Fjord only.
test('while the broker is down the buffer fills; later sends reject with BUFFER_EXHAUSTED after max.block.ms, and the buffered records arrive once it is back', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'fjord-client-buffer-'));
  let broker = await Broker.start({ dataDir, port: 0, log: quiet, config: TEST_BROKER_CONFIG });
  const port = broker.port;
  const bufferMemory = 1000;
  const producer = new Producer({
    brokers: [broker.bootstrap],
    bufferMemory,
    maxBlockMs: 100,
    lingerMs: 0,
    retryBackoffMs: 20,
    retryBackoffMaxMs: 100,
    logger: silent,
  });
  try {
    const admin = new Admin({ brokers: [broker.bootstrap] });
    await admin.createTopics([{ topic: 'blocked', numPartitions: 1 }]);
    await admin.close();
    await producer.send({ topic: 'blocked', value: value(-1) });
    await broker.stop();

    const results = Array.from({ length: 30 }, (_, i) =>
      producer.send({ topic: 'blocked', value: value(i) }).then(
        (m) => ({ ok: true as const, i, offset: m.offset }),
        (error: unknown) => ({ ok: false as const, i, error }),
      ),
    );
    const fit = Math.floor(bufferMemory / RECORD_BYTES);
    assert.equal(producer.blockedSends, 30 - fit);
    // Wait for the blocked sends to give up, then bring the broker back for the buffered ones.
    const rejected = await Promise.all(results.slice(fit));
    for (const r of rejected) {
      assert.equal(r.ok, false);
      assert.ok(!r.ok && r.error instanceof ClientError && r.error.code === 'BUFFER_EXHAUSTED', String(r));
    }
    assert.equal(producer.blockedSends, 0);
    assert.equal(producer.bufferedBytes, fit * RECORD_BYTES);
    broker = await Broker.start({ dataDir, port, log: quiet, config: TEST_BROKER_CONFIG });
    const delivered = await Promise.all(results.slice(0, fit));
    assert.deepEqual(
      delivered.map((r) => (r.ok ? r.offset : r.error)),
      delivered.map((_, i) => i + 1),
    );
    const read = await readAll(broker.bootstrap, 'blocked', 0);
    assert.deepEqual(
      read.map((r) => r.value),
      [-1, ...Array.from({ length: fit }, (_, i) => i)].map(value),
    );
  } finally {
    await producer.close();
    await broker.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
