// Golden wire fixtures (test/fixtures/wire, see its README): real frames from kcat, kafkajs and kafka-python.
// Every frame must decode with the generated codecs to the values the capture script told the client to
// send, and re-encode to the same bytes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  decodeRequestHeader,
  decodeResponse,
  encodeRequest,
  encodeResponse,
} from '../../src/protocol/frame.js';
import {
  ApiVersions,
  ConsumerProtocolAssignment,
  ConsumerProtocolSubscription,
  Fetch,
  FindCoordinator,
  Heartbeat,
  JoinGroup,
  LeaveGroup,
  ListOffsets,
  Metadata,
  OffsetCommit,
  OffsetFetch,
  Produce,
  SyncGroup,
  apis,
} from '../../src/protocol/messages/index.js';
import { Reader } from '../../src/protocol/primitives/reader.js';
import {
  CompressionType,
  compressionOf,
  decodeRecordBatch,
  isRecordBatchCrcValid,
  recordBatchSize,
} from '../../src/protocol/records/record-batch.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { repoRoot } from '../tools/repo-root.js';

type Codec = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

interface ManifestEntry {
  file: string;
  client: 'kcat' | 'kafkajs' | 'kafka-python';
  apiKey: number;
  apiName: string;
  apiVersion: number;
  direction: 'request' | 'response';
  correlationId: number;
  clientId?: string | null;
  topic: string;
  partition: number;
  codec?: Codec;
  baseOffset?: number;
  records?: { key: string; value: string }[];
  groupId?: string;
  protocolType?: string;
  protocolNames?: string[];
}

