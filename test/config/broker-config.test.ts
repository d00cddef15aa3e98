import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, parseOverride, resolveBrokerConfig } from '../../src/config/broker-config.js';
import { parseProperties } from '../../src/config/properties.js';

test('server.properties syntax: separators, comments, continuations and escapes', () => {
  const props = parseProperties(
    [
      '# a comment',
      '! another',
      'broker.id=3',
      'log.dirs : /tmp/a,\\',
      '    /tmp/b',
      'listeners PLAINTEXT://127.0.0.1:19092',
      'key\\=with\\:colon=v\\tx',
      '   ',
      'empty=',
    ].join('\n'),
  );
  assert.deepEqual(
    [...props],
    [
      ['broker.id', '3'],
      ['log.dirs', '/tmp/a,/tmp/b'],
      ['listeners', 'PLAINTEXT://127.0.0.1:19092'],
      ['key=with:colon', 'v\tx'],
      ['empty', ''],
    ],
  );
});

test('defaults match the documented single-broker setup', () => {
  const config = resolveBrokerConfig({});
  assert.deepEqual(config.listeners, [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 9092 }]);
  assert.deepEqual(config.advertisedListeners, config.listeners);
  assert.deepEqual(config.logDirs, ['./data']);
  assert.equal(config.autoCreateTopicsEnable, true);
  assert.equal(config.numPartitions, 1);
  assert.equal(config.socketRequestMaxBytes, 104857600);
  assert.equal(config.zookeeperConnect, null);
  assert.equal(config.log.segmentBytes, 1073741824);
});

test('aliases, log settings and unknown keys', () => {
  const warnings: string[] = [];
  const config = resolveBrokerConfig(
    {
      'broker.id': '7',
      'log.dir': '/var/fjord',
      'log.retention.hours': '1',
      'no.such.key': 'x',
      'num.network.threads': '3',
    },
    { warn: (m) => warnings.push(m) },
  );
  assert.equal(config.nodeId, 7);
  assert.deepEqual(config.logDirs, ['/var/fjord']);
  assert.equal(config.log.retentionMs, 3_600_000);
  assert.deepEqual(warnings, ["unknown configuration 'no.such.key' is ignored"]);
});

test('invalid values are refused with a message naming the key and the allowed values', () => {
  const cases: [Record<string, string>, string, RegExp][] = [
    [{ 'num.partitions': '0' }, 'num.partitions', /num\.partitions: must be an integer in \[1, 2147483647\]/],
    [{ 'auto.create.topics.enable': 'yes' }, 'auto.create.topics.enable', /true or false/],
    [{ listeners: 'localhost:9092' }, 'listeners', /NAME:\/\/host:port/],
    [{ 'fjord.fetch.transfer': 'zerocopy' }, 'fjord.fetch.transfer', /one of sendfile, mmap, read/],
    [{ 'log.segment.bytes': '10' }, 'segment.bytes', /log\.segment\.bytes/],
    [
      { 'group.min.session.timeout.ms': '10', 'group.max.session.timeout.ms': '5' },
      'group.min.session.timeout.ms',
      /must not exceed/,
    ],
  ];
  for (const [props, key, message] of cases) {
    assert.throws(
      () => resolveBrokerConfig(props),
      (error: unknown) => error instanceof ConfigError && error.key === key && message.test(error.message),
      `${JSON.stringify(props)} should be refused`,
    );
  }
});

test('--override pairs', () => {
  assert.deepEqual(parseOverride('log.dirs=/a=b'), ['log.dirs', '/a=b']);
  assert.throws(() => parseOverride('novalue'), ConfigError);
});
