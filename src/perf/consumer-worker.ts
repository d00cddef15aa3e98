// A consumer thread of `fjord perf`: reads its share of the partitions (assigned by the runner, no group
// rebalancing) with one Fetch in flight per leader connection, counts records and key+value bytes, and in
// end-to-end runs measures each record's latency from the send time the producer wrote into its value.
// Runs in a worker thread only.
import { parentPort, workerData } from 'node:worker_threads';
import { errorInfo } from '../protocol/error-codes.js';
import { Fetch } from '../protocol/messages/fetch.js';
import { ListOffsets } from '../protocol/messages/list-offsets.js';
import { OffsetCommit } from '../protocol/messages/offset-commit.js';
import { OffsetFetch } from '../protocol/messages/offset-fetch.js';
import { FindCoordinator } from '../protocol/messages/find-coordinator.js';
import { decompress } from '../protocol/records/compression.js';
import {
  compressionOf,
  CompressionType,
  iterateBatches,
  RECORD_BATCH_HEADER_SIZE,
} from '../protocol/records/record-batch.js';
import { PerfConnection } from './connection.js';
import { Histogram } from './histogram.js';
import type { ControlMessage, StatsDelta, WorkerInit, WorkerMessage } from './messages.js';
import { parseHostPort } from './options.js';
import { nowMicros, walkRecords } from './payload.js';

const init = workerData as WorkerInit;
const o = init.options;
const post = (message: WorkerMessage): void => parentPort!.postMessage(message);
const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';
// Kafka's consumer defaults (max.partition.fetch.bytes, fetch.max.bytes): bigger responses only add latency.
const PARTITION_MAX_BYTES = 1024 * 1024;
const FETCH_MAX_BYTES = 50 * 1024 * 1024;

interface PartitionState {
  partition: number;
  next: number;
  /** Stop here (consume-until-end runs); Infinity otherwise. */
  end: number;
}

