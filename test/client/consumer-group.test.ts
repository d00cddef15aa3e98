// Consumer groups against both brokers (embedded Fjord and librdkafka's mock cluster): two of our consumers
// split a topic and read it exactly once between them, a leaver's partitions move to the survivor, a
// restarted member resumes at its commit, every assignor gives Kafka's split, static members keep their
// partitions, and auto.offset.reset decides where a group without commits starts.
//
// Where the mock differs from Kafka: it refuses OffsetCommit with REBALANCE_IN_PROGRESS as soon as a
// rebalance starts, while Kafka (and Fjord) accept commits of the current generation until the joins are
// complete. The commit a member makes before revoking therefore fails on the mock, as it does for the Java
// client there. The tests commit what was read before the group changes (what an application that needs an
// exact hand-over does against such a broker), and one test checks that a refused commit rejects with the
// coordinator's error and makes the member rejoin.
import { after, afterEach, before, describe, it } from 'node:test';
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
import { KafkaError } from '../../src/client/errors.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import type { Logger } from '../../src/util/logger.js';
import { startMockCluster } from '../tools/mock-cluster.js';
import type { TopicSpec } from './helpers.js';

const quiet: Logger = { info() {}, warn() {}, error() {}, debug() {} };
const silent = { warn() {} };

const GROUP_CONFIG = {
  'offsets.topic.num.partitions': '1',
  'group.initial.rebalance.delay.ms': '0',
  'group.min.session.timeout.ms': '500',
};

const TOPICS: TopicSpec[] = [
  { name: 'split', partitions: 6 },
  { name: 'resume', partitions: 2 },
  { name: 'coop', partitions: 6 },
  { name: 'static', partitions: 4 },
  { name: 'rr', partitions: 5 },
  { name: 'refused', partitions: 2 },
  { name: 'reset', partitions: 1 },
];

interface GroupBroker {
  name: 'fjord' | 'mock';
  start(): Promise<{ bootstrap: string; stop(): Promise<void> }>;
}

