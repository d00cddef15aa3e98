// Consumer groups against an embedded Fjord broker: two of our consumers split a topic and read it exactly
// once between them, a leaver's partitions move to the survivor, a restarted member resumes at its commit,
// and the assignors give Kafka's splits.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker } from '../../src/server/broker.js';
import { Admin } from '../../src/client/admin/admin.js';
import { Producer } from '../../src/client/producer/producer.js';
import { Consumer, type ConsumerRecord } from '../../src/client/consumer/consumer.js';
import {
  cooperativeStickyAssignor,
  rangeAssignor,
  roundRobinAssignor,
} from '../../src/client/consumer/assignors.js';
import type { TopicPartition } from '../../src/client/consumer/group-membership.js';
import type { Logger } from '../../src/util/logger.js';

const quiet: Logger = { info() {}, warn() {}, error() {}, debug() {} };
const silent = { warn() {} };

const GROUP_CONFIG = {
  'offsets.topic.num.partitions': '1',
  'group.initial.rebalance.delay.ms': '0',
  'group.min.session.timeout.ms': '500',
};

async function until(check: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A group consumer running its iterator in the background, recording what it reads and is assigned. */
class Member {
  readonly consumer: Consumer;
  readonly records: ConsumerRecord[] = [];
  assignment: TopicPartition[] = [];
  readonly events: string[] = [];
  readonly done: Promise<void>;
  /** What ended the iterator, if it failed. */
  error: unknown;

  constructor(
    bootstrap: string,
    groupId: string,
    topic: string,
    extra: { partitionAssignors?: 'cooperative-sticky'[]; groupInstanceId?: string } = {},
  ) {
    this.consumer = new Consumer({
      ...extra,
      brokers: bootstrap,
      groupId,
      autoOffsetReset: 'earliest',
      sessionTimeoutMs: 3000,
      heartbeatIntervalMs: 100,
      rebalanceTimeoutMs: 5000,
      maxWaitMs: 100,
      autoCommitIntervalMs: 200,
      logger: silent,
    });
    this.consumer.subscribe([topic], {
      // Cooperative listeners get increments, eager ones the whole assignment (after revoking all).
      onPartitionsAssigned: (partitions) => {
        this.assignment = [...this.assignment, ...partitions].sort((a, b) => a.partition - b.partition);
        this.events.push(`assigned ${partitions.map((p) => p.partition).join(',')}`);
      },
      onPartitionsRevoked: (partitions) => {
        const gone = partitions.map((p) => p.partition).sort((a, b) => a - b);
        this.events.push(`revoked ${gone.join(',')}`);
        this.assignment = this.assignment.filter((p) => !gone.includes(p.partition));
      },
    });
    const consumer = this.consumer;
    const records = this.records;
    this.done = (async () => {
      for await (const record of consumer) records.push(record);
    })().catch((error: unknown) => {
      this.error = error;
    });
  }

  get partitions(): number[] {
    return this.assignment.map((p) => p.partition);
  }

  async close(): Promise<void> {
    await this.consumer.close();
    await this.done;
  }
}

function keysOf(records: ConsumerRecord[]): string[] {
  return records.map((r) => `${r.partition}:${r.offset}`);
}

describe('consumer groups', () => {
  let broker: Broker;
  let dataDir: string;
  let producer: Producer;
  let admin: Admin;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'fjord-cgroup-'));
    broker = await Broker.start({ dataDir, port: 0, log: quiet, config: GROUP_CONFIG });
    admin = new Admin({ brokers: [broker.bootstrap] });
    producer = new Producer({ brokers: [broker.bootstrap], lingerMs: 0 });
  });

  after(async () => {
    await producer.close();
    await admin.close();
    await broker.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function produce(
    topic: string,
    partitions: number,
    perPartition: number,
    tag: string,
  ): Promise<void> {
    const sends: Promise<unknown>[] = [];
    for (let p = 0; p < partitions; p++)
      for (let i = 0; i < perPartition; i++)
        sends.push(producer.send({ topic, partition: p, value: Buffer.from(`${tag}-${p}-${i}`) }));
    await Promise.all(sends);
  }

  it('two members split six partitions without overlap and read every record exactly once', async () => {
    const topic = 'split';
    await admin.createTopics([{ topic, numPartitions: 6 }]);
    await produce(topic, 6, 20, 'a');
    const a = new Member(broker.bootstrap, 'g-split', topic);
    await until(
      () => a.partitions.length === 6,
      10_000,
      () => `a has ${a.partitions}`,
    );
    const b = new Member(broker.bootstrap, 'g-split', topic);
    await until(
      () => a.partitions.length === 3 && b.partitions.length === 3,
      10_000,
      () => `a ${a.partitions}, b ${b.partitions}`,
    );
    // Range over six partitions and two members: three contiguous partitions each.
    const split = [a.partitions, b.partitions].sort((x, y) => x[0]! - y[0]!);
    assert.deepEqual(split, [
      [0, 1, 2],
      [3, 4, 5],
    ]);
    await produce(topic, 6, 20, 'b');
    await until(
      () => a.records.length + b.records.length >= 240,
      10_000,
      () => `${a.records.length} + ${b.records.length} records`,
    );
    // What each member read after the split came only from its own partitions.
    const all = [...keysOf(a.records), ...keysOf(b.records)];
    assert.equal(new Set(all).size, all.length, 'no record read twice');
    const expected: string[] = [];
    for (let p = 0; p < 6; p++) for (let o = 0; o < 40; o++) expected.push(`${p}:${o}`);
    assert.deepEqual(all.sort(), expected.sort());
    const values = [...a.records, ...b.records].map((r) => r.value!.toString());
    assert.ok(values.includes('a-0-0') && values.includes('b-5-19'));
    const tail = b.records.filter((r) => r.value!.toString().startsWith('b-'));
    assert.ok(tail.every((r) => b.partitions.includes(r.partition)));
    assert.equal(a.consumer.groupMember?.protocol, 'range');

    // One leaves: the other takes every partition over and reads what comes next.
    await a.close();
    await until(
      () => b.partitions.length === 6,
      10_000,
      () => `b has ${b.partitions}`,
    );
    assert.ok(a.events.at(-1)!.startsWith('revoked'));
    const before = b.records.length;
    await produce(topic, 6, 5, 'c');
    await until(
      () => b.records.length >= before + 30,
      10_000,
      () => `b read ${b.records.length - before}`,
    );
    const late = b.records.slice(before);
    assert.deepEqual(
      late.map((r) => r.value!.toString()).sort(),
      Array.from({ length: 30 }, (_, i) => `c-${Math.floor(i / 5)}-${i % 5}`).sort(),
    );
    await b.close();
    // Closing committed everything: 45 records per partition.
    const offsets = await admin.fetchOffsets('g-split', [topic]);
    assert.deepEqual(
      offsets[0]!.partitions.map((p) => [p.partition, p.offset]),
      [0, 1, 2, 3, 4, 5].map((p) => [p, 45]),
    );
  });

  it('a restarted member resumes at the committed offset', async () => {
    const topic = 'resume';
    await admin.createTopics([{ topic, numPartitions: 2 }]);
    await produce(topic, 2, 10, 'x');
    const consumer = new Consumer({
      brokers: [broker.bootstrap],
      groupId: 'g-resume',
      autoOffsetReset: 'earliest',
      enableAutoCommit: false,
      sessionTimeoutMs: 3000,
      heartbeatIntervalMs: 100,
      maxWaitMs: 100,
      logger: silent,
    });
    consumer.subscribe([topic]);
    const seen: ConsumerRecord[] = [];
    while (seen.length < 20) seen.push(...(await consumer.poll()));
    assert.equal(seen.length, 20);
    // Commit partition 0 after its fourth record and partition 1 at the end, synchronously.
    await consumer.commit([
      { topic, partition: 0, offset: 4 },
      { topic, partition: 1, offset: 10 },
    ]);
    assert.deepEqual(
      await consumer.committed([
        { topic, partition: 0 },
        { topic, partition: 1 },
      ]),
      [
        { topic, partition: 0, offset: 4 },
        { topic, partition: 1, offset: 10 },
      ],
    );
    await consumer.close();

    await produce(topic, 2, 2, 'y');
    const again = new Consumer({
      brokers: [broker.bootstrap],
      groupId: 'g-resume',
      autoOffsetReset: 'earliest',
      enableAutoCommit: false,
      sessionTimeoutMs: 3000,
      heartbeatIntervalMs: 100,
      maxWaitMs: 100,
      logger: silent,
    });
    again.subscribe([topic]);
    const resumed: ConsumerRecord[] = [];
    while (resumed.length < 10) resumed.push(...(await again.poll()));
    assert.deepEqual(
      resumed.map((r) => `${r.partition}:${r.offset}:${r.value!.toString()}`).sort(),
      [
        ...Array.from({ length: 6 }, (_, i) => `0:${4 + i}:x-0-${4 + i}`),
        '0:10:y-0-0',
        '0:11:y-0-1',
        '1:10:y-1-0',
        '1:11:y-1-1',
      ].sort(),
    );
    // commitAsync commits what poll returned.
    const outcome = await new Promise<Error | null>((resolve) => again.commitAsync(undefined, resolve));
    assert.equal(outcome, null);
    const offsets = await admin.fetchOffsets('g-resume', [topic]);
    assert.deepEqual(
      offsets[0]!.partitions.map((p) => [p.partition, p.offset]),
      [
        [0, 12],
        [1, 12],
      ],
    );
    await again.close();
  });

  it('cooperative-sticky moves only the partitions that change owner, and reads exactly once', async () => {
    const topic = 'coop';
    await admin.createTopics([{ topic, numPartitions: 6 }]);
    await produce(topic, 6, 10, 'a');
    const options = { partitionAssignors: ['cooperative-sticky' as const] };
    const a = new Member(broker.bootstrap, 'g-coop', topic, options);
    await until(
      () => a.partitions.length === 6,
      10_000,
      () => `a has ${a.partitions}`,
    );
    await until(
      () => a.records.length === 60,
      10_000,
      () => `a read ${a.records.length}`,
    );
    const b = new Member(broker.bootstrap, 'g-coop', topic, options);
    await until(
      () => a.partitions.length === 3 && b.partitions.length === 3,
      10_000,
      () => `a ${a.partitions}, b ${b.partitions}`,
    );
    assert.equal(a.consumer.groupMember!.protocol, 'cooperative-sticky');
    // a gave up exactly the three partitions b got, in one revocation, and kept the rest throughout.
    const revokedOfA = a.events.filter((e) => e.startsWith('revoked'));
    assert.deepEqual(revokedOfA, [`revoked ${b.partitions.join(',')}`]);
    assert.ok(b.events.includes(`assigned ${b.partitions.join(',')}`));
    assert.ok(!b.events.some((e) => e.startsWith('revoked')));
    assert.deepEqual([...a.partitions, ...b.partitions].sort(), [0, 1, 2, 3, 4, 5]);
    await produce(topic, 6, 10, 'b');
    await until(
      () => a.records.length + b.records.length >= 120,
      10_000,
      () => `${a.records.length} + ${b.records.length}`,
    );
    const all = [...keysOf(a.records), ...keysOf(b.records)];
    assert.equal(new Set(all).size, all.length, 'no record read twice');
    assert.equal(all.length, 120);
    assert.ok(b.records.every((r) => b.partitions.includes(r.partition)));
    await Promise.all([a.close(), b.close()]);
  });

  it('a static member that restarts within its session keeps its partitions without a rebalance', async () => {
    const topic = 'static';
    await admin.createTopics([{ topic, numPartitions: 4 }]);
    const a = new Member(broker.bootstrap, 'g-static', topic, { groupInstanceId: 'inst-a' });
    const b = new Member(broker.bootstrap, 'g-static', topic, { groupInstanceId: 'inst-b' });
    await until(
      () => a.partitions.length === 2 && b.partitions.length === 2,
      10_000,
      () => `a ${a.partitions}, b ${b.partitions}`,
    );
    // Static members rank by instance id.
    assert.deepEqual(a.partitions, [0, 1]);
    assert.deepEqual(b.partitions, [2, 3]);
    const generation = b.consumer.groupMember!.generationId;
    const eventsOfB = b.events.length;
    await a.close(); // a static member does not leave the group on close
    const [described] = await admin.describeGroups(['g-static']);
    assert.deepEqual(described!.members.map((m) => m.groupInstanceId).sort(), ['inst-a', 'inst-b']);
    const again = new Member(broker.bootstrap, 'g-static', topic, { groupInstanceId: 'inst-a' });
    await until(
      () => again.partitions.length === 2,
      10_000,
      () => `again has ${again.partitions}`,
    );
    assert.deepEqual(again.partitions, [0, 1]);
    await produce(topic, 4, 3, 's');
    await until(
      () => b.records.length >= 6,
      10_000,
      () => `b read ${b.records.length}`,
    );
    assert.equal(b.consumer.groupMember!.generationId, generation);
    assert.deepEqual(b.events.slice(eventsOfB), []);
    await Promise.all([again.close(), b.close()]);
  });

  it('round robin is chosen when every member prefers it', async () => {
    const topic = 'rr';
    await admin.createTopics([{ topic, numPartitions: 5 }]);
    const make = (): Consumer => {
      const c = new Consumer({
        brokers: [broker.bootstrap],
        groupId: 'g-rr',
        partitionAssignors: ['roundrobin', 'range'],
        sessionTimeoutMs: 3000,
        heartbeatIntervalMs: 100,
        maxWaitMs: 50,
        logger: silent,
      });
      c.subscribe([topic]);
      return c;
    };
    const c1 = make();
    const c2 = make();
    // Both poll until both are in one generation with a split assignment.
    const stable = (): boolean =>
      c1.assignment().length + c2.assignment().length === 5 &&
      c1.groupMember!.generationId === c2.groupMember!.generationId &&
      c1.assignment().length > 0 &&
      c2.assignment().length > 0;
    const deadline = Date.now() + 10_000;
    while (!stable() && Date.now() < deadline) await Promise.all([c1.poll(), c2.poll()]);
    assert.ok(stable(), 'the group settled');
    assert.equal(c1.groupMember!.protocol, 'roundrobin');
    const first = [c1, c2].sort((x, y) => (x.groupMember!.memberId < y.groupMember!.memberId ? -1 : 1))[0]!;
    assert.deepEqual(
      first.assignment().map((p) => p.partition),
      [0, 2, 4],
    );
    await Promise.all([c1.close(), c2.close()]);
  });
});

