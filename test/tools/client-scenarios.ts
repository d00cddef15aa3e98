// The scenarios every real client runs against an embedded broker (issue 4, "What must be shown"): every
// compression codec with keys, null keys, null values and headers; a 900 KiB record; 10 000 records over 8
// partitions; a fetch from the middle of a batch. test/integration/broker-<client>.test.ts calls
// clientScenarios(driver, ...) once per client.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  CODECS,
  checkManyRecords,
  comparable,
  largeValue,
  manyRecords,
  startTestBroker,
  storedBatches,
  type TestBroker,
  type TextRecord,
} from './broker-harness.js';
import { CompressionType } from '../../src/protocol/records/record-batch.js';
import { brokerHandlers } from '../../src/server/handlers/index.js';
import { ensureTopic, produce, recordBatch } from './raw-client.js';
import { WireClient } from './wire-client.js';
import type { ClientDriver, ClientResult } from './client-drivers.js';

const MANY_PARTITIONS = 8;

const CODEC_TYPES = {
  none: CompressionType.NONE,
  gzip: CompressionType.GZIP,
  snappy: CompressionType.SNAPPY,
  lz4: CompressionType.LZ4,
  zstd: CompressionType.ZSTD,
} as const;

const acksOf = (result: ClientResult | undefined) => {
  assert.ok(result && 'acks' in result, 'expected a produce result');
  return result.acks;
};
const recordsOf = (result: ClientResult | undefined) => {
  assert.ok(result && 'records' in result, 'expected a consume result');
  return result.records;
};

/** Records this client can express: see ClientDriver.can. */
function recordsFor(driver: ClientDriver, tag: string, count = 12): TextRecord[] {
  const { perRecordHeaders, nullHeaderValues, emptyValues } = driver.can;
  const uniform: [string, string | null][] = [
    ['trace', `t-${tag}`],
    ['dup', nullHeaderValues ? null : 'second'],
    ['dup', 'third'],
  ];
  return Array.from({ length: count }, (_, i) => ({
    partition: 0,
    key: i % 4 === 1 ? null : `key-${tag}-${i}`,
    value:
      i % 5 === 2 ? null : i % 5 === 3 && emptyValues ? '' : `value ${tag} ${i} `.repeat(4 + (i % 3) * 20),
    headers: !perRecordHeaders
      ? uniform
      : i % 3 === 0
        ? []
        : i % 3 === 1
          ? [[`h-${i}`, `hv-${tag}-${i}`]]
          : [
              ['dup', 'first'],
              ['dup', nullHeaderValues ? null : 'second'],
            ],
  }));
}

/** The codec a batch is stored with when `driver` is asked for `codec` (see ClientDriver.can). */
function storedCodec(driver: ClientDriver, codec: string): string {
  const findCoordinator = brokerHandlers.some((h) => h.api.apiKey === 10 && h.minVersion === 0);
  return codec === 'lz4' && driver.can.lz4NeedsFindCoordinator && !findCoordinator ? 'none' : codec;
}

/** Drops the partition field the scenarios set on records they produce. */
const expected = (records: TextRecord[], firstOffset = 0) =>
  comparable(records.map((r, i) => ({ ...r, offset: firstOffset + i })));

