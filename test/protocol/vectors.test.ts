// Hand-assembled byte vectors, so the round-trip tests are not only checking the codecs against themselves.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from '../../src/protocol/frame.js';
import {
  ApiVersions,
  ConsumerGroupHeartbeat,
  Metadata,
  Produce,
  type ApiVersionsResponse,
  type ConsumerGroupHeartbeatResponse,
} from '../../src/protocol/messages/index.js';
import {
  readFetchResponsePartitionData,
  writeFetchResponsePartitionData,
} from '../../src/protocol/messages/fetch.js';
import { Reader } from '../../src/protocol/primitives/reader.js';
import { Writer } from '../../src/protocol/primitives/writer.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('ApiVersions v0 request: size, key 18, version 0, correlation id, int16 client id, empty body', () => {
  const frame = encodeRequest(ApiVersions, 0, 1, 'test', {
    clientSoftwareName: '',
    clientSoftwareVersion: '',
  });
  assert.deepEqual(frame, hex('0000000e 0012 0000 00000001 0004 74657374'));
  const decoded = decodeRequest(frame.subarray(4));
  assert.deepEqual(decoded.header, {
    apiKey: 18,
    apiVersion: 0,
    correlationId: 1,
    clientId: 'test',
    headerVersion: 1,
  });
  assert.deepEqual(decoded.body, { clientSoftwareName: '', clientSoftwareVersion: '' });
});

test('ApiVersions v0 request drops client software fields at v0 (ignorable in the spec)', () => {
  // The spec marks ClientSoftwareName ignorable: encoding it at v0 silently drops it.
  const frame = encodeRequest(ApiVersions, 0, 1, null, {
    clientSoftwareName: 'x',
    clientSoftwareVersion: 'y',
  });
  assert.deepEqual(frame, hex('0000000a 0012 0000 00000001 ffff'));
});

test('Metadata v1 request: header v1 and a null topic list (int32 -1)', () => {
  const frame = encodeRequest(Metadata, 1, 7, 'c', {
    topics: null,
    allowAutoTopicCreation: true,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false,
  });
  assert.deepEqual(frame, hex('0000000f 0003 0001 00000007 0001 63 ffffffff'));
});

test('Metadata v4 request cannot carry allowAutoTopicCreation=false below v4 (not ignorable)', () => {
  const body = {
    topics: [],
    allowAutoTopicCreation: false,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false,
  };
  assert.throws(() => encodeRequest(Metadata, 3, 1, null, body), { name: 'ProtocolError' });
  const v4 = encodeRequest(Metadata, 4, 1, null, body);
  assert.deepEqual(v4.subarray(14), hex('00000000 00'));
});

test('ApiVersions v3 request: header v2 (client id still int16), compact strings, unknown tagged field kept', () => {
  const frame = encodeRequest(ApiVersions, 3, 2, 'k', {
    clientSoftwareName: 'a',
    clientSoftwareVersion: '1',
    _unknownTaggedFields: [{ tag: 5, data: hex('abcd') }],
  });
  const expected = hex('00000015 0012 0003 00000002 0001 6b 00  02 61  02 31  01 05 02 abcd');
  assert.deepEqual(frame, expected);
  const decoded = decodeRequest(frame.subarray(4));
  assert.equal(decoded.header.headerVersion, 2);
  assert.deepEqual(decoded.body, {
    clientSoftwareName: 'a',
    clientSoftwareVersion: '1',
    _unknownTaggedFields: [{ tag: 5, data: hex('abcd') }],
  });
});

test('ApiVersions v3 response: header v0 despite being flexible, compact array, known tagged int64', () => {
  const body: ApiVersionsResponse = {
    errorCode: 0,
    apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 3 }],
    throttleTimeMs: 0,
    supportedFeatures: [],
    finalizedFeaturesEpoch: 5n,
    finalizedFeatures: [],
    zkMigrationReady: false,
  };
  const frame = encodeResponse(ApiVersions, 3, 9, body) as Buffer;
  const expected = hex('0000001d 00000009  0000  02 0012 0000 0003 00  00000000  01 01 08 0000000000000005');
  assert.deepEqual(frame, expected);
  assert.deepEqual(decodeResponse(ApiVersions, 3, frame.subarray(4)), {
    header: { correlationId: 9, headerVersion: 0 },
    body,
  });
});

test('a null nullable struct is one byte -1, a present one is 1 then the struct', () => {
  const base: ConsumerGroupHeartbeatResponse = {
    throttleTimeMs: 0,
    errorCode: 0,
    errorMessage: null,
    memberId: null,
    memberEpoch: 3,
    heartbeatIntervalMs: 1000,
    assignment: null,
  };
  const w = new Writer();
  ConsumerGroupHeartbeat.response.write(w, 0, base);
  assert.deepEqual(w.toBuffer(), hex('00000000 0000 00 00 00000003 000003e8 ff 00'));
  const w2 = new Writer();
  ConsumerGroupHeartbeat.response.write(w2, 0, { ...base, assignment: { topicPartitions: [] } });
  assert.deepEqual(w2.toBuffer(), hex('00000000 0000 00 00 00000003 000003e8 01 01 00 00'));
});

test('uuids print as unpadded base64url: zero, and bytes 0..15', () => {
  const r = new Reader(Buffer.concat([Buffer.alloc(16), Buffer.from([...Array(16).keys()])]));
  assert.equal(r.uuid(), 'AAAAAAAAAAAAAAAAAAAAAA');
  assert.equal(r.uuid(), 'AAECAwQFBgcICQoLDA0ODw');
});

test('Produce v3 request: records are an int32-length blob and decode as a zero-copy slice', () => {
  const records = hex('0102030405');
  const frame = encodeRequest(Produce, 3, 1, null, {
    transactionalId: null,
    acks: -1,
    timeoutMs: 1500,
    topicData: [{ name: 't', partitionData: [{ index: 0, records }] }],
  });
  const body = hex('ffff ffff 000005dc 00000001 0001 74 00000001 00000000 00000005 0102030405');
  assert.deepEqual(frame.subarray(14), body);
  const decoded = decodeRequest(frame.subarray(4));
  const slice = (decoded.body as { topicData: { partitionData: { records: Buffer }[] }[] }).topicData[0]!
    .partitionData[0]!.records;
  assert.deepEqual(slice, records);
  assert.equal(slice.buffer, frame.buffer, 'records should share the frame memory');
});

test('Fetch v12 partition: a tagged struct (currentLeader, tag 1) is tag, size, struct with its own tag section', () => {
  const partition = {
    partitionIndex: 0,
    errorCode: 0,
    highWatermark: 10n,
    lastStableOffset: 10n,
    logStartOffset: 0n,
    divergingEpoch: { epoch: -1, endOffset: -1n },
    currentLeader: { leaderId: 2, leaderEpoch: 5 },
    snapshotId: { endOffset: -1n, epoch: -1 },
    abortedTransactions: null,
    preferredReadReplica: -1,
    records: null,
  };
  const w = new Writer();
  writeFetchResponsePartitionData(w, 12, partition);
  const expected = hex(
    '00000000 0000 000000000000000a 000000000000000a 0000000000000000 00 ffffffff 00  01 01 09 00000002 00000005 00',
  );
  assert.deepEqual(w.toBuffer(), expected);
  assert.deepStrictEqual(readFetchResponsePartitionData(new Reader(expected), 12), partition);
  // At v11 the same non-default tagged struct cannot be sent.
  assert.throws(() => writeFetchResponsePartitionData(new Writer(), 11, partition), {
    name: 'ProtocolError',
  });
});
