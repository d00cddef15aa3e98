// Bad input over a raw socket: garbage, truncated frames, a 2 GB size prefix, unknown API keys, versions the
// broker does not serve, a produce with a bad CRC or legacy (magic 0/1) message sets, and illegal topic
// names. After each, a fresh client must be served and every record acknowledged before must still be there
// (and a new produce must still work). Embedded broker with num.io.threads=1.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { crc32 } from 'node:zlib';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { decodeResponse, encodeRequest } from '../../src/protocol/frame.js';
import { ApiVersions } from '../../src/protocol/messages/api-versions.js';
import { ZERO_UUID } from '../../src/protocol/messages/common.js';
import {
  Fetch,
  defaultFetchRequest,
  defaultFetchRequestFetchPartition,
} from '../../src/protocol/messages/fetch.js';
import { Metadata } from '../../src/protocol/messages/metadata.js';
import { CompressionType } from '../../src/protocol/records/record-batch.js';
import { startTestBroker, type TestBroker } from '../tools/broker-harness.js';
import {
  RawConnection,
  apiVersionsOk,
  decodeRecords,
  ensureTopic,
  fetchPartitions,
  produce,
  rawRequestHeader,
  readPartition,
  recordBatch,
  sizePrefixed,
  type FetchedRecord,
  type TestRecord,
} from '../tools/raw-client.js';
import { WireClient } from '../tools/wire-client.js';

const TOPIC = 'kept';
let b: TestBroker;
/** Every record the broker acknowledged, by offset. */
const acknowledged: FetchedRecord[] = [];
let produced = 0;

async function produceAcknowledged(records: TestRecord[], compression?: CompressionType): Promise<void> {
  const client = await WireClient.connect(b.broker.port);
  try {
    const answer = await produce(client, TOPIC, 0, await recordBatch(records, compression));
    assert.equal(answer.errorCode, ErrorCode.NONE);
    records.forEach((r, i) => acknowledged.push({ ...r, offset: Number(answer.baseOffset) + i }));
  } finally {
    client.close();
  }
}

/** A client connected before any bad input, used after each: other connections are not disturbed. */
let bystander: WireClient;

before(async () => {
  b = await startTestBroker({ 'num.io.threads': '1' });
  bystander = await WireClient.connect(b.broker.port);
  const client = await WireClient.connect(b.broker.port);
  await ensureTopic(client, TOPIC);
  client.close();
  await produceAcknowledged([
    { key: 'a', value: 'first' },
    { key: null, value: 'no key' },
  ]);
  await produceAcknowledged(
    [
      { key: 'b', value: null },
      { key: 'c', value: 'gzip '.repeat(50) },
    ],
    CompressionType.GZIP,
  );
  await produceAcknowledged([{ key: 'd', value: 'zstd '.repeat(50) }], CompressionType.ZSTD);
});

after(async () => {
  bystander?.close();
  await b?.close();
});

// The point of every test: the broker survived, serves a new client, and lost nothing.
afterEach(async () => {
  assert.ok(await apiVersionsOk(b.broker.port), 'a new client is served');
  await produceAcknowledged([{ key: `after-${produced}`, value: `still writable ${produced++}` }]);
  const client = await WireClient.connect(b.broker.port);
  try {
    assert.deepEqual(await readPartition(client, TOPIC, 0), acknowledged);
  } finally {
    client.close();
  }
  assert.equal(bystander.closed, false, 'the connection opened before is still open');
  assert.deepEqual(await readPartition(bystander, TOPIC, 0), acknowledged);
});

