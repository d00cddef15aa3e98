// Connection layer against a scripted broker: pipelining, version negotiation, timeouts, and which errors
// are retried.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { BrokerConnection } from '../../src/client/connection.js';
import { Producer } from '../../src/client/producer/producer.js';
import { Admin } from '../../src/client/admin/admin.js';
import { parseBrokers } from '../../src/client/cluster.js';
import { ClientError, KafkaError } from '../../src/client/errors.js';
import { ApiKey } from '../../src/protocol/api-keys.js';
import { decodeRequest, encodeResponse } from '../../src/protocol/frame.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import {
  ApiVersions,
  Fetch,
  InitProducerId,
  Metadata,
  apis,
  defaultProduceResponse,
  type ProduceRequest,
} from '../../src/protocol/messages/index.js';
import { apiVersionsResponse, metadataResponse, startFakeBroker, type FakeRequest } from './fake-broker.js';

const metadataRequest = {
  topics: [],
  allowAutoTopicCreation: true,
  includeClusterAuthorizedOperations: false,
  includeTopicAuthorizedOperations: false,
};

test('pipelined requests are matched to their responses by correlation id, whatever the answer order', async () => {
  const fake = await startFakeBroker((r) => {
    if (r.header.apiKey === ApiKey.ApiVersions) return apiVersionsResponse();
    // Each answer carries its request's correlation id in throttleTimeMs, and waits for release().
    return { hold: { ...metadataResponse(0, {}), throttleTimeMs: r.header.correlationId } };
  });
  const connection = new BrokerConnection({ host: '127.0.0.1', port: fake.port, clientId: 't' });
  try {
    await connection.connect();
    const pending = [1, 2, 3].map(() => connection.request(Metadata, metadataRequest));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const ids = fake.requests
      .filter((r) => r.header.apiKey === ApiKey.Metadata)
      .map((r) => r.header.correlationId);
    assert.equal(ids.length, 3);
    fake.release([...ids].reverse());
    const responses = await Promise.all(pending);
    assert.deepEqual(
      responses.map((r) => r.throttleTimeMs),
      ids,
    );
  } finally {
    connection.close();
    await fake.close();
  }
});

