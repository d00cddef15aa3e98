import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  GroupCoordinator,
  type GroupCoordinatorConfig,
  type JoinRequest,
} from '../../src/group/group-coordinator.js';
import { decodeCoordinatorRecord } from '../../src/group/group-records.js';
import { ManualScheduler } from '../../src/group/scheduler.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { encodeVersioned } from '../../src/protocol/internal/index.js';
import {
  ConsumerProtocolSubscription,
  defaultConsumerProtocolSubscription,
} from '../../src/protocol/messages/consumer-protocol-subscription.js';
import { MemoryGroupLog } from './memory-group-log.js';

const CONFIG: GroupCoordinatorConfig = {
  offsetsTopicNumPartitions: 4,
  offsetsRetentionMs: 60_000,
  offsetsRetentionCheckIntervalMs: 10_000,
  offsetMetadataMaxBytes: 100,
  groupInitialRebalanceDelayMs: 100,
  groupMinSessionTimeoutMs: 1000,
  groupMaxSessionTimeoutMs: 60_000,
  groupMaxSize: 10,
};

const SESSION = 10_000;
const REBALANCE = 30_000;

async function setup(overrides: Partial<GroupCoordinatorConfig> = {}, log = new MemoryGroupLog()) {
  const clock = new ManualScheduler();
  const coordinator = new GroupCoordinator({ ...CONFIG, ...overrides }, log, { scheduler: clock });
  await coordinator.start();
  return { coordinator, clock, log };
}

/** Lets resolved promises (and their continuations, such as log writes) run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

const subscription = (...topics: string[]) =>
  encodeVersioned(ConsumerProtocolSubscription, 1, { ...defaultConsumerProtocolSubscription(), topics });

function joinRequest(memberId: string, extra: Partial<JoinRequest> = {}): JoinRequest {
  return {
    groupId: 'g',
    memberId,
    groupInstanceId: null,
    clientId: 'client',
    clientHost: '/127.0.0.1',
    sessionTimeoutMs: SESSION,
    rebalanceTimeoutMs: REBALANCE,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: subscription('t1') }],
    requireKnownMemberId: true,
    supportsSkipAssignment: false,
    ...extra,
  };
}

/** A v4+ join: MEMBER_ID_REQUIRED first, then the real JoinGroup (pending until the rebalance completes). */
async function newMemberId(coordinator: GroupCoordinator, extra: Partial<JoinRequest> = {}): Promise<string> {
  const first = await coordinator.join(joinRequest('', extra));
  assert.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
  assert.match(first.memberId, /^client-[0-9a-f-]{36}$/);
  return first.memberId;
}

/** Forms a Stable group of `count` members; returns their ids (leader first) and the generation. */
async function stableGroup(coordinator: GroupCoordinator, clock: ManualScheduler, count: number) {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push(await newMemberId(coordinator));
  const joins = ids.map((id) => coordinator.join(joinRequest(id)));
  clock.advance(100 * count + 1);
  const results = await Promise.all(joins);
  const leader = results[0]!.leaderId;
  const generation = results[0]!.generationId;
  const syncs = ids.map((id) =>
    coordinator.sync({
      groupId: 'g',
      generationId: generation,
      memberId: id,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments:
        id === leader ? ids.map((m) => ({ memberId: m, assignment: Buffer.from(`for-${m}`) })) : [],
    }),
  );
  const synced = await Promise.all(syncs);
  for (const s of synced) assert.equal(s.errorCode, ErrorCode.NONE);
  const ordered = [leader, ...ids.filter((id) => id !== leader)];
  return { ids: ordered, generation, joins: results, syncs: synced };
}

test('members join after MEMBER_ID_REQUIRED, the leader gets every member, SyncGroup hands out assignments', async () => {
  const { coordinator, clock, log } = await setup();
  const { ids, generation, joins, syncs } = await stableGroup(coordinator, clock, 2);
  assert.equal(generation, 1);
  const leaderJoin = joins.find((j) => j.memberId === ids[0])!;
  const followerJoin = joins.find((j) => j.memberId === ids[1])!;
  assert.deepEqual(leaderJoin.members.map((m) => m.memberId).sort(), [...ids].sort());
  assert.equal(followerJoin.members.length, 0);
  assert.equal(followerJoin.leaderId, ids[0]);
  assert.equal(leaderJoin.protocolName, 'range');
  assert.equal(leaderJoin.protocolType, 'consumer');
  assert.deepEqual(syncs.map((s) => s.assignment.toString()).sort(), ids.map((id) => `for-${id}`).sort());
  assert.equal(coordinator.groupState('g')!.state, 'Stable');
  const stored = log.all.map((r) => decodeCoordinatorRecord(r.key, r.value));
  const groupRecord = stored.find((r) => r.type === 'group');
  assert.ok(groupRecord && groupRecord.type === 'group' && groupRecord.metadata);
  assert.equal(groupRecord.metadata.generation, 1);
  assert.equal(groupRecord.metadata.protocol, 'range');
  assert.deepEqual(
    groupRecord.metadata.members.map((m) => m.assignment.toString()).sort(),
    ids.map((id) => `for-${id}`).sort(),
  );
});