const dir = join(repoRoot(), 'test', 'fixtures', 'wire');
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as ManifestEntry[];
const CODECS: Codec[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const COMPRESSION: Record<Codec, number> = {
  none: CompressionType.NONE,
  gzip: CompressionType.GZIP,
  snappy: CompressionType.SNAPPY,
  lz4: CompressionType.LZ4,
  zstd: CompressionType.ZSTD,
};
const RECORDS_PER_BATCH = 3;
const TOTAL_RECORDS = CODECS.length * RECORDS_PER_BATCH;
// What each client was configured with or sends by default (see the fixtures README).
const ACKS = { kcat: -1, kafkajs: -1, 'kafka-python': 1 } as const;

/** The frame without its 4-byte size prefix, after checking that prefix. */
function frameOf(entry: ManifestEntry): { bytes: Buffer; frame: Buffer } {
  const bytes = readFileSync(join(dir, entry.file));
  assert.equal(bytes.readInt32BE(0), bytes.length - 4, 'size prefix');
  return { bytes, frame: bytes.subarray(4) };
}

function decodeReq<T>(entry: ManifestEntry): T {
  const { bytes, frame } = frameOf(entry);
  const { header, bodyOffset } = decodeRequestHeader(frame);
  assert.equal(header.apiKey, entry.apiKey);
  assert.equal(header.apiVersion, entry.apiVersion);
  assert.equal(header.correlationId, entry.correlationId);
  // Every capture configured its client id as golden-<client>.
  assert.equal(header.clientId, `golden-${entry.client}`);
  assert.equal(header.clientId, entry.clientId);
  const api = apis.get(entry.apiKey);
  assert.ok(api, `no codec for api key ${entry.apiKey}`);
  const r = new Reader(frame, bodyOffset);
  const body = api.request.read(r, entry.apiVersion) as T;
  assert.equal(r.remaining, 0, 'request body has trailing bytes');
  const again = encodeRequest(api, entry.apiVersion, header.correlationId, header.clientId, body as unknown);
  assert.ok(again.equals(bytes), 're-encoded request differs from the captured bytes');
  return body;
}

function decodeResp<T>(entry: ManifestEntry): T {
  const { bytes, frame } = frameOf(entry);
  const { header, body } = decodeResponse(entry.apiKey, entry.apiVersion, frame);
  assert.equal(header.correlationId, entry.correlationId);
  const encoded = encodeResponse(entry.apiKey, entry.apiVersion, entry.correlationId, body);
  const again = Buffer.isBuffer(encoded)
    ? encoded
    : Buffer.concat(encoded.map((c) => (Buffer.isBuffer(c) ? c : assert.fail('unexpected RecordsRef'))));
  // Equal bytes also proves the body decoder consumed the whole frame.
  assert.ok(again.equals(bytes), 're-encoded response differs from the captured bytes');
  return body as T;
}

async function checkBatch(records: Buffer | null, entry: ManifestEntry, expectedBaseOffset: number) {
  assert.ok(records && records.length > 0, 'no record bytes');
  assert.equal(recordBatchSize(records, 0), records.length, 'exactly one batch');
  assert.ok(isRecordBatchCrcValid(records, 0), 'CRC32C');
  const batch = await decodeRecordBatch(records, 0);
  assert.equal(batch.header.magic, 2);
  assert.equal(batch.header.baseOffset, expectedBaseOffset);
  assert.equal(batch.header.recordCount, RECORDS_PER_BATCH);
  assert.equal(batch.header.lastOffsetDelta, RECORDS_PER_BATCH - 1);
  assert.equal(compressionOf(batch.header.attributes), COMPRESSION[entry.codec!], 'codec');
  assert.deepEqual(
    batch.records.map((r) => ({ key: r.key?.toString('utf8'), value: r.value?.toString('utf8') })),
    entry.records,
  );
  assert.deepEqual(
    batch.records.map((r) => r.offsetDelta),
    [0, 1, 2],
  );
}

function subscriptionTopics(metadata: Buffer): string[] {
  const r = new Reader(metadata);
  const version = r.int16();
  const subscription = ConsumerProtocolSubscription.read(r, version);
  return subscription.topics;
}

function assignmentOf(data: Buffer): { topic: string; partitions: number[] }[] {
  const r = new Reader(data);
  const version = r.int16();
  return ConsumerProtocolAssignment.read(r, version).assignedPartitions.map((p) => ({
    topic: p.topic,
    partitions: p.partitions,
  }));
}

type Check = (entry: ManifestEntry) => void | Promise<void>;

const requestChecks: Record<number, Check> = {
  [ApiVersions.apiKey]: (e) => {
    const body = decodeReq<ReturnType<typeof ApiVersions.request.read>>(e);
    if (e.apiVersion >= 3) {
      assert.equal(body.clientSoftwareName, 'librdkafka');
      assert.equal(body.clientSoftwareVersion, '2.0.2');
    }
  },
  [Metadata.apiKey]: (e) => {
    const body = decodeReq<ReturnType<typeof Metadata.request.read>>(e);
    // kafka-python asks for every topic (v0: empty list, v1: null); the others name their topic.
    if (e.client === 'kafka-python') assert.deepEqual(body.topics, e.apiVersion === 0 ? [] : null);
    else
      assert.deepEqual(
        body.topics?.map((t) => t.name),
        [e.topic],
      );
  },
  [Produce.apiKey]: async (e) => {
    const body = decodeReq<ReturnType<typeof Produce.request.read>>(e);
    assert.equal(body.transactionalId, null);
    assert.equal(body.acks, ACKS[e.client]);
    assert.equal(body.topicData.length, 1);
    assert.equal(body.topicData[0]?.name, e.topic);
    assert.deepEqual(
      body.topicData[0]?.partitionData.map((p) => p.index),
      [e.partition],
    );
    // Producers always send base offset 0; the broker assigns the real one.
    await checkBatch(body.topicData[0]?.partitionData[0]?.records ?? null, e, 0);
  },
  [Fetch.apiKey]: (e) => {
    const body = decodeReq<ReturnType<typeof Fetch.request.read>>(e);
    assert.equal(body.replicaId, -1);
    assert.deepEqual(
      body.topics.map((t) => [t.topic, t.partitions.map((p) => [p.partition, p.fetchOffset])]),
      [[e.topic, [[e.partition, BigInt(e.baseOffset!)]]]],
    );
  },
  [ListOffsets.apiKey]: (e) => {
    const body = decodeReq<ReturnType<typeof ListOffsets.request.read>>(e);
    assert.deepEqual(
      body.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.timestamp])]),
      [[e.topic, [[e.partition, -2n]]]], // -2 = earliest
    );
  },
  [FindCoordinator.apiKey]: (e) => {
    const body = decodeReq<ReturnType<typeof FindCoordinator.request.read>>(e);
    assert.equal(body.key, e.groupId);
    assert.equal(body.keyType, 0);
  },
  [JoinGroup.apiKey]: (e) => {
    const body = decodeReq<ReturnType<typeof JoinGroup.request.read>>(e);
    assert.equal(body.groupId, e.groupId);
    assert.equal(body.memberId, '');
    assert.equal(body.groupInstanceId, null);
    assert.equal(body.protocolType, e.protocolType);
    assert.deepEqual(
      body.protocols.map((p) => p.name),
      e.protocolNames,
    );
    for (const p of body.protocols) assert.deepEqual(subscriptionTopics(p.metadata), [e.topic]);
  },
  [SyncGroup.apiKey]: (e) => {
    const body = decodeReq<ReturnType<typeof SyncGroup.request.read>>(e);
    assert.equal(body.groupId, e.groupId);
    assert.ok(body.memberId.length > 0);
    // The only member is the leader, so it sends its own assignment: all of the one partition.
    assert.deepEqual(
      body.assignments.map((a) => a.memberId),
      [body.memberId],
    );
    assert.deepEqual(assignmentOf(body.assignments[0]!.assignment), [{ topic: e.topic, partitions: [0] }]);
  },
  [Heartbeat.apiKey]: (e) => {
    const body = decodeReq<ReturnType<typeof Heartbeat.request.read>>(e);
    assert.equal(body.groupId, e.groupId);
    assert.ok(body.memberId.length > 0);
  },
  [OffsetFetch.apiKey]: (e) => {
    const body = decodeReq<ReturnType<typeof OffsetFetch.request.read>>(e);
    assert.equal(body.groupId, e.groupId);
    assert.deepEqual(
      body.topics?.map((t) => [t.name, t.partitionIndexes]),
      [[e.topic, [e.partition]]],
    );
  },
  [OffsetCommit.apiKey]: (e) => {
    const body = decodeReq<ReturnType<typeof OffsetCommit.request.read>>(e);
    assert.equal(body.groupId, e.groupId);
    assert.ok(body.memberId.length > 0);
    assert.ok(body.generationIdOrMemberEpoch > 0);
    assert.deepEqual(
      body.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.committedOffset])]),
      [[e.topic, [[e.partition, BigInt(TOTAL_RECORDS)]]]],
    );
  },
  [LeaveGroup.apiKey]: (e) => {
    const body = decodeReq<ReturnType<typeof LeaveGroup.request.read>>(e);
    assert.equal(body.groupId, e.groupId);
    assert.ok(body.memberId.length > 0);
  },
};

