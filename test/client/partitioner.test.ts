import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import {
  DefaultPartitioner,
  murmur2,
  partitionForKey,
  toPositive,
} from '../../src/client/producer/partitioner.js';
import { startMockCluster } from '../tools/mock-cluster.js';

// Java's Utils.murmur2 results (the values Kafka's own UtilsTest checks), signed int32.
const JAVA_MURMUR2: [string, number][] = [
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ['abc', 479470107],
  ['1', -1993445489],
  ['12', 126087238],
  ['123', -267702483],
  ['1234', -1614185708],
  ['12345', -1188365604],
];

// A small deterministic generator so the comparison keys are the same on every run.
function keys(count: number, seed = 42): Buffer[] {
  let state = seed;
  const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0);
  return Array.from({ length: count }, () => {
    const length = next() % 40;
    return Buffer.from(Array.from({ length }, () => next() & 0xff));
  });
}

test('murmur2 matches the Java client on its known vectors', () => {
  for (const [key, hash] of JAVA_MURMUR2) assert.equal(murmur2(Buffer.from(key)), hash, key);
});

test('toPositive clears the sign bit like Utils.toPositive (not Math.abs)', () => {
  assert.equal(toPositive(-2147483648), 0);
  assert.equal(toPositive(-1), 2147483647);
  assert.equal(toPositive(-973932308), 1173551340);
  assert.equal(partitionForKey(Buffer.from('21'), 7), 1173551340 % 7);
});

test("murmur2 agrees with kafkajs's DefaultPartitioner hash on 500 random keys (every tail length)", () => {
  const require = createRequire(import.meta.url);
  const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (
    key: Buffer,
  ) => number;
  for (const key of keys(500)) assert.equal(murmur2(key), kafkajsMurmur2(key), key.toString('hex'));
});

test("keyed partitions match librdkafka's murmur2_random partitioner (kcat into the mock cluster)", async () => {
  const cluster = await startMockCluster({ topics: [{ name: 'murmur', partitions: 7 }] });
  try {
    const names = Array.from({ length: 50 }, (_, i) => `key-${i * 37}`);
    execFileSync(
      'kcat',
      ['-b', cluster.bootstrap, '-t', 'murmur', '-P', '-K:', '-X', 'topic.partitioner=murmur2_random'],
      { input: names.map((k) => `${k}:v`).join('\n') + '\n' },
    );
    const out = execFileSync(
      'kcat',
      ['-b', cluster.bootstrap, '-t', 'murmur', '-C', '-o', 'beginning', '-e', '-q', '-f', '%k %p\n'],
      { encoding: 'utf8' },
    );
    const placed = new Map(
      out
        .trim()
        .split('\n')
        .map((line) => line.split(' ') as [string, string]),
    );
    assert.equal(placed.size, names.length);
    for (const key of names) assert.equal(Number(placed.get(key)), partitionForKey(Buffer.from(key), 7), key);
  } finally {
    await cluster.stop();
  }
});

test('sticky partitioner moves keyless records on only when their batch closes', () => {
  const partitioner = new DefaultPartitioner('sticky');
  const first = partitioner.partition('t', null, 5);
  for (let i = 0; i < 20; i++) assert.equal(partitioner.partition('t', null, 5), first);
  partitioner.onNewBatch('t', first, 5);
  const second = partitioner.partition('t', null, 5);
  assert.notEqual(second, first);
  // A batch closing on another partition does not move the sticky one.
  partitioner.onNewBatch('t', (second + 1) % 5, 5);
  assert.equal(partitioner.partition('t', null, 5), second);
  assert.equal(partitioner.partition('t', Buffer.from('21'), 5), partitionForKey(Buffer.from('21'), 5));
});

test('round-robin partitioner visits every partition in turn', () => {
  const partitioner = new DefaultPartitioner('round-robin');
  const seen = Array.from({ length: 9 }, () => partitioner.partition('t', null, 3));
  assert.deepEqual(
    seen,
    seen.map((_, i) => (seen[0]! + i) % 3),
  );
});
