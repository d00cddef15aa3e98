import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { crc32c } from '../../../src/native/index.js';
import { ProtocolError } from '../../../src/protocol/primitives/protocol-error.js';
import {
  CompressionType,
  CorruptRecordBatchError,
  LOG_OVERHEAD,
  RECORD_BATCH_HEADER_SIZE,
  buildRecordBatch,
  buildRecordBatchSync,
  compressionOf,
  computeRecordBatchCrc,
  decodeRecordBatch,
  decodeRecordBatchSync,
  hasDeleteHorizon,
  isControlBatch,
  isRecordBatchCrcValid,
  isTransactional,
  iterateBatches,
  readRecordBatchHeader,
  recordBatchSize,
  setBaseOffset,
  setLogAppendTime,
  setPartitionLeaderEpoch,
  timestampTypeOf,
  type RecordInput,
} from '../../../src/protocol/records/record-batch.js';

// A transactional batch of two records as kafka-python 2.0.2's DefaultRecordBatchBuilder writes it
// (producerId 1234, producerEpoch 5, baseSequence 7), split by field.
const KNOWN_BATCH = Buffer.from(
  [
    '0000000000000000', // baseOffset 0
    '00000051', // batchLength 81
    '00000000', // partitionLeaderEpoch 0
    '02', // magic
    '0941cccc', // crc
    '0010', // attributes: transactional
    '00000001', // lastOffsetDelta 1
    '0000018bcfe56800', // baseTimestamp 1700000000000
    '0000018bcfe5687b', // maxTimestamp 1700000000123
    '00000000000004d2', // producerId 1234
    '0005', // producerEpoch
    '00000007', // baseSequence
    '00000002', // recordCount
    // record 0: length 20, attributes, timestampDelta 0, offsetDelta 0, key "key", value "value", 1 header h1=v1
    '28' + '00' + '00' + '00' + '06' + '6b6579' + '0a' + '76616c7565' + '02' + '04' + '6831' + '04' + '7631',
    // record 1: length 10, attributes, timestampDelta 123 (f6 01), offsetDelta 1, null key, empty value,
    // 1 header n=null
    '14' + '00' + 'f601' + '02' + '01' + '00' + '02' + '02' + '6e' + '01',
  ].join(''),
  'hex',
);

const KNOWN_RECORDS: RecordInput[] = [
  {
    key: Buffer.from('key'),
    value: Buffer.from('value'),
    headers: [{ key: 'h1', value: Buffer.from('v1') }],
    timestamp: 1700000000000,
  },
  { key: null, value: Buffer.alloc(0), headers: [{ key: 'n', value: null }], timestamp: 1700000000123 },
];

const CODECS = [
  CompressionType.NONE,
  CompressionType.GZIP,
  CompressionType.SNAPPY,
  CompressionType.LZ4,
  CompressionType.ZSTD,
] as const;

test('reads every header field of a hand-assembled batch', () => {
  assert.equal(KNOWN_BATCH.length, 93);
  assert.equal(recordBatchSize(KNOWN_BATCH), 93);
  assert.deepEqual(readRecordBatchHeader(KNOWN_BATCH), {
    baseOffset: 0,
    batchLength: 81,
    partitionLeaderEpoch: 0,
    magic: 2,
    crc: 0x0941cccc,
    attributes: 0x10,
    lastOffsetDelta: 1,
    baseTimestamp: 1700000000000,
    maxTimestamp: 1700000000123,
    producerId: 1234,
    producerEpoch: 5,
    baseSequence: 7,
    recordCount: 2,
  });
  assert.equal(isTransactional(0x10), true);
  assert.equal(isControlBatch(0x10), false);
  assert.equal(compressionOf(0x10), CompressionType.NONE);
  assert.equal(timestampTypeOf(0x10), 0);
});

test('the CRC is CRC32C over attributes .. end of batch', () => {
  assert.equal(computeRecordBatchCrc(KNOWN_BATCH), 0x0941cccc);
  assert.equal(crc32c(KNOWN_BATCH.subarray(21)), 0x0941cccc);
  assert.equal(isRecordBatchCrcValid(KNOWN_BATCH), true);
  // Bytes before the attributes are outside the CRC; every byte from the attributes on is inside it.
  for (const position of [0, 7, 12, 15]) {
    const copy = Buffer.from(KNOWN_BATCH);
    copy[position]! ^= 0xff;
    assert.equal(isRecordBatchCrcValid(copy), true, `byte ${position}`);
  }
  for (const position of [21, 22, 40, 60, 61, 92]) {
    const copy = Buffer.from(KNOWN_BATCH);
    copy[position]! ^= 0x01;
    assert.equal(isRecordBatchCrcValid(copy), false, `byte ${position}`);
  }
});

