// Our consumer and a kafka-python consumer in one group on a Fjord broker: they split the partitions the way
// Kafka's range assignor does whichever of them leads, hand partitions over at the committed offsets when one
// leaves or joins, and between them read every record exactly once.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Consumer, type ConsumerRecord } from '../../src/client/consumer/consumer.js';
import { Admin } from '../../src/client/admin/admin.js';
import type { TopicPartition } from '../../src/client/consumer/group-membership.js';
import { eventually, GroupTestBroker, kafkaPythonConsumer, type ConsumerProcess } from './groups-support.js';

const TOPIC = 'interop';
const GROUP = 'g-interop';
const PARTITIONS = 6;

/** Our consumer, iterating in the background. */
class Ours {
  readonly consumer: Consumer;
  readonly records: ConsumerRecord[] = [];
  assignment: TopicPartition[] = [];
  readonly done: Promise<void>;

  constructor(bootstrap: string) {
    this.consumer = new Consumer({
      brokers: [bootstrap],
      clientId: 'aaa-fjord',
      groupId: GROUP,
      autoOffsetReset: 'earliest',
      sessionTimeoutMs: 3000,
      heartbeatIntervalMs: 100,
      rebalanceTimeoutMs: 10_000,
      maxWaitMs: 100,
      autoCommitIntervalMs: 200,
      logger: { warn() {} },
    });
    this.consumer.subscribe([TOPIC], {
      onPartitionsAssigned: (partitions) => {
        this.assignment = partitions;
      },
      onPartitionsRevoked: () => {
        this.assignment = [];
      },
    });
    const consumer = this.consumer;
    const records = this.records;
    this.done = (async () => {
      for await (const record of consumer) records.push(record);
    })();
  }

  get partitions(): number[] {
    return this.assignment.map((p) => p.partition).sort((a, b) => a - b);
  }

  async close(): Promise<void> {
    await this.consumer.close();
    await this.done;
  }
}

describe('our consumer and kafka-python in one group', () => {
  let broker: GroupTestBroker;
  let admin: Admin;
  const python: ConsumerProcess[] = [];

  before(async () => {
    broker = await GroupTestBroker.start();
    await broker.createTopic(TOPIC, PARTITIONS);
    admin = new Admin({ brokers: [broker.bootstrap] });
  });

  after(async () => {
    for (const p of python) await p.kill('SIGKILL');
    await admin.close();
    await broker.close();
  });

  /** The members' ids in the order the range assignor ranks them. */
  async function memberOrder(): Promise<string[]> {
    const [group] = await admin.describeGroups([GROUP]);
    return group!.members.map((m) => m.memberId).sort();
  }

  it('split, hand over and read exactly once', async () => {
    await broker.produce(TOPIC, PARTITIONS, 10, 0);
    const mine: Ours[] = [];
    const seen = (): string[] => [
      ...mine.flatMap((o) => o.records.map((r) => `${r.partition}:${r.offset}`)),
      ...kp.records.map((r) => `${r.partition}:${r.offset}`),
    ];

    // 1. Ours alone, then kafka-python joins: ours leads and assigns with its range assignor.
    const ours = new Ours(broker.bootstrap);
    mine.push(ours);
    await eventually(
      () => ours.partitions.length === PARTITIONS,
      15_000,
      () => `ours has ${ours.partitions}`,
    );
    const kp = kafkaPythonConsumer('kafka-python', {
      bootstrap: broker.bootstrap,
      group: GROUP,
      topic: TOPIC,
      client_id: 'zzz-kp',
    });
    python.push(kp);
    await eventually(
      () => ours.partitions.length === 3 && kp.assignment.length === 3,
      20_000,
      () => `ours ${ours.partitions}, kafka-python ${kp.assignment}; ${kp.stderr.slice(-3).join(' | ')}`,
    );
    // Member ids start with the client id, so ours ranks first and gets the first range.
    const order = await memberOrder();
    assert.equal(order[0], ours.consumer.groupMember!.memberId);
    assert.deepEqual(ours.partitions, [0, 1, 2]);
    assert.deepEqual(kp.assignment, [3, 4, 5]);
    await broker.produce(TOPIC, PARTITIONS, 10, 10);
    await eventually(
      () => seen().length >= 120,
      20_000,
      () => `${seen().length} of 120 read`,
    );
    const afterSplit = kp.records.map((r) => r.partition);
    assert.ok(
      afterSplit.every((p) => p >= 3),
      'kafka-python read only its partitions',
    );

    // 2. Ours leaves: kafka-python takes all six over, starting where ours committed.
    await ours.close();
    await kp.until(() => kp.assignment.length === PARTITIONS, 20_000, 'all partitions');
    await broker.produce(TOPIC, PARTITIONS, 5, 20);
    await eventually(
      () => seen().length >= 150,
      20_000,
      () => `${seen().length} of 150 read`,
    );

    // 3. A new consumer of ours joins; kafka-python now leads and runs its range assignor for both.
    const second = new Ours(broker.bootstrap);
    mine.push(second);
    await eventually(
      () => second.partitions.length === 3 && kp.assignment.length === 3,
      20_000,
      () => `ours ${second.partitions}, kafka-python ${kp.assignment}`,
    );
    assert.deepEqual(second.partitions, [0, 1, 2]);
    assert.deepEqual(kp.assignment, [3, 4, 5]);
    await broker.produce(TOPIC, PARTITIONS, 5, 25);
    await eventually(
      () => seen().length >= 180,
      20_000,
      () => `${seen().length} of 180 read`,
    );
    // Give a duplicate time to show up before checking there is none.
    await new Promise((resolve) => setTimeout(resolve, 500));

    const all = seen();
    assert.equal(new Set(all).size, all.length, 'no record was read twice');
    const expected: string[] = [];
    for (let p = 0; p < PARTITIONS; p++) for (let o = 0; o < 30; o++) expected.push(`${p}:${o}`);
    assert.deepEqual([...all].sort(), expected.sort());
    // Values match what was written at each offset.
    for (const r of [...ours.records, ...second.records])
      assert.equal(r.value!.toString(), `p${r.partition}-${r.offset}`);
    for (const r of kp.records) assert.equal(r.value, `p${r.partition}-${r.offset}`);
    assert.ok(
      !kp.events.some((e) => e.event === 'error'),
      JSON.stringify(kp.events.filter((e) => e.event === 'error')),
    );

    await second.close();
    await kp.kill('SIGTERM');
  });
});
