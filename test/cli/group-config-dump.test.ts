// The real `fjord` binary against an embedded broker: configs, consumer groups (made by kafka-python, an
// independent client) with lag and offset resets, and dump-log over the broker's own segment files.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { fjord, startBroker, type TestBroker } from './run-fjord.js';

let target: TestBroker;
let b: string[];

before(async () => {
  target = await startBroker();
  b = target.flag;
  assert.equal((await fjord(['topic', 'create', 'lagged', '-p', '2', ...b])).code, 0);
  // Partition 0 gets offsets 0..3 (keyless records to one partition), partition 1 gets 0..1.
  assert.equal((await fjord(['produce', 'lagged', '-p', '0', ...b], { stdin: 'a\nb\nc\nd\n' })).code, 0);
  assert.equal((await fjord(['produce', 'lagged', '-p', '1', ...b], { stdin: 'e\nf\n' })).code, 0);
});
after(async () => {
  await target.stop();
  target.remove();
});

interface LagJson {
  group: string;
  state: string;
  offsets: { topic: string; partition: number; committedOffset: number; logEndOffset: number; lag: number }[];
  totalLag: number;
}

describe('config', () => {
  test('alter a topic config, then describe it (text and --json); broker configs', async () => {
    const altered = await fjord([
      'config',
      'alter',
      '--topic',
      'lagged',
      '--set',
      'retention.ms=123456',
      '--set',
      'cleanup.policy=compact',
      ...b,
    ]);
    assert.equal(altered.code, 0, altered.stderr);
    assert.match(altered.stdout, /altered: topic lagged: retention.ms=123456, cleanup.policy=compact/);

    const [json, text, broker, bad, noResource] = await Promise.all([
      fjord(['config', 'describe', '--topic', 'lagged', '--json', ...b]),
      fjord(['config', 'describe', '--topic', 'lagged', '--overrides', ...b]),
      fjord(['config', 'describe', '--broker', '0', '-k', 'num.partitions', '--json', ...b]),
      fjord(['config', 'alter', '--topic', 'lagged', '--set', 'retention.ms=soon', ...b]),
      fjord(['config', 'describe', ...b]),
    ]);
    assert.equal(json.code, 0, json.stderr);
    const described = JSON.parse(json.stdout) as {
      configs: { name: string; value: string; source: string }[];
    };
    const byName = new Map(described.configs.map((c) => [c.name, c]));
    assert.equal(byName.get('retention.ms')?.value, '123456');
    assert.equal(byName.get('retention.ms')?.source, 'dynamic-topic');
    assert.equal(byName.get('cleanup.policy')?.value, 'compact');
    assert.equal(text.code, 0);
    assert.match(text.stdout, /^retention\.ms +123456 +dynamic-topic +no$/m);
    assert.match(text.stdout, /^cleanup\.policy +compact +dynamic-topic +no$/m);

    assert.equal(broker.code, 0, broker.stderr);
    const brokerConfigs = JSON.parse(broker.stdout) as {
      type: string;
      configs: { name: string; value: string }[];
    };
    assert.equal(brokerConfigs.type, 'broker');
    assert.deepEqual(
      brokerConfigs.configs.map((c) => [c.name, c.value]),
      [['num.partitions', '1']],
    );

    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /INVALID_CONFIG|retention\.ms/);
    assert.equal(noResource.code, 2);
    assert.match(noResource.stderr, /give exactly one of --topic NAME or --broker ID/);

    // topic alter-config --delete puts the default back.
    const reset = await fjord(['topic', 'alter-config', 'lagged', '--delete', 'cleanup.policy', ...b]);
    assert.equal(reset.code, 0, reset.stderr);
    const after = JSON.parse(
      (await fjord(['config', 'describe', '--topic', 'lagged', '-k', 'cleanup.policy', '--json', ...b]))
        .stdout,
    ) as {
      configs: { name: string; value: string; source: string }[];
    };
    assert.deepEqual(
      after.configs.map((c) => [c.name, c.value]),
      [['cleanup.policy', 'delete']],
    );
  });
});

