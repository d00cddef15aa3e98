// Partitions lost without a clean revoke, against an embedded Fjord broker: a member that holds its records
// longer than max.poll.interval.ms leaves the group, and a member the coordinator removed learns it from its
// heartbeat. Either way the rebalance listener hears onPartitionsLost (or, without one, onPartitionsRevoked)
// with the partitions it had, nothing is committed for them, and the member joins again and reads on.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker } from '../../src/server/broker.js';
import { Admin } from '../../src/client/admin/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import { Producer } from '../../src/client/producer/producer.js';
import { Consumer, type ConsumerRecord, type RebalanceListener } from '../../src/client/consumer/consumer.js';
import { KafkaError } from '../../src/client/errors.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { LeaveGroup } from '../../src/protocol/messages/index.js';
import type { Logger } from '../../src/util/logger.js';

const quiet: Logger = { info() {}, warn() {}, error() {}, debug() {} };
const silent = { warn() {} };

async function until(check: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A listener that records each call as "<name> <partitions>". */
function recorder(events: string[], withLost: boolean): RebalanceListener {
  const text = (ps: { partition: number }[]) =>
    ps
      .map((p) => p.partition)
      .sort((a, b) => a - b)
      .join(',');
  const listener: RebalanceListener = {
    onPartitionsAssigned: (ps) => void events.push(`assigned ${text(ps)}`),
    onPartitionsRevoked: (ps) => void events.push(`revoked ${text(ps)}`),
  };
  if (withLost) listener.onPartitionsLost = (ps) => void events.push(`lost ${text(ps)}`);
  return listener;
}

describe('partitions lost without a clean revoke (Fjord)', () => {
  let broker: Broker;
  let dataDir: string;
  let producer: Producer;
  const opened: Consumer[] = [];

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'fjord-lost-'));
    broker = await Broker.start({
      dataDir,
      port: 0,
      log: quiet,
      config: {
        'offsets.topic.num.partitions': '1',
        'group.initial.rebalance.delay.ms': '0',
        'group.min.session.timeout.ms': '500',
      },
    });
    const admin = new Admin({ brokers: [broker.bootstrap] });
    await admin.createTopics([
      { topic: 'slow', numPartitions: 2 },
      { topic: 'evicted', numPartitions: 2 },
      { topic: 'throws', numPartitions: 1 },
    ]);
    await admin.close();
    producer = new Producer({ brokers: [broker.bootstrap], lingerMs: 0, logger: silent });
    await producer.sendBatch(
      Array.from({ length: 10 }, (_, i) => ({ topic: 'throws', partition: 0, value: `throws-${i}` })),
    );
    for (const topic of ['slow', 'evicted'])
      await producer.sendBatch(
        Array.from({ length: 20 }, (_, i) => ({ topic, partition: i % 2, value: `${topic}-${i}` })),
      );
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((c) => c.close()));
  });

  after(async () => {
    await producer.close();
    await broker.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  function open(groupId: string, extra: { rebalanceTimeoutMs?: number } = {}): Consumer {
    const c = new Consumer({
      brokers: [broker.bootstrap],
      groupId,
      autoOffsetReset: 'earliest',
      sessionTimeoutMs: 3000,
      heartbeatIntervalMs: 50,
      rebalanceTimeoutMs: 5000,
      maxWaitMs: 50,
      // Auto commit is on, but never due during the test: only a revoke would commit.
      autoCommitIntervalMs: 600_000,
      logger: silent,
      ...extra,
    });
    opened.push(c);
    return c;
  }

  it('a handler that outlasts max.poll.interval.ms: the member leaves, then hears onPartitionsLost and commits nothing', async () => {
    const events: string[] = [];
    const a = open('g-slow', { rebalanceTimeoutMs: 600 });
    a.subscribe(['slow'], recorder(events, true));
    const seen: ConsumerRecord[] = [];
    let memberAtStart = '';
    const running = a.run({
      eachMessage: async (record) => {
        seen.push(record);
        if (seen.length === 1) {
          memberAtStart = a.groupMember!.memberId;
          // Longer than max.poll.interval.ms: the heartbeat gives the member up meanwhile.
          await until(
            () => a.groupMember!.memberId === '',
            10_000,
            () => 'the member did not leave',
          );
          assert.equal(a.groupMember!.rejoinNeeded, true);
          // The records it still holds can no longer be committed.
          await assert.rejects(
            a.commit([{ topic: 'slow', partition: record.partition, offset: record.offset + 1 }]),
            (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.UNKNOWN_MEMBER_ID,
          );
        }
      },
    });
    // The member rejoins and, with nothing committed, reads both partitions again from the start.
    await until(
      () => seen.length >= 40,
      15_000,
      () => `read ${seen.length}, events ${events.join('; ')}`,
    );
    assert.deepEqual(events, ['assigned 0,1', 'lost 0,1', 'assigned 0,1']);
    assert.notEqual(a.groupMember!.memberId, memberAtStart);
    const firstRound = seen.slice(0, 20);
    assert.deepEqual(
      seen
        .slice(-20)
        .map((r) => `${r.partition}:${r.offset}`)
        .sort(),
      firstRound.map((r) => `${r.partition}:${r.offset}`).sort(),
    );
    assert.deepEqual(
      await a.committed([
        { topic: 'slow', partition: 0 },
        { topic: 'slow', partition: 1 },
      ]),
      [],
    );
    await a.close();
    await running;
    // Closing a member that is in the group revokes (and commits) as usual.
    assert.equal(events.at(-1), 'revoked 0,1');
  });

  it('a member the coordinator removed loses its partitions; without onPartitionsLost, onPartitionsRevoked hears it', async () => {
    const events: string[] = [];
    const a = open('g-evicted');
    a.subscribe(['evicted'], recorder(events, false));
    const seen: ConsumerRecord[] = [];
    while (seen.length < 20) seen.push(...(await a.poll()));
    await a.commit([
      { topic: 'evicted', partition: 0, offset: 3 },
      { topic: 'evicted', partition: 1, offset: 4 },
    ]);
    const memberId = a.groupMember!.memberId;
    // What an admin's "remove members from group" sends: LeaveGroup v3+ naming the member.
    const cluster = new Cluster({ brokers: [broker.bootstrap], logger: silent });
    try {
      const { nodeId } = await cluster.anyConnection();
      const answer = await cluster.send(nodeId, LeaveGroup, {
        groupId: 'g-evicted',
        memberId: '',
        members: [{ memberId, groupInstanceId: null, reason: 'removed by the test' }],
      });
      assert.equal(answer.errorCode, 0);
      assert.deepEqual(
        answer.members.map((m) => [m.memberId, m.errorCode]),
        [[memberId, 0]],
      );
    } finally {
      cluster.close();
    }
    // The next heartbeat hears UNKNOWN_MEMBER_ID.
    await until(
      () => a.groupMember!.rejoinNeeded,
      10_000,
      () => 'the member did not notice',
    );
    await assert.rejects(
      a.commit([{ topic: 'evicted', partition: 0, offset: 10 }]),
      (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.UNKNOWN_MEMBER_ID,
    );
    // The next poll rejoins: the partitions are reported through onPartitionsRevoked, nothing more is
    // committed, and reading resumes at the offsets committed before.
    const again: ConsumerRecord[] = [];
    while (again.length < 13) again.push(...(await a.poll()));
    assert.deepEqual(events, ['assigned 0,1', 'revoked 0,1', 'assigned 0,1']);
    assert.deepEqual(
      again.map((r) => `${r.partition}:${r.offset}`).sort(),
      [
        ...Array.from({ length: 7 }, (_, i) => `0:${3 + i}`),
        ...Array.from({ length: 6 }, (_, i) => `1:${4 + i}`),
      ].sort(),
    );
    assert.notEqual(a.groupMember!.memberId, memberId);
  });

  it('run(): a handler that throws rejects it, and its record is not counted as consumed (commit stops before it)', async () => {
    const a = open('g-throws');
    a.subscribe(['throws']);
    const seen: number[] = [];
    const failure = new Error('handler failed');
    await assert.rejects(
      a.run({
        eachMessage: (record) => {
          seen.push(record.offset);
          if (record.offset === 5) throw failure;
        },
      }),
      (e: unknown) => e === failure,
    );
    assert.deepEqual(seen, [0, 1, 2, 3, 4, 5]);
    await a.commit();
    assert.deepEqual(await a.committed([{ topic: 'throws', partition: 0 }]), [
      { topic: 'throws', partition: 0, offset: 5 },
    ]);
  });
});