/** Deterministic noise. */
function noise(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

async function closesConnection(bytes: Buffer, endAfterWrite = false): Promise<void> {
  const connection = await RawConnection.connect(b.broker.port);
  connection.write(bytes);
  if (endAfterWrite) connection.socket.end();
  assert.ok(await connection.closedWithin(5000), 'the broker closed the connection');
  assert.equal(connection.pending.length, 0, 'and sent nothing');
}

test('garbage bytes close the connection', async () => {
  // A negative size prefix.
  await closesConnection(Buffer.concat([Buffer.from([0xfe, 0xed, 0xfa, 0xce]), noise(60, 1)]));
  // A plausible size with noise for a header: an API key nobody has.
  const body = noise(120, 2);
  body.writeInt16BE(0x6a6a, 0);
  await closesConnection(sizePrefixed(body));
  // A valid Metadata v1 header, then noise where the topic array should be.
  await closesConnection(
    sizePrefixed(Buffer.concat([rawRequestHeader(3, 1, 7), Buffer.from([0x7f]), noise(40, 3)])),
  );
});

test('a truncated frame: the size promises more than ever arrives', async () => {
  // The client gives up half-way through the frame and half-closes.
  const frame = encodeRequest(Metadata, 9, 1, 'truncated', {
    topics: [{ name: TOPIC, topicId: ZERO_UUID }],
    allowAutoTopicCreation: false,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false,
  });
  await closesConnection(frame.subarray(0, frame.length - 5), true);
  // A complete frame whose size leaves the body short: malformed, so closed (without waiting for more).
  const short = Buffer.from(frame.subarray(0, frame.length - 5));
  short.writeInt32BE(short.length - 4, 0);
  await closesConnection(short);
});

test('a 2 GB size prefix closes the connection at once', async () => {
  const connection = await RawConnection.connect(b.broker.port);
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(0x7fffffff);
  connection.write(Buffer.concat([prefix, rawRequestHeader(18, 0, 1)]));
  assert.ok(await connection.closedWithin(5000), 'closed without waiting for 2 GB');
  assert.ok(process.memoryUsage().rss < 1.5 * 2 ** 30, 'nothing of that size was allocated');
});

test('unknown API keys close the connection', async () => {
  for (const apiKey of [1000, 32767, -1])
    await closesConnection(sizePrefixed(rawRequestHeader(apiKey, 0, 5)));
});

test('ApiVersions v99 gets the v0-shaped UNSUPPORTED_VERSION answer with the broker ranges', async () => {
  const connection = await RawConnection.connect(b.broker.port);
  try {
    connection.write(
      sizePrefixed(Buffer.concat([rawRequestHeader(18, 99, 42, 'future', true), Buffer.from([0])])),
    );
    const { header, body } = decodeResponse(ApiVersions, 0, await connection.nextFrame());
    assert.equal(header.correlationId, 42);
    assert.equal(body.errorCode, ErrorCode.UNSUPPORTED_VERSION);
    const own = body.apiKeys.find((k) => k.apiKey === 18);
    assert.deepEqual(own && [own.minVersion, own.maxVersion], [0, 4]);
    assert.ok(body.apiKeys.some((k) => k.apiKey === 0) && body.apiKeys.some((k) => k.apiKey === 1));
    // The connection stays usable: the client retries with a version the broker serves.
    connection.write(
      encodeRequest(ApiVersions, 3, 43, 'future', { clientSoftwareName: 'x', clientSoftwareVersion: '1' }),
    );
    const retry = decodeResponse(ApiVersions, 3, await connection.nextFrame());
    assert.equal(retry.header.correlationId, 43);
    assert.equal(retry.body.errorCode, ErrorCode.NONE);
  } finally {
    connection.destroy();
  }
});

test('other unsupported versions: UNSUPPORTED_VERSION where the request can be read, else the connection closes', async () => {
  // Fetch v3 is a version the codec knows but the broker does not serve (message format v0/v1).
  const connection = await RawConnection.connect(b.broker.port);
  try {
    connection.write(
      encodeRequest(Fetch, 3, 9, 'old', {
        ...defaultFetchRequest(),
        maxWaitMs: 0,
        minBytes: 1,
        maxBytes: 1 << 20,
        topics: [
          {
            topic: TOPIC,
            topicId: ZERO_UUID,
            partitions: [
              {
                ...defaultFetchRequestFetchPartition(),
                partition: 0,
                fetchOffset: 0n,
                partitionMaxBytes: 1 << 20,
              },
            ],
          },
        ],
      }),
    );
    const { header, body } = decodeResponse(Fetch, 3, await connection.nextFrame());
    assert.equal(header.correlationId, 9);
    assert.deepEqual(
      body.responses.map((t) =>
        t.partitions.map((p) => [t.topic, p.partitionIndex, p.errorCode, p.records?.length ?? 0]),
      ),
      [[[TOPIC, 0, ErrorCode.UNSUPPORTED_VERSION, 0]]],
    );
    assert.equal(connection.isClosed, false);
  } finally {
    connection.destroy();
  }
  // Versions beyond anything the codecs know cannot be parsed, so there is nothing to answer.
  await closesConnection(
    sizePrefixed(Buffer.concat([rawRequestHeader(3, 99, 1, 'x', true), Buffer.alloc(8)])),
  );
  await closesConnection(
    sizePrefixed(Buffer.concat([rawRequestHeader(0, 99, 1, 'x', true), Buffer.alloc(8)])),
  );
});

test('Produce v2 (message format v0/v1) gets UNSUPPORTED_VERSION and appends nothing', async () => {
  const client = await WireClient.connect(b.broker.port);
  try {
    const answer = await produce(client, TOPIC, 0, legacyMessageSet(1), { version: 2 });
    assert.equal(answer.errorCode, ErrorCode.UNSUPPORTED_VERSION);
  } finally {
    client.close();
  }
});

test('a produce with a bad CRC gets CORRUPT_MESSAGE and appends nothing', async () => {
  const batch = await recordBatch([{ key: 'x', value: 'tampered with' }]);
  batch[batch.length - 3]! ^= 0x20; // a byte of the record value, covered by the CRC
  const client = await WireClient.connect(b.broker.port);
  try {
    const answer = await produce(client, TOPIC, 0, batch);
    assert.equal(answer.errorCode, ErrorCode.CORRUPT_MESSAGE);
    // A batch whose length field is nonsense.
    const garbled = await recordBatch([{ key: 'z', value: 'length' }]);
    garbled.writeInt32BE(-5, 8);
    assert.equal((await produce(client, TOPIC, 0, garbled)).errorCode, ErrorCode.CORRUPT_MESSAGE);
    // The same connection keeps working.
    const good = await produce(client, TOPIC, 0, await recordBatch([{ key: 'y', value: 'fine' }]));
    assert.equal(good.errorCode, ErrorCode.NONE);
    acknowledged.push({ key: 'y', value: 'fine', offset: Number(good.baseOffset) });
  } finally {
    client.close();
  }
});

/** A legacy message set (magic 0 or 1) of one message, CRC32 as the old formats had it. */
function legacyMessageSet(magic: 0 | 1): Buffer {
  const key = Buffer.from('legacy-key');
  const value = Buffer.from(`legacy magic ${magic}`);
  const body = Buffer.alloc(2 + (magic === 1 ? 8 : 0) + 4 + key.length + 4 + value.length);
  let at = 0;
  body.writeInt8(magic, at++);
  body.writeInt8(0, at++); // attributes: no compression
  if (magic === 1) {
    body.writeBigInt64BE(BigInt(Date.now()), at);
    at += 8;
  }
  body.writeInt32BE(key.length, at);
  key.copy(body, at + 4);
  at += 4 + key.length;
  body.writeInt32BE(value.length, at);
  value.copy(body, at + 4);
  const message = Buffer.alloc(12 + 4 + body.length);
  message.writeBigInt64BE(0n, 0);
  message.writeInt32BE(4 + body.length, 8);
  message.writeUInt32BE(crc32(body), 12);
  body.copy(message, 16);
  return message;
}

test('a produce of legacy message sets (magic 0 and 1) at a current version gets INVALID_RECORD', async () => {
  const client = await WireClient.connect(b.broker.port);
  try {
    for (const magic of [0, 1] as const) {
      const answer = await produce(client, TOPIC, 0, legacyMessageSet(magic));
      // Kafka's answer: only magic 2 batches are allowed from Produce v3 on.
      assert.equal(answer.errorCode, ErrorCode.INVALID_RECORD, `magic ${magic}: ${answer.errorMessage}`);
    }
  } finally {
    client.close();
  }
});

test('illegal topic names get INVALID_TOPIC_EXCEPTION from Metadata and are not created', async () => {
  const names = ['bad topic!', 'a/b', '..', 'x'.repeat(250), 'ünïcode'];
  const client = await WireClient.connect(b.broker.port);
  try {
    for (const version of [1, 9, 12]) {
      const response = await client.send(Metadata, version, {
        topics: names.map((name) => ({ name, topicId: ZERO_UUID })),
        allowAutoTopicCreation: true,
        includeClusterAuthorizedOperations: false,
        includeTopicAuthorizedOperations: false,
      });
      assert.deepEqual(
        response.topics.map((t) => [t.name, t.errorCode, t.partitions.length]),
        names.map((name) => [name, ErrorCode.INVALID_TOPIC_EXCEPTION, 0]),
        `Metadata v${version}`,
      );
    }
    const all = await client.send(Metadata, 9, {
      topics: null,
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    const listed = new Set(all.topics.map((t) => t.name));
    assert.ok(listed.has(TOPIC));
    for (const name of names) assert.equal(listed.has(name), false, `${name} is not listed`);
    for (const name of names) assert.equal(existsSync(join(b.dataDir, `${name}-0`)), false);
  } finally {
    client.close();
  }
});

test('clients that never read their fetch responses do not hold up other clients (sendfile transfer)', async () => {
  // A second broker that sends record data with sendfile, whose thread-pool threads wait on full sockets.
  const other = await startTestBroker({ 'num.io.threads': '2', 'fjord.fetch.transfer': 'sendfile' });
  const stalled: RawConnection[] = [];
  const client = await WireClient.connect(other.broker.port);
  try {
    await ensureTopic(client, 'big');
    const value = 'v'.repeat(900_000);
    for (let i = 0; i < 12; i++) {
      const answer = await produce(client, 'big', 0, await recordBatch([{ key: `big-${i}`, value }]));
      assert.equal(answer.errorCode, ErrorCode.NONE);
    }
    // Eight connections each pipeline ten fetches of the whole ~11 MB log and never read a byte.
    const fetchAll = (correlationId: number) =>
      encodeRequest(Fetch, 11, correlationId, 'stalled', {
        ...defaultFetchRequest(),
        maxWaitMs: 0,
        minBytes: 1,
        maxBytes: 50 << 20,
        topics: [
          {
            topic: 'big',
            topicId: ZERO_UUID,
            partitions: [
              {
                ...defaultFetchRequestFetchPartition(),
                partition: 0,
                fetchOffset: 0n,
                partitionMaxBytes: 50 << 20,
              },
            ],
          },
        ],
      });
    for (let c = 0; c < 8; c++) {
      const connection = await RawConnection.connect(other.broker.port);
      connection.socket.pause();
      for (let i = 0; i < 10; i++) connection.write(fetchAll(i));
      stalled.push(connection);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    // Another client still gets its data. (Before the fix its fetch waited a minute for a pool thread.)
    const fetched = fetchPartitions(client, 'big', [{ partition: 0, offset: 11 }]);
    const timeout = new Promise<'stuck'>((resolve) => setTimeout(() => resolve('stuck'), 15_000).unref());
    const response = await Promise.race([fetched, timeout]);
    assert.notEqual(response, 'stuck', 'a fetch from another client completes while others stall');
    const records = await decodeRecords(
      (response as Awaited<typeof fetched>).responses[0]!.partitions[0]!.records,
    );
    assert.deepEqual(
      records.map((r) => [r.offset, r.key]),
      [[11, 'big-11']],
    );
  } finally {
    for (const connection of stalled) connection.destroy();
    client.close();
    await other.close();
  }
});