describe('groups', () => {
  test('a group committed by kafka-python: list, describe with lag, reset-offsets dry run and execute, delete', async () => {
    const script = [
      'import sys',
      'from kafka import KafkaConsumer, TopicPartition',
      'from kafka.structs import OffsetAndMetadata',
      "c = KafkaConsumer(bootstrap_servers=sys.argv[1], group_id='py-group', enable_auto_commit=False)",
      "c.commit({TopicPartition('lagged', 0): OffsetAndMetadata(1, ''), TopicPartition('lagged', 1): OffsetAndMetadata(2, '')})",
      'c.close()',
    ].join('\n');
    await promisify(execFile)('/usr/bin/python3', ['-c', script, target.broker.bootstrap], {
      timeout: 30_000,
    });

    const list = await fjord(['group', 'list', '--json', ...b]);
    assert.equal(list.code, 0, list.stderr);
    const groups = JSON.parse(list.stdout) as { groupId: string; state: string }[];
    assert.equal(groups.find((g) => g.groupId === 'py-group')?.state, 'Empty');

    const describedJson = await fjord(['group', 'describe', 'py-group', '--json', ...b]);
    assert.equal(describedJson.code, 0, describedJson.stderr);
    const lag = JSON.parse(describedJson.stdout) as LagJson;
    assert.deepEqual(
      lag.offsets.map((o) => [o.topic, o.partition, o.committedOffset, o.logEndOffset, o.lag]),
      [
        ['lagged', 0, 1, 4, 3],
        ['lagged', 1, 2, 2, 0],
      ],
    );
    assert.equal(lag.totalLag, 3);
    const describedText = await fjord(['group', 'describe', 'py-group', ...b]);
    assert.match(
      describedText.stdout,
      /^TOPIC +PARTITION +CURRENT-OFFSET +LOG-END-OFFSET +LAG +CONSUMER-ID +HOST +CLIENT-ID$/m,
    );
    assert.match(describedText.stdout, /^lagged +0 +1 +4 +3 +- +- +-$/m);

    // The default is a dry run: the plan is printed, nothing changes.
    const dry = await fjord([
      'group',
      'reset-offsets',
      'py-group',
      '--topic',
      'lagged',
      '--to-earliest',
      '--json',
      ...b,
    ]);
    assert.equal(dry.code, 0, dry.stderr);
    const plan = JSON.parse(dry.stdout) as {
      executed: boolean;
      offsets: { partition: number; currentOffset: number; newOffset: number }[];
    };
    assert.equal(plan.executed, false);
    assert.deepEqual(
      plan.offsets.map((o) => [o.partition, o.currentOffset, o.newOffset]),
      [
        [0, 1, 0],
        [1, 2, 0],
      ],
    );
    const unchanged = JSON.parse(
      (await fjord(['group', 'describe', 'py-group', '--json', ...b])).stdout,
    ) as LagJson;
    assert.equal(unchanged.totalLag, 3);

    const executed = await fjord([
      'group',
      'reset-offsets',
      'py-group',
      '--topic',
      'lagged:0',
      '--to-offset',
      '3',
      '--execute',
      ...b,
    ]);
    assert.equal(executed.code, 0, executed.stderr);
    assert.match(executed.stdout, /^lagged +0 +1 +3$/m);
    const latest = await fjord([
      'group',
      'reset-offsets',
      'py-group',
      '--all-topics',
      '--to-latest',
      '--execute',
      ...b,
    ]);
    assert.equal(latest.code, 0, latest.stderr);
    const atEnd = JSON.parse(
      (await fjord(['group', 'describe', 'py-group', '--json', ...b])).stdout,
    ) as LagJson;
    assert.deepEqual(
      atEnd.offsets.map((o) => [o.partition, o.committedOffset, o.lag]),
      [
        [0, 4, 0],
        [1, 2, 0],
      ],
    );
    // --to-datetime far in the past: the earliest offsets.
    const byTime = await fjord([
      'group',
      'reset-offsets',
      'py-group',
      '--topic',
      'lagged',
      '--to-datetime',
      '2000-01-01T00:00:00Z',
      '--execute',
      '--json',
      ...b,
    ]);
    assert.equal(byTime.code, 0, byTime.stderr);
    assert.deepEqual(
      (JSON.parse(byTime.stdout) as { offsets: { newOffset: number }[] }).offsets.map((o) => o.newOffset),
      [0, 0],
    );

    const noTarget = await fjord(['group', 'reset-offsets', 'py-group', '--topic', 'lagged', ...b]);
    assert.equal(noTarget.code, 2);
    assert.match(noTarget.stderr, /give exactly one of --to-earliest/);

    const deleted = await fjord(['group', 'delete', 'py-group', ...b]);
    assert.equal(deleted.code, 0, deleted.stderr);
    const [gone, missing] = await Promise.all([
      fjord(['group', 'list', '--json', ...b]),
      fjord(['group', 'describe', 'py-group', ...b]),
    ]);
    assert.ok(!(JSON.parse(gone.stdout) as { groupId: string }[]).some((g) => g.groupId === 'py-group'));
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /group 'py-group' does not exist/);
  });
});