export function clientScenarios(driver: ClientDriver, brokerConfig: Record<string, string>): void {
  let b: TestBroker;
  before(async () => {
    // Auto-created topics get 8 partitions; the scenarios that want one partition write to partition 0.
    b = await startTestBroker({ 'num.partitions': String(MANY_PARTITIONS), ...brokerConfig });
  });
  after(async () => {
    await b?.close();
  });

  test(`${driver.name}: every codec, with keys, null keys, null values and headers`, async () => {
    const sets = CODECS.map((codec) => ({
      codec,
      topic: `codec-${driver.name}-${codec}`,
      records: recordsFor(driver, codec),
    }));
    const results = await driver.run(b.bootstrap, [
      ...sets.map((s) => ({ op: 'produce' as const, topic: s.topic, records: s.records, codec: s.codec })),
      ...sets.map((s) => ({
        op: 'consume' as const,
        topic: s.topic,
        partitions: [0],
        offset: 0,
        count: s.records.length,
      })),
    ]);
    sets.forEach((s, i) => {
      if (driver.can.reportsOffsets) {
        assert.deepEqual(
          acksOf(results[i]),
          s.records.map((_, offset) => ({ partition: 0, offset })),
          `${s.codec}: acknowledged offsets`,
        );
      }
      const consumed = recordsOf(results[sets.length + i]);
      assert.deepEqual(comparable(consumed), expected(s.records), `${s.codec}: records read back`);
      // The client really compressed: what the broker stored carries the codec. When timing splits the records
      // into several batches, librdkafka sends a small one uncompressed if compressing would not shrink it, so
      // 'none' may appear beside the codec — but the codec must be there, and no other.
      const want = storedCodec(driver, s.codec);
      const codecs = new Set(storedBatches(b.dataDir, s.topic, 0).map((batch) => batch.codec));
      assert.ok(
        codecs.has(want),
        `${s.codec}: a stored batch carries ${want} (stored: ${[...codecs].join(', ')})`,
      );
      assert.deepEqual(
        [...codecs].filter((codec) => codec !== want && codec !== 'none'),
        [],
        `${s.codec}: no stored batch carries another codec`,
      );
    });
  });

  test(`${driver.name}: a 900 KiB record between small ones`, async () => {
    const topic = `large-${driver.name}`;
    const big = largeValue(900 * 1024, driver.name.length);
    const records: TextRecord[] = [
      { partition: 0, key: 'before', value: 'small', headers: [] },
      { partition: 0, key: 'big', value: big, headers: [['size', String(big.length)]] },
      { partition: 0, key: 'after', value: 'small too', headers: [] },
    ];
    const results = await driver.run(b.bootstrap, [
      { op: 'produce', topic, records, codec: 'none', lingerMs: 0 },
      { op: 'consume', topic, partitions: [0], offset: 0, count: 3 },
    ]);
    const consumed = recordsOf(results[1]);
    assert.equal(consumed.length, 3);
    assert.equal(consumed[1]!.value?.length, big.length);
    assert.ok(consumed[1]!.value === big, 'the 900 KiB value came back byte for byte');
    assert.deepEqual(comparable(consumed), expected(records));
  });

  test(`${driver.name}: 10 000 records over ${MANY_PARTITIONS} partitions`, async () => {
    const topic = `many-${driver.name}`;
    const records = manyRecords(driver.name, 10_000);
    const results = await driver.run(b.bootstrap, [
      { op: 'produce', topic, records, codec: 'lz4', lingerMs: 5 },
      {
        op: 'consume',
        topic,
        partitions: Array.from({ length: MANY_PARTITIONS }, (_, p) => p),
        offset: 0,
        count: records.length,
        timeoutMs: 60_000,
      },
    ]);
    const byPartition = checkManyRecords(records, recordsOf(results[1]), MANY_PARTITIONS);
    // Keys spread the records: every partition got some.
    assert.equal(byPartition.size, MANY_PARTITIONS, 'records landed on every partition');
    if (driver.can.reportsOffsets) {
      const acks = acksOf(results[0]);
      if (acks.length > 0) {
        const consumedAt = new Map([...byPartition.values()].flat().map((r) => [r.key, r]));
        records.forEach((r, i) => {
          const got = consumedAt.get(r.key)!;
          assert.deepEqual(acks[i], { partition: got.partition, offset: got.offset }, `ack of ${r.key}`);
        });
      }
    }
  });

  test(`${driver.name}: a fetch from the middle of a batch returns the records from that offset on`, async () => {
    // The batches are written by the raw client, so each is exactly one 10-record batch (a client's own
    // batching depends on timing); the client under test then reads from offset 6, inside the batch.
    const cases = CODECS.map((codec) => ({
      codec,
      topic: `mid-${driver.name}-${codec}`,
      records: Array.from({ length: 10 }, (_, i) => ({
        partition: 0,
        key: `m${i}`,
        value: `mid-batch ${codec} record ${i} `.repeat(8),
        headers: [] as [string, string | null][],
      })),
    }));
    const client = await WireClient.connect(b.broker.port);
    try {
      for (const c of cases) {
        await ensureTopic(client, c.topic);
        const batch = await recordBatch(c.records, CODEC_TYPES[c.codec]);
        const answer = await produce(client, c.topic, 0, batch);
        assert.deepEqual([answer.errorCode, answer.baseOffset], [0, 0n], `${c.codec}: produced`);
        assert.deepEqual(
          storedBatches(b.dataDir, c.topic, 0).map((s) => [s.baseOffset, s.lastOffset, s.codec]),
          [[0, 9, c.codec]],
          `${c.codec}: one stored batch`,
        );
      }
    } finally {
      client.close();
    }
    const results = await driver.run(
      b.bootstrap,
      cases.map((c) => ({ op: 'consume' as const, topic: c.topic, partitions: [0], offset: 6, count: 4 })),
    );
    cases.forEach((c, i) => {
      assert.deepEqual(
        comparable(recordsOf(results[i])),
        expected(c.records.slice(6), 6),
        `${c.codec}: from offset 6`,
      );
    });
  });
}
