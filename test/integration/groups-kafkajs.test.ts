// kafkajs 2.2 consumers in one group: two, then three, split the partitions with no overlap; one that
// disconnects (LeaveGroup) hands its partitions over at once; committed offsets are visible to the admin API.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { GroupTestBroker, eventually } from './groups-support.js';

const PARTITIONS = 6;
let broker: GroupTestBroker;
let kafka: Kafka;
const consumers: Consumer[] = [];

before(async () => {
  broker = await GroupTestBroker.start();
  kafka = new Kafka({ clientId: 'groups-kafkajs', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
  await broker.createTopic('kj-split', PARTITIONS);
  await broker.produce('kj-split', PARTITIONS, 20);
});
after(async () => {
  await Promise.allSettled(consumers.map((c) => c.disconnect()));
  await broker.close();
});

interface Member {
  name: string;
  consumer: Consumer;
  assignment: number[];
  read: string[];
}

async function member(name: string, sessionTimeout = 30_000): Promise<Member> {
  const consumer = kafka.consumer({
    groupId: 'kj-group',
    sessionTimeout,
    rebalanceTimeout: 10_000,
    heartbeatInterval: 300,
    retry: { retries: 20, initialRetryTime: 100 },
  });
  consumers.push(consumer);
  const m: Member = { name, consumer, assignment: [], read: [] };
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    m.assignment = [...(event.payload.memberAssignment['kj-split'] ?? [])].sort((a, b) => a - b);
  });
  await consumer.connect();
  await consumer.subscribe({ topic: 'kj-split', fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      m.read.push(`${partition}:${message.offset}`);
    },
  });
  return m;
}

const split = (members: Member[]) => {
  const all = members.flatMap((m) => m.assignment).sort((a, b) => a - b);
  return (
    all.length === PARTITIONS && all.every((p, i) => p === i) && members.every((m) => m.assignment.length > 0)
  );
};
const show = (members: Member[]) => members.map((m) => `${m.name}=${JSON.stringify(m.assignment)}`).join(' ');

test('two, then three kafkajs consumers split the partitions; one leaving hands over at once', async () => {
  const a = await member('a');
  const b = await member('b');
  await eventually(
    () => split([a, b]),
    60_000,
    () => show([a, b]),
  );
  assert.deepEqual([a.assignment.length, b.assignment.length], [3, 3]);
  const c = await member('c');
  await eventually(
    () => split([a, b, c]),
    60_000,
    () => show([a, b, c]),
  );
  for (const m of [a, b, c]) assert.equal(m.assignment.length, 2, show([a, b, c]));
  const everyRecord = () => new Set([a, b, c].flatMap((m) => m.read)).size === PARTITIONS * 20;
  await eventually(everyRecord, 30_000, () => `${new Set([a, b, c].flatMap((m) => m.read)).size} read`);

  // The session timeout is 30 s: only the LeaveGroup sent by disconnect() explains a takeover within 20 s.
  const leaving = c.assignment;
  await c.consumer.disconnect();
  await eventually(
    () => split([a, b]),
    20_000,
    () => show([a, b]),
  );
  for (const p of leaving) assert.ok(a.assignment.includes(p) || b.assignment.includes(p));

  const admin = kafka.admin();
  await admin.connect();
  try {
    const described = await admin.describeGroups(['kj-group']);
    assert.equal(described.groups[0]!.state, 'Stable');
    assert.equal(described.groups[0]!.protocol, 'RoundRobinAssigner');
    assert.equal(described.groups[0]!.members.length, 2);
    await a.consumer.disconnect();
    await b.consumer.disconnect();
    const offsets = await admin.fetchOffsets({ groupId: 'kj-group', topics: ['kj-split'] });
    assert.deepEqual(
      offsets[0]!.partitions.map((p) => [p.partition, p.offset]).sort((x, y) => Number(x[0]) - Number(y[0])),
      Array.from({ length: PARTITIONS }, (_, p) => [p, '20']),
    );
    const listed = await admin.listGroups();
    assert.ok(listed.groups.some((g) => g.groupId === 'kj-group' && g.protocolType === 'consumer'));
  } finally {
    await admin.disconnect();
  }
});
