import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeAppendCompletion, encodeAppendCompletion } from '../../src/partition/messages.js';
import type { AppendOutcome, HostFailure } from '../../src/partition/partition-host.js';

test('append completions carry the duplicate flag of an idempotent retry', () => {
  const fresh: AppendOutcome = {
    ok: true,
    baseOffset: 7,
    logAppendTime: -1,
    logStartOffset: 0,
    logEndOffset: 10,
  };
  const duplicate: AppendOutcome = { ...fresh, baseOffset: 3, logAppendTime: 1700000000000, duplicate: true };
  assert.deepEqual(decodeAppendCompletion(encodeAppendCompletion(5, fresh)), { id: 5, outcome: fresh });
  assert.deepEqual(decodeAppendCompletion(encodeAppendCompletion(6, duplicate)), {
    id: 6,
    outcome: duplicate,
  });
});

test('every append failure reason survives the ring, the producer ones included', () => {
  const reasons: HostFailure[] = [
    'corrupt-message',
    'record-too-large',
    'invalid-record',
    'invalid-timestamp',
    'out-of-order-offsets',
    'unknown-partition',
    'offset-out-of-range',
    'storage-error',
    'out-of-order-sequence',
    'invalid-producer-epoch',
  ];
  for (const reason of reasons) {
    const outcome: AppendOutcome = { ok: false, reason, message: `because ${reason}` };
    assert.deepEqual(decodeAppendCompletion(encodeAppendCompletion(1, outcome)).outcome, outcome);
  }
});
