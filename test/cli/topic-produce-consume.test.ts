// The real `fjord` binary against an embedded broker: topic management, produce from stdin, consume with
// format strings, offsets and times, --json output, bad flags and an unreachable broker.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { fjord, startBroker, type TestBroker } from './run-fjord.js';

let target: TestBroker;
let b: string[];

before(async () => {
  target = await startBroker();
  b = target.flag;
});
after(async () => {
  await target.stop();
  target.remove();
});

describe('help and usage', () => {
  test('fjord --help lists every command; CMD --help documents every flag', async () => {
    const [top, consume, create, version] = await Promise.all([
      fjord(['--help']),
      fjord(['consume', '--help']),
      fjord(['topic', 'create', '--help']),
      fjord(['version']),
    ]);
    assert.equal(top.code, 0);
    for (const cmd of [
      'topic',
      'produce',
      'consume',
      'group',
      'config',
      'dump-log',
      'start',
      'perf',
      'version',
    ])
      assert.match(top.stdout, new RegExp(`^  ${cmd}\\b`, 'm'));
    assert.equal(consume.code, 0);
    for (const flag of [
      '--brokers',
      '--from-beginning',
      '--offset',
      '--from-time',
      '--partition',
      '--group',
      '--format',
      '--num',
      '--exit-at-end',
      '--json',
    ])
      assert.ok(consume.stdout.includes(flag), `consume --help mentions ${flag}`);
    assert.equal(create.code, 0);
    for (const flag of ['--partitions', '--replication-factor', '--config', '--brokers'])
      assert.ok(create.stdout.includes(flag), `topic create --help mentions ${flag}`);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+/);
  });

  test('every command documents --help with its flags, --brokers and --json', async () => {
    const commands = [
      ['topic', 'create'],
      ['topic', 'list'],
      ['topic', 'describe'],
      ['topic', 'delete'],
      ['topic', 'alter-config'],
      ['produce'],
      ['consume'],
      ['group', 'list'],
      ['group', 'describe'],
      ['group', 'delete'],
      ['group', 'reset-offsets'],
      ['config', 'describe'],
      ['config', 'alter'],
    ];
    const results = await Promise.all(commands.map((c) => fjord([...c, '--help'])));
    results.forEach((r, i) => {
      const name = commands[i]!.join(' ');
      assert.equal(r.code, 0, name);
      assert.match(r.stdout, new RegExp(`^Usage: fjord ${name}`), name);
      assert.match(
        r.stdout,
        /-b, --brokers host:port,\.\.\. +bootstrap brokers \(default 127\.0\.0\.1:9092\)/,
        name,
      );
      assert.match(r.stdout, /--json/, name);
    });
    const [dump, nounHelp] = await Promise.all([fjord(['dump-log', '--help']), fjord(['group', '--help'])]);
    assert.equal(dump.code, 0);
    for (const flag of ['--records', '--print-data-log', '--json'])
      assert.ok(dump.stdout.includes(flag), flag);
    assert.equal(nounHelp.code, 0);
    assert.match(nounHelp.stdout, /group reset-offsets GROUP/);
  });

  test('bad flags and arguments exit 2 and name the problem', async () => {
    const [unknown, badNumber, noTopic, badCodec, unknownCommand, noCommand] = await Promise.all([
      fjord(['consume', 'x', '--bogus', ...b]),
      fjord(['topic', 'create', 't', '-p', 'many', ...b]),
      fjord(['produce', ...b]),
      fjord(['produce', 't', '--compression', 'brotli', ...b]),
      fjord(['topic', 'rename', ...b]),
      fjord(['frobnicate']),
    ]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /fjord consume: Unknown option '--bogus'/);
    assert.match(unknown.stderr, /Usage: fjord consume TOPIC/);
    assert.equal(badNumber.code, 2);
    assert.match(badNumber.stderr, /--partitions must be an integer >= 1, got 'many'/);
    assert.equal(noTopic.code, 2);
    assert.match(noTopic.stderr, /name the topic/);
    assert.equal(badCodec.code, 2);
    assert.match(badCodec.stderr, /--compression must be one of none, gzip, snappy, lz4, zstd/);
    assert.equal(unknownCommand.code, 2);
    assert.match(unknownCommand.stderr, /unknown command 'rename'/);
    assert.equal(noCommand.code, 1);
    assert.match(noCommand.stderr, /unknown command 'frobnicate'/);
  });

  test('an unreachable broker: exit 1 with what failed and what to do', async () => {
    // A port that was just free and is now closed: connection refused.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    await new Promise((resolve) => server.close(resolve));
    const runs = [
      ['topic', 'list'],
      ['consume', 'x', '-e'],
    ].map(async (args) => ({
      args,
      r: await fjord([...args, '--brokers', `127.0.0.1:${port}`]),
    }));
    for (const { args, r } of await Promise.all(runs)) {
      assert.equal(r.code, 1, args.join(' '));
      assert.ok(
        r.stderr.includes(
          `cannot reach 127.0.0.1:${port}: connection refused — is a broker running? start one with \`fjord start\``,
        ),
        r.stderr,
      );
    }
  });
});

