import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, allErrors, errorInfo, type ErrorCodeName } from '../../src/protocol/error-codes.js';

test('codes run contiguously from -1 to the highest code with no duplicates', () => {
  const codes = Object.values(ErrorCode);
  assert.equal(new Set(codes).size, codes.length);
  const sorted = [...codes].sort((a, b) => a - b);
  assert.equal(sorted[0], -1);
  sorted.forEach((code, i) => assert.equal(code, i - 1));
  assert.ok(sorted.length >= 122);
});

test('names are unique and map back to their codes', () => {
  const errors = allErrors();
  assert.equal(new Set(errors.map((e) => e.name)).size, errors.length);
  for (const e of errors) {
    assert.equal(ErrorCode[e.name as ErrorCodeName], e.code);
    assert.ok(e.message.length > 0);
  }
});

test('well-known codes have Kafka names and numbers', () => {
  const expected: [ErrorCodeName, number][] = [
    ['UNKNOWN_SERVER_ERROR', -1],
    ['NONE', 0],
    ['OFFSET_OUT_OF_RANGE', 1],
    ['CORRUPT_MESSAGE', 2],
    ['UNKNOWN_TOPIC_OR_PARTITION', 3],
    ['NOT_LEADER_OR_FOLLOWER', 6],
    ['NOT_COORDINATOR', 16],
    ['ILLEGAL_GENERATION', 22],
    ['UNKNOWN_MEMBER_ID', 25],
    ['REBALANCE_IN_PROGRESS', 27],
    ['UNSUPPORTED_VERSION', 35],
    ['OUT_OF_ORDER_SEQUENCE_NUMBER', 45],
    ['UNKNOWN_PRODUCER_ID', 59],
    ['MEMBER_ID_REQUIRED', 79],
    ['FENCED_INSTANCE_ID', 82],
    ['UNSTABLE_OFFSET_COMMIT', 88],
    ['PRODUCER_FENCED', 90],
    ['UNKNOWN_TOPIC_ID', 100],
    ['FENCED_MEMBER_EPOCH', 110],
    ['TRANSACTION_ABORTABLE', 120],
    ['SHARE_SESSION_LIMIT_REACHED', 133],
  ];
  for (const [name, code] of expected) {
    assert.equal(ErrorCode[name], code, name);
    assert.equal(errorInfo(code).name, name);
  }
});

test('retriable flags follow Kafka', () => {
  const retriable = [2, 3, 5, 6, 7, 9, 13, 14, 15, 16, 19, 20, 41, 51, 56, 74, 75, 78, 88, 89, 100];
  const fatal = [-1, 0, 1, 4, 8, 10, 17, 22, 25, 27, 29, 35, 36, 45, 47, 59, 79, 82, 87, 90, 110, 120];
  for (const code of retriable) assert.equal(errorInfo(code).retriable, true, errorInfo(code).name);
  for (const code of fatal) assert.equal(errorInfo(code).retriable, false, errorInfo(code).name);
});

test('unknown codes get a generic entry and never throw', () => {
  for (const code of [-2, 134, 999, 32767, -32768, 1.5, Number.NaN]) {
    const info = errorInfo(code);
    assert.equal(info.code, code);
    assert.equal(info.name, 'UNKNOWN_ERROR_CODE');
    assert.equal(info.retriable, false);
  }
});
