// kafkajs (a devDependency) as an independent implementation of the classic, non-flexible versions: its
// request encoders' bytes must decode with our codecs and re-encode identically, and its response decoders
// must read what our encoders write.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import {
  ApiVersions,
  FindCoordinator,
  Heartbeat,
  Metadata,
  apis,
  type ApiDescriptor,
  type ApiVersionsResponse,
  type FindCoordinatorResponse,
  type MetadataResponse,
} from '../../src/protocol/messages/index.js';
import { Reader } from '../../src/protocol/primitives/reader.js';
import { Writer } from '../../src/protocol/primitives/writer.js';

const require = createRequire(import.meta.url);

interface KafkajsRequest {
  apiKey: number;
  apiVersion: number;
  encode(): Promise<{ buffer: Buffer }>;
}
interface KafkajsApi {
  protocol(options: { version: number }): (args: unknown) => {
    request: KafkajsRequest;
    response: { decode(raw: Buffer): Promise<unknown> };
  };
}

function kafkajs(name: string): KafkajsApi {
  return require(`kafkajs/src/protocol/requests/${name}/index.js`) as KafkajsApi;
}

const metadataBytes = Buffer.from('00000001000000017200000000', 'hex');
const REQUESTS: [string, number[], unknown][] = [
  ['apiVersions', [0, 1, 2], {}],
  ['metadata', [0, 1, 2, 3, 4, 5, 6], { topics: ['orders', 'payments'], allowAutoTopicCreation: false }],
  ['heartbeat', [0, 1, 2, 3], { groupId: 'g', groupGenerationId: 7, memberId: 'm-1', groupInstanceId: null }],
  ['findCoordinator', [0, 1, 2], { groupId: 'g', coordinatorKey: 'g', coordinatorType: 1 }],
  [
    'joinGroup',
    [0, 1, 2, 3, 4, 5],
    {
      groupId: 'g',
      sessionTimeout: 30000,
      rebalanceTimeout: 60000,
      memberId: '',
      groupInstanceId: null,
      protocolType: 'consumer',
      groupProtocols: [{ name: 'RoundRobinAssigner', metadata: metadataBytes }],
    },
  ],
  [
    'syncGroup',
    [0, 1, 2, 3],
    {
      groupId: 'g',
      generationId: 2,
      memberId: 'm-1',
      groupInstanceId: null,
      groupAssignment: [{ memberId: 'm-1', memberAssignment: metadataBytes }],
    },
  ],
  ['leaveGroup', [0, 1, 2], { groupId: 'g', memberId: 'm-1' }],
  ['describeGroups', [0, 1, 2], { groupIds: ['g', 'h'] }],
  ['listGroups', [0, 1, 2], {}],
  ['initProducerId', [0, 1], { transactionalId: 'tx', transactionTimeout: 5000 }],
  [
    'offsetFetch',
    [1, 2, 3, 4],
    { groupId: 'g', topics: [{ topic: 'orders', partitions: [{ partition: 0 }, { partition: 3 }] }] },
  ],
  [
    'listOffsets',
    [0, 1, 2, 3],
    {
      replicaId: -1,
      isolationLevel: 1,
      topics: [{ topic: 'orders', partitions: [{ partition: 0, timestamp: -1 }] }],
    },
  ],
  [
    'createTopics',
    [0, 1, 2, 3],
    {
      topics: [
        {
          topic: 'orders',
          numPartitions: 3,
          replicationFactor: 1,
          replicaAssignment: [],
          configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
        },
      ],
      timeout: 5000,
      validateOnly: false,
    },
  ],
  ['deleteTopics', [0, 1], { topics: ['orders'], timeout: 5000 }],
  [
    'produce',
    [3, 4, 5, 6, 7],
    {
      acks: -1,
      timeout: 30000,
      compression: 0,
      topicData: [
        {
          topic: 'orders',
          partitions: [
            { partition: 0, firstSequence: 0, messages: [{ key: 'k', value: 'v', timestamp: 1 }] },
          ],
        },
      ],
    },
  ],
  [
    'fetch',
    [4, 5, 6, 7, 8, 9, 10, 11],
    {
      replicaId: -1,
      maxWaitTime: 500,
      minBytes: 1,
      maxBytes: 1048576,
      isolationLevel: 1,
      rackId: 'r1',
      topics: [{ topic: 'orders', partitions: [{ partition: 0, fetchOffset: '42', maxBytes: 65536 }] }],
    },
  ],
];