const responseChecks: Record<number, Check> = {
  [ApiVersions.apiKey]: (e) => {
    if (e.apiVersion >= 3 && e.client === 'kcat') {
      // The mock's reply to a version it does not support has a malformed body (see the README); only its
      // error code, the first field in every version, is meaningful.
      const { frame } = frameOf(e);
      assert.equal(frame.readInt32BE(0), e.correlationId);
      assert.equal(frame.readInt16BE(4), ErrorCode.UNSUPPORTED_VERSION);
      return;
    }
    const body = decodeResp<ReturnType<typeof ApiVersions.response.read>>(e);
    assert.equal(body.errorCode, ErrorCode.NONE);
    const ranges = new Map(body.apiKeys.map((k) => [k.apiKey, [k.minVersion, k.maxVersion]]));
    assert.deepEqual(ranges.get(Produce.apiKey), [0, 7]);
    assert.deepEqual(ranges.get(Fetch.apiKey), [0, 11]);
    assert.deepEqual(ranges.get(JoinGroup.apiKey), [0, 5]);
    assert.deepEqual(ranges.get(OffsetCommit.apiKey), [0, 7]);
  },
  [Metadata.apiKey]: (e) => {
    const body = decodeResp<ReturnType<typeof Metadata.response.read>>(e);
    assert.deepEqual(
      body.brokers.map((b) => [b.nodeId, b.host]),
      [[1, '127.0.0.1']],
    );
    const topic = body.topics.find((t) => t.name === e.topic);
    assert.ok(topic, `topic ${e.topic} missing`);
    assert.equal(topic.errorCode, ErrorCode.NONE);
    assert.deepEqual(
      topic.partitions.map((p) => [p.partitionIndex, p.leaderId, p.replicaNodes, p.isrNodes]),
      [[0, 1, [1], [1]]],
    );
  },
  [Produce.apiKey]: (e) => {
    const body = decodeResp<ReturnType<typeof Produce.response.read>>(e);
    assert.deepEqual(
      body.responses.map((t) => [
        t.name,
        t.partitionResponses.map((p) => [p.index, p.errorCode, p.baseOffset]),
      ]),
      [[e.topic, [[e.partition, ErrorCode.NONE, BigInt(e.baseOffset!)]]]],
    );
  },
  [Fetch.apiKey]: async (e) => {
    const body = decodeResp<ReturnType<typeof Fetch.response.read>>(e);
    assert.equal(body.errorCode, ErrorCode.NONE);
    assert.deepEqual(
      body.responses.map((t) => [
        t.topic,
        t.partitions.map((p) => [p.partitionIndex, p.errorCode, p.highWatermark]),
      ]),
      [[e.topic, [[e.partition, ErrorCode.NONE, BigInt(TOTAL_RECORDS)]]]],
    );
    await checkBatch(body.responses[0]?.partitions[0]?.records ?? null, e, e.baseOffset!);
  },
  [ListOffsets.apiKey]: (e) => {
    const body = decodeResp<ReturnType<typeof ListOffsets.response.read>>(e);
    assert.deepEqual(
      body.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.errorCode, p.offset])]),
      [[e.topic, [[e.partition, ErrorCode.NONE, 0n]]]],
    );
  },
  [FindCoordinator.apiKey]: (e) => {
    const body = decodeResp<ReturnType<typeof FindCoordinator.response.read>>(e);
    assert.equal(body.errorCode, ErrorCode.NONE);
    assert.equal(body.nodeId, 1);
    assert.equal(body.host, '127.0.0.1');
  },
  [JoinGroup.apiKey]: (e) => {
    const body = decodeResp<ReturnType<typeof JoinGroup.response.read>>(e);
    assert.equal(body.errorCode, ErrorCode.NONE);
    assert.ok(body.generationId > 0);
    // Each client lists its preferred assignor first, and the mock picks that.
    assert.equal(body.protocolName, e.protocolNames?.[0]);
    assert.ok(body.memberId.length > 0);
    assert.equal(body.leader, body.memberId);
    assert.deepEqual(
      body.members.map((m) => m.memberId),
      [body.memberId],
    );
    assert.deepEqual(subscriptionTopics(body.members[0]!.metadata), [e.topic]);
  },
  [SyncGroup.apiKey]: (e) => {
    const body = decodeResp<ReturnType<typeof SyncGroup.response.read>>(e);
    assert.equal(body.errorCode, ErrorCode.NONE);
    assert.deepEqual(assignmentOf(body.assignment), [{ topic: e.topic, partitions: [0] }]);
  },
  [Heartbeat.apiKey]: (e) => {
    assert.equal(decodeResp<ReturnType<typeof Heartbeat.response.read>>(e).errorCode, ErrorCode.NONE);
  },
  [OffsetFetch.apiKey]: (e) => {
    const body = decodeResp<ReturnType<typeof OffsetFetch.response.read>>(e);
    assert.equal(body.errorCode, ErrorCode.NONE);
    // Nothing was committed yet when the consumer started: -1.
    assert.deepEqual(
      body.topics.map((t) => [
        t.name,
        t.partitions.map((p) => [p.partitionIndex, p.errorCode, p.committedOffset]),
      ]),
      [[e.topic, [[e.partition, ErrorCode.NONE, -1n]]]],
    );
  },
  [OffsetCommit.apiKey]: (e) => {
    const body = decodeResp<ReturnType<typeof OffsetCommit.response.read>>(e);
    assert.deepEqual(
      body.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.errorCode])]),
      [[e.topic, [[e.partition, ErrorCode.NONE]]]],
    );
  },
  [LeaveGroup.apiKey]: (e) => {
    assert.equal(decodeResp<ReturnType<typeof LeaveGroup.response.read>>(e).errorCode, ErrorCode.NONE);
  },
};