describe('topics', () => {
  test('create, list, describe, duplicate, delete', async () => {
    const created = await fjord(['topic', 'create', 'orders', '-p', '3', '-c', 'retention.ms=3600000', ...b]);
    assert.equal(created.code, 0, created.stderr);
    assert.equal(created.stdout, 'created topic orders\n');

    const list = await fjord(['topic', 'list', '--json', ...b]);
    assert.equal(list.code, 0, list.stderr);
    const topics = JSON.parse(list.stdout) as { name: string; partitions: number; replicas: number }[];
    assert.deepEqual(
      topics.find((t) => t.name === 'orders'),
      { name: 'orders', partitions: 3, replicas: 1, internal: false },
    );
    assert.ok(!topics.some((t) => t.name === '__consumer_offsets'));
    const text = await fjord(['topic', 'list', ...b]);
    assert.match(text.stdout, /^NAME +PARTITIONS +REPLICAS$/m);
    assert.match(text.stdout, /^orders +3 +1$/m);

    const described = await fjord(['topic', 'describe', 'orders', '--json', ...b]);
    assert.equal(described.code, 0, described.stderr);
    const [info] = JSON.parse(described.stdout) as {
      name: string;
      partitions: { partition: number; leader: number; replicas: number[]; highWatermark: number }[];
      configs: Record<string, string>;
    }[];
    assert.equal(info!.name, 'orders');
    assert.deepEqual(
      info!.partitions.map((p) => [p.partition, p.leader, p.replicas, p.highWatermark]),
      [
        [0, 0, [0], 0],
        [1, 0, [0], 0],
        [2, 0, [0], 0],
      ],
    );
    assert.equal(info!.configs['retention.ms'], '3600000');

    const again = await fjord(['topic', 'create', 'orders', ...b]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /TOPIC_ALREADY_EXISTS/);
    const quiet = await fjord(['topic', 'create', 'orders', '--if-not-exists', ...b]);
    assert.equal(quiet.code, 0);

    const missing = await fjord(['topic', 'describe', 'nope', ...b]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /UNKNOWN_TOPIC_OR_PARTITION.*fjord topic list/);

    const deleted = await fjord(['topic', 'delete', 'orders', ...b]);
    assert.equal(deleted.code, 0, deleted.stderr);
    const after = JSON.parse((await fjord(['topic', 'list', '--json', ...b])).stdout) as { name: string }[];
    assert.ok(!after.some((t) => t.name === 'orders'));
  });
});