test('decodes the varint record fields and headers of the hand-assembled batch', async () => {
  const { records } = await decodeRecordBatch(KNOWN_BATCH);
  assert.equal(records.length, 2);
  const [first, second] = records as [(typeof records)[0], (typeof records)[0]];
  assert.equal(first.offset, 0);
  assert.equal(first.offsetDelta, 0);
  assert.equal(first.timestamp, 1700000000000);
  assert.equal(first.timestampDelta, 0);
  assert.equal(first.key?.toString(), 'key');
  assert.equal(first.value?.toString(), 'value');
  assert.deepEqual(first.headers, [{ key: 'h1', value: Buffer.from('v1') }]);
  assert.equal(second.offset, 1);
  assert.equal(second.timestamp, 1700000000123);
  assert.equal(second.timestampDelta, 123);
  assert.equal(second.key, null);
  assert.deepEqual(second.value, Buffer.alloc(0));
  assert.deepEqual(second.headers, [{ key: 'n', value: null }]);
  // Keys and values are views into the batch, not copies.
  assert.equal(first.key!.buffer, KNOWN_BATCH.buffer);
  assert.equal(first.key!.byteOffset, KNOWN_BATCH.byteOffset + 66);
  assert.deepEqual(decodeRecordBatchSync(KNOWN_BATCH).records, records);
});

test('the builder writes exactly the bytes of the hand-assembled batch', () => {
  const built = buildRecordBatchSync(KNOWN_RECORDS, {
    partitionLeaderEpoch: 0,
    producerId: 1234,
    producerEpoch: 5,
    baseSequence: 7,
    transactional: true,
  });
  assert.equal(built.toString('hex'), KNOWN_BATCH.toString('hex'));
});

test('builder defaults: producer fields -1, baseOffset 0, timestamps from the records', () => {
  const before = Date.now();
  const batch = buildRecordBatchSync([{ key: null, value: Buffer.from('x') }]);
  const header = readRecordBatchHeader(batch);
  assert.equal(header.baseOffset, 0);
  assert.equal(header.producerId, -1);
  assert.equal(header.producerEpoch, -1);
  assert.equal(header.baseSequence, -1);
  assert.equal(header.partitionLeaderEpoch, -1);
  assert.equal(header.attributes, 0);
  assert.equal(header.lastOffsetDelta, 0);
  assert.ok(header.baseTimestamp >= before && header.baseTimestamp <= Date.now());
  assert.equal(header.maxTimestamp, header.baseTimestamp);
});

test('explicit offset deltas and lastOffsetDelta survive (a compacted batch keeps its last offset)', async () => {
  const batch = buildRecordBatchSync(
    [
      { key: Buffer.from('a'), value: Buffer.from('1'), offsetDelta: 2, timestamp: 50 },
      { key: Buffer.from('b'), value: null, offsetDelta: 5, timestamp: 40 },
    ],
    { baseOffset: 100, lastOffsetDelta: 9, baseTimestamp: 45 },
  );
  const { header, records } = await decodeRecordBatch(batch);
  assert.equal(header.lastOffsetDelta, 9);
  assert.equal(header.baseTimestamp, 45);
  assert.equal(header.maxTimestamp, 50);
  assert.deepEqual(
    records.map((r) => [r.offset, r.offsetDelta, r.timestamp, r.timestampDelta]),
    [
      [102, 2, 50, 5],
      [105, 5, 40, -5],
    ],
  );
});

test('an empty batch (all records compacted away) round-trips', async () => {
  const batch = buildRecordBatchSync([], { baseOffset: 10, lastOffsetDelta: 4, baseTimestamp: 7 });
  assert.equal(batch.length, RECORD_BATCH_HEADER_SIZE);
  const { header, records } = await decodeRecordBatch(batch);
  assert.equal(header.recordCount, 0);
  assert.equal(header.lastOffsetDelta, 4);
  assert.deepEqual(records, []);
});

