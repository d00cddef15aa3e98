// Fetch v4–17. Reads whole record batches and sends them from the segment files without copying them
// through JavaScript (see file-transfer.ts).
// v0–3 need message formats v0/v1, which Fjord does not store (UNSUPPORTED_VERSION). v4: isolation level,
// last stable offset, aborted transactions (none yet: no transactions); v5: log start offset; v7: fetch
// sessions (KIP-227) — Fjord declines them: it answers every full fetch with session id 0, which tells the
// client not to send incremental fetches, and a request naming a session gets FETCH_SESSION_ID_NOT_FOUND;
// v11: rack id (no follower fetching); v12: flexible, diverging epoch; v13: topic ids instead of names;
// v15: replica state.
// Semantics follow Kafka: the response holds at most max.bytes and each partition at most its partition max
// bytes, except that the first batch of the first non-empty partition is always returned whole; a fetch with
// fewer than min.bytes waits up to max.wait.ms and completes as soon as enough is appended (fetch-purgatory.ts);
// an offset outside the log gets OFFSET_OUT_OF_RANGE so the client applies auto.offset.reset.
import type { ReadOutcome } from '../../partition/partition-host.js';
import { READ_COMMITTED_FLAG, STRICT_MAX_BYTES_FLAG } from '../../partition/messages.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { EMPTY_BUFFER, ZERO_UUID } from '../../protocol/messages/common.js';
import {
  Fetch,
  type FetchRequest,
  type FetchResponse,
  type FetchResponsePartitionData,
} from '../../protocol/messages/fetch.js';
import type { RecordsRef } from '../../protocol/primitives/writer.js';
import type { BrokerContext } from '../broker-context.js';
import type { FileRegion } from '../file-transfer.js';
import { handler } from './define.js';

type Records = Buffer | (FileRegion & RecordsRef);

interface PartitionRead {
  topic: string;
  topicId: string;
  partition: number;
  id: number | undefined;
  outcome: ReadOutcome | { ok: false; reason: 'unknown-topic-id' };
}

function partitionData(
  partition: number,
  errorCode: number,
  records: Records | null,
  offsets: { highWatermark: number; lastStableOffset: number; logStartOffset: number } | undefined,
): FetchResponsePartitionData<Records> {
  return {
    partitionIndex: partition,
    errorCode,
    highWatermark: BigInt(offsets?.highWatermark ?? -1),
    lastStableOffset: BigInt(offsets?.lastStableOffset ?? -1),
    logStartOffset: BigInt(offsets?.logStartOffset ?? -1),
    divergingEpoch: { epoch: -1, endOffset: -1n },
    currentLeader: { leaderId: -1, leaderEpoch: -1 },
    snapshotId: { endOffset: -1n, epoch: -1 },
    abortedTransactions: [],
    preferredReadReplica: -1,
    records,
  };
}

/**
 * One pass over the requested partitions, with the result a sequential pass in request order would give:
 * each partition reads at most min(partition max bytes, what is left of max.bytes), and only the first
 * partition that returns data may exceed that (with its first batch).
 *
 * The reads go to the workers all at once, each limited by min(partition max bytes, max.bytes) only, since
 * one worker round trip after another per partition was most of a fetch's time. A read whose limit turns
 * out to differ from the sequential one (max.bytes ran out, or a later partition's oversized first batch)
 * is read again with the sequential limit; with clients' defaults (50 MiB max.bytes, 1 MiB per partition)
 * that happens only past 50 partitions' worth of full reads.
 */
async function readAll(
  request: FetchRequest,
  broker: BrokerContext,
  version: number,
): Promise<PartitionRead[]> {
  const flags = request.isolationLevel === 1 ? READ_COMMITTED_FLAG : 0;
  const maxBytes = version >= 3 ? request.maxBytes : 0x7fffffff;
  const reads: PartitionRead[] = [];
  const pending: { read: PartitionRead; fetchOffset: number; partitionMaxBytes: number; limit: number }[] =
    [];
  const outcomes: Promise<ReadOutcome>[] = [];
  for (const topic of request.topics) {
    const metadata =
      version >= 13 ? broker.topics.registry.byId(topic.topicId) : broker.topics.get(topic.topic);
    for (const p of topic.partitions) {
      const name = metadata?.name ?? topic.topic;
      const id = metadata ? broker.topics.partitionId(metadata.name, p.partition) : undefined;
      if (id === undefined) {
        reads.push({
          topic: name,
          topicId: topic.topicId,
          partition: p.partition,
          id,
          outcome:
            version >= 13 && !metadata
              ? { ok: false, reason: 'unknown-topic-id' }
              : { ok: false, reason: 'unknown-partition' },
        });
        continue;
      }
      const read: PartitionRead = {
        topic: name,
        topicId: metadata?.topicId ?? topic.topicId,
        partition: p.partition,
        id,
        outcome: { ok: false, reason: 'unknown-partition' },
      };
      reads.push(read);
      const fetchOffset = Number(p.fetchOffset);
      const limit = Math.max(0, Math.min(p.partitionMaxBytes, maxBytes));
      pending.push({ read, fetchOffset, partitionMaxBytes: p.partitionMaxBytes, limit });
      outcomes.push(broker.partitions.read(id, fetchOffset, limit, flags));
    }
  }
  const results = await Promise.all(outcomes);
  let remaining = maxBytes;
  let first = true;
  for (let i = 0; i < pending.length; i++) {
    const { read, fetchOffset, partitionMaxBytes } = pending[i]!;
    let outcome = results[i]!;
    const limit = Math.max(0, Math.min(partitionMaxBytes, remaining));
    const same = limit === pending[i]!.limit && (first || !outcome.ok || outcome.bytes <= limit);
    if (!same) {
      const strict = first ? 0 : STRICT_MAX_BYTES_FLAG;
      outcome = await broker.partitions.read(read.id!, fetchOffset, limit, flags | strict);
    }
    if (outcome.ok) remaining -= outcome.bytes;
    if (outcome.ok && outcome.bytes > 0) first = false;
    read.outcome = outcome;
  }
  return reads;
}