test('the fixtures cover every client, API and codec the capture asked for', () => {
  const have = new Set(manifest.map((e) => `${e.client} ${e.direction} ${e.apiName} ${e.codec ?? ''}`));
  for (const client of ['kcat', 'kafkajs', 'kafka-python']) {
    for (const direction of ['request', 'response']) {
      for (const api of ['api-versions', 'metadata', 'join-group', 'sync-group', 'offset-commit']) {
        assert.ok(have.has(`${client} ${direction} ${api} `), `${client} ${direction} ${api}`);
      }
      for (const codec of CODECS) {
        assert.ok(
          have.has(`${client} ${direction} produce ${codec}`),
          `${client} ${direction} produce ${codec}`,
        );
        assert.ok(have.has(`${client} ${direction} fetch ${codec}`), `${client} ${direction} fetch ${codec}`);
      }
    }
  }
  for (const entry of manifest) {
    const checks = entry.direction === 'request' ? requestChecks : responseChecks;
    assert.ok(checks[entry.apiKey], `${entry.file}: no golden check for api key ${entry.apiKey}`);
  }
});

for (const client of ['kcat', 'kafkajs', 'kafka-python'] as const) {
  describe(`golden frames from ${client}`, () => {
    for (const entry of manifest.filter((e) => e.client === client)) {
      test(entry.file, async () => {
        const check = (entry.direction === 'request' ? requestChecks : responseChecks)[entry.apiKey];
        assert.ok(check);
        await check(entry);
      });
    }
  });
}