test('attribute flags: control, transactional, log append time, delete horizon, compression', async () => {
  const batch = await buildRecordBatch([{ key: null, value: Buffer.from('v'), timestamp: 1 }], {
    compression: CompressionType.ZSTD,
    transactional: true,
    control: true,
    timestampType: 1,
    deleteHorizon: true,
  });
  const { attributes } = readRecordBatchHeader(batch);
  assert.equal(attributes, 4 | 0x08 | 0x10 | 0x20 | 0x40);
  assert.equal(compressionOf(attributes), CompressionType.ZSTD);
  assert.equal(isTransactional(attributes), true);
  assert.equal(isControlBatch(attributes), true);
  assert.equal(timestampTypeOf(attributes), 1);
  assert.equal(hasDeleteHorizon(attributes), true);
});

const header = fc.record(
  {
    key: fc.string({ maxLength: 12 }),
    value: fc.option(fc.uint8Array({ maxLength: 20 }).map((a) => Buffer.from(a))),
  },
  { noNullPrototype: true },
);
const recordArb = fc.record(
  {
    key: fc.option(fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a))),
    value: fc.option(fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a))),
    headers: fc.array(header, { maxLength: 4 }),
    timestamp: fc.integer({ min: 0, max: 2 ** 42 }),
  },
  { requiredKeys: ['key', 'value'], noNullPrototype: true },
);

for (const compression of CODECS) {
  test(`random records round-trip with compression ${compression}`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(recordArb, { maxLength: 30 }),
        fc.integer({ min: 0, max: 2 ** 50 }),
        async (records, baseOffset) => {
          const batch = await buildRecordBatch(records, { compression, baseOffset });
          assert.equal(isRecordBatchCrcValid(batch), true);
          const decoded = await decodeRecordBatch(batch);
          assert.equal(decoded.header.recordCount, records.length);
          assert.equal(compressionOf(decoded.header.attributes), compression);
          assert.equal(decoded.records.length, records.length);
          records.forEach((input, i) => {
            const output = decoded.records[i]!;
            assert.equal(output.offset, baseOffset + i);
            assert.deepEqual(output.key, input.key);
            assert.deepEqual(output.value, input.value);
            assert.deepEqual(output.headers, input.headers ?? []);
            if (input.timestamp !== undefined) assert.equal(output.timestamp, input.timestamp);
          });
          if (compression === CompressionType.NONE || compression === CompressionType.GZIP) {
            assert.deepEqual(decodeRecordBatchSync(batch).records, decoded.records);
          }
        },
      ),
      { seed: 20261129 + compression, numRuns: 60 },
    );
  });

  test(`~1 MiB values round-trip with compression ${compression}`, async () => {
    // Half random, half repetitive: exercises both literal runs and matches, and several codec blocks.
    const big = Buffer.alloc(1024 * 1024 + 13);
    let seed = 12345;
    for (let i = 0; i < big.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      big[i] = i % 2048 < 1024 ? seed >>> 24 : i & 0x0f;
    }
    const records: RecordInput[] = [
      { key: Buffer.from('big'), value: big, timestamp: 1 },
      {
        key: null,
        value: big.subarray(0, 300_000),
        timestamp: 2,
        headers: [{ key: 'k', value: big.subarray(5, 9) }],
      },
    ];
    const batch = await buildRecordBatch(records, { compression });
    if (compression !== CompressionType.NONE) assert.ok(batch.length < big.length, 'compressed is smaller');
    const decoded = await decodeRecordBatch(batch);
    assert.equal(decoded.records.length, 2);
    assert.ok(decoded.records[0]!.value!.equals(big));
    assert.ok(decoded.records[1]!.value!.equals(big.subarray(0, 300_000)));
    assert.deepEqual(decoded.records[1]!.headers, [{ key: 'k', value: big.subarray(5, 9) }]);
  });
}

test('setBaseOffset and setPartitionLeaderEpoch stamp fields outside the CRC', async () => {
  const batch = await buildRecordBatch(KNOWN_RECORDS, { compression: CompressionType.LZ4 });
  const crc = readRecordBatchHeader(batch).crc;
  setBaseOffset(batch, 0, 2 ** 40 + 3);
  setPartitionLeaderEpoch(batch, 0, 17);
  const header = readRecordBatchHeader(batch);
  assert.equal(header.baseOffset, 2 ** 40 + 3);
  assert.equal(header.partitionLeaderEpoch, 17);
  assert.equal(header.crc, crc);
  assert.equal(isRecordBatchCrcValid(batch), true);
  const { records } = await decodeRecordBatch(batch);
  assert.deepEqual(
    records.map((r) => r.offset),
    [2 ** 40 + 3, 2 ** 40 + 4],
  );
});

