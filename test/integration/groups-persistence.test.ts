// Groups across restarts: static members (confluent-kafka, group.instance.id) rejoin without a rebalance;
// committed offsets and group membership survive a clean broker restart and a SIGKILL of `fjord start`.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { repoRoot } from '../tools/repo-root.js';
import {
  GroupTestBroker,
  confluentConsumer,
  eventually,
  kafkaPythonConsumer,
  type ConsumerProcess,
} from './groups-support.js';

let broker: GroupTestBroker;
const running: ConsumerProcess[] = [];

before(async () => {
  broker = await GroupTestBroker.start();
});
after(async () => {
  await Promise.all(running.map((c) => c.kill('SIGKILL')));
  await broker.close();
});

const track = (c: ConsumerProcess) => (running.push(c), c);
const assignedEvents = (c: ConsumerProcess) => c.events.filter((e) => e.event === 'assigned').length;

test('a static member that restarts within its session gets its partitions back without a rebalance', async () => {
  await broker.createTopic('static', 4);
  await broker.produce('static', 4, 5);
  const opts = {
    bootstrap: broker.bootstrap,
    group: 'static-group',
    topic: 'static',
    session_timeout_ms: 20_000,
  };
  const a = track(confluentConsumer('static-a', { ...opts, instance: 'instance-a' }));
  await a.until(() => a.assignment.length === 4, 60_000, 'the first assignment');
  const b = track(confluentConsumer('static-b', { ...opts, instance: 'instance-b' }));
  await eventually(
    () => a.assignment.length === 2 && b.assignment.length === 2,
    60_000,
    () => `a=${JSON.stringify(a.assignment)} b=${JSON.stringify(b.assignment)}`,
  );
  const bPartitions = b.assignment;
  const aRebalances = assignedEvents(a);

  await b.kill('SIGKILL');
  const again = track(confluentConsumer('static-b2', { ...opts, instance: 'instance-b' }));
  await again.until(() => again.assignment.length > 0, 60_000, 'the rejoin');
  assert.deepEqual(again.assignment, bPartitions, 'the same partitions as before the restart');
  assert.equal(assignedEvents(a), aRebalances, 'the other member saw no rebalance');
  assert.deepEqual(a.assignment.length, 2);
  await broker.produce('static', 4, 1, 5);
  await again.until(() => again.records.some((r) => r.offset === 5), 30_000, 'a new record');
  await Promise.all([a.kill('SIGTERM'), again.kill('SIGTERM')]);
});

test('committed offsets and a stable group survive a clean broker restart', async () => {
  await broker.createTopic('restart', 2);
  await broker.produce('restart', 2, 20);
  const member = track(
    confluentConsumer('restart-member', {
      bootstrap: broker.bootstrap,
      group: 'restart-group',
      topic: 'restart',
      instance: 'restart-instance',
      session_timeout_ms: 30_000,
    }),
  );
  await member.until(() => member.records.length === 40, 60_000, '40 records');
  const rebalances = assignedEvents(member);
  await broker.restart();
  await broker.produce('restart', 2, 3, 20);
  await member.until(() => member.records.length === 46, 60_000, 'the records produced after the restart');
  assert.equal(assignedEvents(member), rebalances, 'the member kept its generation across the restart');
  assert.deepEqual(
    member.records
      .slice(40)
      .map((r) => r.offset)
      .sort(),
    [20, 20, 21, 21, 22, 22],
  );
  await member.kill('SIGTERM');

  const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchOffsets({ groupId: 'restart-group', topics: ['restart'] });
    assert.deepEqual(offsets[0]!.partitions.map((p) => [p.partition, p.offset]).sort(), [
      [0, '23'],
      [1, '23'],
    ]);
  } finally {
    await admin.disconnect();
  }
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** `node bin/fjord.js start` as a child; resolves once it accepts connections. */
async function startFjord(dataDir: string, port: number) {
  const child = spawn(
    process.execPath,
    [
      join(repoRoot(), 'bin', 'fjord.js'),
      'start',
      '--override',
      `log.dirs=${dataDir}`,
      '--override',
      `listeners=PLAINTEXT://127.0.0.1:${port}`,
      '--override',
      'log.flush.interval.messages=1',
      '--override',
      'offsets.topic.num.partitions=3',
      '--override',
      'group.initial.rebalance.delay.ms=0',
      '--override',
      'group.min.session.timeout.ms=500',
      '--override',
      'num.io.threads=1',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  try {
    await eventually(
      () => /group coordinator loaded/.test(output) || child.exitCode !== null,
      30_000,
      () => output,
    );
  } catch (error) {
    // A broker left running would keep this test file (and the whole integration run) from exiting.
    child.kill('SIGKILL');
    throw error;
  }
  if (child.exitCode !== null) throw new Error(`fjord start exited: ${output}`);
  return { child, output: () => output };
}

test('committed offsets and groups survive a SIGKILL of `fjord start` (log.flush.interval.messages=1)', async (t) => {
  if (!existsSync(join(repoRoot(), 'dist', 'src', 'cli', 'main.js'))) {
    assert.fail('dist/ is missing: run `npx tsc -p tsconfig.json` before the integration tests');
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'fjord-groups-kill-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  const bootstrap = `127.0.0.1:${port}`;
  let fjord = await startFjord(dataDir, port);
  const kafka = new Kafka({ brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'crash', numPartitions: 2 }] });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: 'crash',
      messages: Array.from({ length: 20 }, (_, i) => ({ partition: i % 2, value: `v${i}` })),
    });
    await producer.disconnect();
    // A standalone commit (no membership) and a consumer group's commits.
    await admin.setOffsets({
      groupId: 'crash-standalone',
      topic: 'crash',
      partitions: [
        { partition: 0, offset: '4' },
        { partition: 1, offset: '7' },
      ],
    });
    const consumer = track(
      kafkaPythonConsumer('crash-consumer', {
        bootstrap,
        group: 'crash-group',
        topic: 'crash',
        session_timeout_ms: 3000,
      }),
    );
    await consumer.until(() => consumer.records.length === 20, 60_000, '20 records');
    await consumer.kill('SIGTERM');

    fjord.child.kill('SIGKILL');
    await new Promise((resolve) => fjord.child.once('exit', resolve));
    fjord = await startFjord(dataDir, port);

    const standalone = await admin.fetchOffsets({ groupId: 'crash-standalone', topics: ['crash'] });
    assert.deepEqual(standalone[0]!.partitions.map((p) => [p.partition, p.offset]).sort(), [
      [0, '4'],
      [1, '7'],
    ]);
    const grouped = await admin.fetchOffsets({ groupId: 'crash-group', topics: ['crash'] });
    assert.deepEqual(grouped[0]!.partitions.map((p) => [p.partition, p.offset]).sort(), [
      [0, '10'],
      [1, '10'],
    ]);
    const groups = await admin.listGroups();
    assert.deepEqual(groups.groups.map((g) => g.groupId).sort(), ['crash-group', 'crash-standalone']);
    const described = await admin.describeGroups(['crash-group']);
    assert.equal(described.groups[0]!.state, 'Empty');
    assert.equal(described.groups[0]!.protocolType, 'consumer');
  } finally {
    await admin.disconnect().catch(() => {});
    fjord.child.kill('SIGTERM');
    await new Promise((resolve) =>
      fjord.child.exitCode !== null ? resolve(null) : fjord.child.once('exit', resolve),
    );
  }
});
