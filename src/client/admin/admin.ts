// The admin client: topic, partition, config, record, offset and group management. Cluster-wide changes go
// to the controller named in Metadata, partition-level requests to each partition's leader, group requests
// to the group's coordinator (FindCoordinator). Each call retries retriable errors within `retries`, after
// refreshing metadata (or the coordinator) when the error says it is stale.
import {
  AlterConfigs,
  CreatePartitions,
  CreateTopics,
  DeleteGroups,
  DeleteRecords,
  DeleteTopics,
  DescribeCluster,
  DescribeConfigs,
  DescribeGroups,
  FindCoordinator,
  IncrementalAlterConfigs,
  ListGroups,
  ListOffsets,
  OffsetCommit,
  OffsetFetch,
  type ApiDescriptor,
} from '../../protocol/messages/index.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { Cluster, type BrokerInfo, type ClientOptions, type TopicInfo } from '../cluster.js';
import { ClientError, KafkaError } from '../errors.js';

/** Admin options: the shared client options. */
export type AdminOptions = ClientOptions;

/** A topic to create. */
export interface NewTopic {
  topic: string;
  /** Default -1: the broker's num.partitions. */
  numPartitions?: number;
  /** Default -1: the broker's default.replication.factor. */
  replicationFactor?: number;
  /** Topic configs by Kafka name (`cleanup.policy`, `retention.ms`, ...). */
  configs?: Record<string, string>;
  /** Explicit replica assignment: partition index -> broker ids. */
  assignments?: Record<number, number[]>;
}

/** Config resource types (Kafka's ConfigResource.Type ids). */
export type ConfigResourceType = 'topic' | 'broker' | 'broker-logger';
const RESOURCE_TYPE: Record<ConfigResourceType, number> = { topic: 2, broker: 4, 'broker-logger': 8 };
const RESOURCE_NAME = new Map<number, ConfigResourceType>(
  Object.entries(RESOURCE_TYPE).map(([name, id]) => [id, name as ConfigResourceType]),
);

/** Where a config value comes from (Kafka's ConfigSource). */
export type ConfigSource =
  | 'unknown'
  | 'dynamic-topic'
  | 'dynamic-broker'
  | 'dynamic-default-broker'
  | 'static-broker'
  | 'default'
  | 'dynamic-broker-logger'
  | 'client-metrics'
  | 'group';
const SOURCES: ConfigSource[] = [
  'unknown',
  'dynamic-topic',
  'dynamic-broker',
  'dynamic-default-broker',
  'static-broker',
  'default',
  'dynamic-broker-logger',
  'client-metrics',
  'group',
];

export interface ConfigEntry {
  name: string;
  value: string | null;
  readOnly: boolean;
  isDefault: boolean;
  source: ConfigSource;
  isSensitive: boolean;
}

export interface ConfigResourceDescription {
  type: ConfigResourceType;
  name: string;
  configs: ConfigEntry[];
}

/** An IncrementalAlterConfigs operation on one config. */
export interface ConfigOperation {
  name: string;
  op: 'set' | 'delete' | 'append' | 'subtract';
  value?: string | null;
}
const OPS = { set: 0, delete: 1, append: 2, subtract: 3 } as const;

export interface ClusterDescription {
  clusterId: string | null;
  controllerId: number;
  brokers: BrokerInfo[];
}

/** `earliest`, `latest`, `max-timestamp`, or a timestamp in ms (the first offset with a timestamp >= it). */
export type OffsetSpec = 'earliest' | 'latest' | 'max-timestamp' | number;

export interface PartitionOffset {
  partition: number;
  /** -1 when no record has a timestamp >= the one asked for. */
  offset: number;
  timestamp: number;
  leaderEpoch: number;
}

export interface GroupListing {
  groupId: string;
  protocolType: string;
  state: string;
}

export interface GroupMemberDescription {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  memberMetadata: Buffer;
  memberAssignment: Buffer;
}

export interface GroupDescription {
  groupId: string;
  state: string;
  protocolType: string;
  protocol: string;
  members: GroupMemberDescription[];
}

