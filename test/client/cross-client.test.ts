// Cross-client: what our producer writes to Fjord, kafkajs, kcat (librdkafka) and kafka-python read back
// exactly: keys (and null keys), values (and tombstones), headers in order, timestamps, with every codec;
// and what they write, our consumer reads exactly.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import kafkajs from 'kafkajs';
import { decompress, CompressionType } from '../../src/protocol/records/compression.js';
import { Producer, type CompressionName } from '../../src/client/producer/producer.js';
import { Consumer } from '../../src/client/consumer/consumer.js';
import { brokerKinds, type Target } from './helpers.js';

const { CompressionCodecs, CompressionTypes, Kafka, logLevel } = kafkajs;
const run = promisify(execFile);
const CODECS: CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const BASE_TIME = 1_700_000_000_000;
const COUNT = 12;

interface Expected {
  offset: number;
  key: string | null;
  value: string | null;
  headers: [string, string][];
  timestamp: number;
}

function expectedRecords(codec: string): Expected[] {
  return Array.from({ length: COUNT }, (_, i) => ({
    offset: i,
    key: i === 3 ? null : `key-${codec}-${i}`,
    value: i === 5 ? null : `value ${codec} ${i} ünïcödé ${'z'.repeat(i * 5)}`,
    headers:
      i % 3 === 0
        ? []
        : ([
            ['trace', `t-${i}`],
            ['trace', `again-${i}`],
            ['kind', codec],
          ] as [string, string][]),
    timestamp: BASE_TIME + i * 1000,
  }));
}

describe('cross-client reads of what our producer writes to Fjord', () => {
  let target: Target;
  before(async () => {
    target = await brokerKinds
      .find((k) => k.name === 'fjord')!
      .start(CODECS.map((c) => ({ name: `x-${c}`, partitions: 1 })));
    const producer = new Producer({ brokers: [target.bootstrap], logger: { warn() {} } });
    for (const codec of CODECS) {
      const compressed = new Producer({
        brokers: [target.bootstrap],
        compression: codec,
        logger: { warn() {} },
      });
      await compressed.sendBatch(
        expectedRecords(codec).map((r) => ({
          topic: `x-${codec}`,
          key: r.key,
          value: r.value,
          headers: r.headers,
          timestamp: r.timestamp,
        })),
      );
      await compressed.close();
    }
    await producer.close();
  });
  after(() => target.stop());

  test('kcat (librdkafka) reads every codec exactly', async () => {
    for (const codec of CODECS) {
      const { stdout } = await run('kcat', [
        '-b',
        target.bootstrap,
        '-t',
        `x-${codec}`,
        '-C',
        '-o',
        'beginning',
        '-e',
        '-q',
        '-Z',
        '-f',
        '%o\t%k\t%s\t%h\t%T\n',
      ]);
      const lines = stdout.split('\n').filter(Boolean);
      assert.deepEqual(
        lines.map((line) => {
          const [offset, key, value, headers, timestamp] = line.split('\t');
          return [Number(offset), key, value, headers, Number(timestamp)];
        }),
        expectedRecords(codec).map((r) => [
          r.offset,
          r.key ?? 'NULL',
          r.value ?? 'NULL',
          r.headers.map(([k, v]) => `${k}=${v}`).join(','),
          r.timestamp,
        ]),
        codec,
      );
    }
  });

  test('kafka-python reads every codec exactly', async () => {
    const script = `
import json, sys
from kafka import KafkaConsumer, TopicPartition
out = {}
for codec in sys.argv[2:]:
    c = KafkaConsumer(bootstrap_servers=sys.argv[1], consumer_timeout_ms=3000, enable_auto_commit=False, api_version=(2, 5, 0))
    tp = TopicPartition('x-' + codec, 0)
    c.assign([tp]); c.seek_to_beginning(tp)
    rows = []
    while len(rows) < ${COUNT}:
        batch = c.poll(timeout_ms=3000)
        if not batch: break
        for msgs in batch.values():
            for m in msgs:
                rows.append([m.offset, None if m.key is None else m.key.decode(), None if m.value is None else m.value.decode(),
                             [[k, v.decode()] for k, v in m.headers], m.timestamp])
    out[codec] = rows
    c.close()
print(json.dumps(out))
`;
    const { stdout } = await run('/usr/bin/python3', ['-c', script, target.bootstrap, ...CODECS], {
      timeout: 60_000,
    });
    const read = JSON.parse(stdout) as Record<string, unknown>;
    for (const codec of CODECS) {
      assert.deepEqual(
        read[codec],
        expectedRecords(codec).map((r) => [r.offset, r.key, r.value, r.headers, r.timestamp]),
        codec,
      );
    }
  });

  test('kafkajs reads every codec exactly', async () => {
    // kafkajs ships only gzip; the others are plug-ins. Ours are plugged in for decompression only (kcat and
    // kafka-python above check the compressed bytes independently); kafkajs parses the batches and records.
    for (const [name, type] of [
      ['Snappy', CompressionType.SNAPPY],
      ['LZ4', CompressionType.LZ4],
      ['ZSTD', CompressionType.ZSTD],
    ] as const) {
      CompressionCodecs[CompressionTypes[name]] = () => ({
        compress: () => Promise.reject(new Error('not used')),
        decompress: (buffer: Buffer) => decompress(type, buffer),
      });
    }
    const kafka = new Kafka({ brokers: [target.bootstrap], logLevel: logLevel.NOTHING, clientId: 'cross' });
    const consumer = kafka.consumer({ groupId: `cross-${Date.now()}`, maxWaitTimeInMs: 100 });
    const codecs = CODECS;
    const got = new Map<string, Expected[]>(codecs.map((c) => [c, []]));
    await consumer.connect();
    try {
      for (const codec of codecs) await consumer.subscribe({ topic: `x-${codec}`, fromBeginning: true });
      const done = new Promise<void>((resolve) => {
        void consumer.run({
          eachMessage: async ({ topic, message }) => {
            got.get(topic.slice(2))!.push({
              offset: Number(message.offset),
              key: message.key === null ? null : message.key.toString(),
              value: message.value === null ? null : message.value.toString(),
              headers: Object.entries(message.headers ?? {}).flatMap(([k, v]) =>
                (Array.isArray(v) ? v : [v]).map((one) => [k, String(one)] as [string, string]),
              ),
              timestamp: Number(message.timestamp),
            });
            if ([...got.values()].every((list) => list.length >= COUNT)) resolve();
          },
        });
      });
      await done;
    } finally {
      await consumer.disconnect();
    }
    for (const codec of codecs) {
      // kafkajs folds repeated header keys into an array under one key, in order; compare the same way.
      const expected = expectedRecords(codec).map((r) => ({
        ...r,
        headers: [...r.headers].sort((a, b) => (a[0] === b[0] ? 0 : a[0] === 'trace' ? -1 : 1)),
      }));
      assert.deepEqual(got.get(codec), expected, codec);
    }
  });
});