describe('produce and consume', () => {
  test('keys, values and headers round trip through a format string; -n stops', async () => {
    assert.equal((await fjord(['topic', 'create', 'events', '-p', '2', ...b])).code, 0);
    const produced = await fjord(
      ['produce', 'events', '-k', '::', '-H', 'source=cli', '-H', 'eq=a=b', '--json', ...b],
      {
        stdin: 'user1::login\nuser2::logout\nno key here\nuser1::click\n',
      },
    );
    assert.equal(produced.code, 0, produced.stderr);
    const summary = JSON.parse(produced.stdout) as {
      records: number;
      partitions: { partition: number; count: number }[];
    };
    assert.equal(summary.records, 4);
    assert.equal(
      summary.partitions.reduce((s, p) => s + p.count, 0),
      4,
    );

    const consumed = await fjord([
      'consume',
      'events',
      '--from-beginning',
      '-f',
      '%k|%v|%h|p%p|o%o',
      '-n',
      '4',
      ...b,
    ]);
    assert.equal(consumed.code, 0, consumed.stderr);
    const lines = consumed.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 4);
    const parsed = lines.map((l) => l.split('|'));
    assert.deepEqual(parsed.map(([k, v, h]) => `${k}|${v}|${h}`).sort(), [
      'user1|click|source=cli,eq=a=b',
      'user1|login|source=cli,eq=a=b',
      'user2|logout|source=cli,eq=a=b',
      '|no key here|source=cli,eq=a=b',
    ]);
    // Same key, same partition, in order.
    const user1 = parsed.filter(([k]) => k === 'user1');
    assert.equal(user1[0]![3], user1[1]![3]);
    assert.deepEqual(
      user1.map(([, v]) => v),
      ['login', 'click'],
    );

    const two = await fjord(['consume', 'events', '--from-beginning', '-n', '2', ...b]);
    assert.equal(two.code, 0);
    assert.equal(two.stdout.trimEnd().split('\n').length, 2);
    assert.match(two.stderr, /consumed 2 records/);
  });

  test('from an offset in one partition, from a time, and --json records', async () => {
    assert.equal((await fjord(['topic', 'create', 'log', '-p', '1', ...b])).code, 0);
    const first = await fjord(['produce', 'log', '--compression', 'gzip', ...b], { stdin: 'a\nb\nc\n' });
    assert.equal(first.code, 0, first.stderr);
    const between = Date.now() + 1;
    while (Date.now() <= between) await new Promise((r) => setTimeout(r, 2));
    assert.equal((await fjord(['produce', 'log', '-p', '0', ...b], { stdin: 'd\ne\n' })).code, 0);

    const fromOffset = await fjord(['consume', 'log', '-p', '0', '-o', '3', '-e', '-f', '%o:%v', ...b]);
    assert.equal(fromOffset.code, 0, fromOffset.stderr);
    assert.equal(fromOffset.stdout, '3:d\n4:e\n');

    const fromTime = await fjord(['consume', 'log', '--from-time', String(between), '-e', ...b]);
    assert.equal(fromTime.code, 0, fromTime.stderr);
    assert.equal(fromTime.stdout, 'd\ne\n');
    const iso = new Date(between).toISOString();
    const fromIso = await fjord(['consume', 'log', '--from-time', iso, '-e', '-f', '%v', ...b]);
    assert.equal(fromIso.stdout, 'd\ne\n');

    const json = await fjord(['consume', 'log', '--offset', 'beginning', '-e', '--json', ...b]);
    assert.equal(json.code, 0, json.stderr);
    const records = json.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { offset: number; value: string; key: null; partition: number });
    assert.deepEqual(
      records.map((r) => [r.partition, r.offset, r.key, r.value]),
      [
        [0, 0, null, 'a'],
        [0, 1, null, 'b'],
        [0, 2, null, 'c'],
        [0, 3, null, 'd'],
        [0, 4, null, 'e'],
      ],
    );

    const atEnd = await fjord(['consume', 'log', '-e', ...b]);
    assert.equal(atEnd.code, 0);
    assert.equal(atEnd.stdout, '');

    const noPartition = await fjord(['consume', 'log', '-p', '7', '-e', ...b]);
    assert.equal(noPartition.code, 1);
    assert.match(noPartition.stderr, /has no partition 7/);
  });

  test("--group: members start at the group's committed offsets and commit exactly what they printed", async () => {
    assert.equal((await fjord(['topic', 'create', 'grouped', '-p', '1', ...b])).code, 0);
    assert.equal((await fjord(['produce', 'grouped', ...b], { stdin: 'a\nb\nc\nd\ne\n' })).code, 0);
    const first = await fjord([
      'consume',
      'grouped',
      '--group',
      'readers',
      '--from-beginning',
      '-n',
      '2',
      ...b,
    ]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, 'a\nb\n');
    const rest = await fjord(['consume', 'grouped', '-g', 'readers', '-e', '-f', '%o:%v', ...b]);
    assert.equal(rest.code, 0, rest.stderr);
    assert.equal(rest.stdout, '2:c\n3:d\n4:e\n');
    const lag = JSON.parse((await fjord(['group', 'describe', 'readers', '--json', ...b])).stdout) as {
      offsets: { topic: string; partition: number; committedOffset: number; lag: number }[];
    };
    assert.deepEqual(
      lag.offsets.map((o) => [o.topic, o.partition, o.committedOffset, o.lag]),
      [['grouped', 0, 5, 0]],
    );
    const clash = await fjord(['consume', 'grouped', '--group', 'readers', '-p', '0', ...b]);
    assert.equal(clash.code, 2);
    assert.match(clash.stderr, /--partition cannot be combined with --group/);
  });
});