describe('assignors', () => {
  const m = (memberId: string, topics: string[], groupInstanceId: string | null = null) => ({
    memberId,
    groupInstanceId,
    topics,
  });
  const plain = (a: Map<string, Map<string, number[]>>): Record<string, Record<string, number[]>> =>
    Object.fromEntries([...a].map(([k, v]) => [k, Object.fromEntries(v)]));

  it('range gives each subscriber a contiguous share, the first ones one extra', () => {
    const out = rangeAssignor.assign(
      [m('c', ['t1']), m('a', ['t1', 't2']), m('b', ['t1', 't2'])],
      new Map([
        ['t1', 7],
        ['t2', 2],
      ]),
    );
    assert.deepEqual(plain(out), {
      a: { t1: [0, 1, 2], t2: [0] },
      b: { t1: [3, 4], t2: [1] },
      c: { t1: [5, 6] },
    });
  });

  it('round robin deals partitions in turn, skipping members not subscribed', () => {
    const out = roundRobinAssignor.assign(
      [m('b', ['t1', 't2']), m('a', ['t1']), m('c', ['t2'])],
      new Map([
        ['t1', 3],
        ['t2', 3],
      ]),
    );
    assert.deepEqual(plain(out), {
      a: { t1: [0, 2] },
      b: { t1: [1], t2: [0, 2] },
      c: { t2: [1] },
    });
  });

  it('cooperative-sticky keeps owned partitions and holds back those that change owner', () => {
    const counts = new Map([['t', 6]]);
    const owning = (memberId: string, partitions: number[]) => ({
      memberId,
      groupInstanceId: null,
      topics: ['t'],
      ownedPartitions: [{ topic: 't', partitions }],
    });
    // a owned everything; b is new: b's share is left out until a has revoked it.
    const first = cooperativeStickyAssignor.assign(
      [owning('a', [0, 1, 2, 3, 4, 5]), owning('b', [])],
      counts,
    );
    assert.deepEqual(plain(first), { a: { t: [0, 1, 2] }, b: {} });
    // The follow-up rebalance: a owns 0-2, so b gets 3-5.
    const second = cooperativeStickyAssignor.assign([owning('a', [0, 1, 2]), owning('b', [])], counts);
    assert.deepEqual(plain(second), { a: { t: [0, 1, 2] }, b: { t: [3, 4, 5] } });
    // Stickiness: members that own interleaved partitions keep two each when a third arrives.
    const third = cooperativeStickyAssignor.assign(
      [owning('a', [1, 3, 5]), owning('b', [0, 2, 4]), owning('c', [])],
      counts,
    );
    assert.deepEqual(plain(third), { a: { t: [1, 3] }, b: { t: [0, 2] }, c: {} });
    const settled = cooperativeStickyAssignor.assign(
      [owning('a', [1, 3]), owning('b', [0, 2]), owning('c', [])],
      counts,
    );
    assert.deepEqual(plain(settled), { a: { t: [1, 3] }, b: { t: [0, 2] }, c: { t: [4, 5] } });
  });

  it('static members sort by instance id before dynamic ones', () => {
    const out = rangeAssignor.assign([m('a', ['t']), m('z', ['t'], 'i1')], new Map([['t', 4]]));
    assert.deepEqual(plain(out), { z: { t: [0, 1] }, a: { t: [2, 3] } });
  });
});