describe('our consumer reads exactly what kcat, kafka-python and kafkajs write to Fjord', () => {
  let target: Target;
  const topicsFor = (client: string) => CODECS.map((c) => ({ name: `w-${client}-${c}`, partitions: 1 }));
  before(async () => {
    target = await brokerKinds
      .find((k) => k.name === 'fjord')!
      .start([...topicsFor('kcat'), ...topicsFor('python'), { name: 'w-kafkajs-gzip', partitions: 1 }]);
  });
  after(() => target.stop());

  async function consume(
    topic: string,
    count: number,
  ): Promise<[string | null, string | null, [string, string | null][]][]> {
    const consumer = new Consumer({ brokers: [target.bootstrap], maxWaitMs: 50 });
    consumer.assign([{ topic, partition: 0, offset: 0 }]);
    const out: [string | null, string | null, [string, string | null][]][] = [];
    try {
      for await (const r of consumer) {
        out.push([
          r.key === null ? null : r.key.toString(),
          r.value === null ? null : r.value.toString(),
          r.headers.map((h) => [h.key, h.value === null ? null : h.value.toString()]),
        ]);
        if (out.length === count) break;
      }
    } finally {
      await consumer.close();
    }
    return out;
  }

  test('kcat (librdkafka), every codec: keys, values, headers', async () => {
    for (const codec of CODECS) {
      const lines = Array.from({ length: 8 }, (_, i) => `k${i}:${codec} value ${i}`).join('\n') + '\n';
      await new Promise<void>((resolve, reject) => {
        const child = execFile(
          'kcat',
          [
            '-b',
            target.bootstrap,
            '-t',
            `w-kcat-${codec}`,
            '-P',
            '-K:',
            '-z',
            codec === 'none' ? 'none' : codec,
            '-H',
            'h1=x',
            '-H',
            'h2=y',
          ],
          (error) => (error ? reject(error) : resolve()),
        );
        child.stdin!.end(lines);
      });
      assert.deepEqual(
        await consume(`w-kcat-${codec}`, 8),
        Array.from({ length: 8 }, (_, i) => [
          `k${i}`,
          `${codec} value ${i}`,
          [
            ['h1', 'x'],
            ['h2', 'y'],
          ],
        ]),
        codec,
      );
    }
  });

  test('kafka-python, every codec: keys, tombstones, headers', async () => {
    const script = `
import sys
from kafka import KafkaProducer
for codec in sys.argv[2:]:
    p = KafkaProducer(bootstrap_servers=sys.argv[1], compression_type=None if codec == 'none' else codec, api_version=(2, 5, 0))
    for i in range(6):
        p.send('w-python-' + codec, key=('k%d' % i).encode(), value=None if i == 2 else ('py %s %d' % (codec, i)).encode(),
               headers=[('a', b'1'), ('b', ('%d' % i).encode())])
    p.flush(); p.close()
`;
    await run('/usr/bin/python3', ['-c', script, target.bootstrap, ...CODECS], { timeout: 60_000 });
    for (const codec of CODECS) {
      assert.deepEqual(
        await consume(`w-python-${codec}`, 6),
        Array.from({ length: 6 }, (_, i) => [
          `k${i}`,
          i === 2 ? null : `py ${codec} ${i}`,
          [
            ['a', '1'],
            ['b', String(i)],
          ],
        ]),
        codec,
      );
    }
  });

  test('kafkajs (gzip): keys, values, headers', async () => {
    const kafka = new Kafka({ brokers: [target.bootstrap], logLevel: logLevel.NOTHING, clientId: 'cross-w' });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: 'w-kafkajs-gzip',
      compression: CompressionTypes.GZIP,
      messages: Array.from({ length: 5 }, (_, i) => ({
        key: `j${i}`,
        value: `js ${i}`,
        headers: { n: String(i) },
      })),
    });
    await producer.disconnect();
    assert.deepEqual(
      await consume('w-kafkajs-gzip', 5),
      Array.from({ length: 5 }, (_, i) => [`j${i}`, `js ${i}`, [['n', String(i)]]]),
    );
  });
});
