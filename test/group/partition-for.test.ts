import assert from 'node:assert/strict';
import { test } from 'node:test';
import { javaStringHashCode, kafkaAbs, partitionFor } from '../../src/group/partition-for.js';

test("javaStringHashCode matches Java's String.hashCode", () => {
  assert.equal(javaStringHashCode(''), 0);
  assert.equal(javaStringHashCode('a'), 97);
  assert.equal(javaStringHashCode('hello'), 99162322);
  // The classic string whose hash is Integer.MIN_VALUE.
  assert.equal(javaStringHashCode('polygenelubricants'), -2147483648);
  // UTF-16 code units, as Java counts them: a surrogate pair is two.
  assert.equal(javaStringHashCode('\u{1F600}'), 0xd83d * 31 + 0xde00);
});

test('partitionFor uses Utils.abs, so Integer.MIN_VALUE lands on partition 0', () => {
  assert.equal(kafkaAbs(-2147483648), 0);
  assert.equal(kafkaAbs(-5), 5);
  assert.equal(partitionFor('polygenelubricants', 50), 0);
  assert.equal(partitionFor('hello', 50), 99162322 % 50);
});