export interface GroupTopicOffsets {
  topic: string;
  partitions: { partition: number; offset: number; metadata?: string | null }[];
}

const TIMESTAMPS: Record<Exclude<OffsetSpec, number>, bigint> = {
  latest: -1n,
  earliest: -2n,
  'max-timestamp': -3n,
};

/** Throws one error for several failed items: the KafkaError itself when only one failed. */
function throwFailures(failures: Error[]): void {
  if (failures.length === 1) throw failures[0]!;
  if (failures.length > 1) throw new AggregateError(failures, failures.map((f) => f.message).join('; '));
}

function checkCode(
  code: number,
  apiKey: number,
  what: string,
  message?: string | null,
): KafkaError | undefined {
  if (code === ErrorCode.NONE) return undefined;
  return new KafkaError(code, { apiKey, message: message ? `${what}: ${message}` : what });
}

/**
 * An admin client. `new Admin({ brokers: ['127.0.0.1:9092'] })`; every method connects on demand; `close()`
 * disconnects.
 */
export class Admin {
  readonly #cluster: Cluster;

  constructor(options: AdminOptions) {
    this.#cluster = new Cluster(options, { allowAutoTopicCreation: false });
  }

  /** The shared connection layer (for tests and tools). */
  get cluster(): Cluster {
    return this.#cluster;
  }

  /** Loads metadata from a bootstrap broker (optional: every call connects on demand). */
  async connect(): Promise<void> {
    await this.#cluster.withRetries(() => this.#cluster.refreshMetadata());
  }

