import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  parseBytes,
  parseDuration,
  parsePerfArgs,
  parseRate,
  parseSizeDistribution,
  PerfUsageError,
  recordsPerSecond,
} from '../../src/perf/options.js';

test('defaults', () => {
  const o = parsePerfArgs(['produce']);
  assert.equal(o.mode, 'produce');
  assert.deepEqual(o.brokers, ['127.0.0.1:9092']);
  assert.equal(o.topic, 'fjord-perf');
  assert.equal(o.acks, 1);
  assert.equal(o.rate, null);
  assert.equal(o.durationMs, 10_000);
  assert.equal(o.records, null);
  assert.deepEqual(o.recordSize, { kind: 'fixed', size: 100 });
  assert.deepEqual(o.keys, { kind: 'none' });
  // consume without a bound reads to the end offsets seen at start
  assert.equal(parsePerfArgs(['consume']).durationMs, null);
  assert.equal(parsePerfArgs(['e2e']).from, 'latest');
});

test('every option', () => {
  const o = parsePerfArgs([
    'e2e',
    '--brokers=a:1,b:2',
    '--topic',
    'bench.t-1',
    '--partitions',
    '16',
    '--replication-factor',
    '3',
    '--record-size',
    'uniform:100-1KiB',
    '--keys',
    'zipf:1000',
    '--acks',
    'all',
    '--compression',
    'lz4',
    '--batch-size',
    '64KiB',
    '--linger-ms',
    '0',
    '--idempotence',
    '--producers',
    '2',
    '--consumers',
    '4',
    '--group',
    'g',
    '--rate',
    '50MB/s',
    '--duration',
    '2m',
    '--warmup',
    '500ms',
    '--max-in-flight',
    '3',
    '--json',
    '--report',
    'out',
    '--quiet',
  ]);
  assert.deepEqual(o.brokers, ['a:1', 'b:2']);
  assert.equal(o.topic, 'bench.t-1');
  assert.equal(o.partitions, 16);
  assert.equal(o.replicationFactor, 3);
  assert.deepEqual(o.recordSize, { kind: 'uniform', min: 100, max: 1024 });
  assert.deepEqual(o.keys, { kind: 'zipf', count: 1000 });
  assert.equal(o.acks, -1);
  assert.equal(o.compression, 'lz4');
  assert.equal(o.batchSize, 65536);
  assert.equal(o.lingerMs, 0);
  assert.equal(o.idempotence, true);
  assert.equal(o.producers, 2);
  assert.equal(o.consumers, 4);
  assert.equal(o.group, 'g');
  assert.deepEqual(o.rate, { unit: 'bytes', perSecond: 50e6 });
  assert.equal(o.durationMs, 120_000);
  assert.equal(o.warmupMs, 500);
  assert.equal(o.maxInFlight, 3);
  assert.equal(o.json, true);
  assert.equal(o.report, 'out');
  assert.equal(o.quiet, true);
});

test('--records replaces the default duration', () => {
  const o = parsePerfArgs(['produce', '--records', '1000']);
  assert.equal(o.records, 1000);
  assert.equal(o.durationMs, null);
  const both = parsePerfArgs(['produce', '--records', '1000', '--duration', '5s']);
  assert.equal(both.durationMs, 5000);
});

test('units', () => {
  assert.equal(parseBytes('100'), 100);
  assert.equal(parseBytes('1KiB'), 1024);
  assert.equal(parseBytes('1.5MB'), 1_500_000);
  assert.equal(parseDuration('30'), 30_000);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.deepEqual(parseRate('10000'), { unit: 'records', perSecond: 10_000 });
  assert.deepEqual(parseRate('10k/s'), { unit: 'records', perSecond: 10_000 });
  assert.deepEqual(parseRate('1GiB/s'), { unit: 'bytes', perSecond: 1024 ** 3 });
  assert.deepEqual(parseSizeDistribution('uniform:10-10'), { kind: 'fixed', size: 10 });
  assert.equal(recordsPerSecond({ unit: 'bytes', perSecond: 100e6 }, { kind: 'fixed', size: 1000 }), 100_000);
  assert.equal(
    recordsPerSecond({ unit: 'bytes', perSecond: 1e6 }, { kind: 'uniform', min: 0, max: 2000 }),
    1000,
  );
});

test('bad input is a PerfUsageError that names the problem', () => {
  const cases: [string[], RegExp][] = [
    [[], /missing mode/],
    [['bench'], /unknown mode 'bench'/],
    [['produce', '--acks', '2'], /--acks/],
    [['produce', '--compression', 'brotli'], /--compression/],
    [['produce', '--record-size', 'normal:1-2'], /record size/],
    [['produce', '--record-size', 'uniform:9-3'], /min is above max/],
    [['produce', '--keys', 'zipf:0'], /--keys/],
    [['produce', '--rate', '0'], /positive/],
    [['produce', '--duration', 'soon'], /duration/],
    [['produce', '--partitions', '0'], /--partitions/],
    [['produce', '--brokers', 'nohost'], /host:port/],
    [['produce', '--topic'], /needs a value/],
    [['produce', '--frobnicate'], /unknown option '--frobnicate'/],
    [['produce', '--idempotence'], /--acks all/],
    [['e2e', '--record-size', '4'], /at least 8 bytes/],
  ];
  for (const [args, message] of cases) {
    assert.throws(
      () => parsePerfArgs(args),
      (error: Error) => error instanceof PerfUsageError && message.test(error.message),
      args.join(' '),
    );
  }
});
