// Failure: the broker stops and restarts (same log dir, same port) while an acks=all producer is sending.
// Every record the producer acknowledged must be in the log at the offset it reported, and records sent
// while the broker was down must be delivered after it returns (reconnect with backoff, retries).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker } from '../../src/server/broker.js';
import { Admin } from '../../src/client/admin/admin.js';
import { Producer, type RecordMetadata } from '../../src/client/producer/producer.js';
import { Consumer } from '../../src/client/consumer/consumer.js';
import type { Logger } from '../../src/util/logger.js';
import { readAll, TEST_BROKER_CONFIG } from './helpers.js';

const quiet: Logger = { info() {}, warn() {}, error() {}, debug() {} };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test(
  'a broker restart in the middle of acks=all production loses no acknowledged record; a consumer reads on',
  { timeout: 120_000 },
  async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fjord-client-restart-'));
    let broker = await Broker.start({ dataDir, port: 0, log: quiet, config: TEST_BROKER_CONFIG });
    const port = broker.port;
    const admin = new Admin({ brokers: [broker.bootstrap] });
    await admin.createTopics([{ topic: 'durable', numPartitions: 2 }]);
    await admin.close();
    const producer = new Producer({
      brokers: [broker.bootstrap],
      acks: 'all',
      lingerMs: 2,
      retryBackoffMs: 20,
      retryBackoffMaxMs: 200,
      requestTimeoutMs: 5000,
      logger: { warn() {} },
    });
    // A consumer that reads throughout, across the restart.
    const consumer = new Consumer({
      brokers: [broker.bootstrap],
      maxWaitMs: 50,
      retryBackoffMs: 20,
      retryBackoffMaxMs: 200,
      requestTimeoutMs: 5000,
    });
    consumer.assign([0, 1].map((partition) => ({ topic: 'durable', partition, offset: 0 })));
    const consumed = new Set<string>();
    let consumedAfterRestart = 0;
    let restarted = false;
    const reading = (async () => {
      for await (const record of consumer) {
        consumed.add(record.value!.toString());
        if (restarted) consumedAfterRestart++;
        if (consumed.size === 600) break;
      }
    })();
    try {
      const acked = new Map<string, RecordMetadata>();
      const failures: unknown[] = [];
      const sends: Promise<void>[] = [];
      let stopping: Promise<void> | undefined;
      const total = 600;
      for (let i = 0; i < total; i++) {
        const value = `value-${i}`;
        sends.push(
          producer.send({ topic: 'durable', key: `key-${i % 37}`, value }).then(
            (metadata) => void acked.set(value, metadata),
            (error: unknown) => void failures.push(error),
          ),
        );
        if (i === 200) stopping = broker.stop();
        if (i === 300) {
          await stopping;
          broker = await Broker.start({ dataDir, port, log: quiet, config: TEST_BROKER_CONFIG });
          restarted = true;
        }
        if (i % 10 === 0) await sleep(2);
      }
      await Promise.all(sends);
      assert.deepEqual(failures, []);
      assert.equal(acked.size, total);

      const byPartition = new Map<number, Map<number, string | null>>();
      for (const partition of [0, 1]) {
        const records = await readAll(broker.bootstrap, 'durable', partition);
        byPartition.set(partition, new Map(records.map((r) => [r.offset, r.value])));
      }
      // With idempotence (the broker has InitProducerId) a retried batch is not written twice either.
      if (producer.idempotent) {
        const values = [...byPartition.values()].flatMap((m) => [...m.values()]);
        assert.equal(values.length, total);
        assert.equal(new Set(values).size, total);
      }
      await reading;
      assert.equal(consumed.size, total);
      assert.ok(consumedAfterRestart > 0);
      for (const [value, metadata] of acked) {
        assert.equal(
          byPartition.get(metadata.partition)!.get(metadata.offset),
          value,
          `${value} at ${metadata.partition}/${metadata.offset}`,
        );
      }
    } finally {
      await consumer.close();
      await producer.close();
      await broker.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
);