test('setLogAppendTime sets the timestamp type and maxTimestamp and recomputes the CRC', async () => {
  const batch = Buffer.concat([Buffer.alloc(5), buildRecordBatchSync(KNOWN_RECORDS)]);
  const before = readRecordBatchHeader(batch, 5);
  setLogAppendTime(batch, 5, 1800000000000);
  const after = readRecordBatchHeader(batch, 5);
  assert.equal(timestampTypeOf(after.attributes), 1);
  assert.equal(after.maxTimestamp, 1800000000000);
  assert.notEqual(after.crc, before.crc);
  assert.equal(isRecordBatchCrcValid(batch, 5), true);
  const { records } = await decodeRecordBatch(batch, 5);
  // Consumers see log-append-time batches' records at the broker's timestamp.
  assert.deepEqual(
    records.map((r) => r.timestamp),
    [1800000000000, 1800000000000],
  );
});

test('iterateBatches walks concatenated batches and stops at a torn tail', async () => {
  const batches = [
    buildRecordBatchSync(KNOWN_RECORDS, { baseOffset: 0 }),
    await buildRecordBatch(KNOWN_RECORDS, { baseOffset: 2, compression: CompressionType.SNAPPY }),
    buildRecordBatchSync([], { baseOffset: 4, lastOffsetDelta: 0 }),
  ];
  const all = Buffer.concat(batches);
  const seen = [...iterateBatches(all)];
  assert.deepEqual(
    seen.map((b) => [b.position, b.size, b.header.baseOffset]),
    [
      [0, batches[0]!.length, 0],
      [batches[0]!.length, batches[1]!.length, 2],
      [batches[0]!.length + batches[1]!.length, RECORD_BATCH_HEADER_SIZE, 4],
    ],
  );
  for (const cut of [1, 11, 12, 60, 61, RECORD_BATCH_HEADER_SIZE + 5]) {
    const torn = all.subarray(
      0,
      batches[0]!.length + batches[1]!.length + Math.min(cut, batches[2]!.length - 1),
    );
    assert.equal([...iterateBatches(torn)].length, 2, `cut ${cut}`);
  }
  assert.equal([...iterateBatches(all.subarray(0, batches[0]!.length - 1))].length, 0);
  assert.equal([...iterateBatches(Buffer.alloc(0))].length, 0);
});

test('iterateBatches rejects an impossible batch length', () => {
  const batch = buildRecordBatchSync(KNOWN_RECORDS);
  batch.writeInt32BE(10, 8);
  assert.throws(() => [...iterateBatches(batch)], ProtocolError);
});

test('legacy magic 0 and 1 are recognised and rejected with a clear error', async () => {
  for (const magic of [0, 1]) {
    const batch = buildRecordBatchSync(KNOWN_RECORDS);
    batch[16] = magic;
    const message = `legacy message format v0/v1 (magic ${magic}) is not supported`;
    assert.throws(() => readRecordBatchHeader(batch), { name: 'ProtocolError', message });
    await assert.rejects(decodeRecordBatch(batch), { name: 'ProtocolError', message });
    assert.throws(() => [...iterateBatches(batch)], {
      name: 'ProtocolError',
      message: `${message} (at position 0)`,
    });
    // A v0 message set can be shorter than a v2 header: still named as legacy.
    assert.throws(() => readRecordBatchHeader(batch.subarray(0, 34)), { name: 'ProtocolError', message });
  }
  const batch = buildRecordBatchSync(KNOWN_RECORDS);
  batch[16] = 3;
  assert.throws(() => readRecordBatchHeader(batch), { name: 'ProtocolError', message: /magic 3/ });
});

test('header and size readers need enough bytes', () => {
  assert.throws(() => readRecordBatchHeader(KNOWN_BATCH.subarray(0, 60)), ProtocolError);
  assert.throws(() => readRecordBatchHeader(KNOWN_BATCH, 40), ProtocolError);
  assert.throws(() => recordBatchSize(KNOWN_BATCH.subarray(0, 11)), ProtocolError);
  assert.equal(recordBatchSize(KNOWN_BATCH.subarray(0, 12)), LOG_OVERHEAD + 81);
});

