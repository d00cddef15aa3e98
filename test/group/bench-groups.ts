// Group coordinator measurements over the wire (not a test; run by hand):
//   node --import tsx test/group/bench-groups.ts
// 1. rebalance time for 10 members forming a group, and for a stable group of 10 absorbing an 11th;
// 2. time from a member's death (no more heartbeats) to the group's recovery, with session.timeout.ms 1000;
// 3. OffsetCommit requests per second (one partition each, 32 in flight on one connection).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTopics } from '../../src/protocol/messages/create-topics.js';
import { Heartbeat } from '../../src/protocol/messages/heartbeat.js';
import { JoinGroup } from '../../src/protocol/messages/join-group.js';
import { OffsetCommit } from '../../src/protocol/messages/offset-commit.js';
import { SyncGroup } from '../../src/protocol/messages/sync-group.js';
import { Broker } from '../../src/server/broker.js';
import { SILENT_LOGGER } from '../../src/util/logger.js';
import { WireClient } from '../tools/wire-client.js';

const dataDir = mkdtempSync(join(tmpdir(), 'fjord-group-bench-'));
const broker = await Broker.start({
  dataDir,
  port: 0,
  config: {
    'num.io.threads': '1',
    'offsets.topic.num.partitions': '5',
    'group.initial.rebalance.delay.ms': '0',
    'group.min.session.timeout.ms': '500',
  },
  log: SILENT_LOGGER,
});
const admin = await WireClient.connect(broker.port);
await admin.send(CreateTopics, 5, {
  topics: [{ name: 'bench', numPartitions: 10, replicationFactor: 1, assignments: [], configs: [] }],
  timeoutMs: 5000,
  validateOnly: false,
});

interface Member {
  client: WireClient;
  memberId: string;
  generationId: number;
  leader: boolean;
  beating?: NodeJS.Timeout;
}

const body = (groupId: string, memberId: string, sessionTimeoutMs: number) => ({
  groupId,
  sessionTimeoutMs,
  rebalanceTimeoutMs: 10_000,
  memberId,
  groupInstanceId: null,
  protocolType: 'consumer',
  protocols: [{ name: 'range', metadata: Buffer.from('m') }],
  reason: null,
});

async function joinAndSync(m: Member, groupId: string, sessionTimeoutMs: number): Promise<void> {
  const joined = await m.client.send(JoinGroup, 7, body(groupId, m.memberId, sessionTimeoutMs));
  if (joined.errorCode !== 0) throw new Error(`join: ${joined.errorCode}`);
  m.memberId = joined.memberId;
  m.generationId = joined.generationId;
  m.leader = joined.leader === joined.memberId;
  const synced = await m.client.send(SyncGroup, 5, {
    groupId,
    generationId: m.generationId,
    memberId: m.memberId,
    groupInstanceId: null,
    protocolType: 'consumer',
    protocolName: 'range',
    assignments: m.leader
      ? joined.members.map((x) => ({ memberId: x.memberId, assignment: Buffer.from('a') }))
      : [],
  });
  if (synced.errorCode !== 0) throw new Error(`sync: ${synced.errorCode}`);
}

async function newMember(groupId: string, sessionTimeoutMs: number): Promise<Member> {
  const client = await WireClient.connect(broker.port);
  const first = await client.send(JoinGroup, 7, body(groupId, '', sessionTimeoutMs));
  return { client, memberId: first.memberId, generationId: -1, leader: false };
}

/** Heartbeats every 100 ms; on REBALANCE_IN_PROGRESS, rejoins (as a consumer does) and reports it. */
function heartbeat(m: Member, groupId: string, sessionTimeoutMs: number, onRejoined: () => void): void {
  m.beating = setInterval(() => {
    void m.client
      .send(Heartbeat, 4, {
        groupId,
        generationId: m.generationId,
        memberId: m.memberId,
        groupInstanceId: null,
      })
      .then(async (r) => {
        if (r.errorCode === 27 && m.beating) {
          clearInterval(m.beating);
          await joinAndSync(m, groupId, sessionTimeoutMs);
          onRejoined();
          heartbeat(m, groupId, sessionTimeoutMs, onRejoined);
        }
      });
  }, 100);
}

// 1. Ten members form a group.
{
  const members = await Promise.all(Array.from({ length: 10 }, () => newMember('ten', 10_000)));
  const start = performance.now();
  await Promise.all(members.map((m) => joinAndSync(m, 'ten', 10_000)));
  console.log(
    `10 members form a group (JoinGroup + SyncGroup): ${(performance.now() - start).toFixed(1)} ms`,
  );
  let rejoined = 0;
  let done!: () => void;
  const all = new Promise<void>((resolve) => (done = resolve));
  for (const m of members) heartbeat(m, 'ten', 10_000, () => ++rejoined === 11 && done());
  const eleventh = await newMember('ten', 10_000);
  const t0 = performance.now();
  await joinAndSync(eleventh, 'ten', 10_000);
  rejoined++;
  if (rejoined < 11) await all;
  console.log(
    `a stable group of 10 absorbs an 11th (heartbeats every 100 ms): ${(performance.now() - t0).toFixed(1)} ms`,
  );
  for (const m of [...members, eleventh]) {
    clearInterval(m.beating);
    m.beating = undefined;
    m.client.close();
  }
}

// 2. A member dies; the survivor heartbeats and rejoins.
{
  const session = 1000;
  const [a, b] = await Promise.all([newMember('death', session), newMember('death', session)]);
  await Promise.all([joinAndSync(a!, 'death', session), joinAndSync(b!, 'death', session)]);
  let recovered!: () => void;
  const recovery = new Promise<void>((resolve) => (recovered = resolve));
  heartbeat(a!, 'death', session, () => recovered());
  const t0 = performance.now();
  b!.client.close();
  await recovery;
  console.log(
    `member death -> survivor rejoined alone, session.timeout.ms=${session}: ${(performance.now() - t0).toFixed(0)} ms`,
  );
  clearInterval(a!.beating);
  a!.beating = undefined;
  a!.client.close();
}

// 3. OffsetCommit throughput.
{
  const client = await WireClient.connect(broker.port);
  const total = 20_000;
  const inFlight = 32;
  let sent = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (sent < total) {
        const n = sent++;
        const r = await client.send(OffsetCommit, 8, {
          groupId: `commits-${n % 8}`,
          generationIdOrMemberEpoch: -1,
          memberId: '',
          groupInstanceId: null,
          retentionTimeMs: -1n,
          topics: [
            {
              name: 'bench',
              partitions: [
                {
                  partitionIndex: n % 10,
                  committedOffset: BigInt(n),
                  committedLeaderEpoch: -1,
                  commitTimestamp: -1n,
                  committedMetadata: '',
                },
              ],
            },
          ],
        });
        if (r.topics[0]!.partitions[0]!.errorCode !== 0) throw new Error('commit failed');
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  console.log(
    `OffsetCommit: ${(total / seconds).toFixed(0)} commits/s (${total} in ${seconds.toFixed(2)} s, ${inFlight} in flight)`,
  );
  client.close();
}

admin.close();
await broker.stop();
rmSync(dataDir, { recursive: true, force: true });
