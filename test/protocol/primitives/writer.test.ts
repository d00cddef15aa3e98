import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Reader } from '../../../src/protocol/primitives/reader.js';
import {
  readUnknownTaggedFields,
  writeTaggedFields,
} from '../../../src/protocol/primitives/tagged-fields.js';
import { LARGE_CHUNK, Writer } from '../../../src/protocol/primitives/writer.js';

test('writer grows past its initial capacity and keeps every byte', () => {
  const w = new Writer(4);
  for (let i = 0; i < 1000; i++) w.int32(i);
  const buf = w.toBuffer();
  assert.equal(buf.length, 4000);
  const r = new Reader(buf);
  for (let i = 0; i < 1000; i++) assert.equal(r.int32(), i);
});

test('fixed-width, varint, string and bytes encodings', () => {
  const w = new Writer(8);
  w.int8(-1);
  w.int16(-2);
  w.uint16(65535);
  w.uint32(0xfffffffe);
  w.int64(-3n);
  w.float64(1.5);
  w.bool(true);
  w.unsignedVarint(300);
  w.string(false, 'hé');
  w.string(true, 'hé');
  w.nullableString(false, null);
  w.nullableString(true, null);
  w.nullableBytes(false, null);
  w.nullableBytes(true, Buffer.from([9]));
  w.arrayLength(true, -1);
  w.arrayLength(false, 2);
  assert.deepEqual(
    w.toBuffer(),
    Buffer.from(
      'ff fffe ffff fffffffe fffffffffffffffd 3ff8000000000000 01 ac02 0003 68c3a9 04 68c3a9 ffff 00 ffffffff 02 09 00 00000002'.replace(
        / /g,
        '',
      ),
      'hex',
    ),
  );
});

test('uuid rejects anything but 22 base64url characters', () => {
  assert.throws(() => new Writer().uuid('abc'), { name: 'ProtocolError' });
  assert.throws(() => new Writer().uuid('AAAAAAAAAAAAAAAAAAAAAAAA'), { name: 'ProtocolError' });
});

test('strings longer than an int16 length are refused', () => {
  assert.throws(() => new Writer().string(false, 'x'.repeat(0x8000)), { name: 'ProtocolError' });
});

test('toChunks keeps RecordsRefs and large buffers by reference; toBuffer refuses a RecordsRef', () => {
  const big = Buffer.alloc(LARGE_CHUNK, 1);
  const ref = { byteLength: 100 };
  const w = new Writer(16);
  w.int32(0);
  w.records(false, big);
  w.int8(5);
  w.records(true, ref);
  w.int8(6);
  assert.equal(w.length, 4 + 4 + LARGE_CHUNK + 1 + 1 + 100 + 1);
  w.patchSizePrefix();
  const chunks = w.toChunks();
  assert.equal(chunks.length, 5);
  assert.equal(chunks[1], big);
  assert.equal(chunks[3], ref);
  const head = Buffer.alloc(8);
  head.writeInt32BE(w.length - 4, 0);
  head.writeInt32BE(LARGE_CHUNK, 4);
  assert.deepEqual(chunks[0], head);
  assert.deepEqual(chunks[2], Buffer.from([5, 101]));
  assert.deepEqual(chunks[4], Buffer.from([6]));
  assert.throws(() => w.toBuffer(), /RecordsRef/);
});

test('tagged fields are written sorted by tag and read back raw', () => {
  const w = new Writer();
  writeTaggedFields(w, [
    { tag: 9, data: Buffer.from([1, 2]) },
    { tag: 1, data: Buffer.alloc(0) },
  ]);
  assert.deepEqual(w.toBuffer(), Buffer.from([2, 1, 0, 9, 2, 1, 2]));
  assert.deepEqual(readUnknownTaggedFields(new Reader(w.toBuffer())), [
    { tag: 1, data: Buffer.alloc(0) },
    { tag: 9, data: Buffer.from([1, 2]) },
  ]);
  assert.throws(
    () =>
      writeTaggedFields(new Writer(), [
        { tag: 1, data: Buffer.alloc(0) },
        { tag: 1, data: Buffer.alloc(0) },
      ]),
    { name: 'ProtocolError' },
  );
});

test('frame writers share a scratch buffer, but what they return survives the next frame', () => {
  const first = Writer.forFrame();
  first.int32(0x11111111);
  first.raw(Buffer.alloc(100_000, 0xaa)); // grows the scratch buffer
  const ref = { byteLength: 3 };
  first.records(false, ref);
  first.int8(1);
  const firstChunks = first.toChunks();
  const firstCopy = firstChunks.map((c) => (Buffer.isBuffer(c) ? Buffer.from(c) : c));

  const second = Writer.forFrame();
  second.int32(0x22222222);
  const secondBuffer = second.toBuffer();
  const third = Writer.forFrame();
  third.raw(Buffer.alloc(200_000, 0xbb));
  third.toBuffer();

  assert.deepEqual(firstChunks, firstCopy);
  assert.deepEqual(secondBuffer, Buffer.from('22222222', 'hex'));
  assert.throws(() => second.toBuffer(), /took over/);
});
