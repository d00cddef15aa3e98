import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ProtocolError } from '../../../src/protocol/primitives/protocol-error.js';
import {
  CompressionType,
  buildRecordBatch,
  decodeRecordBatch,
  decodeRecordBatchSync,
  isRecordBatchCrcValid,
  iterateBatches,
  readRecordBatchHeader,
  recordBatchSize,
  type RecordInput,
} from '../../../src/protocol/records/record-batch.js';
import { readEndTransactionMarker } from '../../../src/protocol/records/control-batch.js';

const SEED = 424242;

/** Runs every reader over `bytes`; anything thrown other than a ProtocolError fails the property. */
async function readAll(bytes: Uint8Array): Promise<number> {
  let decoded = 0;
  const only = (err: unknown) => {
    if (!(err instanceof ProtocolError)) throw err;
  };
  try {
    readRecordBatchHeader(bytes);
  } catch (err) {
    only(err);
  }
  try {
    recordBatchSize(bytes);
  } catch (err) {
    only(err);
  }
  try {
    isRecordBatchCrcValid(bytes);
    for (const batch of iterateBatches(bytes)) assert.ok(batch.size >= 61);
  } catch (err) {
    only(err);
  }
  try {
    const { records, header } = await decodeRecordBatch(bytes, 0, { maxDecompressedSize: 1 << 20 });
    assert.equal(records.length, header.recordCount);
    for (const record of records) {
      try {
        readEndTransactionMarker(record.key, record.value);
      } catch (err) {
        only(err);
      }
    }
    decoded++;
  } catch (err) {
    only(err);
  }
  try {
    decodeRecordBatchSync(bytes, 0, { maxDecompressedSize: 1 << 20 });
  } catch (err) {
    only(err);
  }
  return decoded;
}

async function sampleBatches(): Promise<Buffer[]> {
  const records: RecordInput[] = [
    {
      key: Buffer.from('k1'),
      value: Buffer.from('value one'),
      timestamp: 1000,
      headers: [{ key: 'h', value: null }],
    },
    { key: null, value: Buffer.alloc(40, 3), timestamp: 990 },
    {
      key: Buffer.alloc(0),
      value: null,
      timestamp: 2 ** 41,
      headers: [{ key: 'é', value: Buffer.from('x') }],
    },
  ];
  const batches: Buffer[] = [];
  for (const compression of Object.values(CompressionType)) {
    batches.push(await buildRecordBatch(records, { compression, baseOffset: 12, producerId: 5 }));
  }
  return batches;
}

test('fuzz: random bytes throw only ProtocolError', { timeout: 60_000 }, async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async (bytes) => {
      await readAll(bytes);
    }),
    { seed: SEED, numRuns: 1500 },
  );
});

test(
  'fuzz: random bytes behind a plausible v2 header throw only ProtocolError',
  { timeout: 60_000 },
  async () => {
    const [plain] = await sampleBatches();
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 300 }),
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: -5, max: 100 }),
        async (tail, compression, recordCount) => {
          const bytes = Buffer.concat([plain!.subarray(0, 61), tail]);
          bytes.writeInt32BE(bytes.length - 12, 8);
          bytes.writeInt16BE(compression, 21);
          bytes.writeInt32BE(recordCount, 57);
          await readAll(bytes);
        },
      ),
      { seed: SEED + 1, numRuns: 1500 },
    );
  },
);

test(
  'fuzz: every truncation of a valid batch is a ProtocolError from decode',
  { timeout: 60_000 },
  async () => {
    for (const batch of await sampleBatches()) {
      for (let cut = 0; cut < batch.length; cut++) {
        const torn = batch.subarray(0, cut);
        await assert.rejects(decodeRecordBatch(torn), ProtocolError, `cut ${cut} of ${batch.length}`);
        assert.equal(await readAll(torn), 0);
        assert.equal([...iterateBatches(torn)].length, 0);
      }
    }
  },
);

test(
  'fuzz: single-byte mutations of valid batches decode or throw ProtocolError',
  { timeout: 60_000 },
  async () => {
    const batches = await sampleBatches();
    let decoded = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: batches.length - 1 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        async (which, where, xor) => {
          const bytes = Buffer.from(batches[which]!);
          const position = where % bytes.length;
          bytes[position]! ^= xor;
          decoded += await readAll(bytes);
          // The CRC catches every single-byte change inside its range.
          if (position >= 21) assert.equal(isRecordBatchCrcValid(bytes), false);
        },
      ),
      { seed: SEED + 2, numRuns: 3000 },
    );
    // Sanity: the mutations are not all rejected early (baseOffset/epoch/timestamp changes still decode).
    assert.ok(decoded > 100, `decoded ${decoded}`);
  },
);

test('a record count of 2^31-1 in a small batch is rejected before any allocation', async () => {
  for (const batch of await sampleBatches()) {
    const bytes = Buffer.from(batch);
    bytes.writeInt32BE(0x7fffffff, 57);
    await assert.rejects(decodeRecordBatch(bytes), { name: 'ProtocolError', message: /cannot fit/ });
  }
});

test('a header count of 2^31-1 in a record is rejected before any allocation', async () => {
  const [plain] = await sampleBatches();
  const bytes = Buffer.from(plain!);
  // Record 0 is: length, attributes, timestampDelta, offsetDelta, key (len 2), value (len 9), header count.
  const headerCountAt = 61 + 1 + 1 + 1 + 1 + 3 + 10;
  assert.equal(bytes[headerCountAt], 2);
  bytes.set([0xfe, 0xff, 0xff, 0xff, 0x0f], headerCountAt);
  await assert.rejects(decodeRecordBatch(bytes), ProtocolError);
});