test('int64 header fields beyond the safe integer range are a ProtocolError', () => {
  for (const position of [0, 27, 35, 43]) {
    const batch = Buffer.from(KNOWN_BATCH);
    batch.writeBigInt64BE(2n ** 53n, position);
    assert.throws(() => readRecordBatchHeader(batch), ProtocolError, `field at ${position}`);
    batch.writeBigInt64BE(-(2n ** 53n), position);
    assert.throws(() => readRecordBatchHeader(batch), ProtocolError, `field at ${position}`);
    batch.writeBigInt64BE(2n ** 53n - 1n, position);
    assert.equal(Object.values(readRecordBatchHeader(batch)).includes(2 ** 53 - 1), true);
  }
});

test('decode rejects record-level inconsistencies with ProtocolError', async () => {
  const cases: [string, (b: Buffer) => void][] = [
    ['record count too high', (b) => b.writeInt32BE(3, 57)],
    ['record count too low', (b) => b.writeInt32BE(1, 57)],
    ['record count negative', (b) => b.writeInt32BE(-1, 57)],
    ['record count 2^31-1', (b) => b.writeInt32BE(0x7fffffff, 57)],
    ['record length too long', (b) => (b[61] = 0x7e)],
    ['key length beyond record', (b) => (b[65] = 0x40)],
    ['key length -2', (b) => (b[65] = 0x03)],
    ['negative header count', (b) => (b[76] = 0x01)],
    ['batch length beyond buffer', (b) => b.writeInt32BE(200, 8)],
    ['batch length too small', (b) => b.writeInt32BE(40, 8)],
  ];
  for (const [name, mutate] of cases) {
    const batch = Buffer.from(KNOWN_BATCH);
    mutate(batch);
    await assert.rejects(decodeRecordBatch(batch), ProtocolError, name);
    assert.throws(() => decodeRecordBatchSync(batch), ProtocolError, name);
  }
});

test('a compressed batch whose record count disagrees with its payload is rejected', async () => {
  for (const compression of CODECS) {
    const batch = await buildRecordBatch(KNOWN_RECORDS, { compression });
    batch.writeInt32BE(3, 57);
    await assert.rejects(decodeRecordBatch(batch), ProtocolError, `codec ${compression}`);
    batch.writeInt32BE(1, 57);
    await assert.rejects(decodeRecordBatch(batch), ProtocolError, `codec ${compression}`);
  }
});

test('LZ4 payload made of two concatenated frames decodes every record', async () => {
  const lz4 = await import('lz4-napi');
  const first = buildRecordBatchSync(KNOWN_RECORDS);
  const records = first.subarray(RECORD_BATCH_HEADER_SIZE);
  const split = records[0]! / 2 + 1; // inside the first record, so neither frame holds whole records
  const payload = Buffer.concat([
    await lz4.compressFrame(records.subarray(0, split)),
    await lz4.compressFrame(records.subarray(split)),
  ]);
  const batch = Buffer.concat([first.subarray(0, RECORD_BATCH_HEADER_SIZE), payload]);
  batch.writeInt32BE(batch.length - LOG_OVERHEAD, 8);
  batch.writeInt16BE(CompressionType.LZ4, 21);
  const { records: decoded } = await decodeRecordBatch(batch);
  assert.equal(decoded.length, 2);
  assert.equal(decoded[1]!.timestamp, 1700000000123);
});

test('sync build rejects codecs that are only available asynchronously; sync decode too', async () => {
  assert.throws(() => buildRecordBatchSync(KNOWN_RECORDS, { compression: CompressionType.ZSTD }), RangeError);
  const batch = await buildRecordBatch(KNOWN_RECORDS, { compression: CompressionType.SNAPPY });
  assert.throws(() => decodeRecordBatchSync(batch), ProtocolError);
  const gzip = buildRecordBatchSync(KNOWN_RECORDS, { compression: CompressionType.GZIP });
  assert.equal(decodeRecordBatchSync(gzip).records.length, 2);
});

test('decompressed size limit applies to batches', async () => {
  const batch = await buildRecordBatch([{ key: null, value: Buffer.alloc(100_000), timestamp: 0 }], {
    compression: CompressionType.ZSTD,
  });
  await assert.rejects(decodeRecordBatch(batch, 0, { maxDecompressedSize: 50_000 }), ProtocolError);
  assert.equal((await decodeRecordBatch(batch, 0, { maxDecompressedSize: 200_000 })).records.length, 1);
});

