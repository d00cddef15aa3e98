// What one client produces another reads exactly: the broker stores producers' batches as they are, so a
// consumer written by someone else must decode them (codecs, null keys and values, headers).
// Embedded broker with num.io.threads=2.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  comparable,
  startTestBroker,
  type Codec,
  type TestBroker,
  type TextRecord,
} from '../tools/broker-harness.js';
import {
  confluentKafkaDriver,
  kafkaPythonDriver,
  kafkajsDriver,
  kcatDriver,
  type ClientDriver,
} from '../tools/client-drivers.js';

let b: TestBroker;
before(async () => {
  b = await startTestBroker({ 'num.io.threads': '2' });
});
after(async () => {
  await b?.close();
});

/** Records every client can write: headers shared by all records (kcat), no empty values (kcat -Z). */
function commonRecords(tag: string, nullHeaderValue: boolean): TextRecord[] {
  return Array.from({ length: 15 }, (_, i) => ({
    partition: 0,
    key: i % 4 === 2 ? null : `${tag}-key-${i}`,
    value: i % 5 === 3 ? null : `${tag} value ${i} `.repeat(10 + i),
    headers: [
      ['origin', tag],
      ['n', nullHeaderValue ? null : 'x'],
    ],
  }));
}

async function crossCheck(from: ClientDriver, to: ClientDriver, codec: Codec, nullHeaderValue = false) {
  const topic = `cross-${from.name}-${to.name}-${codec}`;
  const records = commonRecords(`${from.name}>${to.name}`, nullHeaderValue);
  await from.run(b.bootstrap, [{ op: 'produce', topic, records, codec }]);
  const [result] = await to.run(b.bootstrap, [
    { op: 'consume', topic, partitions: [0], offset: 0, count: records.length },
  ]);
  assert.ok(result && 'records' in result);
  assert.deepEqual(
    comparable(result.records),
    comparable(records.map((r, offset) => ({ ...r, offset }))),
    `${from.name} -> ${to.name} (${codec})`,
  );
}

test('kcat -> kafka-python (gzip)', () => crossCheck(kcatDriver, kafkaPythonDriver, 'gzip'));
test('kafka-python -> confluent-kafka (snappy)', () =>
  crossCheck(kafkaPythonDriver, confluentKafkaDriver, 'snappy'));
test('confluent-kafka -> kafkajs (zstd)', () => crossCheck(confluentKafkaDriver, kafkajsDriver, 'zstd'));
test('kafkajs -> kcat (lz4)', () => crossCheck(kafkajsDriver, kcatDriver, 'lz4'));
test('kcat -> kafkajs, a null header value (none)', () =>
  crossCheck(kcatDriver, kafkajsDriver, 'none', true));
