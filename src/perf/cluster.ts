// Cluster set-up for a perf run, on the main thread: find a reachable bootstrap broker, make sure the topic
// exists (CreateTopics on the controller when it does not), and map each partition to its leader's address.
import { errorInfo } from '../protocol/error-codes.js';
import { CreateTopics } from '../protocol/messages/create-topics.js';
import { InitProducerId } from '../protocol/messages/init-producer-id.js';
import { Metadata, type MetadataResponse } from '../protocol/messages/metadata.js';
import { PerfConnection, PerfConnectionError } from './connection.js';
import { parseHostPort, type PerfOptions } from './options.js';

export class PerfSetupError extends Error {
  override name = 'PerfSetupError';
}

export interface PartitionLeader {
  partition: number;
  /** host:port of the leader. */
  leader: string;
}

export interface TopicLayout {
  topic: string;
  partitions: PartitionLeader[];
  created: boolean;
}

const errorName = (code: number): string => errorInfo(code).name;

/** Connects to the first reachable bootstrap broker; the error lists why each one failed. */
export async function connectBootstrap(options: PerfOptions): Promise<PerfConnection> {
  const failures: string[] = [];
  for (const address of options.brokers) {
    const { host, port } = parseHostPort(address);
    try {
      return await PerfConnection.connect(host, port, {
        clientId: options.clientId,
        requestTimeoutMs: options.requestTimeoutMs,
        connectTimeoutMs: 5000,
      });
    } catch (error) {
      failures.push((error as Error).message);
    }
  }
  throw new PerfSetupError(`no broker reachable: ${failures.join('; ')}`);
}

async function metadata(
  connection: PerfConnection,
  topic: string,
  autoCreate: boolean,
): Promise<MetadataResponse> {
  const version = connection.version(Metadata, 12, 1);
  return connection.request(Metadata, version, {
    topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: topic }],
    // Before v4 the field does not exist and brokers behave as if it were true.
    allowAutoTopicCreation: version >= 4 ? autoCreate : true,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false,
  });
}

function layoutOf(response: MetadataResponse, topic: string): PartitionLeader[] | number {
  const t = response.topics.find((x) => x.name === topic);
  if (!t) return 3; // UNKNOWN_TOPIC_OR_PARTITION
  if (t.errorCode !== 0) return t.errorCode;
  const brokers = new Map(response.brokers.map((b) => [b.nodeId, `${b.host}:${b.port}`]));
  const partitions: PartitionLeader[] = [];
  for (const p of t.partitions) {
    const leader = brokers.get(p.leaderId);
    if (p.errorCode !== 0 && p.errorCode !== 9 /* REPLICA_NOT_AVAILABLE is fine */) return p.errorCode;
    if (leader === undefined) return 5; // LEADER_NOT_AVAILABLE
    partitions.push({ partition: p.partitionIndex, leader });
  }
  if (partitions.length === 0) return 5;
  return partitions.sort((a, b) => a.partition - b.partition);
}

/** The topic's partitions and leaders, creating the topic first if it is missing (and `create` is set). */
export async function prepareTopic(
  connection: PerfConnection,
  options: PerfOptions,
  create: boolean,
): Promise<TopicLayout> {
  const first = await metadata(connection, options.topic, false);
  let layout = layoutOf(first, options.topic);
  let created = false;
  if (layout === 3 && create) {
    const controller = first.brokers.find((b) => b.nodeId === first.controllerId);
    let admin = connection;
    if (controller && `${controller.host}:${controller.port}` !== connection.address) {
      admin = await PerfConnection.connect(controller.host, controller.port, {
        clientId: options.clientId,
        requestTimeoutMs: options.requestTimeoutMs,
      });
    }
    try {
      const version = admin.version(CreateTopics, 7);
      const response = await admin.request(CreateTopics, version, {
        topics: [
          {
            name: options.topic,
            numPartitions: options.partitions,
            replicationFactor: options.replicationFactor,
            assignments: [],
            configs: [],
          },
        ],
        timeoutMs: 30_000,
        validateOnly: false,
      });
      const result = response.topics[0];
      if (result && result.errorCode !== 0 && result.errorCode !== 36 /* TOPIC_ALREADY_EXISTS */) {
        throw new PerfSetupError(
          `cannot create topic ${options.topic}: ${errorName(result.errorCode)}` +
            (result.errorMessage ? ` (${result.errorMessage})` : ''),
        );
      }
      created = result?.errorCode === 0;
    } finally {
      if (admin !== connection) admin.close();
    }
  }
  const deadline = Date.now() + 15_000;
  while (typeof layout === 'number') {
    if (layout !== 3 && layout !== 5 && layout !== 9) {
      throw new PerfSetupError(`topic ${options.topic}: ${errorName(layout)}`);
    }
    if (layout === 3 && !create) throw new PerfSetupError(`topic ${options.topic} does not exist`);
    if (Date.now() > deadline)
      throw new PerfSetupError(`topic ${options.topic} has no leaders: ${errorName(layout)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    layout = layoutOf(await metadata(connection, options.topic, false), options.topic);
  }
  return { topic: options.topic, partitions: layout, created };
}

/** Checks up front that idempotent produce can work, so the error is one clear line and not N worker errors. */
export function checkIdempotence(connection: PerfConnection): void {
  if (!connection.supports(InitProducerId.apiKey)) {
    throw new PerfSetupError(
      `--idempotence: broker ${connection.address} does not support InitProducerId, so it cannot assign ` +
        `producer ids; run without --idempotence`,
    );
  }
}

export { PerfConnectionError };