async function main(): Promise<void> {
  const topic = init.layout.topic;
  const leaderOf = new Map(init.layout.partitions.map((p) => [p.partition, p.leader]));
  const byLeader = new Map<string, PartitionState[]>();
  for (const partition of init.partitions) {
    const leader = leaderOf.get(partition)!;
    let list = byLeader.get(leader);
    if (!list) byLeader.set(leader, (list = []));
    list.push({ partition, next: 0, end: Infinity });
  }
  const connections = new Map<string, PerfConnection>();
  for (const leader of byLeader.keys()) {
    const { host, port } = parseHostPort(leader);
    connections.set(
      leader,
      await PerfConnection.connect(host, port, {
        clientId: o.clientId,
        requestTimeoutMs: o.requestTimeoutMs,
      }),
    );
  }
  // One Fetch in flight per connection, each response consumed before the next is sent.
  for (const c of connections.values()) c.reuseFrames = true;
  const untilEnd = o.mode === 'consume' && o.records === null && o.durationMs === null;
  const committed = o.group === null ? new Map<number, number>() : await fetchCommitted();
  for (const [leader, states] of byLeader) {
    const c = connections.get(leader)!;
    const start = await listOffsets(c, states, o.from === 'earliest' ? -2n : -1n);
    const end = untilEnd ? await listOffsets(c, states, -1n) : undefined;
    for (const s of states) {
      s.next = committed.get(s.partition) ?? start.get(s.partition)!;
      if (end) s.end = end.get(s.partition)!;
    }
  }

  const stats = { records: 0, bytes: 0, requests: 0, errors: {} as Record<string, number> };
  const latency = new Histogram();
  const take = (): StatsDelta => {
    const delta = { ...stats, latency: latency.toData() };
    stats.records = stats.bytes = stats.requests = 0;
    stats.errors = {};
    latency.reset();
    return delta;
  };

  let stopping = false;
  post({ type: 'ready' });
  const startAt = await new Promise<number>((resolve) => {
    parentPort!.on('message', (message: ControlMessage) => {
      // Everyone starts at the same instant; the runner picks it a little ahead.
      if (message.type === 'start')
        setTimeout(() => resolve(message.at), Math.max(0, message.at - Date.now()));
      else stopping = true;
    });
  });
  const measureFromUs = (startAt + o.warmupMs) * 1000;
  const e2e = o.mode === 'e2e';
  let measuredCount = 0;
  const reporter = setInterval(() => {
    post({
      type: 'stats',
      role: 'consumer',
      index: init.index,
      warmup: nowMicros() < measureFromUs,
      delta: take(),
      at: Date.now(),
    });
  }, 1000);

  async function consumeFrom(leader: string, states: PartitionState[]): Promise<void> {
    const c = connections.get(leader)!;
    const version = c.version(Fetch, 12, 4);
    while (!stopping) {
      const active = states.filter((s) => s.next < s.end);
      if (active.length === 0) return;
      if (init.quota !== null && measuredCount >= init.quota) return;
      const response = await c.request(Fetch, version, {
        clusterId: null,
        replicaId: -1,
        replicaState: { replicaId: -1, replicaEpoch: -1n },
        maxWaitMs: 100,
        minBytes: 1,
        maxBytes: FETCH_MAX_BYTES,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [
          {
            topic,
            topicId: ZERO_UUID,
            partitions: active.map((s) => ({
              partition: s.partition,
              currentLeaderEpoch: -1,
              fetchOffset: BigInt(s.next),
              lastFetchedEpoch: -1,
              logStartOffset: -1n,
              partitionMaxBytes: PARTITION_MAX_BYTES,
              replicaDirectoryId: ZERO_UUID,
            })),
          },
        ],
        forgottenTopicsData: [],
        rackId: '',
      });
      const measured = nowMicros() >= measureFromUs;
      if (measured) stats.requests++;
      if (response.errorCode !== 0)
        throw new Error(`Fetch from ${leader} failed: ${errorInfo(response.errorCode).name}`);
      for (const t of response.responses) {
        for (const p of t.partitions) {
          const s = active.find((x) => x.partition === p.partitionIndex);
          if (!s) continue;
          if (p.errorCode !== 0) {
            const name = errorInfo(p.errorCode).name;
            stats.errors[name] = (stats.errors[name] ?? 0) + 1;
            if (p.errorCode === 1 /* OFFSET_OUT_OF_RANGE */) {
              throw new Error(`partition ${s.partition}: offset ${s.next} is out of range`);
            }
            continue;
          }
          if (p.records && p.records.length > 0) await consumeRecords(s, p.records, measured);
        }
      }
    }
  }

  async function consumeRecords(s: PartitionState, records: Buffer, measured: boolean): Promise<void> {
    const nowUs = e2e ? nowMicros() : 0;
    for (const { position, size, header } of iterateBatches(records)) {
      const lastOffset = header.baseOffset + header.lastOffsetDelta;
      if (lastOffset < s.next) continue;
      const codec = compressionOf(header.attributes);
      let body = records;
      let start = position + RECORD_BATCH_HEADER_SIZE;
      let end = position + size;
      if (codec !== CompressionType.NONE) {
        body = await decompress(codec, records.subarray(start, end));
        start = 0;
        end = body.length;
      }
      const from = s.next;
      const limit = s.end;
      let counted = 0;
      let bytes = 0;
      let e2eCounted = 0;
      let e2eBytes = 0;
      // The first offset left unread because the quota ran out: where this partition resumes (and commits).
      let cut: number | undefined;
      walkRecords(body, start, end, (offsetDelta, keyLength, valueStart, valueLength) => {
        const offset = header.baseOffset + offsetDelta;
        if (offset < from || offset >= limit || cut !== undefined) return;
        if (init.quota !== null && measured && measuredCount + counted >= init.quota) {
          cut = offset;
          return;
        }
        if (e2e) {
          // End to end, a record counts when it was sent after the warm-up (the producers' rule), whenever
          // it is fetched.
          const sentUs = valueLength >= 8 ? body.readDoubleBE(valueStart) : 0;
          if (sentUs < measureFromUs) return;
          e2eCounted++;
          e2eBytes += keyLength + Math.max(0, valueLength);
          latency.record(nowUs - sentUs);
          return;
        }
        counted++;
        bytes += keyLength + Math.max(0, valueLength);
      });
      s.next = cut ?? Math.min(lastOffset + 1, s.end);
      if (measured) {
        stats.records += counted;
        stats.bytes += bytes;
        measuredCount += counted;
      }
      stats.records += e2eCounted;
      stats.bytes += e2eBytes;
      if (cut !== undefined) return;
    }
  }

  async function listOffsets(
    c: PerfConnection,
    states: PartitionState[],
    timestamp: bigint,
  ): Promise<Map<number, number>> {
    const version = c.version(ListOffsets, 7, 1);
    const response = await c.request(ListOffsets, version, {
      replicaId: -1,
      isolationLevel: 0,
      topics: [
        {
          name: topic,
          partitions: states.map((s) => ({
            partitionIndex: s.partition,
            currentLeaderEpoch: -1,
            timestamp,
            maxNumOffsets: 1,
          })),
        },
      ],
      timeoutMs: 0,
    });
    const result = new Map<number, number>();
    for (const t of response.topics) {
      for (const p of t.partitions) {
        if (p.errorCode !== 0)
          throw new Error(`ListOffsets for partition ${p.partitionIndex}: ${errorInfo(p.errorCode).name}`);
        result.set(p.partitionIndex, Number(p.offset));
      }
    }
    return result;
  }

  async function coordinator(): Promise<PerfConnection> {
    const c = connections.values().next().value!;
    const version = c.version(FindCoordinator, 3);
    const r = await c.request(FindCoordinator, version, { key: o.group!, keyType: 0, coordinatorKeys: [] });
    if (r.errorCode !== 0)
      throw new Error(`--group ${o.group}: FindCoordinator failed: ${errorInfo(r.errorCode).name}`);
    return PerfConnection.connect(r.host, r.port, {
      clientId: o.clientId,
      requestTimeoutMs: o.requestTimeoutMs,
    });
  }

  async function fetchCommitted(): Promise<Map<number, number>> {
    const first = connections.values().next().value!;
    if (!first.supports(OffsetFetch.apiKey) || !first.supports(FindCoordinator.apiKey)) {
      throw new Error(`--group: broker ${first.address} does not support FindCoordinator/OffsetFetch`);
    }
    const c = await coordinator();
    try {
      const version = c.version(OffsetFetch, 7, 1);
      const r = await c.request(OffsetFetch, version, {
        groupId: o.group!,
        topics: [{ name: topic, partitionIndexes: init.partitions }],
        groups: [],
        requireStable: false,
      });
      const result = new Map<number, number>();
      for (const t of r.topics)
        for (const p of t.partitions)
          if (p.errorCode === 0 && p.committedOffset >= 0n)
            result.set(p.partitionIndex, Number(p.committedOffset));
      return result;
    } finally {
      c.close();
    }
  }

  async function commit(): Promise<void> {
    const c = await coordinator();
    try {
      const version = c.version(OffsetCommit, 7, 2);
      const r = await c.request(OffsetCommit, version, {
        groupId: o.group!,
        generationIdOrMemberEpoch: -1,
        memberId: '',
        groupInstanceId: null,
        retentionTimeMs: -1n,
        topics: [
          {
            name: topic,
            partitions: [...byLeader.values()].flat().map((s) => ({
              partitionIndex: s.partition,
              committedOffset: BigInt(s.next),
              committedLeaderEpoch: -1,
              commitTimestamp: -1n,
              committedMetadata: null,
            })),
          },
        ],
      });
      for (const t of r.topics) {
        for (const p of t.partitions) {
          if (p.errorCode !== 0) {
            const name = errorInfo(p.errorCode).name;
            stats.errors[`OffsetCommit ${name}`] = (stats.errors[`OffsetCommit ${name}`] ?? 0) + 1;
          }
        }
      }
    } finally {
      c.close();
    }
  }

  try {
    await Promise.all([...byLeader].map(([leader, states]) => consumeFrom(leader, states)));
    if (o.group !== null) await commit();
  } finally {
    clearInterval(reporter);
    post({
      type: 'stats',
      role: 'consumer',
      index: init.index,
      warmup: false,
      delta: take(),
      at: Date.now(),
    });
    for (const c of connections.values()) c.close();
  }
  post({ type: 'done', role: 'consumer', index: init.index });
}

main().catch((error: Error) => {
  post({ type: 'fatal', message: error.message });
  process.exit(1);
});