  async #call<Req, Resp, ReqIn>(
    nodeId: number,
    api: ApiDescriptor<Req, Resp, ReqIn, unknown>,
    build: (version: number) => ReqIn,
  ): Promise<Resp> {
    const connection = await this.#cluster.connection(nodeId);
    const version = connection.versionFor(api as ApiDescriptor<unknown, unknown, unknown, unknown>);
    if (version === undefined) {
      throw new ClientError(
        'UNSUPPORTED_API',
        `broker ${connection.host}:${connection.port} does not support ${api.name}`,
      );
    }
    return connection.request(api, build(version), { version });
  }

  async #controller<Req, Resp, ReqIn>(
    api: ApiDescriptor<Req, Resp, ReqIn, unknown>,
    build: (version: number) => ReqIn,
  ): Promise<Resp> {
    return this.#call(await this.#cluster.controller(), api, build);
  }

  // --- topics -----------------------------------------------------------------------------------------------

  /** Creates topics; rejects with KafkaError (e.g. TOPIC_ALREADY_EXISTS), or AggregateError for several. */
  async createTopics(
    topics: NewTopic[],
    options: { validateOnly?: boolean; timeoutMs?: number } = {},
  ): Promise<void> {
    const response = await this.#cluster.withRetries(() =>
      this.#controller(CreateTopics, () => ({
        topics: topics.map((t) => ({
          name: t.topic,
          numPartitions: t.numPartitions ?? -1,
          replicationFactor: t.replicationFactor ?? -1,
          assignments: Object.entries(t.assignments ?? {}).map(([partition, brokerIds]) => ({
            partitionIndex: Number(partition),
            brokerIds,
          })),
          configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
        })),
        timeoutMs: options.timeoutMs ?? 30_000,
        validateOnly: options.validateOnly ?? false,
      })),
    );
    throwFailures(
      response.topics.flatMap(
        (t) => checkCode(t.errorCode, CreateTopics.apiKey, `topic ${t.name}`, t.errorMessage) ?? [],
      ),
    );
    this.#cluster.addTopics(topics.map((t) => t.topic));
  }

  /** Deletes topics by name. */
  async deleteTopics(names: string[], options: { timeoutMs?: number } = {}): Promise<void> {
    const response = await this.#cluster.withRetries(() =>
      this.#controller(DeleteTopics, (version) => ({
        topics: version >= 6 ? names.map((name) => ({ name, topicId: 'AAAAAAAAAAAAAAAAAAAAAA' })) : [],
        topicNames: version < 6 ? names : [],
        timeoutMs: options.timeoutMs ?? 30_000,
      })),
    );
    throwFailures(
      response.responses.flatMap(
        (t) => checkCode(t.errorCode, DeleteTopics.apiKey, `topic ${t.name}`, t.errorMessage) ?? [],
      ),
    );
  }

  /** Names of all topics; internal ones (`__consumer_offsets`) only with `includeInternal`. */
  async listTopics(options: { includeInternal?: boolean } = {}): Promise<string[]> {
    await this.#cluster.withRetries(() => this.#cluster.refreshMetadata({ all: true }));
    const names: string[] = [];
    for (const name of this.#cluster.topicNames()) {
      const topic = this.#cluster.topic(name)!;
      if (options.includeInternal || !topic.isInternal) names.push(name);
    }
    return names.sort();
  }

  /** Partitions, leaders and replicas of topics; rejects with UNKNOWN_TOPIC_OR_PARTITION for a missing one. */
  async describeTopics(names: string[]): Promise<TopicInfo[]> {
    this.#cluster.addTopics(names);
    await this.#cluster.withRetries(() => this.#cluster.refreshMetadata());
    const failures: Error[] = [];
    const result: TopicInfo[] = [];
    for (const name of names) {
      const topic = this.#cluster.topic(name);
      if (topic !== undefined) result.push(topic);
      else
        failures.push(
          new KafkaError(this.#cluster.topicError(name) || ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, {
            message: `topic ${name}`,
          }),
        );
    }
    throwFailures(failures);
    return result;
  }

  /** Raises topics' partition counts to `count`. */
  async createPartitions(
    topics: { topic: string; count: number; assignments?: number[][] }[],
    options: { validateOnly?: boolean; timeoutMs?: number } = {},
  ): Promise<void> {
    const response = await this.#cluster.withRetries(() =>
      this.#controller(CreatePartitions, () => ({
        topics: topics.map((t) => ({
          name: t.topic,
          count: t.count,
          assignments: t.assignments?.map((brokerIds) => ({ brokerIds })) ?? null,
        })),
        timeoutMs: options.timeoutMs ?? 30_000,
        validateOnly: options.validateOnly ?? false,
      })),
    );
    throwFailures(
      response.results.flatMap(
        (t) => checkCode(t.errorCode, CreatePartitions.apiKey, `topic ${t.name}`, t.errorMessage) ?? [],
      ),
    );
  }

  // --- configs ----------------------------------------------------------------------------------------------

  /** Broker resources must go to that broker; everything else to any broker. */
  async #nodeForResource(type: ConfigResourceType, name: string): Promise<number> {
    if (type !== 'topic' && name !== '' && Number.isInteger(Number(name))) return Number(name);
    if (this.#cluster.brokers().length === 0) await this.#cluster.refreshMetadata();
    return this.#cluster.controller();
  }

  /** Configs of topics or brokers; `keys` limits which configs are returned. */
  async describeConfigs(
    resources: { type: ConfigResourceType; name: string; keys?: string[] }[],
  ): Promise<ConfigResourceDescription[]> {
    const out: ConfigResourceDescription[] = [];
    const failures: Error[] = [];
    for (const resource of resources) {
      const response = await this.#cluster.withRetries(async () =>
        this.#call(await this.#nodeForResource(resource.type, resource.name), DescribeConfigs, () => ({
          resources: [
            {
              resourceType: RESOURCE_TYPE[resource.type],
              resourceName: resource.name,
              configurationKeys: resource.keys ?? null,
            },
          ],
          includeSynonyms: false,
          includeDocumentation: false,
        })),
      );
      for (const r of response.results) {
        const error = checkCode(
          r.errorCode,
          DescribeConfigs.apiKey,
          `${resource.type} ${r.resourceName}`,
          r.errorMessage,
        );
        if (error) {
          failures.push(error);
          continue;
        }
        out.push({
          type: RESOURCE_NAME.get(r.resourceType) ?? resource.type,
          name: r.resourceName,
          configs: r.configs.map((c) => ({
            name: c.name,
            value: c.value,
            readOnly: c.readOnly,
            // v1+ gives a source; v0 only the isDefault flag.
            isDefault: c.isDefault || c.configSource === 5,
            source: SOURCES[c.configSource] ?? 'unknown',
            isSensitive: c.isSensitive,
          })),
        });
      }
    }
    throwFailures(failures);
    return out;
  }

  /** Replaces resources' whole dynamic config (AlterConfigs): unlisted dynamic configs revert to defaults. */
  async alterConfigs(
    resources: { type: ConfigResourceType; name: string; configs: Record<string, string | null> }[],
    options: { validateOnly?: boolean } = {},
  ): Promise<void> {
    const failures: Error[] = [];
    for (const resource of resources) {
      const response = await this.#cluster.withRetries(async () =>
        this.#call(await this.#nodeForResource(resource.type, resource.name), AlterConfigs, () => ({
          resources: [
            {
              resourceType: RESOURCE_TYPE[resource.type],
              resourceName: resource.name,
              configs: Object.entries(resource.configs).map(([name, value]) => ({ name, value })),
            },
          ],
          validateOnly: options.validateOnly ?? false,
        })),
      );
      for (const r of response.responses) {
        const error = checkCode(
          r.errorCode,
          AlterConfigs.apiKey,
          `${resource.type} ${r.resourceName}`,
          r.errorMessage,
        );
        if (error) failures.push(error);
      }
    }
    throwFailures(failures);
  }

  /** Changes single configs (IncrementalAlterConfigs): set, delete (revert to default), append, subtract. */
  async incrementalAlterConfigs(
    resources: { type: ConfigResourceType; name: string; configs: ConfigOperation[] }[],
    options: { validateOnly?: boolean } = {},
  ): Promise<void> {
    const failures: Error[] = [];
    for (const resource of resources) {
      const response = await this.#cluster.withRetries(async () =>
        this.#call(
          await this.#nodeForResource(resource.type, resource.name),
          IncrementalAlterConfigs,
          () => ({
            resources: [
              {
                resourceType: RESOURCE_TYPE[resource.type],
                resourceName: resource.name,
                configs: resource.configs.map((c) => ({
                  name: c.name,
                  configOperation: OPS[c.op],
                  value: c.value ?? null,
                })),
              },
            ],
            validateOnly: options.validateOnly ?? false,
          }),
        ),
      );
      for (const r of response.responses) {
        const error = checkCode(
          r.errorCode,
          IncrementalAlterConfigs.apiKey,
          `${resource.type} ${r.resourceName}`,
          r.errorMessage,
        );
        if (error) failures.push(error);
      }
    }
    throwFailures(failures);
  }

  // --- cluster ----------------------------------------------------------------------------------------------

  /** Cluster id, controller and brokers (DescribeCluster when the broker has it, else Metadata). */
  async describeCluster(): Promise<ClusterDescription> {
    return this.#cluster.withRetries(async () => {
      const { nodeId, connection } = await this.#cluster.anyConnection();
      if (connection.versionFor(DescribeCluster) !== undefined) {
        const r = await this.#call(nodeId, DescribeCluster, () => ({
          includeClusterAuthorizedOperations: false,
          endpointType: 1,
        }));
        const error = checkCode(r.errorCode, DescribeCluster.apiKey, 'cluster', r.errorMessage);
        if (error) throw error;
        return {
          clusterId: r.clusterId,
          controllerId: r.controllerId,
          brokers: r.brokers
            .map((b) => ({ nodeId: b.brokerId, host: b.host, port: b.port, rack: b.rack }))
            .sort((a, b) => a.nodeId - b.nodeId),
        };
      }
      await this.#cluster.refreshMetadata();
      return {
        clusterId: this.#cluster.clusterId,
        controllerId: this.#cluster.controllerId,
        brokers: this.#cluster.brokers(),
      };
    });
  }

  // --- records and offsets ----------------------------------------------------------------------------------

  /** Groups partitions by their leader, loading metadata for the topic. */
  async #byLeader(topic: string, partitions: number[]): Promise<Map<number, number[]>> {
    const info = await this.#cluster.topicMetadata(topic);
    const map = new Map<number, number[]>();
    for (const partition of partitions) {
      if (info.partitions[partition] === undefined) {
        throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, { message: `${topic}-${partition}` });
      }
      const leader = this.#cluster.leaderFor(topic, partition);
      if (leader === undefined)
        throw new KafkaError(ErrorCode.LEADER_NOT_AVAILABLE, { message: `${topic}-${partition}` });
      map.set(leader, [...(map.get(leader) ?? []), partition]);
    }
    return map;
  }

  /**
   * Deletes records before `offset` in each partition (-1: up to the high watermark). Resolves to each
   * partition's new log start offset.
   */
  async deleteRecords(
    topic: string,
    partitions: { partition: number; offset: number }[],
    options: { timeoutMs?: number } = {},
  ): Promise<{ partition: number; lowWatermark: number }[]> {
    const wanted = new Map(partitions.map((p) => [p.partition, p.offset]));
    const result = await this.#cluster.withRetries(async () => {
      const out: { partition: number; lowWatermark: number }[] = [];
      const failures: Error[] = [];
      for (const [leader, list] of await this.#byLeader(topic, [...wanted.keys()])) {
        const r = await this.#call(leader, DeleteRecords, () => ({
          topics: [
            {
              name: topic,
              partitions: list.map((p) => ({ partitionIndex: p, offset: BigInt(wanted.get(p)!) })),
            },
          ],
          timeoutMs: options.timeoutMs ?? 30_000,
        }));
        for (const p of r.topics.flatMap((t) => t.partitions)) {
          const error = checkCode(p.errorCode, DeleteRecords.apiKey, `${topic}-${p.partitionIndex}`);
          if (error) failures.push(error);
          else out.push({ partition: p.partitionIndex, lowWatermark: Number(p.lowWatermark) });
        }
      }
      // A retriable failure (a leader moved) retries the whole call; deleting twice is harmless.
      const retriable = failures.find((f) => f instanceof KafkaError && f.retriable);
      if (retriable) throw retriable;
      throwFailures(failures);
      return out;
    });
    return result.sort((a, b) => a.partition - b.partition);
  }

  /** Offsets of a topic's partitions (all of them by default) for `spec`: earliest, latest or a timestamp. */
  async listOffsets(
    topic: string,
    spec: OffsetSpec,
    partitions?: number[],
    options: { isolationLevel?: 'read_uncommitted' | 'read_committed' } = {},
  ): Promise<PartitionOffset[]> {
    const timestamp = typeof spec === 'number' ? BigInt(spec) : TIMESTAMPS[spec];
    const result = await this.#cluster.withRetries(async () => {
      const info = await this.#cluster.topicMetadata(topic);
      const list = partitions ?? info.partitions.map((p) => p.partition);
      const out: PartitionOffset[] = [];
      const failures: Error[] = [];
      // One partition per request, pipelined: librdkafka's mock cluster (our second test broker) encodes
      // v4+ responses with several partitions wrongly, and admin calls are not a hot path.
      const requests = [...(await this.#byLeader(topic, list))].flatMap(([leader, ps]) =>
        ps.map((partition) =>
          this.#call(leader, ListOffsets, (version) => ({
            replicaId: -1,
            isolationLevel: version >= 2 && options.isolationLevel === 'read_committed' ? 1 : 0,
            topics: [
              {
                name: topic,
                partitions: [
                  { partitionIndex: partition, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1 },
                ],
              },
            ],
            timeoutMs: 30_000,
          })),
        ),
      );
      for (const r of await Promise.all(requests)) {
        for (const p of r.topics.flatMap((t) => t.partitions)) {
          const error = checkCode(p.errorCode, ListOffsets.apiKey, `${topic}-${p.partitionIndex}`);
          if (error) failures.push(error);
          else {
            const offset = p.oldStyleOffsets.length > 0 ? p.oldStyleOffsets[0]! : p.offset;
            out.push({
              partition: p.partitionIndex,
              offset: Number(offset),
              timestamp: Number(p.timestamp),
              leaderEpoch: p.leaderEpoch,
            });
          }
        }
      }
      const retriable = failures.find((f) => f instanceof KafkaError && f.retriable);
      if (retriable) throw retriable;
      throwFailures(failures);
      return out;
    });
    return result.sort((a, b) => a.partition - b.partition);
  }

  // --- groups -----------------------------------------------------------------------------------------------

  readonly #coordinators = new Map<string, number>();

  async #coordinator(groupId: string): Promise<number> {
    const cached = this.#coordinators.get(groupId);
    if (cached !== undefined) return cached;
    const { nodeId: any } = await this.#cluster.anyConnection();
    const r = await this.#call(any, FindCoordinator, (version) => ({
      key: version < 4 ? groupId : '',
      keyType: 0,
      coordinatorKeys: version >= 4 ? [groupId] : [],
    }));
    const entry = r.coordinators[0] ?? {
      nodeId: r.nodeId,
      errorCode: r.errorCode,
      errorMessage: r.errorMessage,
    };
    const error = checkCode(entry.errorCode, FindCoordinator.apiKey, `group ${groupId}`, entry.errorMessage);
    if (error) throw error;
    if (!this.#cluster.brokers().some((b) => b.nodeId === entry.nodeId))
      await this.#cluster.refreshMetadata();
    this.#coordinators.set(groupId, entry.nodeId);
    return entry.nodeId;
  }

  /** Runs a group request at its coordinator, finding it again when it moved. */
  #atCoordinator<T>(groupId: string, run: (node: number) => Promise<T>): Promise<T> {
    return this.#cluster.withRetries(async () => {
      try {
        return await run(await this.#coordinator(groupId));
      } catch (error) {
        if (
          error instanceof KafkaError &&
          (error.code === ErrorCode.NOT_COORDINATOR || error.code === ErrorCode.COORDINATOR_NOT_AVAILABLE)
        ) {
          this.#coordinators.delete(groupId);
        }
        if (!(error instanceof KafkaError)) this.#coordinators.delete(groupId);
        throw error;
      }
    });
  }

  /** Every group on every broker. */
  async listGroups(): Promise<GroupListing[]> {
    await this.#cluster.withRetries(() => this.#cluster.refreshMetadata());
    const out: GroupListing[] = [];
    for (const broker of this.#cluster.brokers()) {
      const r = await this.#cluster.withRetries(() =>
        this.#call(broker.nodeId, ListGroups, () => ({ statesFilter: [], typesFilter: [] })).then((resp) => {
          const error = checkCode(resp.errorCode, ListGroups.apiKey, `broker ${broker.nodeId}`);
          if (error) throw error;
          return resp;
        }),
      );
      for (const g of r.groups)
        out.push({ groupId: g.groupId, protocolType: g.protocolType, state: g.groupState });
    }
    return out.sort((a, b) => a.groupId.localeCompare(b.groupId));
  }

  /** Groups' state, protocol and members. A group that does not exist has state 'Dead'. */
  async describeGroups(groupIds: string[]): Promise<GroupDescription[]> {
    const out: GroupDescription[] = [];
    for (const groupId of groupIds) {
      const r = await this.#atCoordinator(groupId, async (node) => {
        const resp = await this.#call(node, DescribeGroups, () => ({
          groups: [groupId],
          includeAuthorizedOperations: false,
        }));
        const g = resp.groups[0];
        if (g === undefined)
          throw new ClientError('PROTOCOL_ERROR', `DescribeGroups answered without group ${groupId}`);
        const error = checkCode(g.errorCode, DescribeGroups.apiKey, `group ${groupId}`);
        if (error) throw error;
        return g;
      });
      out.push({
        groupId: r.groupId,
        state: r.groupState,
        protocolType: r.protocolType,
        protocol: r.protocolData,
        members: r.members.map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          memberMetadata: m.memberMetadata,
          memberAssignment: m.memberAssignment,
        })),
      });
    }
    return out;
  }

  /** Deletes empty groups (and their committed offsets). */
  async deleteGroups(groupIds: string[]): Promise<void> {
    const failures: Error[] = [];
    for (const groupId of groupIds) {
      try {
        await this.#atCoordinator(groupId, async (node) => {
          const r = await this.#call(node, DeleteGroups, () => ({ groupsNames: [groupId] }));
          const error = checkCode(
            r.results[0]?.errorCode ?? ErrorCode.NONE,
            DeleteGroups.apiKey,
            `group ${groupId}`,
          );
          if (error) throw error;
        });
      } catch (error) {
        failures.push(error as Error);
      }
    }
    throwFailures(failures);
  }

  /** A group's committed offsets (all its topics, or only `topics`). */
  async fetchOffsets(groupId: string, topics?: string[]): Promise<GroupTopicOffsets[]> {
    const wanted =
      topics === undefined
        ? null
        : await Promise.all(
            topics.map(async (t) => ({
              name: t,
              partitionIndexes: (await this.#cluster.topicMetadata(t)).partitions.map((p) => p.partition),
            })),
          );
    const response = await this.#atCoordinator(groupId, async (node) => {
      const r = await this.#call(node, OffsetFetch, (version) =>
        version >= 8
          ? {
              groupId: '',
              topics: [],
              groups: [{ groupId, memberId: null, memberEpoch: -1, topics: wanted }],
              requireStable: false,
            }
          : { groupId, topics: wanted, groups: [], requireStable: false },
      );
      const group = r.groups[0];
      const code = group ? group.errorCode : r.errorCode;
      const error = checkCode(code, OffsetFetch.apiKey, `group ${groupId}`);
      if (error) throw error;
      return group ? group.topics : r.topics;
    });
    const failures: Error[] = [];
    const out = response.map((t) => ({
      topic: t.name,
      partitions: t.partitions
        .filter((p) => {
          const error = checkCode(p.errorCode, OffsetFetch.apiKey, `${t.name}-${p.partitionIndex}`);
          if (error) failures.push(error);
          return !error;
        })
        .map((p) => ({
          partition: p.partitionIndex,
          offset: Number(p.committedOffset),
          metadata: p.metadata,
        }))
        .sort((a, b) => a.partition - b.partition),
    }));
    throwFailures(failures);
    return out.sort((a, b) => a.topic.localeCompare(b.topic));
  }

  /** Sets a group's committed offsets (the group must have no active members, as in Kafka's tools). */
  async alterOffsets(groupId: string, topics: GroupTopicOffsets[]): Promise<void> {
    await this.#atCoordinator(groupId, async (node) => {
      const r = await this.#call(node, OffsetCommit, () => ({
        groupId,
        generationIdOrMemberEpoch: -1,
        memberId: '',
        groupInstanceId: null,
        retentionTimeMs: -1n,
        topics: topics.map((t) => ({
          name: t.topic,
          partitions: t.partitions.map((p) => ({
            partitionIndex: p.partition,
            committedOffset: BigInt(p.offset),
            committedLeaderEpoch: -1,
            commitTimestamp: -1n,
            committedMetadata: p.metadata ?? '',
          })),
        })),
      }));
      const failures = r.topics.flatMap((t) =>
        t.partitions.flatMap(
          (p) => checkCode(p.errorCode, OffsetCommit.apiKey, `${t.name}-${p.partitionIndex}`) ?? [],
        ),
      );
      const retriable = failures.find((f) => f.retriable);
      if (retriable) throw retriable;
      throwFailures(failures);
    });
  }

  /** Moves a group's offsets for a topic to the earliest, latest or a timestamp's offset. */
  async resetOffsets(groupId: string, topic: string, to: OffsetSpec): Promise<GroupTopicOffsets> {
    const offsets = await this.listOffsets(topic, to);
    const latest = typeof to === 'number' ? await this.listOffsets(topic, 'latest') : [];
    const partitions = offsets.map((o) => ({
      partition: o.partition,
      // No record at or after the timestamp: the end of the partition, as kafka-consumer-groups does.
      offset: o.offset >= 0 ? o.offset : (latest.find((l) => l.partition === o.partition)?.offset ?? 0),
    }));
    const result = { topic, partitions };
    await this.alterOffsets(groupId, [result]);
    return result;
  }

  /** Closes every connection. */
  async close(): Promise<void> {
    this.#cluster.close();
  }
}