describe('live group', () => {
  test('describe names the member (kcat -G) that owns each partition; delete refuses a group with members', async () => {
    const kcat = spawn(
      'kcat',
      ['-b', target.broker.bootstrap, '-G', 'kcat-group', 'lagged', '-q', '-X', 'auto.offset.reset=earliest'],
      { stdio: 'ignore' },
    );
    try {
      let described: (LagJson & { members: { memberId: string; clientId: string }[] }) | undefined;
      // Waits for the group to form (join, sync); bounded so a broken broker fails the test, not hangs it.
      for (let attempt = 0; attempt < 60; attempt++) {
        const r = await fjord(['group', 'describe', 'kcat-group', '--json', ...b]);
        if (r.code === 0) {
          described = JSON.parse(r.stdout) as typeof described;
          if (described!.state === 'Stable' && described!.offsets.length === 2) break;
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      assert.equal(described?.state, 'Stable');
      assert.equal(described.members.length, 1);
      const member = described.members[0]!;
      assert.equal(member.clientId, 'rdkafka');
      assert.deepEqual(
        described.offsets.map((o) => [
          o.topic,
          o.partition,
          o.logEndOffset,
          (o as { memberId?: string }).memberId,
        ]),
        [
          ['lagged', 0, 4, member.memberId],
          ['lagged', 1, 2, member.memberId],
        ],
      );
      const text = await fjord(['group', 'describe', 'kcat-group', ...b]);
      assert.match(
        text.stdout,
        /^TOPIC +PARTITION +CURRENT-OFFSET +LOG-END-OFFSET +LAG +CONSUMER-ID +HOST +CLIENT-ID$/m,
      );
      assert.match(
        text.stdout,
        new RegExp(`^lagged +0 +(-|\\d+) +4 +(-|\\d+) +${member.memberId} +\\S+ +rdkafka$`, 'm'),
      );

      const busy = await fjord(['group', 'delete', 'kcat-group', ...b]);
      assert.equal(busy.code, 1);
      assert.match(busy.stderr, /NON_EMPTY_GROUP.*stop the group's consumers first/);
    } finally {
      kcat.kill('SIGKILL');
    }
  });
});

describe('dump-log', () => {
  test("decodes the broker's segment, offset index and time index after a clean stop", async () => {
    // A clean stop trims the indexes and writes the time index's last entry.
    await target.stop();
    const dir = join(target.dataDir, 'lagged-0');
    const segment = join(dir, '00000000000000000000.log');
    const [text, records, json, index, timeindex, missing, wrongName] = await Promise.all([
      fjord(['dump-log', segment]),
      fjord(['dump-log', segment, '--print-data-log']),
      fjord(['dump-log', segment, '--records', '--json']),
      fjord(['dump-log', join(dir, '00000000000000000000.index'), '--json']),
      fjord(['dump-log', join(dir, '00000000000000000000.timeindex'), '--json']),
      fjord(['dump-log', join(dir, '00000000000000000099.log')]),
      fjord(['dump-log', join(dir, 'leader-epoch-checkpoint')]),
    ]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(
      text.stdout,
      /^baseOffset: 0 lastOffset: 3 count: 4 .* compresscodec: none crc: \d+ isvalid: true$/m,
    );
    assert.equal(records.code, 0, records.stderr);
    assert.deepEqual(
      records.stdout
        .split('\n')
        .filter((l) => l.startsWith('| '))
        .map((l) => /offset: (\d+) .* payload: (\w+)$/.exec(l)!.slice(1)),
      [
        ['0', 'a'],
        ['1', 'b'],
        ['2', 'c'],
        ['3', 'd'],
      ],
    );
    assert.equal(json.code, 0, json.stderr);
    const dumped = JSON.parse(json.stdout) as {
      type: string;
      batches: {
        baseOffset: number;
        lastOffset: number;
        crcValid: boolean;
        maxTimestamp: number;
        records: { offset: number; valueSize: number }[];
      }[];
      trailingBytes: number;
    };
    assert.equal(dumped.type, 'log');
    assert.equal(dumped.trailingBytes, 0);
    assert.deepEqual(
      dumped.batches.flatMap((bt) => bt.records.map((r) => [r.offset, r.valueSize])),
      [
        [0, 1],
        [1, 1],
        [2, 1],
        [3, 1],
      ],
    );
    assert.ok(dumped.batches.every((bt) => bt.crcValid));

    assert.equal(index.code, 0, index.stderr);
    const idx = JSON.parse(index.stdout) as { type: string; entries: { offset: number; position: number }[] };
    assert.equal(idx.type, 'index');
    // Every index entry points at the start of a batch whose last offset it names.
    for (const e of idx.entries) {
      const batch = dumped.batches.find((bt) => bt.lastOffset === e.offset);
      assert.ok(batch, `index entry ${JSON.stringify(e)} names a batch's last offset`);
    }
    assert.equal(timeindex.code, 0, timeindex.stderr);
    const tidx = JSON.parse(timeindex.stdout) as {
      type: string;
      entries: { timestamp: number; offset: number }[];
    };
    assert.equal(tidx.type, 'timeindex');
    const last = tidx.entries.at(-1);
    assert.ok(last, 'a cleanly closed segment has a time index entry');
    assert.equal(last.timestamp, Math.max(...dumped.batches.map((bt) => bt.maxTimestamp)));
    assert.equal(last.offset, 3);

    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no such file/);
    assert.equal(wrongName.code, 1);
    assert.match(wrongName.stderr, /not a segment file name/);
  });
});