function toResponse(reads: PartitionRead[], broker: BrokerContext, version: number): FetchResponse<Records> {
  const topics = new Map<string, FetchResponse<Records>['responses'][number]>();
  for (const read of reads) {
    let entry = topics.get(read.topic);
    if (!entry) {
      entry = { topic: read.topic, topicId: version >= 13 ? read.topicId : ZERO_UUID, partitions: [] };
      topics.set(read.topic, entry);
    }
    const { outcome } = read;
    if (outcome.ok) {
      entry.partitions.push(
        partitionData(read.partition, ErrorCode.NONE, fileRecords(outcome, broker), outcome),
      );
    } else if (outcome.reason === 'offset-out-of-range') {
      entry.partitions.push(
        partitionData(read.partition, ErrorCode.OFFSET_OUT_OF_RANGE, EMPTY_BUFFER, outcome),
      );
    } else {
      const code =
        outcome.reason === 'unknown-topic-id'
          ? ErrorCode.UNKNOWN_TOPIC_ID
          : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      entry.partitions.push(partitionData(read.partition, code, EMPTY_BUFFER, undefined));
    }
  }
  return {
    throttleTimeMs: 0,
    errorCode: ErrorCode.NONE,
    sessionId: 0,
    responses: [...topics.values()],
    nodeEndpoints: [],
  };
}

/** The partition's batches as file parts, with descriptors held until the response has been sent. */
function fileRecords(outcome: Extract<ReadOutcome, { ok: true }>, broker: BrokerContext): Records {
  if (outcome.bytes === 0) return EMPTY_BUFFER;
  const held: { path: string; fd: number }[] = [];
  try {
    const parts = outcome.regions.map((region) => {
      const fd = broker.segmentFiles.acquire(region.path);
      held.push({ path: region.path, fd });
      return { fd, position: region.position, length: region.length };
    });
    const release = () => {
      for (const { path, fd } of held) broker.segmentFiles.release(path, fd);
    };
    return { byteLength: outcome.bytes, parts, release };
  } catch (error) {
    for (const { path, fd } of held) broker.segmentFiles.release(path, fd);
    throw error;
  }
}

function sessionError(errorCode: number): FetchResponse<Records> {
  return { throttleTimeMs: 0, errorCode, sessionId: 0, responses: [], nodeEndpoints: [] };
}

/** Every requested partition with `errorCode` (old versions have no top-level error code). */
function errorResponse(request: FetchRequest, errorCode: number, version: number): FetchResponse<Records> {
  return {
    ...sessionError(version >= 7 ? errorCode : ErrorCode.NONE),
    responses: request.topics.map((topic) => ({
      topic: topic.topic,
      topicId: version >= 13 ? topic.topicId : ZERO_UUID,
      partitions: topic.partitions.map((p) => partitionData(p.partition, errorCode, EMPTY_BUFFER, undefined)),
    })),
  };
}

export const fetchHandler = handler(
  Fetch,
  { min: 4, max: 17 },
  async (request, { broker, version }) => {
    if (version >= 7 && request.sessionId !== 0) return sessionError(ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
    const since = broker.fetchWaiters.mark();
    let reads = await readAll(request, broker, version);
    const bytes = (list: PartitionRead[]) =>
      list.reduce((sum, r) => sum + (r.outcome.ok ? r.outcome.bytes : 0), 0);
    const settled = (list: PartitionRead[]) =>
      list.some((r) => !r.outcome.ok) || bytes(list) >= request.minBytes;
    if (!settled(reads) && request.maxWaitMs > 0) {
      const ids = reads.flatMap((r) => (r.id === undefined ? [] : [r.id]));
      await broker.fetchWaiters.wait(ids, request.minBytes - bytes(reads), request.maxWaitMs, since);
      reads = await readAll(request, broker, version);
    }
    return toResponse(reads, broker, version);
  },
  errorResponse,
);
