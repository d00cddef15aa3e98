import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeRequest,
  decodeRequestBody,
  decodeRequestHeader,
  decodeResponse,
  encodeRequest,
  encodeRequestChunks,
  encodeResponse,
  encodeResponseChunks,
} from '../../src/protocol/frame.js';
import {
  Fetch,
  Heartbeat,
  Produce,
  type FetchResponse,
  type Records,
} from '../../src/protocol/messages/index.js';
import { ProtocolError } from '../../src/protocol/primitives/protocol-error.js';
import type { Chunk, RecordsRef } from '../../src/protocol/primitives/writer.js';

const heartbeat = { groupId: 'g', generationId: 4, memberId: 'm', groupInstanceId: 'i' };

test('request frames round-trip at every Heartbeat version, by key and by descriptor', () => {
  for (let v = 3; v <= 4; v++) {
    const frame = encodeRequest(Heartbeat, v, 100 + v, 'cli', heartbeat);
    assert.equal(frame.readInt32BE(0), frame.length - 4);
    assert.deepEqual(encodeRequest(12, v, 100 + v, 'cli', heartbeat), frame);
    const { header, body } = decodeRequest(frame.subarray(4));
    assert.deepEqual(header, {
      apiKey: 12,
      apiVersion: v,
      correlationId: 100 + v,
      clientId: 'cli',
      headerVersion: v >= 4 ? 2 : 1,
    });
    assert.deepEqual(body, heartbeat);
    const split = decodeRequestHeader(frame.subarray(4));
    assert.deepEqual(decodeRequestBody(split.header, frame.subarray(4), split.bodyOffset), heartbeat);
  }
});

test('decodeRequestHeader reads unknown keys and unsupported versions; decodeRequest refuses them', () => {
  const unknownKey = Buffer.from('7fff0000000000070003616263', 'hex');
  assert.deepEqual(decodeRequestHeader(unknownKey), {
    header: { apiKey: 0x7fff, apiVersion: 0, correlationId: 7, clientId: 'abc', headerVersion: 1 },
    bodyOffset: 13,
  });
  assert.throws(() => decodeRequest(unknownKey), ProtocolError);
  const tooNew = Buffer.from('000c0063000000080000' + '00', 'hex'); // Heartbeat v99: flexible, empty tags
  const { header, bodyOffset } = decodeRequestHeader(tooNew);
  assert.equal(header.correlationId, 8);
  assert.equal(header.headerVersion, 2);
  assert.equal(bodyOffset, 11);
  assert.throws(() => decodeRequest(tooNew), /not supported/);
  assert.throws(() => decodeRequestHeader(Buffer.from('000c0003000000', 'hex')), ProtocolError);
});

test('response frames use the response header version', () => {
  const body = { throttleTimeMs: 5, errorCode: 27 };
  const v3 = encodeResponse(Heartbeat, 3, 42, body) as Buffer;
  assert.deepEqual(v3, Buffer.from('0000000a0000002a00000005001b', 'hex'));
  const v4 = encodeResponse(Heartbeat, 4, 42, body) as Buffer;
  assert.deepEqual(v4, Buffer.from('0000000c0000002a0000000005001b00', 'hex'));
  assert.deepEqual(decodeResponse(Heartbeat, 4, v4.subarray(4)), {
    header: { correlationId: 42, headerVersion: 1 },
    body,
  });
  assert.throws(() => encodeResponse(Heartbeat, 5, 1, body), ProtocolError);
});

function fetchResponse(records: Records | null): FetchResponse<Records> {
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: 0,
    responses: [
      {
        topic: 't',
        topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
        partitions: [
          {
            partitionIndex: 0,
            errorCode: 0,
            highWatermark: 10n,
            lastStableOffset: 10n,
            logStartOffset: 0n,
            divergingEpoch: { epoch: -1, endOffset: -1n },
            currentLeader: { leaderId: -1, leaderEpoch: -1 },
            snapshotId: { endOffset: -1n, epoch: -1 },
            abortedTransactions: null,
            preferredReadReplica: -1,
            records,
          },
        ],
      },
    ],
    nodeEndpoints: [],
  };
}

function join(chunks: Chunk[], fill: (ref: RecordsRef) => Buffer): Buffer {
  return Buffer.concat(chunks.map((c) => (Buffer.isBuffer(c) ? c : fill(c))));
}

test('a Fetch response with a RecordsRef comes out as chunks with the ref in place, uncopied', () => {
  const data = Buffer.from('record bytes that live in a segment file');
  const ref: RecordsRef = { byteLength: data.length };
  for (const version of [11, 12]) {
    const chunks = encodeResponseChunks(Fetch, version, 5, fetchResponse(ref));
    // v11 ends with the records; v12 has tagged-field sections after them.
    assert.equal(chunks.length, version >= 12 ? 3 : 2);
    assert.equal(chunks[1], ref);
    const frame = join(chunks, () => data);
    assert.equal(frame.readInt32BE(0), frame.length - 4);
    const decoded = decodeResponse(Fetch, version, frame.subarray(4));
    assert.deepEqual(decoded.body.responses[0]!.partitions[0]!.records, data);
    assert.deepEqual(
      frame,
      encodeResponse(Fetch, version, 5, fetchResponse(data)),
      'same bytes as with the records in memory',
    );
  }
  const maybeChunks = encodeResponse(Fetch, 12, 5, fetchResponse(ref));
  assert.ok(Array.isArray(maybeChunks));
});

test('record Buffers of 64 KiB become their own chunk; small ones are copied', () => {
  const big = Buffer.alloc(64 * 1024, 7);
  const chunks = encodeResponseChunks(Fetch, 12, 1, fetchResponse(big));
  assert.equal(chunks.length, 3);
  assert.equal(chunks[1], big);
  const whole = encodeResponse(Fetch, 12, 1, fetchResponse(Buffer.alloc(10)));
  assert.ok(Buffer.isBuffer(whole));
});

test('request chunks keep a large Produce batch by reference and concatenate to the single-buffer frame', () => {
  const records = Buffer.alloc(8 * 1024, 3);
  const body = {
    transactionalId: null,
    acks: -1,
    timeoutMs: 1000,
    topicData: [{ name: 't', partitionData: [{ index: 0, records }] }],
  };
  for (const version of [7, 9]) {
    const chunks = encodeRequestChunks(Produce, version, 3, 'c', body);
    assert.ok(chunks.includes(records), 'records not copied');
    assert.deepEqual(
      Buffer.concat(chunks.map((c) => c as Buffer)),
      encodeRequest(Produce, version, 3, 'c', body),
    );
  }
});
