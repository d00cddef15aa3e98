// The group and offset handlers over a real socket: per-version shapes and Kafka's error codes.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { partitionFor } from '../../../src/group/partition-for.js';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import {
  GroupMetadataKey,
  GroupMetadataValue,
  OffsetCommitKey,
  OffsetCommitValue,
  decodeVersioned,
} from '../../../src/protocol/internal/index.js';
import { DeleteGroups } from '../../../src/protocol/messages/delete-groups.js';
import { DescribeGroups } from '../../../src/protocol/messages/describe-groups.js';
import { ZERO_UUID } from '../../../src/protocol/messages/common.js';
import {
  defaultFetchRequest,
  defaultFetchRequestFetchPartition,
  Fetch,
} from '../../../src/protocol/messages/fetch.js';
import { FindCoordinator } from '../../../src/protocol/messages/find-coordinator.js';
import { Heartbeat } from '../../../src/protocol/messages/heartbeat.js';
import { JoinGroup, type JoinGroupRequest } from '../../../src/protocol/messages/join-group.js';
import { LeaveGroup } from '../../../src/protocol/messages/leave-group.js';
import { ListGroups } from '../../../src/protocol/messages/list-groups.js';
import { OffsetCommit, type OffsetCommitRequest } from '../../../src/protocol/messages/offset-commit.js';
import { OffsetDelete } from '../../../src/protocol/messages/offset-delete.js';
import { OffsetFetch } from '../../../src/protocol/messages/offset-fetch.js';
import { SyncGroup } from '../../../src/protocol/messages/sync-group.js';
import { decodeRecordBatch, iterateBatches } from '../../../src/protocol/records/record-batch.js';
import { createTopics, startTestBroker, type TestBroker } from './helpers.js';

const OFFSETS_PARTITIONS = 3;
let t: TestBroker;

before(async () => {
  t = await startTestBroker({
    'offsets.topic.num.partitions': String(OFFSETS_PARTITIONS),
    'group.initial.rebalance.delay.ms': '0',
    'group.min.session.timeout.ms': '1000',
  });
  await createTopics(t.client, ['orders', 'audit'], 2);
});
after(() => t.close());

const joinBody = (
  groupId: string,
  memberId: string,
  extra: Partial<JoinGroupRequest> = {},
): JoinGroupRequest => ({
  groupId,
  sessionTimeoutMs: 10_000,
  rebalanceTimeoutMs: 10_000,
  memberId,
  groupInstanceId: null,
  protocolType: 'consumer',
  protocols: [{ name: 'range', metadata: Buffer.from('sub') }],
  reason: null,
  ...extra,
});

/** Joins a one-member group at `version` (v4+: through MEMBER_ID_REQUIRED) and syncs it. */
async function soloGroup(groupId: string, version = 5) {
  let memberId = '';
  if (version >= 4) {
    const first = await t.client.send(JoinGroup, version, joinBody(groupId, ''));
    assert.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
    memberId = first.memberId;
  }
  const joined = await t.client.send(JoinGroup, version, joinBody(groupId, memberId));
  assert.equal(joined.errorCode, ErrorCode.NONE);
  const synced = await t.client.send(SyncGroup, 3, {
    groupId,
    generationId: joined.generationId,
    memberId: joined.memberId,
    groupInstanceId: null,
    protocolType: null,
    protocolName: null,
    assignments: [{ memberId: joined.memberId, assignment: Buffer.from('mine') }],
  });
  assert.equal(synced.errorCode, ErrorCode.NONE);
  assert.equal(synced.assignment.toString(), 'mine');
  return { memberId: joined.memberId, generationId: joined.generationId };
}

const commitBody = (groupId: string, extra: Partial<OffsetCommitRequest> = {}): OffsetCommitRequest => ({
  groupId,
  generationIdOrMemberEpoch: -1,
  memberId: '',
  groupInstanceId: null,
  retentionTimeMs: -1n,
  topics: [
    {
      name: 'orders',
      partitions: [
        {
          partitionIndex: 0,
          committedOffset: 10n,
          committedLeaderEpoch: 4,
          commitTimestamp: -1n,
          committedMetadata: 'm0',
        },
        {
          partitionIndex: 1,
          committedOffset: 20n,
          committedLeaderEpoch: -1,
          commitTimestamp: -1n,
          committedMetadata: null,
        },
        {
          partitionIndex: 7,
          committedOffset: 1n,
          committedLeaderEpoch: -1,
          commitTimestamp: -1n,
          committedMetadata: '',
        },
      ],
    },
  ],
  ...extra,
});