for (const [name, versions, args] of REQUESTS) {
  test(`kafkajs ${name} v${versions.join(',')} requests decode and re-encode byte for byte`, async () => {
    for (const version of versions) {
      const { request } = kafkajs(name).protocol({ version })(args);
      const bytes = (await request.encode()).buffer;
      const api = apis.get(request.apiKey) as ApiDescriptor;
      assert.equal(request.apiVersion, version);
      const r = new Reader(bytes);
      const decoded = api.request.read(r, version);
      assert.equal(r.remaining, 0, `${name} v${version}: trailing bytes`);
      const w = new Writer();
      api.request.write(w, version, decoded);
      assert.deepEqual(w.toBuffer(), bytes, `${name} v${version}`);
    }
  });
}

test('kafkajs request values land in the right fields', async () => {
  const hb = (await kafkajs('heartbeat').protocol({ version: 3 })(REQUESTS[2]![2]).request.encode()).buffer;
  assert.deepEqual(Heartbeat.request.read(new Reader(hb), 3), {
    groupId: 'g',
    generationId: 7,
    memberId: 'm-1',
    groupInstanceId: null,
  });
  const md = (await kafkajs('metadata').protocol({ version: 4 })(REQUESTS[1]![2]).request.encode()).buffer;
  const metadata = Metadata.request.read(new Reader(md), 4);
  assert.deepEqual(
    metadata.topics?.map((t) => t.name),
    ['orders', 'payments'],
  );
  assert.equal(metadata.allowAutoTopicCreation, false);
});

async function kafkajsDecode(name: string, version: number, body: Buffer): Promise<Record<string, unknown>> {
  const { response } = kafkajs(name).protocol({ version })({});
  return (await response.decode(body)) as Record<string, unknown>;
}

function encodeBody<T>(codec: { write(w: Writer, v: number, m: T): void }, version: number, m: T): Buffer {
  const w = new Writer();
  codec.write(w, version, m);
  return w.toBuffer();
}

test('kafkajs decodes our ApiVersions, Metadata and FindCoordinator responses', async () => {
  const av: ApiVersionsResponse = {
    ...ApiVersions.response.read(new Reader(encodeBody(ApiVersions.response, 2, defaultAv())), 2),
    apiKeys: [
      { apiKey: 0, minVersion: 0, maxVersion: 9 },
      { apiKey: 18, minVersion: 0, maxVersion: 4 },
    ],
    throttleTimeMs: 12,
  };
  for (const version of [0, 1, 2]) {
    const decoded = await kafkajsDecode(
      'apiVersions',
      version,
      encodeBody(ApiVersions.response, version, av),
    );
    assert.deepEqual(decoded.apiVersions, [
      { apiKey: 0, minVersion: 0, maxVersion: 9 },
      { apiKey: 18, minVersion: 0, maxVersion: 4 },
    ]);
    assert.equal(decoded.errorCode, 0);
  }

  const md: MetadataResponse = {
    throttleTimeMs: 0,
    brokers: [{ nodeId: 1, host: 'localhost', port: 9092, rack: null }],
    clusterId: 'c1',
    controllerId: 1,
    topics: [
      {
        errorCode: 0,
        name: 'orders',
        topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
        isInternal: false,
        partitions: [
          {
            errorCode: 0,
            partitionIndex: 0,
            leaderId: 1,
            leaderEpoch: 4,
            replicaNodes: [1],
            isrNodes: [1],
            offlineReplicas: [],
          },
        ],
        topicAuthorizedOperations: -2147483648,
      },
    ],
    clusterAuthorizedOperations: -2147483648,
  };
  for (const version of [1, 5, 6]) {
    const decoded = await kafkajsDecode('metadata', version, encodeBody(Metadata.response, version, md));
    assert.deepEqual(decoded.brokers, [{ nodeId: 1, host: 'localhost', port: 9092, rack: null }]);
    const topics = decoded.topicMetadata as { topic: string; partitionMetadata: { leader: number }[] }[];
    assert.equal(topics[0]!.topic, 'orders');
    assert.equal(topics[0]!.partitionMetadata[0]!.leader, 1);
  }

  const fc: FindCoordinatorResponse = {
    throttleTimeMs: 0,
    errorCode: 0,
    errorMessage: null,
    nodeId: 3,
    host: 'broker-3',
    port: 9094,
    coordinators: [],
  };
  for (const version of [0, 1, 2]) {
    const decoded = await kafkajsDecode(
      'findCoordinator',
      version,
      encodeBody(FindCoordinator.response, version, fc),
    );
    assert.deepEqual(decoded.coordinator, { nodeId: 3, host: 'broker-3', port: 9094 });
  }
});

function defaultAv(): ApiVersionsResponse {
  return {
    errorCode: 0,
    apiKeys: [],
    throttleTimeMs: 0,
    supportedFeatures: [],
    finalizedFeaturesEpoch: -1n,
    finalizedFeatures: [],
    zkMigrationReady: false,
  };
}