// Fjord with the group settings a test wants (no initial rebalance delay, short sessions allowed); the mock
// with the same topics.
const groupBrokers: GroupBroker[] = [
  {
    name: 'fjord',
    async start() {
      const dataDir = mkdtempSync(join(tmpdir(), 'fjord-cgroup-'));
      const broker = await Broker.start({ dataDir, port: 0, log: quiet, config: GROUP_CONFIG });
      const admin = new Admin({ brokers: [broker.bootstrap] });
      await admin.createTopics(TOPICS.map((t) => ({ topic: t.name, numPartitions: t.partitions })));
      await admin.close();
      return {
        bootstrap: broker.bootstrap,
        async stop() {
          await broker.stop();
          rmSync(dataDir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'mock',
    async start() {
      const cluster = await startMockCluster({ topics: TOPICS });
      return { bootstrap: cluster.bootstrap, stop: () => cluster.stop() };
    },
  },
];

// Deadlines only bound a failing test. The librdkafka mock's rebalances (a 3 s hold of a group's first join,
// session-timeout waits) run long on a loaded 2-core CI machine, and a 15 s bound failed there once, so
// every bound is generous.
const SLACK = 3;
const SETTLE_MS = 60_000;

async function until(check: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs * SLACK;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const MEMBER_OPTIONS = {
  autoOffsetReset: 'earliest',
  // The mock holds a first join for 3 s and expires sessions meanwhile: it needs more than that.
  sessionTimeoutMs: 4000,
  heartbeatIntervalMs: 100,
  rebalanceTimeoutMs: 5000,
  maxWaitMs: 100,
  autoCommitIntervalMs: 200,
  logger: silent,
} as const;

/** Consumers a test opened; closed after each test, so a failed test leaves nothing running. */
const opened: Consumer[] = [];

function openConsumer(options: ConstructorParameters<typeof Consumer>[0]): Consumer {
  const c = new Consumer(options);
  opened.push(c);
  return c;
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
    this.consumer = openConsumer({ ...MEMBER_OPTIONS, ...extra, brokers: bootstrap, groupId });
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
    const c = this.consumer;
    const records = this.records;
    this.done = (async () => {
      for await (const record of c) records.push(record);
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

/** The group's committed offsets of `topic`'s partitions 0..count-1, as [partition, offset] (absent: none). */
async function committedOffsets(
  bootstrap: string,
  groupId: string,
  topic: string,
  count: number,
): Promise<[number, number][]> {
  // A consumer that subscribes but never polls does not join; it only asks the coordinator.
  const reader = new Consumer({ brokers: [bootstrap], groupId, logger: silent });
  try {
    reader.subscribe([topic]);
    const found = await reader.committed(
      Array.from({ length: count }, (_, partition) => ({ topic, partition })),
    );
    return found.map((o) => [o.partition, o.offset]);
  } finally {
    await reader.close();
  }
}

for (const kind of groupBrokers) {
  describe(`consumer groups against ${kind.name}`, () => {
    let bootstrap: string;
    let stop: () => Promise<void>;
    let producer: Producer;

    before(async () => {
      ({ bootstrap, stop } = await kind.start());
      producer = new Producer({ brokers: [bootstrap], lingerMs: 0, logger: silent });
    });

    afterEach(async () => {
      await Promise.all(opened.splice(0).map((c) => c.close()));
    });

    after(async () => {
      await producer.close();
      await stop();
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
      await produce(topic, 6, 20, 'a');
      const a = new Member(bootstrap, 'g-split', topic);
      await until(
        () => a.partitions.length === 6 && a.records.length === 120,
        15_000,
        () => `a has ${a.partitions} and read ${a.records.length}`,
      );
      assert.equal(a.consumer.groupMember?.protocol, 'range');
      // Everything read is committed before the group changes (see the header).
      await a.consumer.commit();
      assert.deepEqual(
        await committedOffsets(bootstrap, 'g-split', topic, 6),
        [0, 1, 2, 3, 4, 5].map((p) => [p, 20]),
      );
      const b = new Member(bootstrap, 'g-split', topic);
      await until(
        () => a.partitions.length === 3 && b.partitions.length === 3,
        15_000,
        () => `a ${a.partitions}, b ${b.partitions}`,
      );
      // Range over six partitions and two members: three contiguous partitions each.
      const split = [a.partitions, b.partitions].sort((x, y) => x[0]! - y[0]!);
      assert.deepEqual(split, [
        [0, 1, 2],
        [3, 4, 5],
      ]);
      assert.deepEqual(b.events, [`assigned ${b.partitions.join(',')}`]);
      await produce(topic, 6, 20, 'b');
      await until(
        () => a.records.length + b.records.length >= 240,
        15_000,
        () => `${a.records.length} + ${b.records.length} records`,
      );
      const all = [...keysOf(a.records), ...keysOf(b.records)];
      assert.equal(new Set(all).size, all.length, 'no record read twice');
      const expected: string[] = [];
      for (let p = 0; p < 6; p++) for (let o = 0; o < 40; o++) expected.push(`${p}:${o}`);
      assert.deepEqual(all.sort(), expected.sort());
      // b read only the second round, and only from its own partitions.
      assert.deepEqual(
        b.records.map((r) => r.value!.toString()).sort(),
        b.partitions.flatMap((p) => Array.from({ length: 20 }, (_, i) => `b-${p}-${i}`)).sort(),
      );

      // One leaves: the other takes every partition over and reads what comes next.
      await Promise.all([a.consumer.commit(), b.consumer.commit()]);
      const partitionsOfB = b.partitions.join(',');
      await b.close();
      assert.equal(b.events.at(-1), `revoked ${partitionsOfB}`);
      await until(
        () => a.partitions.length === 6,
        15_000,
        () => `a has ${a.partitions}`,
      );
      const before = a.records.length;
      await produce(topic, 6, 5, 'c');
      await until(
        () => a.records.length >= before + 30,
        15_000,
        () => `a read ${a.records.length - before}`,
      );
      const late = a.records.slice(before);
      assert.deepEqual(
        late.map((r) => r.value!.toString()).sort(),
        Array.from({ length: 30 }, (_, i) => `c-${Math.floor(i / 5)}-${i % 5}`).sort(),
      );
      await a.consumer.commit();
      await a.close();
      assert.equal(a.error, undefined);
      assert.equal(b.error, undefined);
      // 45 records per partition, all committed.
      assert.deepEqual(
        await committedOffsets(bootstrap, 'g-split', topic, 6),
        [0, 1, 2, 3, 4, 5].map((p) => [p, 45]),
      );
    });

    it('a restarted member resumes at the committed offset', async () => {
      const topic = 'resume';
      await produce(topic, 2, 10, 'x');
      const options = {
        ...MEMBER_OPTIONS,
        brokers: [bootstrap],
        groupId: 'g-resume',
        enableAutoCommit: false,
      };
      const consumer = openConsumer(options);
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
      const again = openConsumer(options);
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
      assert.deepEqual(await committedOffsets(bootstrap, 'g-resume', topic, 2), [
        [0, 12],
        [1, 12],
      ]);
      await again.close();
    });

    it('a commit the coordinator refuses for a rebalance rejects with its error, and the member rejoins', async () => {
      const topic = 'refused';
      await produce(topic, 2, 10, 'r');
      const options = {
        ...MEMBER_OPTIONS,
        brokers: [bootstrap],
        groupId: 'g-refused',
        enableAutoCommit: false,
      };
      const a = openConsumer(options);
      const eventsOfA: string[] = [];
      a.subscribe([topic], {
        onPartitionsAssigned: (ps) => void eventsOfA.push(`assigned ${ps.map((p) => p.partition).join(',')}`),
        onPartitionsRevoked: (ps) => void eventsOfA.push(`revoked ${ps.map((p) => p.partition).join(',')}`),
      });
      const seen: ConsumerRecord[] = [];
      while (seen.length < 20) seen.push(...(await a.poll()));
      const generation = a.groupMember!.generationId;
      // A second member starts a rebalance; a does not poll, so it has not rejoined yet when it commits.
      const b = openConsumer({ ...options, groupId: 'g-refused' });
      b.subscribe([topic]);
      const bPolls = (async () => {
        const got: ConsumerRecord[] = [];
        const deadline = Date.now() + SETTLE_MS;
        while ((b.assignment().length === 0 || got.length < 5) && Date.now() < deadline)
          got.push(...(await b.poll()));
        return got;
      })();
      // Wait until a's heartbeat has seen the rebalance begin.
      await until(
        () => a.groupMember!.rejoinNeeded,
        10_000,
        () => 'no rebalance seen',
      );
      const outcome = await a.commit([{ topic, partition: 0, offset: 5 }]).then(
        () => null,
        (error: unknown) => error,
      );
      if (kind.name === 'mock') {
        assert.ok(outcome instanceof KafkaError, String(outcome));
        assert.equal(outcome.code, ErrorCode.REBALANCE_IN_PROGRESS);
      } else {
        // Kafka's coordinator (and Fjord's) takes the commit: a still holds the current generation.
        assert.equal(outcome, null);
      }
      // Either way a rejoins on its next poll: it gives up both partitions and gets one back.
      const deadline = Date.now() + SETTLE_MS;
      while (
        (a.groupMember!.generationId === generation || a.assignment().length === 0) &&
        Date.now() < deadline
      )
        await a.poll();
      assert.deepEqual(eventsOfA.slice(0, 2), ['assigned 0,1', 'revoked 0,1']);
      assert.deepEqual(eventsOfA.slice(2), [`assigned ${a.assignment()[0]!.partition}`]);
      const got = await bPolls;
      // b's partition starts at the commit when it was taken, at the start otherwise. (On the mock, b may
      // hold both partitions for one generation before a rejoins, so it can also have read a's.)
      const bPartition = b.assignment()[0]!.partition;
      const firstOffset = kind.name === 'fjord' && bPartition === 0 ? 5 : 0;
      const ofB = got.filter((r) => r.partition === bPartition);
      assert.ok(ofB.length > 0, 'b read its partition');
      assert.equal(ofB[0]!.offset, firstOffset);
      if (kind.name === 'fjord') assert.ok(got.every((r) => r.partition === bPartition));
      await Promise.all([a.close(), b.close()]);
    });

    it('cooperative-sticky moves only the partitions that change owner, and reads exactly once', async () => {
      const topic = 'coop';
      await produce(topic, 6, 10, 'a');
      const options = { partitionAssignors: ['cooperative-sticky' as const] };
      const a = new Member(bootstrap, 'g-coop', topic, options);
      await until(
        () => a.partitions.length === 6 && a.records.length === 60,
        15_000,
        () => `a has ${a.partitions}, read ${a.records.length}`,
      );
      await a.consumer.commit();
      const b = new Member(bootstrap, 'g-coop', topic, options);
      await until(
        () => a.partitions.length === 3 && b.partitions.length === 3,
        15_000,
        () => `a ${a.partitions}, b ${b.partitions}`,
      );
      assert.equal(a.consumer.groupMember!.protocol, 'cooperative-sticky');
      // a gave up exactly the three partitions b got, in one revocation, and kept the rest throughout.
      const revokedOfA = a.events.filter((e) => e.startsWith('revoked'));
      assert.deepEqual(revokedOfA, [`revoked ${b.partitions.join(',')}`]);
      assert.deepEqual(a.events[0], 'assigned 0,1,2,3,4,5');
      assert.ok(b.events.includes(`assigned ${b.partitions.join(',')}`));
      assert.ok(!b.events.some((e) => e.startsWith('revoked')));
      assert.deepEqual([...a.partitions, ...b.partitions].sort(), [0, 1, 2, 3, 4, 5]);
      await produce(topic, 6, 10, 'b');
      await until(
        () => a.records.length + b.records.length >= 120,
        15_000,
        () => `${a.records.length} + ${b.records.length}`,
      );
      const all = [...keysOf(a.records), ...keysOf(b.records)];
      assert.equal(new Set(all).size, all.length, 'no record read twice');
      assert.equal(all.length, 120);
      assert.ok(b.records.every((r) => b.partitions.includes(r.partition)));
      await Promise.all([a.close(), b.close()]);
    });

    // librdkafka 2.0.2's mock coordinator reads group.instance.id and ignores it (JoinGroup lists every member
    // with a null instance id, and an instance that comes back is a new member), so this runs on Fjord only.
    const staticIt = kind.name === 'fjord' ? it : undefined;
    staticIt?.(
      'a static member that restarts within its session keeps its partitions without a rebalance',
      async () => {
        const topic = 'static';
        const a = new Member(bootstrap, 'g-static', topic, { groupInstanceId: 'inst-a' });
        const b = new Member(bootstrap, 'g-static', topic, { groupInstanceId: 'inst-b' });
        await until(
          () => a.partitions.length === 2 && b.partitions.length === 2,
          15_000,
          () => `a ${a.partitions}, b ${b.partitions}`,
        );
        // Static members rank by instance id.
        assert.deepEqual(a.partitions, [0, 1]);
        assert.deepEqual(b.partitions, [2, 3]);
        const generation = b.consumer.groupMember!.generationId;
        const eventsOfB = b.events.length;
        await a.close(); // a static member does not leave the group on close
        const again = new Member(bootstrap, 'g-static', topic, { groupInstanceId: 'inst-a' });
        await until(
          () => again.partitions.length === 2,
          15_000,
          () => `again has ${again.partitions}`,
        );
        assert.deepEqual(again.partitions, [0, 1]);
        await produce(topic, 4, 3, 's');
        await until(
          () => b.records.length >= 6 && again.records.length >= 6,
          15_000,
          () => `b read ${b.records.length}, again ${again.records.length}`,
        );
        assert.deepEqual(again.records.map((r) => r.value!.toString()).sort(), [
          's-0-0',
          's-0-1',
          's-0-2',
          's-1-0',
          's-1-1',
          's-1-2',
        ]);
        assert.equal(b.consumer.groupMember!.generationId, generation);
        assert.deepEqual(b.events.slice(eventsOfB), []);
        await Promise.all([again.close(), b.close()]);
      },
    );

    // Fjord only for now: on librdkafka 2.0.2's mock this two-member group sometimes never settled when the
    // whole suite ran in CI (no stable generation within 60 s, 2 runs of 5), while alone it settles in ~3 s.
    // Not yet understood. The round-robin split itself is checked by the assignor tests at the end of this
    // file, and end to end on Fjord here.
    const roundRobinIt = kind.name === 'fjord' ? it : undefined;
    roundRobinIt?.('round robin is chosen when every member prefers it', async () => {
      const topic = 'rr';
      const make = (): Consumer => {
        const c = openConsumer({
          ...MEMBER_OPTIONS,
          brokers: [bootstrap],
          groupId: 'g-rr',
          partitionAssignors: ['roundrobin', 'range'],
          maxWaitMs: 50,
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
      const deadline = Date.now() + SETTLE_MS;
      while (!stable() && Date.now() < deadline) await Promise.all([c1.poll(), c2.poll()]);
      assert.ok(stable(), 'the group settled');
      assert.equal(c1.groupMember!.protocol, 'roundrobin');
      const [first, second] = [c1, c2].sort((x, y) =>
        x.groupMember!.memberId < y.groupMember!.memberId ? -1 : 1,
      );
      assert.deepEqual(
        first!.assignment().map((p) => p.partition),
        [0, 2, 4],
      );
      assert.deepEqual(
        second!.assignment().map((p) => p.partition),
        [1, 3],
      );
      await Promise.all([c1.close(), c2.close()]);
    });

    it("auto.offset.reset decides where a group without commits starts: 'earliest', 'latest', or 'none' (an error)", async () => {
      const topic = 'reset';
      await producer.send({ topic, partition: 0, value: 'before' });
      const make = (groupId: string, autoOffsetReset: 'earliest' | 'latest' | 'none'): Consumer => {
        const c = openConsumer({ ...MEMBER_OPTIONS, brokers: [bootstrap], groupId, autoOffsetReset });
        c.subscribe([topic]);
        return c;
      };
      const earliest = make('g-reset-earliest', 'earliest');
      const latest = make('g-reset-latest', 'latest');
      const none = make('g-reset-none', 'none');
      // The three groups join at once (the mock holds each first join for 3 s).
      const [first] = await Promise.all([
        pollUntil(earliest, 1),
        (async () => {
          // latest: once assigned, its position is the end of the partition.
          const deadline = Date.now() + SETTLE_MS;
          while (latest.assignment()[0]?.position === undefined && Date.now() < deadline)
            assert.deepEqual(await latest.poll(), []);
        })(),
        assert.rejects(
          pollUntil(none, 1),
          (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.OFFSET_OUT_OF_RANGE,
        ),
      ]);
      assert.deepEqual(
        first.map((r) => [r.offset, r.value!.toString()]),
        [[0, 'before']],
      );
      assert.deepEqual(latest.assignment(), [{ topic, partition: 0, position: 1 }]);
      await producer.send({ topic, partition: 0, value: 'after' });
      assert.deepEqual(
        (await pollUntil(latest, 1)).map((r) => [r.offset, r.value!.toString()]),
        [[1, 'after']],
      );
    });
  });
}

async function pollUntil(consumer: Consumer, count: number): Promise<ConsumerRecord[]> {
  const out: ConsumerRecord[] = [];
  const deadline = Date.now() + SETTLE_MS;
  while (out.length < count) {
    if (Date.now() > deadline) throw new Error(`timed out with ${out.length} of ${count} records`);
    out.push(...(await consumer.poll()));
  }
  return out;
}

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