test('joins during group.initial.rebalance.delay.ms extend it; the rebalance completes once it passes', async () => {
  const { coordinator, clock } = await setup();
  const a = await newMemberId(coordinator);
  const joinA = coordinator.join(joinRequest(a));
  clock.advance(60);
  const b = await newMemberId(coordinator);
  const joinB = coordinator.join(joinRequest(b));
  clock.advance(60); // 120 ms: the first delay ran out, but b arrived during it
  await settle();
  assert.equal(coordinator.groupState('g')!.state, 'PreparingRebalance');
  clock.advance(100);
  const [ra, rb] = await Promise.all([joinA, joinB]);
  assert.equal(ra.generationId, 1);
  assert.equal(rb.generationId, 1);
  assert.equal(coordinator.groupState('g')!.state, 'CompletingRebalance');
});

test('join errors: INVALID_GROUP_ID, INVALID_SESSION_TIMEOUT, UNKNOWN_MEMBER_ID, INCONSISTENT_GROUP_PROTOCOL', async () => {
  const { coordinator, clock } = await setup();
  assert.equal(
    (await coordinator.join(joinRequest('', { groupId: '' }))).errorCode,
    ErrorCode.INVALID_GROUP_ID,
  );
  assert.equal(
    (await coordinator.join(joinRequest('', { sessionTimeoutMs: 999 }))).errorCode,
    ErrorCode.INVALID_SESSION_TIMEOUT,
  );
  assert.equal(
    (await coordinator.join(joinRequest('', { sessionTimeoutMs: 60_001 }))).errorCode,
    ErrorCode.INVALID_SESSION_TIMEOUT,
  );
  assert.equal((await coordinator.join(joinRequest('nobody'))).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal(
    (await coordinator.join(joinRequest('', { protocols: [] }))).errorCode,
    ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
  );
  assert.equal(coordinator.groupState('g'), undefined, 'failed joins leave no group behind');
  await stableGroup(coordinator, clock, 1);
  assert.equal(
    (await coordinator.join(joinRequest('', { protocolType: 'connect' }))).errorCode,
    ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
  );
  assert.equal(
    (await coordinator.join(joinRequest('', { protocols: [{ name: 'sticky', metadata: Buffer.alloc(0) }] })))
      .errorCode,
    ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
  );
});

test('without requireKnownMemberId (JoinGroup v0-3) a new member joins at once', async () => {
  const { coordinator, clock } = await setup();
  const pending = coordinator.join(joinRequest('', { requireKnownMemberId: false }));
  clock.advance(101);
  const result = await pending;
  assert.equal(result.errorCode, ErrorCode.NONE);
  assert.equal(result.leaderId, result.memberId);
  assert.equal(result.members.length, 1);
});

test('the protocol every member supports wins, by the members’ preferences', async () => {
  const { coordinator, clock } = await setup();
  const a = await newMemberId(coordinator);
  const b = await newMemberId(coordinator);
  const meta = Buffer.from('x');
  const ja = coordinator.join(
    joinRequest(a, {
      protocols: [
        { name: 'roundrobin', metadata: meta },
        { name: 'range', metadata: meta },
      ],
    }),
  );
  const jb = coordinator.join(
    joinRequest(b, {
      protocols: [
        { name: 'cooperative-sticky', metadata: meta },
        { name: 'range', metadata: meta },
      ],
    }),
  );
  clock.advance(300);
  const [ra, rb] = await Promise.all([ja, jb]);
  assert.equal(ra.protocolName, 'range');
  assert.equal(rb.protocolName, 'range');
});

test('heartbeat answers by state: NONE, ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS', async () => {
  const { coordinator, clock } = await setup();
  assert.equal(coordinator.heartbeat('g', 1, 'x', null), ErrorCode.UNKNOWN_MEMBER_ID);
  const { ids, generation } = await stableGroup(coordinator, clock, 2);
  assert.equal(coordinator.heartbeat('g', generation, ids[0]!, null), ErrorCode.NONE);
  assert.equal(coordinator.heartbeat('g', generation + 1, ids[0]!, null), ErrorCode.ILLEGAL_GENERATION);
  assert.equal(coordinator.heartbeat('g', generation, 'stranger', null), ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal(coordinator.heartbeat('', generation, ids[0]!, null), ErrorCode.INVALID_GROUP_ID);
  const c = await newMemberId(coordinator);
  const joinC = coordinator.join(joinRequest(c));
  assert.equal(coordinator.groupState('g')!.state, 'PreparingRebalance');
  assert.equal(coordinator.heartbeat('g', generation, ids[1]!, null), ErrorCode.REBALANCE_IN_PROGRESS);
  const rejoins = ids.map((id) => coordinator.join(joinRequest(id)));
  const results = await Promise.all([joinC, ...rejoins]);
  for (const r of results) assert.equal(r.generationId, generation + 1);
  // Between JoinGroup and SyncGroup a heartbeat is fine (and keeps the member alive).
  assert.equal(coordinator.heartbeat('g', generation + 1, ids[1]!, null), ErrorCode.NONE);
  assert.equal(coordinator.groupState('g')!.state, 'CompletingRebalance');
});

test('a member that stops heartbeating is removed after session.timeout.ms and the rest rebalance', async () => {
  const { coordinator, clock } = await setup();
  const { ids, generation } = await stableGroup(coordinator, clock, 2);
  const [alive, silent] = ids as [string, string];
  for (let t = 0; t < 9; t++) {
    clock.advance(1000);
    assert.equal(coordinator.heartbeat('g', generation, alive, null), ErrorCode.NONE);
  }
  clock.advance(1001);
  assert.equal(coordinator.groupState('g')!.state, 'PreparingRebalance');
  assert.deepEqual(coordinator.groupState('g')!.members, [alive]);
  assert.equal(coordinator.heartbeat('g', generation, alive, null), ErrorCode.REBALANCE_IN_PROGRESS);
  assert.equal(coordinator.heartbeat('g', generation, silent, null), ErrorCode.UNKNOWN_MEMBER_ID);
  const rejoin = await coordinator.join(joinRequest(alive));
  assert.equal(rejoin.generationId, generation + 1);
  assert.equal(rejoin.leaderId, alive);
  assert.deepEqual(
    rejoin.members.map((m) => m.memberId),
    [alive],
  );
});

test('LeaveGroup starts the rebalance at once; unknown members get UNKNOWN_MEMBER_ID', async () => {
  const { coordinator, clock } = await setup();
  const { ids, generation } = await stableGroup(coordinator, clock, 3);
  const result = coordinator.leave('g', [
    { memberId: ids[2]!, groupInstanceId: null },
    { memberId: 'ghost', groupInstanceId: null },
  ]);
  assert.equal(result.errorCode, ErrorCode.NONE);
  assert.deepEqual(
    result.members.map((m) => m.errorCode),
    [ErrorCode.NONE, ErrorCode.UNKNOWN_MEMBER_ID],
  );
  assert.equal(coordinator.groupState('g')!.state, 'PreparingRebalance');
  const rejoined = await Promise.all(ids.slice(0, 2).map((id) => coordinator.join(joinRequest(id))));
  for (const r of rejoined) assert.equal(r.generationId, generation + 1);
  assert.deepEqual(
    coordinator.leave('nope', [{ memberId: 'm', groupInstanceId: null }]).members[0]!.errorCode,
    25,
  );
});

test('members that do not rejoin within the rebalance timeout are dropped', async () => {
  const { coordinator, clock } = await setup();
  const { ids, generation } = await stableGroup(coordinator, clock, 2);
  const c = await newMemberId(coordinator);
  const joinC = coordinator.join(joinRequest(c, { sessionTimeoutMs: 60_000, rebalanceTimeoutMs: 5000 }));
  const joinA = coordinator.join(joinRequest(ids[0]!, { rebalanceTimeoutMs: 5000 }));
  // ids[1] keeps heartbeating (REBALANCE_IN_PROGRESS) but never rejoins.
  for (let t = 0; t < 5; t++) {
    clock.advance(1000);
    coordinator.heartbeat('g', generation, ids[1]!, null);
  }
  // Its session runs out 10 s after its last heartbeat; the rebalance then completes without it.
  clock.advance(SESSION + 1);
  const [rc, ra] = await Promise.all([joinC, joinA]);
  assert.equal(rc.generationId, generation + 1);
  assert.equal(ra.generationId, generation + 1);
  assert.deepEqual(coordinator.groupState('g')!.members.sort(), [c, ids[0]!].sort());
});

test('a leader that never syncs: members are dropped after the rebalance timeout', async () => {
  const { coordinator, clock } = await setup();
  const slow = { sessionTimeoutMs: 60_000, rebalanceTimeoutMs: 5000 };
  const a = await newMemberId(coordinator, slow);
  const b = await newMemberId(coordinator, slow);
  const joins = await (async () => {
    const pending = [coordinator.join(joinRequest(a, slow)), coordinator.join(joinRequest(b, slow))];
    clock.advance(300);
    return Promise.all(pending);
  })();
  const follower = joins.find((j) => j.memberId !== j.leaderId)!;
  const sync = coordinator.sync({
    groupId: 'g',
    generationId: follower.generationId,
    memberId: follower.memberId,
    groupInstanceId: null,
    protocolType: null,
    protocolName: null,
    assignments: [],
  });
  clock.advance(5001);
  const synced = await sync;
  assert.equal(synced.errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
  assert.deepEqual(coordinator.groupState('g')!.members, [follower.memberId]);
});

test('SyncGroup errors follow Kafka’s order of checks', async () => {
  const { coordinator, clock } = await setup();
  const base = {
    groupId: 'g',
    generationId: 1,
    memberId: 'm',
    groupInstanceId: null,
    protocolType: null,
    protocolName: null,
    assignments: [],
  };
  assert.equal((await coordinator.sync(base)).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  const { ids, generation } = await stableGroup(coordinator, clock, 1);
  const id = ids[0]!;
  assert.equal((await coordinator.sync({ ...base, memberId: 'x' })).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal(
    (await coordinator.sync({ ...base, memberId: id, generationId: generation + 1 })).errorCode,
    ErrorCode.ILLEGAL_GENERATION,
  );
  assert.equal(
    (await coordinator.sync({ ...base, memberId: id, protocolType: 'connect' })).errorCode,
    ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
  );
  assert.equal(
    (await coordinator.sync({ ...base, memberId: id, protocolName: 'roundrobin' })).errorCode,
    ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
  );
  const again = await coordinator.sync({ ...base, memberId: id });
  assert.equal(again.errorCode, ErrorCode.NONE);
  assert.equal(again.assignment.toString(), `for-${id}`);
  const other = await newMemberId(coordinator);
  const joining = coordinator.join(joinRequest(other));
  assert.equal(
    (await coordinator.sync({ ...base, memberId: id })).errorCode,
    ErrorCode.REBALANCE_IN_PROGRESS,
  );
  void coordinator.join(joinRequest(id));
  await joining;
});

test('a failed group metadata write fails the SyncGroup with COORDINATOR_NOT_AVAILABLE and rebalances', async () => {
  const { coordinator, clock, log } = await setup();
  const a = await newMemberId(coordinator);
  const join = coordinator.join(joinRequest(a));
  clock.advance(101);
  const joined = await join;
  log.failWith = { ok: false, reason: 'unavailable', message: 'disk on fire' };
  const sync = await coordinator.sync({
    groupId: 'g',
    generationId: joined.generationId,
    memberId: a,
    groupInstanceId: null,
    protocolType: null,
    protocolName: null,
    assignments: [{ memberId: a, assignment: Buffer.from('x') }],
  });
  assert.equal(sync.errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
  assert.equal(coordinator.groupState('g')!.state, 'PreparingRebalance');
});

test('static members: a restarted instance takes over without a rebalance; the old id is fenced', async () => {
  const { coordinator, clock } = await setup();
  const first = coordinator.join(joinRequest('', { groupInstanceId: 'i-1' }));
  const second = coordinator.join(joinRequest('', { groupInstanceId: 'i-2' }));
  clock.advance(300);
  const [r1, r2] = await Promise.all([first, second]);
  assert.equal(r1.errorCode, ErrorCode.NONE, 'no MEMBER_ID_REQUIRED for static members');
  const leader = r1.leaderId;
  const syncs = [r1, r2].map((r) =>
    coordinator.sync({
      groupId: 'g',
      generationId: r.generationId,
      memberId: r.memberId,
      groupInstanceId: r === r1 ? 'i-1' : 'i-2',
      protocolType: null,
      protocolName: null,
      assignments:
        r.memberId === leader
          ? [r1, r2].map((x) => ({ memberId: x.memberId, assignment: Buffer.from(x.memberId) }))
          : [],
    }),
  );
  await Promise.all(syncs);
  const follower = r1.memberId === leader ? r2 : r1;
  const followerInstance = follower === r1 ? 'i-1' : 'i-2';
  const rejoin = await coordinator.join(joinRequest('', { groupInstanceId: followerInstance }));
  assert.equal(rejoin.errorCode, ErrorCode.NONE);
  assert.equal(rejoin.generationId, r1.generationId, 'no new generation');
  assert.notEqual(rejoin.memberId, follower.memberId);
  assert.equal(coordinator.groupState('g')!.state, 'Stable');
  assert.equal(
    coordinator.heartbeat('g', r1.generationId, follower.memberId, followerInstance),
    ErrorCode.FENCED_INSTANCE_ID,
  );
  assert.equal(
    coordinator.heartbeat('g', r1.generationId, rejoin.memberId, followerInstance),
    ErrorCode.NONE,
  );
  const synced = await coordinator.sync({
    groupId: 'g',
    generationId: rejoin.generationId,
    memberId: rejoin.memberId,
    groupInstanceId: followerInstance,
    protocolType: null,
    protocolName: null,
    assignments: [],
  });
  assert.equal(synced.assignment.toString(), follower.memberId, 'the instance keeps its assignment');
  const left = coordinator.leave('g', [{ memberId: '', groupInstanceId: followerInstance }]);
  assert.equal(left.members[0]!.errorCode, ErrorCode.NONE);
  assert.equal(coordinator.groupState('g')!.state, 'PreparingRebalance');
});

test('offset commits: standalone, generation and member checks, metadata size, fetch all', async () => {
  const { coordinator, clock } = await setup();
  const commit = (extra: Partial<Parameters<GroupCoordinator['commitOffsets']>[0]> = {}) =>
    coordinator.commitOffsets({
      groupId: 'g',
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      retentionMs: -1,
      offsets: [
        { topic: 't1', partition: 0, offset: 5, leaderEpoch: 3, metadata: 'meta' },
        { topic: 't2', partition: 1, offset: 7, leaderEpoch: -1, metadata: null },
      ],
      ...extra,
    });
  assert.deepEqual(await commit({ generationId: 4, memberId: 'm' }), [22, 22], 'ILLEGAL_GENERATION');
  assert.deepEqual(await commit(), [0, 0]);
  const fetched = coordinator.fetchOffsets('g', [{ name: 't1', partitions: [0, 1] }]);
  assert.deepEqual(fetched.topics[0]!.partitions, [
    { partition: 0, offset: 5, leaderEpoch: 3, metadata: 'meta', errorCode: 0 },
    { partition: 1, offset: -1, leaderEpoch: -1, metadata: '', errorCode: 0 },
  ]);
  const all = coordinator.fetchOffsets('g', null);
  assert.deepEqual(
    all.topics.map((t) => [t.name, t.partitions.map((p) => [p.partition, p.offset, p.metadata])]).sort(),
    [
      ['t1', [[0, 5, 'meta']]],
      ['t2', [[1, 7, '']]],
    ],
  );
  assert.deepEqual(coordinator.fetchOffsets('unknown', null).topics, []);
  assert.deepEqual(
    await commit({
      offsets: [{ topic: 't1', partition: 0, offset: 9, leaderEpoch: -1, metadata: 'x'.repeat(101) }],
    }),
    [ErrorCode.OFFSET_METADATA_TOO_LARGE],
  );
  // A group with members: only its members, in its generation, may commit.
  const other = await setup();
  const { ids, generation } = await stableGroup(other.coordinator, other.clock, 2);
  const memberCommit = (memberId: string, generationId: number) =>
    other.coordinator.commitOffsets({
      groupId: 'g',
      generationId,
      memberId,
      groupInstanceId: null,
      retentionMs: -1,
      offsets: [{ topic: 't1', partition: 0, offset: 1, leaderEpoch: -1, metadata: '' }],
    });
  assert.deepEqual(await memberCommit(ids[0]!, generation), [ErrorCode.NONE]);
  assert.deepEqual(await memberCommit('stranger', generation), [ErrorCode.UNKNOWN_MEMBER_ID]);
  assert.deepEqual(await memberCommit(ids[0]!, generation - 1), [ErrorCode.ILLEGAL_GENERATION]);
  assert.deepEqual(await memberCommit('', -1), [ErrorCode.UNKNOWN_MEMBER_ID]);
  const newcomer = await newMemberId(other.coordinator);
  const joins = [newcomer, ...ids].map((id) => other.coordinator.join(joinRequest(id)));
  // PreparingRebalance: the current generation may still commit (eager consumers commit before revoking).
  await settle();
  await Promise.all(joins);
  assert.equal(other.coordinator.groupState('g')!.state, 'CompletingRebalance');
  assert.deepEqual(await memberCommit(ids[0]!, generation + 1), [ErrorCode.REBALANCE_IN_PROGRESS]);
  void clock;
});

test('group state and offsets are reloaded from the log; loaded members still expire', async () => {
  const log = new MemoryGroupLog();
  const first = await setup({}, log);
  const { ids, generation } = await stableGroup(first.coordinator, first.clock, 2);
  await first.coordinator.commitOffsets({
    groupId: 'g',
    generationId: generation,
    memberId: ids[0]!,
    groupInstanceId: null,
    retentionMs: -1,
    offsets: [{ topic: 't1', partition: 3, offset: 42, leaderEpoch: 2, metadata: 'kept' }],
  });
  await first.coordinator.commitOffsets({
    groupId: 'solo',
    generationId: -1,
    memberId: '',
    groupInstanceId: null,
    retentionMs: -1,
    offsets: [{ topic: 't1', partition: 0, offset: 1, leaderEpoch: -1, metadata: '' }],
  });
  await first.coordinator.stop();
  assert.equal(first.coordinator.heartbeat('g', generation, ids[0]!, null), ErrorCode.NOT_COORDINATOR);

  const second = await setup({}, log);
  const state = second.coordinator.groupState('g')!;
  assert.equal(state.state, 'Stable');
  assert.equal(state.generationId, generation);
  assert.equal(state.leaderId, ids[0]);
  assert.deepEqual([...state.members].sort(), [...ids].sort());
  assert.deepEqual(
    second.coordinator.fetchOffsets('g', [{ name: 't1', partitions: [3] }]).topics[0]!.partitions,
    [{ partition: 3, offset: 42, leaderEpoch: 2, metadata: 'kept', errorCode: 0 }],
  );
  assert.equal(second.coordinator.groupState('solo')!.state, 'Empty');
  const synced = await second.coordinator.sync({
    groupId: 'g',
    generationId: generation,
    memberId: ids[1]!,
    groupInstanceId: null,
    protocolType: 'consumer',
    protocolName: 'range',
    assignments: [],
  });
  assert.equal(synced.assignment.toString(), `for-${ids[1]}`);
  second.clock.advance(SESSION / 2);
  assert.equal(second.coordinator.heartbeat('g', generation, ids[0]!, null), ErrorCode.NONE);
  second.clock.advance(SESSION / 2 + 1);
  assert.equal(second.coordinator.groupState('g')!.state, 'PreparingRebalance');
  assert.deepEqual(second.coordinator.groupState('g')!.members, [ids[0]]);
});

test('COORDINATOR_LOAD_IN_PROGRESS while the partitions load', async () => {
  const log = new MemoryGroupLog();
  await log.open(CONFIG.offsetsTopicNumPartitions);
  let open!: () => void;
  log.loadGate = new Promise<void>((resolve) => (open = resolve));
  const clock = new ManualScheduler();
  const coordinator = new GroupCoordinator(CONFIG, log, { scheduler: clock });
  const started = coordinator.start();
  await settle();
  assert.equal((await coordinator.join(joinRequest(''))).errorCode, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
  assert.equal(coordinator.fetchOffsets('g', null).errorCode, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
  assert.equal(coordinator.list().errorCode, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
  // As Kafka: heartbeats are answered blindly, and SyncGroup sends the member back to JoinGroup.
  assert.equal(coordinator.heartbeat('g', 1, 'm', null), ErrorCode.NONE);
  const sync = await coordinator.sync({
    groupId: 'g',
    generationId: 1,
    memberId: 'm',
    groupInstanceId: null,
    protocolType: null,
    protocolName: null,
    assignments: [],
  });
  assert.equal(sync.errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
  assert.equal(coordinator.available, true);
  open();
  await started;
  assert.equal((await coordinator.join(joinRequest(''))).errorCode, ErrorCode.MEMBER_ID_REQUIRED);
});

test('DeleteGroups: NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND, and tombstones for an Empty group', async () => {
  const log = new MemoryGroupLog();
  const { coordinator, clock } = await setup({}, log);
  await stableGroup(coordinator, clock, 1);
  await coordinator.commitOffsets({
    groupId: 'empty',
    generationId: -1,
    memberId: '',
    groupInstanceId: null,
    retentionMs: -1,
    offsets: [{ topic: 't', partition: 0, offset: 3, leaderEpoch: -1, metadata: '' }],
  });
  assert.deepEqual(await coordinator.deleteGroups(['g', 'missing', 'empty']), [
    { groupId: 'g', errorCode: ErrorCode.NON_EMPTY_GROUP },
    { groupId: 'missing', errorCode: ErrorCode.GROUP_ID_NOT_FOUND },
    { groupId: 'empty', errorCode: ErrorCode.NONE },
  ]);
  assert.equal(coordinator.groupState('empty'), undefined);
  const tail = log.all.slice(-2).map((r) => decodeCoordinatorRecord(r.key, r.value));
  assert.deepEqual(tail, [
    { type: 'offset', group: 'empty', topic: 't', partition: 0, offset: null },
    { type: 'group', group: 'empty', metadata: null },
  ]);
  const reloaded = await setup({}, log);
  assert.equal(reloaded.coordinator.groupState('empty'), undefined);
  assert.deepEqual(
    reloaded.coordinator.list().groups.map((g) => g.groupId),
    ['g'],
  );
});

test('OffsetDelete: subscribed topics of a live consumer group are refused', async () => {
  const { coordinator, clock } = await setup();
  const { ids, generation } = await stableGroup(coordinator, clock, 1);
  await coordinator.commitOffsets({
    groupId: 'g',
    generationId: generation,
    memberId: ids[0]!,
    groupInstanceId: null,
    retentionMs: -1,
    offsets: [
      { topic: 't1', partition: 0, offset: 1, leaderEpoch: -1, metadata: '' },
      { topic: 't2', partition: 0, offset: 2, leaderEpoch: -1, metadata: '' },
    ],
  });
  const result = await coordinator.deleteOffsets('g', [
    { topic: 't1', partition: 0 },
    { topic: 't2', partition: 0 },
  ]);
  assert.deepEqual(result, {
    errorCode: ErrorCode.NONE,
    partitions: [
      { topic: 't1', partition: 0, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC },
      { topic: 't2', partition: 0, errorCode: ErrorCode.NONE },
    ],
  });
  assert.deepEqual(
    coordinator.fetchOffsets('g', null).topics.map((t) => t.name),
    ['t1'],
  );
  assert.equal((await coordinator.deleteOffsets('none', [])).errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
});

test('offsets.retention: an Empty group’s offsets expire and the group goes with them', async () => {
  const log = new MemoryGroupLog();
  const { coordinator, clock } = await setup({ offsetsRetentionCheckIntervalMs: 1e9 }, log);
  const { ids, generation } = await stableGroup(coordinator, clock, 1);
  await coordinator.commitOffsets({
    groupId: 'g',
    generationId: generation,
    memberId: ids[0]!,
    groupInstanceId: null,
    retentionMs: -1,
    offsets: [{ topic: 't1', partition: 0, offset: 10, leaderEpoch: -1, metadata: '' }],
  });
  for (let t = 0; t < 13; t++) {
    clock.advance(5000);
    assert.equal(coordinator.heartbeat('g', generation, ids[0]!, null), ErrorCode.NONE);
  }
  assert.equal(await coordinator.expireOffsets(), 0, 'a Stable group subscribed to t1 keeps its offsets');
  coordinator.leave('g', [{ memberId: ids[0]!, groupInstanceId: null }]);
  await settle();
  assert.equal(coordinator.groupState('g')!.state, 'Empty');
  clock.advance(CONFIG.offsetsRetentionMs - 1);
  assert.equal(await coordinator.expireOffsets(), 0, 'counted from when the group became empty');
  clock.advance(1);
  assert.equal(await coordinator.expireOffsets(), 1);
  assert.equal(coordinator.groupState('g'), undefined);
  const tail = log.all.slice(-2).map((r) => decodeCoordinatorRecord(r.key, r.value));
  assert.deepEqual(
    tail.map((r) => r.type),
    ['offset', 'group'],
  );
});

test('the retention check also runs on its own timer', async () => {
  const { coordinator, clock } = await setup();
  await coordinator.commitOffsets({
    groupId: 'solo',
    generationId: -1,
    memberId: '',
    groupInstanceId: null,
    retentionMs: -1,
    offsets: [{ topic: 't', partition: 0, offset: 1, leaderEpoch: -1, metadata: '' }],
  });
  clock.advance(CONFIG.offsetsRetentionMs + CONFIG.offsetsRetentionCheckIntervalMs);
  await settle();
  assert.equal(coordinator.groupState('solo'), undefined);
});

test('describe and list report states, members and protocols', async () => {
  const { coordinator, clock } = await setup();
  assert.deepEqual(coordinator.describe('nobody'), {
    errorCode: 0,
    groupId: 'nobody',
    state: 'Dead',
    protocolType: '',
    protocolName: '',
    members: [],
  });
  const { ids } = await stableGroup(coordinator, clock, 2);
  const described = coordinator.describe('g');
  assert.equal(described.state, 'Stable');
  assert.equal(described.protocolName, 'range');
  assert.deepEqual(described.members.map((m) => m.memberId).sort(), [...ids].sort());
  assert.equal(described.members[0]!.clientHost, '/127.0.0.1');
  assert.deepEqual(coordinator.list().groups, [{ groupId: 'g', protocolType: 'consumer', state: 'Stable' }]);
});

test('stop() answers parked JoinGroup requests with NOT_COORDINATOR', async () => {
  const { coordinator } = await setup();
  const id = await newMemberId(coordinator);
  const parked = coordinator.join(joinRequest(id));
  await coordinator.stop();
  const result = await parked;
  assert.equal(result.errorCode, ErrorCode.NOT_COORDINATOR);
  assert.equal((await coordinator.join(joinRequest(''))).errorCode, ErrorCode.NOT_COORDINATOR);
});

test('commits that arrive while an append is in flight are written together, in order', async () => {
  const log = new MemoryGroupLog();
  await log.open(CONFIG.offsetsTopicNumPartitions);
  const { coordinator } = await setup({}, log);
  const before = log.appends;
  const commits = Array.from({ length: 20 }, (_, n) =>
    coordinator.commitOffsets({
      groupId: 'g',
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      retentionMs: -1,
      offsets: [{ topic: 't', partition: 0, offset: n, leaderEpoch: -1, metadata: '' }],
    }),
  );
  for (const codes of await Promise.all(commits)) assert.deepEqual(codes, [ErrorCode.NONE]);
  assert.equal(log.appends - before, 2, 'the first alone, the other 19 as one batch');
  const offsets = log.all.map((r) => decodeCoordinatorRecord(r.key, r.value));
  assert.deepEqual(
    offsets.map((r) => (r.type === 'offset' ? r.offset?.offset : undefined)),
    Array.from({ length: 20 }, (_, n) => n),
  );
  assert.equal(
    coordinator.fetchOffsets('g', [{ name: 't', partitions: [0] }]).topics[0]!.partitions[0]!.offset,
    19,
  );
});

test('a member id handed out with MEMBER_ID_REQUIRED expires after the session timeout if never used', async () => {
  const { coordinator, clock } = await setup();
  const id = await newMemberId(coordinator);
  assert.equal(coordinator.groupState('g')!.state, 'Empty');
  clock.advance(SESSION + 1);
  assert.equal(coordinator.groupState('g'), undefined, 'the group it created is forgotten');
  assert.equal((await coordinator.join(joinRequest(id))).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
});

test('deleteTopicOffsets forgets a deleted topic’s offsets in every group, durably', async () => {
  const log = new MemoryGroupLog();
  const { coordinator } = await setup({}, log);
  for (const groupId of ['g1', 'g2']) {
    await coordinator.commitOffsets({
      groupId,
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      retentionMs: -1,
      offsets: [
        { topic: 'gone', partition: 0, offset: 5, leaderEpoch: -1, metadata: '' },
        { topic: 'kept', partition: 0, offset: 6, leaderEpoch: -1, metadata: '' },
      ],
    });
  }
  assert.equal(await coordinator.deleteTopicOffsets('gone'), 2);
  const reloaded = await setup({}, log);
  for (const groupId of ['g1', 'g2']) {
    assert.deepEqual(
      reloaded.coordinator.fetchOffsets(groupId, null).topics.map((t) => t.name),
      ['kept'],
    );
  }
});

test('__consumer_offsets is created on first use: reads answer as empty, the first write waits for it', async () => {
  const log = new MemoryGroupLog();
  const { coordinator } = await setup({}, log);
  assert.equal(log.partitionCount, 0, 'start() does not create the topic');
  assert.equal(coordinator.available, true);
  assert.deepEqual(coordinator.list(), { errorCode: ErrorCode.NONE, groups: [] });
  assert.equal(
    coordinator.fetchOffsets('g', [{ name: 't', partitions: [0] }]).topics[0]!.partitions[0]!.offset,
    -1,
  );
  assert.equal(coordinator.heartbeat('g', 1, 'm', null), ErrorCode.UNKNOWN_MEMBER_ID);
  assert.deepEqual(await coordinator.deleteGroups(['g']), [
    { groupId: 'g', errorCode: ErrorCode.GROUP_ID_NOT_FOUND },
  ]);
  assert.equal(log.partitionCount, 0, 'reads do not create it');

  const commit = (offset: number) =>
    coordinator.commitOffsets({
      groupId: 'g',
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      retentionMs: -1,
      offsets: [{ topic: 't', partition: 0, offset, leaderEpoch: -1, metadata: '' }],
    });
  assert.deepEqual(await Promise.all([commit(1), commit(2)]), [[ErrorCode.NONE], [ErrorCode.NONE]]);
  assert.equal(log.partitionCount, CONFIG.offsetsTopicNumPartitions);
  assert.equal(log.creations, 1);
  const stored = log.partitions
    .get(coordinator.partitionFor('g'))!
    .map((r) => decodeCoordinatorRecord(r.key, r.value));
  assert.deepEqual(
    stored.map((r) => (r.type === 'offset' ? r.offset?.offset : undefined)),
    [1, 2],
  );
  assert.equal(await coordinator.ensureOffsetsTopic(), true);
  assert.equal(log.creations, 1, 'created once');

  const reloaded = await setup({}, log);
  assert.equal(
    reloaded.coordinator.fetchOffsets('g', [{ name: 't', partitions: [0] }]).topics[0]!.partitions[0]!.offset,
    2,
  );
});

test('ensureOffsetsTopic() creates the topic before any write; a failed creation fails the write and is retried', async () => {
  const log = new MemoryGroupLog();
  const { coordinator } = await setup({}, log);
  log.openFailure = new Error('disk full');
  const commit = () =>
    coordinator.commitOffsets({
      groupId: 'g',
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      retentionMs: -1,
      offsets: [{ topic: 't', partition: 0, offset: 5, leaderEpoch: -1, metadata: '' }],
    });
  assert.deepEqual(await commit(), [ErrorCode.COORDINATOR_NOT_AVAILABLE]);
  assert.equal(await coordinator.ensureOffsetsTopic(), false);
  assert.equal(log.partitionCount, 0);
  log.openFailure = undefined;
  assert.equal(await coordinator.ensureOffsetsTopic(), true);
  assert.equal(log.partitionCount, CONFIG.offsetsTopicNumPartitions);
  assert.deepEqual(await commit(), [ErrorCode.NONE]);
  assert.equal(log.all.length, 1);
});