test('ApiVersions: each API at the highest version both sides support; a v0-shaped refusal is retried lower', async () => {
  const versionsAsked: number[] = [];
  const fake = await startFakeBroker((r) => {
    if (r.header.apiKey !== ApiKey.ApiVersions) return undefined;
    versionsAsked.push(r.header.apiVersion);
    return apiVersionsResponse(
      new Map([
        [ApiKey.ApiVersions, [0, 2]],
        [ApiKey.Metadata, [1, 5]],
        [ApiKey.Produce, [0, 2]],
        [ApiKey.Fetch, [50, 60]],
      ]),
    );
  });
  // What a broker without ApiVersions v3 does: UNSUPPORTED_VERSION in the v0 layout, naming its own range.
  // The codecs cannot encode that answer to a v3 request, so a small proxy writes it by hand.
  const server = net.createServer((socket) => {
    socket.once('data', (frame: Buffer) => {
      const correlationId = frame.readInt32BE(8);
      // size, correlation id, error 35, one api (ApiVersions 0-2)
      const body = Buffer.alloc(4 + 2 + 4 + 6);
      body.writeInt32BE(correlationId, 0);
      body.writeInt16BE(ErrorCode.UNSUPPORTED_VERSION, 4);
      body.writeInt32BE(1, 6);
      body.writeInt16BE(ApiKey.ApiVersions, 10);
      body.writeInt16BE(0, 12);
      body.writeInt16BE(2, 14);
      const size = Buffer.alloc(4);
      size.writeInt32BE(body.length);
      socket.write(Buffer.concat([size, body]));
      // Everything after the refusal goes to the scripted fake.
      const upstream = net.connect(fake.port, '127.0.0.1');
      socket.pipe(upstream).pipe(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const connection = new BrokerConnection({ host: '127.0.0.1', port, clientId: 't' });
  try {
    await connection.connect();
    assert.deepEqual(versionsAsked, [2]);
    assert.equal(connection.versionFor(ApiVersions), 2);
    assert.equal(connection.versionFor(Metadata), 5);
    // Fetch 50-60 overlaps nothing the client knows; an API the broker does not list is unsupported too.
    assert.equal(connection.versionFor(Fetch), undefined);
    assert.equal(connection.versionFor(InitProducerId), undefined);
    await assert.rejects(
      connection.request(InitProducerId, {
        transactionalId: null,
        transactionTimeoutMs: 0,
        producerId: -1n,
        producerEpoch: -1,
      }),
      (e: unknown) => e instanceof ClientError && e.code === 'UNSUPPORTED_API',
    );
  } finally {
    connection.close();
    server.close();
    await fake.close();
  }
});

test('a request without an answer times out with REQUEST_TIMEOUT (retriable) and the connection closes', async () => {
  const fake = await startFakeBroker((r) =>
    r.header.apiKey === ApiKey.ApiVersions ? apiVersionsResponse() : undefined,
  );
  const connection = new BrokerConnection({
    host: '127.0.0.1',
    port: fake.port,
    clientId: 't',
    requestTimeoutMs: 100,
  });
  try {
    await connection.connect();
    await assert.rejects(
      connection.request(Metadata, metadataRequest),
      (e: unknown) => e instanceof ClientError && e.code === 'REQUEST_TIMEOUT' && e.retriable,
    );
    assert.equal(connection.isOpen, false);
  } finally {
    await fake.close();
  }
});

test('a refused connection is CONNECTION_ERROR', async () => {
  const fake = await startFakeBroker(() => undefined);
  await fake.close();
  const connection = new BrokerConnection({ host: '127.0.0.1', port: fake.port, clientId: 't' });
  await assert.rejects(
    connection.connect(),
    (e: unknown) => e instanceof ClientError && e.code === 'CONNECTION_ERROR',
  );
});

function produceBroker(produceErrors: number[]) {
  const produce: FakeRequest[] = [];
  let metadataCount = 0;
  let port = 0;
  const started = startFakeBroker((r) => {
    switch (r.header.apiKey) {
      case ApiKey.ApiVersions:
        return apiVersionsResponse(
          new Map([
            [ApiKey.ApiVersions, [0, 3]],
            [ApiKey.Metadata, [0, 12]],
            [ApiKey.Produce, [3, 11]],
          ]),
        );
      case ApiKey.Metadata:
        metadataCount++;
        return metadataResponse(port, { t: 1 });
      case ApiKey.Produce: {
        produce.push(r);
        const errorCode = produceErrors[produce.length - 1] ?? ErrorCode.NONE;
        const request = r.body as ProduceRequest;
        return {
          ...defaultProduceResponse(),
          responses: request.topicData.map((t) => ({
            name: t.name,
            partitionResponses: t.partitionData.map((p) => ({
              index: p.index,
              errorCode,
              baseOffset: errorCode === 0 ? 42n : -1n,
              logAppendTimeMs: -1n,
              logStartOffset: 0n,
              recordErrors: [],
              errorMessage: null,
              currentLeader: { leaderId: -1, leaderEpoch: -1 },
            })),
          })),
        };
      }
    }
    return undefined;
  }).then((fake) => {
    port = fake.port;
    return fake;
  });
  return { started, produce, metadata: () => metadataCount };
}

test('the producer retries retriable errors (refreshing metadata) and then succeeds', async () => {
  const script = produceBroker([ErrorCode.NOT_LEADER_OR_FOLLOWER, ErrorCode.REQUEST_TIMED_OUT]);
  const fake = await script.started;
  const producer = new Producer({ brokers: [fake.bootstrap], retryBackoffMs: 5, logger: { warn() {} } });
  try {
    const result = await producer.send({ topic: 't', key: 'k', value: 'v' });
    assert.deepEqual(result.offset, 42);
    assert.equal(script.produce.length, 3);
    assert.ok(script.metadata() >= 2, 'NOT_LEADER_OR_FOLLOWER refreshes metadata');
  } finally {
    await producer.close();
    await fake.close();
  }
});

test('the producer does not retry a non-retriable error: it rejects with a KafkaError', async () => {
  const script = produceBroker([ErrorCode.MESSAGE_TOO_LARGE]);
  const fake = await script.started;
  const producer = new Producer({ brokers: [fake.bootstrap], retryBackoffMs: 5, logger: { warn() {} } });
  try {
    await assert.rejects(producer.send({ topic: 't', value: 'v' }), (e: unknown) => {
      assert.ok(e instanceof KafkaError);
      assert.equal(e.code, ErrorCode.MESSAGE_TOO_LARGE);
      assert.equal(e.name, 'MESSAGE_TOO_LARGE');
      assert.equal(e.retriable, false);
      assert.equal(e.apiKey, ApiKey.Produce);
      return true;
    });
    assert.equal(script.produce.length, 1);
  } finally {
    await producer.close();
    await fake.close();
  }
});

test('retriable errors past delivery.timeout.ms reject with DELIVERY_TIMEOUT carrying the last error', async () => {
  const script = produceBroker(Array.from({ length: 1000 }, () => ErrorCode.NOT_ENOUGH_REPLICAS));
  const fake = await script.started;
  const producer = new Producer({
    brokers: [fake.bootstrap],
    retryBackoffMs: 5,
    retryBackoffMaxMs: 20,
    deliveryTimeoutMs: 200,
    logger: { warn() {} },
  });
  try {
    await assert.rejects(producer.send({ topic: 't', value: 'v' }), (e: unknown) => {
      assert.ok(e instanceof ClientError);
      assert.equal(e.code, 'DELIVERY_TIMEOUT');
      assert.ok(e.cause instanceof KafkaError && e.cause.code === ErrorCode.NOT_ENOUGH_REPLICAS);
      return true;
    });
    assert.ok(script.produce.length > 1);
  } finally {
    await producer.close();
    await fake.close();
  }
});

test('frames split across many TCP reads, and several frames in one read, decode correctly', async () => {
  const server = net.createServer((socket) => {
    let buf = Buffer.alloc(0);
    const answers: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        const frame = buf.subarray(4, 4 + buf.readInt32BE(0));
        buf = buf.subarray(4 + frame.length);
        const { header } = decodeRequest(frame);
        const body =
          header.apiKey === ApiKey.ApiVersions
            ? apiVersionsResponse()
            : { ...metadataResponse(0, { big: 300 }), throttleTimeMs: header.correlationId };
        answers.push(
          encodeResponse(apis.get(header.apiKey)!, header.apiVersion, header.correlationId, body) as Buffer,
        );
        if (header.apiKey === ApiKey.ApiVersions) {
          // One byte per write.
          const bytes = answers.shift()!;
          for (let i = 0; i < bytes.length; i++) socket.write(bytes.subarray(i, i + 1));
        } else if (answers.length === 2) {
          // Both metadata answers glued together, then cut at an odd place.
          const both = Buffer.concat(answers.splice(0));
          socket.write(both.subarray(0, 7));
          socket.write(both.subarray(7));
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const connection = new BrokerConnection({
    host: '127.0.0.1',
    port: (server.address() as net.AddressInfo).port,
    clientId: 't',
  });
  try {
    await connection.connect();
    const [a, b] = await Promise.all([
      connection.request(Metadata, metadataRequest),
      connection.request(Metadata, metadataRequest),
    ]);
    assert.equal(a.topics[0]!.partitions.length, 300);
    assert.equal(b.topics[0]!.partitions.length, 300);
    assert.notEqual(a.throttleTimeMs, b.throttleTimeMs);
  } finally {
    connection.close();
    server.close();
  }
});

test('parseBrokers splits comma lists inside array elements and strings, and rejects unusable entries', () => {
  assert.deepEqual(parseBrokers(['127.0.0.1:1,127.0.0.1:2', ' b:3 ']), [
    { host: '127.0.0.1', port: 1 },
    { host: '127.0.0.1', port: 2 },
    { host: 'b', port: 3 },
  ]);
  assert.deepEqual(parseBrokers('a:1, a:1 ,,[::1]:9093,c'), [
    { host: 'a', port: 1 },
    { host: '::1', port: 9093 },
    { host: 'c', port: 9092 },
  ]);
  for (const bad of [[], '', ['a:x'], ['a:0'], ['a:70000'], ['a b:1'], [':1'], ['::1:9092'], ['a;b:1']]) {
    assert.throws(
      () => parseBrokers(bad),
      (e: unknown) => e instanceof ClientError && e.code === 'INVALID_ARGUMENT',
      JSON.stringify(bad),
    );
  }
});

/** Listeners that accept and at once close every connection: reachable ports where no broker answers. */
async function deadListeners(count: number) {
  const accepted: number[] = Array.from({ length: count }, () => 0);
  const servers = await Promise.all(
    accepted.map(
      (_, i) =>
        new Promise<net.Server>((resolve) => {
          const server = net.createServer((socket) => {
            accepted[i]!++;
            socket.destroy();
          });
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  return {
    addresses: servers.map((s) => `127.0.0.1:${(s.address() as net.AddressInfo).port}`),
    accepted,
    close: () => Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve)))),
  };
}

test('a bootstrap list that never connects fails, not retriable, naming every address, after the configured retries', async () => {
  const dead = await deadListeners(2);
  const admin = new Admin({ brokers: [dead.addresses.join(',')], retries: 2, retryBackoffMs: 1 });
  try {
    await assert.rejects(admin.listTopics(), (e: unknown) => {
      assert.ok(e instanceof ClientError);
      assert.equal(e.code, 'CONNECTION_ERROR');
      assert.equal(e.retriable, false);
      assert.match(e.message, /^could not connect to any bootstrap broker \(/);
      for (const address of dead.addresses) assert.ok(e.message.includes(address), e.message);
      assert.ok(e.cause instanceof ClientError && e.cause.code === 'CONNECTION_ERROR');
      return true;
    });
    // Both addresses (from one comma-separated element) were tried in each of the 1 + 2 attempts and in the
    // metadata refresh before each of the 2 retries; then the client stopped.
    assert.deepEqual(dead.accepted, [5, 5]);
  } finally {
    await admin.close();
    await dead.close();
  }
});

test('a producer send to a bootstrap list that never connects rejects, not retriable, after max.block.ms', async () => {
  const dead = await deadListeners(1);
  const producer = new Producer({
    brokers: dead.addresses,
    maxBlockMs: 150,
    retryBackoffMs: 10,
    retryBackoffMaxMs: 20,
    logger: { warn() {} },
  });
  try {
    const results = await Promise.allSettled(
      [0, 1, 2].map((i) => producer.send({ topic: 't', value: `${i}` })),
    );
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      const e = (r as PromiseRejectedResult).reason as unknown;
      assert.ok(e instanceof ClientError && e.code === 'CONNECTION_ERROR' && !e.retriable, String(e));
      assert.match(e.message, /^could not connect to any bootstrap broker \(/);
    }
    assert.ok(dead.accepted[0]! >= 1);
  } finally {
    await producer.close();
    await dead.close();
  }
});

test('the producer stops after `retries` retries of a retriable error and rejects with that KafkaError', async () => {
  const script = produceBroker(Array.from({ length: 100 }, () => ErrorCode.NOT_ENOUGH_REPLICAS));
  const fake = await script.started;
  const producer = new Producer({
    brokers: [fake.bootstrap],
    retries: 2,
    retryBackoffMs: 1,
    logger: { warn() {} },
  });
  try {
    await assert.rejects(producer.send({ topic: 't', value: 'v' }), (e: unknown) => {
      assert.ok(e instanceof KafkaError);
      assert.equal(e.code, ErrorCode.NOT_ENOUGH_REPLICAS);
      assert.equal(e.retriable, true);
      assert.equal(e.apiKey, ApiKey.Produce);
      return true;
    });
    // The first send and two retries.
    assert.equal(script.produce.length, 3);
  } finally {
    await producer.close();
    await fake.close();
  }
});

test('large and small responses arriving back to back are each decoded intact', async () => {
  // Answers of ~100 kB (read straight into their own buffer) and of a few bytes (read through the shared
  // read buffer), released together so they reach the client in the same socket reads.
  const topicsFor = (n: number): Record<string, number> =>
    Object.fromEntries(Array.from({ length: n }, (_, i) => [`topic-${n}-${String(i).padStart(40, 'x')}`, 1]));
  const sizes = [2000, 0, 1500, 1, 3000];
  const fake = await startFakeBroker((r) => {
    if (r.header.apiKey === ApiKey.ApiVersions) return apiVersionsResponse();
    const n = sizes[r.header.correlationId % sizes.length]!;
    return { hold: { ...metadataResponse(0, topicsFor(n)), throttleTimeMs: r.header.correlationId } };
  });
  const connection = new BrokerConnection({ host: '127.0.0.1', port: fake.port, clientId: 't' });
  try {
    await connection.connect();
    const pending = Array.from({ length: 10 }, () => connection.request(Metadata, metadataRequest));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const ids = fake.requests
      .filter((r) => r.header.apiKey === ApiKey.Metadata)
      .map((r) => r.header.correlationId);
    assert.equal(ids.length, 10);
    fake.release(ids);
    const responses = await Promise.all(pending);
    responses.forEach((response, i) => {
      const n = sizes[ids[i]! % sizes.length]!;
      assert.equal(response.throttleTimeMs, ids[i]);
      assert.deepEqual(
        response.topics.map((t) => t.name),
        Object.keys(topicsFor(n)),
      );
    });
  } finally {
    connection.close();
    await fake.close();
  }
});
