import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProtocolError } from '../../../src/protocol/primitives/protocol-error.js';
import { Reader } from '../../../src/protocol/primitives/reader.js';

const hex = (s: string) => Buffer.from(s.replace(/ /g, ''), 'hex');

test('reads respect a subarray of a larger buffer (DataView offset)', () => {
  const outer = hex('aaaa 00000007 bbbb');
  const r = new Reader(outer.subarray(2, 6));
  assert.equal(r.int32(), 7);
  assert.throws(() => r.int8(), ProtocolError);
});

test('every truncated fixed-width read throws ProtocolError', () => {
  for (const read of [
    'int8',
    'int16',
    'uint16',
    'int32',
    'uint32',
    'int64',
    'float64',
    'bool',
    'uuid',
  ] as const) {
    assert.throws(() => new Reader(Buffer.alloc(0))[read](), ProtocolError, read);
  }
});

test('lengths larger than the remaining bytes fail before allocating', () => {
  assert.throws(() => new Reader(hex('7fffffff 00')).bytes(false), /exceeds/);
  assert.throws(() => new Reader(hex('7fff 00')).string(false), /exceeds/);
  assert.throws(() => new Reader(hex('ffffffff0f')).bytes(true), /exceeds/);
  assert.throws(() => new Reader(hex('7fffffff')).arrayLength(false, false), /exceeds/);
  assert.throws(() => new Reader(hex('ffffffff0f')).arrayLength(true, true), /exceeds/);
  assert.throws(() => new Reader(hex('fffe')).string(false), /negative/);
  assert.throws(() => new Reader(hex('ffffffff')).arrayLength(false, false), /non-nullable/);
  assert.equal(new Reader(hex('ffffffff')).arrayLength(false, true), -1);
  assert.equal(new Reader(hex('00')).arrayLength(true, true), -1);
  assert.throws(() => new Reader(hex('ffff')).string(false), /non-nullable/);
  assert.equal(new Reader(hex('ffff')).nullableString(false), null);
  assert.equal(new Reader(hex('00')).nullableString(true), null);
});

test('varints longer than 5 bytes or truncated are errors', () => {
  assert.throws(() => new Reader(hex('ffffffffff01')).unsignedVarint(), /longer/);
  assert.throws(() => new Reader(hex('ff')).unsignedVarint(), /truncated/);
  assert.equal(new Reader(hex('ffffffff0f')).unsignedVarint(), 0xffffffff);
});

test('bytes are zero-copy views of the input', () => {
  const input = hex('00000002 abcd');
  const b = new Reader(input).bytes(false);
  assert.equal(b.buffer, input.buffer);
  assert.equal(b.byteOffset, input.byteOffset + 4);
});

test('a tagged value must use exactly its declared size', () => {
  const r = new Reader(hex('00000001 00'));
  const outer = r.pushLimit(3);
  r.int16();
  assert.throws(() => r.popLimit(outer), /size/);
  const r2 = new Reader(hex('0001'));
  const outer2 = r2.pushLimit(1);
  assert.throws(() => r2.int16(), ProtocolError);
  assert.throws(() => new Reader(hex('00')).pushLimit(2), ProtocolError);
  void outer2;
});