test('verifyCrc rejects a corrupted batch; without it decoding does not look at the CRC', async () => {
  const batch = Buffer.from(KNOWN_BATCH);
  batch[70]! ^= 0x20; // a byte of the first key: still well-formed
  await assert.rejects(decodeRecordBatch(batch, 0, { verifyCrc: true }), {
    name: 'ProtocolError',
    message: /CRC/,
  });
  assert.throws(() => decodeRecordBatchSync(batch, 0, { verifyCrc: true }), ProtocolError);
  assert.equal((await decodeRecordBatch(batch)).records.length, 2);
  assert.equal((await decodeRecordBatch(KNOWN_BATCH, 0, { verifyCrc: true })).records.length, 2);
});

test('records without headers share a frozen empty array', async () => {
  const batch = buildRecordBatchSync([
    { key: null, value: null },
    { key: null, value: null },
  ]);
  const { records } = await decodeRecordBatch(batch);
  assert.deepEqual(records[0]!.headers, []);
  assert.ok(Object.isFrozen(records[0]!.headers));
  assert.throws(() => records[1]!.headers.push({ key: 'x', value: null }), TypeError);
});

test('iterateBatches reports where a corrupt batch starts (zero-filled tail, bad magic)', () => {
  const good = buildRecordBatchSync(KNOWN_RECORDS);
  const zeros = Buffer.concat([good, good, Buffer.alloc(200)]);
  const seen: number[] = [];
  assert.throws(
    () => {
      for (const batch of iterateBatches(zeros)) seen.push(batch.position);
    },
    (err: unknown) =>
      err instanceof CorruptRecordBatchError &&
      err instanceof ProtocolError &&
      err.position === 2 * good.length,
  );
  assert.deepEqual(seen, [0, good.length]);
  const badMagic = Buffer.concat([good, good]);
  badMagic[good.length + 16] = 7;
  assert.throws(() => [...iterateBatches(badMagic)], { name: 'ProtocolError', position: good.length });
  // A partial zero tail shorter than the length field is just a torn write: iteration stops.
  assert.equal([...iterateBatches(Buffer.concat([good, Buffer.alloc(11)]))].length, 1);
});

test('an empty batch with a codec bit and no payload decodes to no records', async () => {
  for (const compression of CODECS) {
    const batch = buildRecordBatchSync([], { baseOffset: 3 });
    batch.writeInt16BE(compression, 21);
    assert.deepEqual((await decodeRecordBatch(batch)).records, []);
    if (compression <= CompressionType.GZIP) assert.deepEqual(decodeRecordBatchSync(batch).records, []);
  }
});

test('the builder rejects values it cannot encode exactly', () => {
  const record = { key: null, value: null };
  assert.throws(() => buildRecordBatchSync([{ ...record, offsetDelta: 2 ** 31 }]), RangeError);
  assert.throws(() => buildRecordBatchSync([{ ...record, offsetDelta: 1.5 }]), RangeError);
  assert.throws(() => buildRecordBatchSync([{ ...record, timestamp: 2 ** 53 }]), RangeError);
  assert.throws(
    () => buildRecordBatchSync([{ ...record, timestamp: 2 ** 52 }], { baseTimestamp: -(2 ** 52) }),
    RangeError,
  );
  assert.throws(() => buildRecordBatchSync([record], { baseOffset: 2 ** 53 }), RangeError);
  assert.throws(() => buildRecordBatchSync([record], { producerId: -(2 ** 53) }), RangeError);
});

test('extreme but exact values round-trip: large offsets, negative deltas, -1 timestamps', async () => {
  const batch = buildRecordBatchSync(
    [
      { key: null, value: null, timestamp: -1, offsetDelta: 0 },
      { key: null, value: null, timestamp: 2 ** 50, offsetDelta: 2 ** 31 - 1 },
    ],
    { baseOffset: Number.MAX_SAFE_INTEGER - 2 ** 31, baseTimestamp: 2 ** 50 - 2 ** 51 + 5 },
  );
  const { records } = await decodeRecordBatch(batch);
  assert.deepEqual(
    records.map((r) => [r.offset, r.timestamp]),
    [
      [Number.MAX_SAFE_INTEGER - 2 ** 31, -1],
      [Number.MAX_SAFE_INTEGER - 1, 2 ** 50],
    ],
  );
  // One offset further would leave the safe range: a ProtocolError, not a rounded offset.
  setBaseOffset(batch, 0, Number.MAX_SAFE_INTEGER - 2 ** 31 + 2);
  await assert.rejects(decodeRecordBatch(batch), ProtocolError);
});
