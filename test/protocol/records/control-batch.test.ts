import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProtocolError } from '../../../src/protocol/primitives/protocol-error.js';
import {
  ControlRecordType,
  buildEndTransactionMarkerBatch,
  encodeControlKey,
  encodeEndTransactionMarkerValue,
  isTransactionMarkerBatch,
  readControlRecordType,
  readEndTransactionMarker,
} from '../../../src/protocol/records/control-batch.js';
import {
  buildRecordBatchSync,
  decodeRecordBatch,
  isControlBatch,
  isRecordBatchCrcValid,
  isTransactional,
  readRecordBatchHeader,
} from '../../../src/protocol/records/record-batch.js';

test('control key and end-transaction marker value bytes', () => {
  assert.equal(encodeControlKey(ControlRecordType.ABORT).toString('hex'), '00000000');
  assert.equal(encodeControlKey(ControlRecordType.COMMIT).toString('hex'), '00000001');
  assert.equal(encodeEndTransactionMarkerValue(0x01020304).toString('hex'), '000001020304');
});

for (const [name, type] of Object.entries(ControlRecordType)) {
  test(`a ${name} marker batch is a one-record control+transactional batch`, async () => {
    const batch = buildEndTransactionMarkerBatch(
      { type, coordinatorEpoch: 42 },
      { producerId: 9000, producerEpoch: 3, baseOffset: 77, partitionLeaderEpoch: 4, timestamp: 1234 },
    );
    assert.equal(isRecordBatchCrcValid(batch), true);
    const header = readRecordBatchHeader(batch);
    assert.equal(isControlBatch(header.attributes), true);
    assert.equal(isTransactional(header.attributes), true);
    assert.equal(isTransactionMarkerBatch(header), true);
    assert.equal(header.attributes, 0x30);
    assert.equal(header.producerId, 9000);
    assert.equal(header.producerEpoch, 3);
    assert.equal(header.baseSequence, -1);
    assert.equal(header.baseOffset, 77);
    assert.equal(header.partitionLeaderEpoch, 4);
    assert.equal(header.recordCount, 1);
    assert.equal(header.lastOffsetDelta, 0);
    const { records } = await decodeRecordBatch(batch);
    assert.equal(records.length, 1);
    const record = records[0]!;
    assert.equal(record.offset, 77);
    assert.equal(record.timestamp, 1234);
    assert.equal(readControlRecordType(record.key), type);
    assert.deepEqual(readEndTransactionMarker(record.key, record.value), { type, coordinatorEpoch: 42 });
  });
}

test('data batches are not marker batches, even when transactional', () => {
  const batch = buildRecordBatchSync([{ key: null, value: Buffer.from('x') }], { transactional: true });
  assert.equal(isTransactionMarkerBatch(readRecordBatchHeader(batch)), false);
});

test('malformed control records are a ProtocolError', () => {
  const commit = encodeControlKey(ControlRecordType.COMMIT);
  const value = encodeEndTransactionMarkerValue(1);
  assert.throws(() => readControlRecordType(null), ProtocolError);
  assert.throws(() => readControlRecordType(commit.subarray(0, 3)), ProtocolError);
  assert.throws(() => readControlRecordType(Buffer.from('ffff0001', 'hex')), ProtocolError);
  assert.throws(() => readEndTransactionMarker(commit, null), ProtocolError);
  assert.throws(() => readEndTransactionMarker(commit, value.subarray(0, 5)), ProtocolError);
  // Type 2 is KRaft's leader change record: a control record, but not an end-transaction marker.
  assert.equal(readControlRecordType(encodeControlKey(2)), 2);
  assert.throws(() => readEndTransactionMarker(encodeControlKey(2), value), { message: /type 2/ });
});