test('FindCoordinator answers with this broker for groups and transactions, batched from v4', async () => {
  const v0 = await t.client.send(FindCoordinator, 0, { key: 'g', keyType: 0, coordinatorKeys: [] });
  assert.deepEqual([v0.errorCode, v0.nodeId, v0.host, v0.port], [0, 0, '127.0.0.1', t.broker.port]);
  const v3 = await t.client.send(FindCoordinator, 3, { key: 'tx', keyType: 1, coordinatorKeys: [] });
  assert.deepEqual([v3.errorCode, v3.errorMessage, v3.port], [0, 'NONE', t.broker.port]);
  const bad = await t.client.send(FindCoordinator, 2, { key: 'x', keyType: 7, coordinatorKeys: [] });
  assert.equal(bad.errorCode, ErrorCode.INVALID_REQUEST);
  const v4 = await t.client.send(FindCoordinator, 4, { key: '', keyType: 0, coordinatorKeys: ['a', 'b'] });
  assert.deepEqual(
    v4.coordinators.map((c) => [c.key, c.nodeId, c.port, c.errorCode]),
    [
      ['a', 0, t.broker.port, 0],
      ['b', 0, t.broker.port, 0],
    ],
  );
});

test('JoinGroup: MEMBER_ID_REQUIRED only from v4; v3 joins at once; v7 echoes the protocol type', async () => {
  const v3 = await t.client.send(JoinGroup, 3, joinBody('join-v3', ''));
  assert.equal(v3.errorCode, ErrorCode.NONE);
  assert.equal(v3.leader, v3.memberId);
  assert.equal(v3.protocolName, 'range');
  assert.match(v3.memberId, /^wire-client-/);
  const first = await t.client.send(JoinGroup, 7, joinBody('join-v7', ''));
  assert.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
  assert.equal(first.protocolName, null);
  const second = await t.client.send(JoinGroup, 7, joinBody('join-v7', first.memberId));
  assert.deepEqual(
    [second.errorCode, second.protocolType, second.protocolName, second.generationId],
    [0, 'consumer', 'range', 1],
  );
  assert.deepEqual(
    second.members.map((m) => [m.memberId, m.metadata.toString()]),
    [[first.memberId, 'sub']],
  );
  const badTimeout = await t.client.send(JoinGroup, 5, joinBody('join-v7', '', { sessionTimeoutMs: 10 }));
  assert.equal(badTimeout.errorCode, ErrorCode.INVALID_SESSION_TIMEOUT);
  const unknown = await t.client.send(JoinGroup, 5, joinBody('join-none', 'someone'));
  assert.equal(unknown.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  const wrongType = await t.client.send(JoinGroup, 5, joinBody('join-v7', '', { protocolType: 'connect' }));
  assert.equal(wrongType.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  const empty = await t.client.send(JoinGroup, 5, joinBody('', ''));
  assert.equal(empty.errorCode, ErrorCode.INVALID_GROUP_ID);
});

test('SyncGroup and Heartbeat error codes', async () => {
  const { memberId, generationId } = await soloGroup('sync-codes');
  const sync = (extra: object) =>
    t.client.send(SyncGroup, 5, {
      groupId: 'sync-codes',
      generationId,
      memberId,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [],
      ...extra,
    });
  const ok = await sync({});
  assert.deepEqual(
    [ok.errorCode, ok.protocolType, ok.protocolName, ok.assignment.toString()],
    [0, 'consumer', 'range', 'mine'],
  );
  assert.equal((await sync({ generationId: 9 })).errorCode, ErrorCode.ILLEGAL_GENERATION);
  assert.equal((await sync({ memberId: 'nobody' })).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal((await sync({ protocolName: 'roundrobin' })).errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  assert.equal((await sync({ groupId: 'no-such-group' })).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  const hb = (v: number, extra: object) =>
    t.client.send(Heartbeat, v, {
      groupId: 'sync-codes',
      generationId,
      memberId,
      groupInstanceId: null,
      ...extra,
    });
  assert.equal((await hb(0, {})).errorCode, ErrorCode.NONE);
  assert.equal((await hb(4, { generationId: generationId + 1 })).errorCode, ErrorCode.ILLEGAL_GENERATION);
  assert.equal((await hb(1, { memberId: 'x' })).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal((await hb(3, { groupId: '' })).errorCode, ErrorCode.INVALID_GROUP_ID);
});

test('LeaveGroup: one member before v3 (error at the top), a batch with per-member errors from v3', async () => {
  const a = await soloGroup('leave-old');
  const v1 = await t.client.send(LeaveGroup, 1, { groupId: 'leave-old', memberId: a.memberId, members: [] });
  assert.equal(v1.errorCode, ErrorCode.NONE);
  const again = await t.client.send(LeaveGroup, 1, {
    groupId: 'leave-old',
    memberId: a.memberId,
    members: [],
  });
  assert.equal(again.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  const unknownGroup = await t.client.send(LeaveGroup, 0, { groupId: 'never', memberId: 'm', members: [] });
  assert.equal(unknownGroup.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  const b = await soloGroup('leave-new');
  const v3 = await t.client.send(LeaveGroup, 5, {
    groupId: 'leave-new',
    memberId: '',
    members: [
      { memberId: b.memberId, groupInstanceId: null, reason: 'bye' },
      { memberId: 'ghost', groupInstanceId: null, reason: null },
      { memberId: '', groupInstanceId: 'no-such-instance', reason: null },
    ],
  });
  assert.equal(v3.errorCode, ErrorCode.NONE);
  assert.deepEqual(
    v3.members.map((m) => m.errorCode),
    [ErrorCode.NONE, ErrorCode.UNKNOWN_MEMBER_ID, ErrorCode.UNKNOWN_MEMBER_ID],
  );
  const described = await t.client.send(DescribeGroups, 5, {
    groups: ['leave-new'],
    includeAuthorizedOperations: false,
  });
  assert.equal(described.groups[0]!.groupState, 'Empty');
});

test('OffsetCommit and OffsetFetch round-trip offsets, metadata and leader epochs by version', async () => {
  const committed = await t.client.send(OffsetCommit, 2, commitBody('offsets-a'));
  assert.deepEqual(
    committed.topics[0]!.partitions.map((p) => p.errorCode),
    [ErrorCode.NONE, ErrorCode.NONE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
  );
  const v8commit = await t.client.send(OffsetCommit, 8, commitBody('offsets-b'));
  assert.deepEqual(
    v8commit.topics[0]!.partitions.map((p) => p.errorCode),
    [0, 0, 3],
  );
  const v1 = await t.client.send(OffsetFetch, 1, {
    groupId: 'offsets-a',
    topics: [{ name: 'orders', partitionIndexes: [0, 1] }],
    groups: [],
    requireStable: false,
  });
  assert.deepEqual(
    v1.topics[0]!.partitions.map((p) => [p.partitionIndex, p.committedOffset, p.metadata, p.errorCode]),
    [
      [0, 10n, 'm0', 0],
      [1, 20n, '', 0],
    ],
  );
  // v2+: topics=null means every partition the group committed, with real topic names.
  const all = await t.client.send(OffsetFetch, 5, {
    groupId: 'offsets-b',
    topics: null,
    groups: [],
    requireStable: false,
  });
  assert.equal(all.errorCode, 0);
  assert.deepEqual(
    all.topics.map((tp) => [
      tp.name,
      tp.partitions.map((p) => [p.partitionIndex, p.committedOffset, p.committedLeaderEpoch]),
    ]),
    [
      [
        'orders',
        [
          [0, 10n, 4],
          [1, 20n, -1],
        ],
      ],
    ],
  );
  const v8 = await t.client.send(OffsetFetch, 8, {
    groupId: '',
    topics: [],
    groups: [
      {
        groupId: 'offsets-a',
        memberId: null,
        memberEpoch: -1,
        topics: [{ name: 'orders', partitionIndexes: [0] }],
      },
      { groupId: 'offsets-b', memberId: null, memberEpoch: -1, topics: null },
      { groupId: 'offsets-none', memberId: null, memberEpoch: -1, topics: null },
    ],
    requireStable: true,
  });
  assert.deepEqual(
    v8.groups.map((g) => [
      g.groupId,
      g.errorCode,
      g.topics.flatMap((tp) => tp.partitions.map((p) => Number(p.committedOffset))),
    ]),
    [
      ['offsets-a', 0, [10]],
      ['offsets-b', 0, [10, 20]],
      ['offsets-none', 0, []],
    ],
  );
  const missing = await t.client.send(OffsetFetch, 3, {
    groupId: 'offsets-a',
    topics: [{ name: 'audit', partitionIndexes: [1] }],
    groups: [],
    requireStable: false,
  });
  assert.deepEqual(
    missing.topics[0]!.partitions.map((p) => [p.committedOffset, p.metadata, p.errorCode]),
    [[-1n, '', 0]],
  );
});

test('OffsetCommit generation checks: ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, OFFSET_METADATA_TOO_LARGE', async () => {
  const { memberId, generationId } = await soloGroup('commit-checks');
  const codes = async (version: number, extra: Partial<OffsetCommitRequest>) =>
    (
      await t.client.send(OffsetCommit, version, commitBody('commit-checks', extra))
    ).topics[0]!.partitions.map((p) => p.errorCode);
  assert.deepEqual(await codes(7, { generationIdOrMemberEpoch: generationId, memberId }), [0, 0, 3]);
  assert.deepEqual(await codes(7, { generationIdOrMemberEpoch: generationId + 1, memberId }), [22, 22, 3]);
  assert.deepEqual(
    await codes(5, { generationIdOrMemberEpoch: generationId, memberId: 'other' }),
    [25, 25, 3],
  );
  assert.deepEqual(
    await codes(2, { groupId: 'fresh', generationIdOrMemberEpoch: 3, memberId: 'm' }),
    [22, 22, 3],
  );
  const big = commitBody('commit-checks', { generationIdOrMemberEpoch: generationId, memberId });
  big.topics[0]!.partitions[0]!.committedMetadata = 'x'.repeat(5000);
  const response = await t.client.send(OffsetCommit, 6, big);
  assert.deepEqual(
    response.topics[0]!.partitions.map((p) => p.errorCode),
    [12, 0, 3],
  );
});

test('DescribeGroups, ListGroups (states filter from v4), DeleteGroups and OffsetDelete', async () => {
  const live = await soloGroup('admin-live');
  await t.client.send(
    OffsetCommit,
    8,
    commitBody('admin-live', { generationIdOrMemberEpoch: live.generationId, memberId: live.memberId }),
  );
  await t.client.send(OffsetCommit, 8, commitBody('admin-empty'));
  const described = await t.client.send(DescribeGroups, 5, {
    groups: ['admin-live', 'admin-unknown'],
    includeAuthorizedOperations: true,
  });
  const [g, unknown] = described.groups;
  assert.deepEqual(
    [g!.groupState, g!.protocolType, g!.protocolData, g!.members.length],
    ['Stable', 'consumer', 'range', 1],
  );
  assert.equal(g!.members[0]!.memberAssignment.toString(), 'mine');
  assert.equal(g!.members[0]!.clientHost, '/127.0.0.1');
  assert.equal(g!.authorizedOperations, (1 << 3) | (1 << 6) | (1 << 8));
  assert.deepEqual([unknown!.errorCode, unknown!.groupState], [0, 'Dead']);
  const stable = await t.client.send(ListGroups, 4, { statesFilter: ['stable'], typesFilter: [] });
  assert.ok(stable.groups.some((x) => x.groupId === 'admin-live' && x.groupState === 'Stable'));
  assert.ok(!stable.groups.some((x) => x.groupId === 'admin-empty'));
  const v0 = await t.client.send(ListGroups, 0, { statesFilter: [], typesFilter: [] });
  assert.ok(v0.groups.some((x) => x.groupId === 'admin-empty' && x.protocolType === ''));
  const deleted = await t.client.send(DeleteGroups, 2, {
    groupsNames: ['admin-live', 'admin-empty', 'admin-unknown'],
  });
  assert.deepEqual(
    deleted.results.map((r) => [r.groupId, r.errorCode]),
    [
      ['admin-live', ErrorCode.NON_EMPTY_GROUP],
      ['admin-empty', ErrorCode.NONE],
      ['admin-unknown', ErrorCode.GROUP_ID_NOT_FOUND],
    ],
  );
  const offsetDelete = await t.client.send(OffsetDelete, 0, {
    groupId: 'admin-live',
    topics: [{ name: 'orders', partitions: [{ partitionIndex: 0 }, { partitionIndex: 9 }] }],
  });
  // Its member subscribes to nothing readable ('sub' is not a consumer subscription): Kafka then assumes all.
  assert.deepEqual(
    offsetDelete.topics[0]!.partitions.map((p) => p.errorCode),
    [ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
  );
  const noGroup = await t.client.send(OffsetDelete, 0, { groupId: 'admin-empty', topics: [] });
  assert.equal(noGroup.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
});

test('__consumer_offsets holds Kafka-format records on the group’s partition, and they survive a restart', async () => {
  await t.client.send(OffsetCommit, 8, commitBody('persisted'));
  const member = await soloGroup('persisted-group');
  const partition = partitionFor('persisted', OFFSETS_PARTITIONS);
  const fetched = await t.client.send(Fetch, 11, {
    ...defaultFetchRequest(),
    topics: [
      {
        topic: '__consumer_offsets',
        topicId: ZERO_UUID,
        partitions: [{ ...defaultFetchRequestFetchPartition(), partition, partitionMaxBytes: 1 << 20 }],
      },
    ],
  });
  const data = fetched.responses[0]!.partitions[0]!.records as Buffer;
  const found: string[] = [];
  for (const { position } of iterateBatches(data)) {
    for (const record of (await decodeRecordBatch(data, position)).records) {
      const version = record.key!.readInt16BE(0);
      if (version === 1) {
        const key = decodeVersioned(OffsetCommitKey, record.key!).value;
        const value = decodeVersioned(OffsetCommitValue, record.value!);
        if (key.group === 'persisted')
          found.push(`${key.topic}-${key.partition}@${value.value.offset}/v${value.version}`);
      } else if (version === 2) {
        const key = decodeVersioned(GroupMetadataKey, record.key!).value;
        if (key.group === 'persisted-group') {
          const value = decodeVersioned(GroupMetadataValue, record.value!).value;
          found.push(`group ${value.protocolType} ${value.protocol} gen ${value.generation}`);
        }
      }
    }
  }
  assert.ok(found.includes('orders-0@10/v3'), found.join(', '));
  assert.ok(found.includes('orders-1@20/v3'));
  if (partitionFor('persisted-group', OFFSETS_PARTITIONS) === partition) {
    assert.ok(found.includes('group consumer range gen 1'));
  }

  await t.restart();
  const after = await t.client.send(OffsetFetch, 7, {
    groupId: 'persisted',
    topics: null,
    groups: [],
    requireStable: false,
  });
  assert.deepEqual(
    after.topics.flatMap((tp) =>
      tp.partitions.map((p) => [tp.name, p.partitionIndex, p.committedOffset, p.metadata]),
    ),
    [
      ['orders', 0, 10n, 'm0'],
      ['orders', 1, 20n, ''],
    ],
  );
  const described = await t.client.send(DescribeGroups, 5, {
    groups: ['persisted-group'],
    includeAuthorizedOperations: false,
  });
  assert.equal(described.groups[0]!.groupState, 'Stable');
  assert.equal(described.groups[0]!.members[0]!.memberId, member.memberId);
  const hb = await t.client.send(Heartbeat, 4, {
    groupId: 'persisted-group',
    generationId: member.generationId,
    memberId: member.memberId,
    groupInstanceId: null,
  });
  assert.equal(hb.errorCode, ErrorCode.NONE, 'a member keeps its place across a broker restart');
});
