import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ProtocolError } from '../../../src/protocol/primitives/protocol-error.js';
import {
  readUnsignedVarint,
  readVarint,
  readVarlong,
  unsignedVarintSize,
  varintSize,
  varlongSize,
  writeUnsignedVarint,
  writeVarint,
  writeVarlong,
} from '../../../src/protocol/primitives/varint.js';

test('known encodings match Kafka (zig-zag: 0->00, -1->01, 1->02, 300 unsigned -> ac 02)', () => {
  const buf = new Uint8Array(10);
  assert.equal(writeVarint(buf, 0, 0), 1);
  assert.equal(buf[0], 0x00);
  writeVarint(buf, 0, -1);
  assert.equal(buf[0], 0x01);
  writeVarint(buf, 0, 1);
  assert.equal(buf[0], 0x02);
  assert.equal(writeUnsignedVarint(buf, 0, 300), 2);
  assert.deepEqual([...buf.subarray(0, 2)], [0xac, 0x02]);
});

test('unsigned varint round-trips every 32-bit value and reports its size', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), (value) => {
      const buf = new Uint8Array(5);
      const end = writeUnsignedVarint(buf, 0, value);
      assert.equal(end, unsignedVarintSize(value));
      assert.deepEqual(readUnsignedVarint(buf, 0), { value, offset: end });
    }),
  );
});

test('signed varint and varlong round-trip', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: -0x80000000, max: 0x7fffffff }),
      fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n),
      (i, l) => {
        const buf = new Uint8Array(10);
        const end = writeVarint(buf, 0, i);
        assert.equal(end, varintSize(i));
        assert.deepEqual(readVarint(buf, 0), { value: i, offset: end });
        const endL = writeVarlong(buf, 0, l);
        assert.equal(endL, varlongSize(l));
        assert.deepEqual(readVarlong(buf, 0), { value: l, offset: endL });
      },
    ),
  );
});

test('truncated and over-long varints throw ProtocolError', () => {
  assert.throws(() => readUnsignedVarint(Uint8Array.of(0x80), 0), ProtocolError);
  assert.throws(
    () => readUnsignedVarint(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x01), 0),
    ProtocolError,
  );
  assert.throws(() => readVarlong(new Uint8Array(11).fill(0x80), 0), ProtocolError);
  assert.throws(() => readVarint(new Uint8Array(0), 0), ProtocolError);
});
