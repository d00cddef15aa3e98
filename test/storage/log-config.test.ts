import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ConfigError,
  DEFAULT_LOG_CONFIG,
  LONG_MAX,
  logConfigFromBrokerProps,
  logConfigToProps,
  resolveLogConfig,
  validateTopicConfig,
} from '../../src/storage/log-config.js';

test("defaults are Kafka's", () => {
  const c = DEFAULT_LOG_CONFIG;
  assert.equal(c.segmentBytes, 1073741824);
  assert.equal(c.segmentMs, 604800000);
  assert.equal(c.segmentIndexBytes, 10485760);
  assert.equal(c.indexIntervalBytes, 4096);
  assert.equal(c.retentionMs, 604800000);
  assert.equal(c.retentionBytes, -1);
  assert.deepEqual(c.cleanupPolicy, { delete: true, compact: false });
  assert.equal(c.deleteRetentionMs, 86400000);
  assert.equal(c.minCleanableDirtyRatio, 0.5);
  assert.equal(c.minCompactionLagMs, 0);
  assert.equal(c.maxCompactionLagMs, LONG_MAX);
  assert.equal(c.flushMessages, LONG_MAX);
  assert.equal(c.flushMs, LONG_MAX);
  assert.equal(c.messageTimestampType, 'CreateTime');
  assert.equal(c.maxMessageBytes, 1048588);
  assert.equal(c.fileDeleteDelayMs, 60000);
});

test('topic overrides use Kafka names; strings and numbers both accepted', () => {
  const c = resolveLogConfig({
    'segment.bytes': '1048576',
    'cleanup.policy': 'compact,delete',
    'min.cleanable.dirty.ratio': 0.1,
    'flush.messages': '9223372036854775807',
    'message.timestamp.type': 'LogAppendTime',
    preallocate: 'true',
  });
  assert.equal(c.segmentBytes, 1048576);
  assert.deepEqual(c.cleanupPolicy, { delete: true, compact: true });
  assert.equal(c.minCleanableDirtyRatio, 0.1);
  assert.equal(c.flushMessages, LONG_MAX);
  assert.equal(c.messageTimestampType, 'LogAppendTime');
  assert.equal(c.preallocate, true);
  assert.equal(logConfigToProps(c)['flush.messages'], '9223372036854775807');
  assert.equal(logConfigToProps(c)['cleanup.policy'], 'delete,compact');
});

test('bad values are rejected with the key and the allowed range', () => {
  const cases: [Record<string, string | number>, RegExp][] = [
    [{ 'segment.bytes': 10 }, /segment\.bytes.*\[14, 2147483647\]/],
    [{ 'segment.bytes': 'lots' }, /segment\.bytes.*an integer in \[14, 2147483647\]/],
    [{ 'segment.ms': 0 }, /segment\.ms.*\[1, 9223372036854775807\]/],
    [{ 'retention.ms': -2 }, /retention\.ms.*\[-1, 9223372036854775807\]/],
    [{ 'min.cleanable.dirty.ratio': 1.5 }, /min\.cleanable\.dirty\.ratio.*a number in \[0, 1\]/],
    [{ 'cleanup.policy': 'compress' }, /cleanup\.policy.*list of delete, compact/],
    [{ 'message.timestamp.type': 'Now' }, /message\.timestamp\.type.*one of CreateTime, LogAppendTime/],
    [{ 'flush.messages': 0 }, /flush\.messages.*\[1, 9223372036854775807\]/],
    [{ 'index.interval.bytes': -1 }, /index\.interval\.bytes.*\[0, 2147483647\]/],
    [{ 'segment.index.bytes': 3 }, /segment\.index\.bytes.*\[4, 2147483647\]/],
    [{ preallocate: 'yes' }, /preallocate.*true or false/],
  ];
  for (const [overrides, pattern] of cases) {
    assert.throws(
      () => validateTopicConfig(overrides),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.key === Object.keys(overrides)[0] &&
        pattern.test(error.message),
      JSON.stringify(overrides),
    );
  }
  assert.throws(() => resolveLogConfig({ 'segment.byte': 1 }), /Unknown topic configuration segment\.byte/);
});

test('broker defaults: log.-prefixed names and Kafka precedence of ms > minutes > hours', () => {
  assert.equal(logConfigFromBrokerProps({ 'log.retention.hours': '24' }).retentionMs, 86400000);
  assert.equal(
    logConfigFromBrokerProps({ 'log.retention.hours': '24', 'log.retention.minutes': '5' }).retentionMs,
    300000,
  );
  assert.equal(
    logConfigFromBrokerProps({
      'log.retention.hours': '24',
      'log.retention.minutes': '5',
      'log.retention.ms': '7',
    }).retentionMs,
    7,
  );
  assert.equal(logConfigFromBrokerProps({ 'log.retention.ms': '-1' }).retentionMs, -1);
  assert.equal(logConfigFromBrokerProps({ 'log.roll.hours': '1' }).segmentMs, 3600000);
  const c = logConfigFromBrokerProps({
    'log.segment.bytes': '1048576',
    'log.flush.interval.messages': '1',
    'log.cleanup.policy': 'compact',
    'message.max.bytes': '2000000',
    'log.index.interval.bytes': '100',
    'num.partitions': '3',
  });
  assert.equal(c.segmentBytes, 1048576);
  assert.equal(c.flushMessages, 1);
  assert.deepEqual(c.cleanupPolicy, { delete: false, compact: true });
  assert.equal(c.maxMessageBytes, 2000000);
  assert.equal(c.indexIntervalBytes, 100);
  // Topic overrides layer on top of broker defaults.
  assert.equal(resolveLogConfig({ 'flush.messages': 5 }, c).flushMessages, 5);
  assert.equal(resolveLogConfig({}, c).segmentBytes, 1048576);
  assert.throws(
    () => logConfigFromBrokerProps({ 'log.segment.bytes': '1' }),
    (error: unknown) =>
      error instanceof ConfigError && /log\.segment\.bytes.*\[14, 2147483647\]/.test(error.message),
  );
  assert.throws(() => logConfigFromBrokerProps({ 'log.retention.hours': 'x' }), /log\.retention\.hours/);
});
