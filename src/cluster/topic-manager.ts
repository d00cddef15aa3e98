// Topic lifecycle on the control plane: create, delete, grow, reconfigure, auto-create. Keeps the durable
// registry (names, ids, partition counts, configs) and the partition workers (the logs) in step.
//
// Single broker: every partition's leader is this broker, its replicas and ISR are [this broker], and a
// replication factor above the number of live brokers is INVALID_REPLICATION_FACTOR, as in Kafka.
// Main thread only.
import type { BrokerConfig } from '../config/broker-config.js';
import type { PartitionPool } from '../partition/partition-pool.js';
import { ErrorCode } from '../protocol/error-codes.js';
import {
  ConfigError,
  TOPIC_CONFIG_NAMES,
  resolveLogConfig,
  validateTopicConfig,
  type LogConfig,
} from '../storage/index.js';
import { TopicRegistry, topicNameProblem, type TopicMetadata } from './topic-registry.js';

export interface TopicResult {
  errorCode: number;
  errorMessage: string | null;
  topic?: TopicMetadata;
}

const ok = (topic?: TopicMetadata): TopicResult => ({
  errorCode: ErrorCode.NONE,
  errorMessage: null,
  ...(topic ? { topic } : {}),
});
const fail = (errorCode: number, errorMessage: string): TopicResult => ({ errorCode, errorMessage });

export const INTERNAL_TOPICS = new Set(['__consumer_offsets', '__transaction_state']);

export class TopicManager {
  readonly registry: TopicRegistry;
  readonly #pool: PartitionPool;
  readonly #config: BrokerConfig;
  readonly #liveBrokers: () => number;
  /** Topic creations in flight, so concurrent auto-creates of one name create it once. */
  readonly #creating = new Map<string, Promise<TopicResult>>();
  readonly #logConfigs = new Map<string, LogConfig>();

  constructor(registry: TopicRegistry, pool: PartitionPool, config: BrokerConfig, liveBrokers = () => 1) {
    this.registry = registry;
    this.#pool = pool;
    this.#config = config;
    this.#liveBrokers = liveBrokers;
  }

  get(name: string): TopicMetadata | undefined {
    return this.registry.get(name);
  }

  /** The topic's effective log config (its overrides on the broker's defaults), cached until it changes. */
  logConfig(name: string): LogConfig {
    let config = this.#logConfigs.get(name);
    if (!config) {
      config = resolveLogConfig(this.registry.get(name)?.configs ?? {}, this.#config.log);
      this.#logConfigs.set(name, config);
    }
    return config;
  }

  /** The partition's numeric id on the workers, if the topic and partition exist. */
  partitionId(topic: string, partition: number): number | undefined {
    return this.#pool.idOf(topic, partition);
  }

  /** Checks a CreateTopics entry; -1 means "use the broker default" for partitions and replication factor. */
  validate(
    name: string,
    partitions: number,
    replicationFactor: number,
    configs: Record<string, string>,
  ): TopicResult {
    const problem = topicNameProblem(name);
    if (problem) return fail(ErrorCode.INVALID_TOPIC_EXCEPTION, problem);
    if (this.registry.get(name) || this.#creating.has(name)) {
      return fail(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${name}' already exists.`);
    }
    const collision = this.registry.collision(name);
    if (collision) {
      return fail(
        ErrorCode.INVALID_TOPIC_EXCEPTION,
        `Topic '${name}' collides with existing topic: ${collision.name} ('.' and '_' are treated alike)`,
      );
    }
    const count = partitions === -1 ? this.#config.numPartitions : partitions;
    if (count <= 0) return fail(ErrorCode.INVALID_PARTITIONS, 'Number of partitions must be larger than 0.');
    const factor = replicationFactor === -1 ? this.#config.defaultReplicationFactor : replicationFactor;
    if (factor <= 0)
      return fail(ErrorCode.INVALID_REPLICATION_FACTOR, 'Replication factor must be larger than 0.');
    if (factor > this.#liveBrokers()) {
      return fail(
        ErrorCode.INVALID_REPLICATION_FACTOR,
        `Replication factor: ${factor} larger than available brokers: ${this.#liveBrokers()}.`,
      );
    }
    try {
      validateTopicConfig(configs);
    } catch (error) {
      if (error instanceof ConfigError) return fail(ErrorCode.INVALID_CONFIG, error.message);
      throw error;
    }
    return ok();
  }

  async create(
    name: string,
    partitions: number,
    replicationFactor: number,
    configs: Record<string, string>,
    validateOnly = false,
  ): Promise<TopicResult> {
    const check = this.validate(name, partitions, replicationFactor, configs);
    if (check.errorCode !== ErrorCode.NONE || validateOnly) return check;
    const count = partitions === -1 ? this.#config.numPartitions : partitions;
    const creation = (async () => {
      const topic = this.registry.create(name, count, configs);
      await this.#pool.open(
        Array.from({ length: count }, (_, partition) => ({ topic: name, partition, configs: topic.configs })),
      );
      return ok(topic);
    })();
    this.#creating.set(name, creation);
    try {
      return await creation;
    } finally {
      this.#creating.delete(name);
    }
  }

  /** Metadata/Produce auto-creation (auto.create.topics.enable). Resolves to the topic, if it exists now. */
  async ensure(name: string): Promise<TopicMetadata | undefined> {
    const existing = this.registry.get(name);
    if (existing) return existing;
    const pending = this.#creating.get(name);
    if (pending) return (await pending).topic;
    if (!this.#config.autoCreateTopicsEnable || topicNameProblem(name) || INTERNAL_TOPICS.has(name))
      return undefined;
    const result = await this.create(name, -1, -1, {});
    return result.topic ?? this.registry.get(name);
  }

  async delete(name: string): Promise<TopicResult> {
    const topic = this.registry.get(name);
    if (!topic)
      return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic-partition.');
    if (!this.#config.deleteTopicEnable)
      return fail(ErrorCode.TOPIC_DELETION_DISABLED, 'Topic deletion is disabled.');
    this.registry.delete(name);
    this.#logConfigs.delete(name);
    await this.#pool.delete(name);
    return ok(topic);
  }

  async createPartitions(name: string, count: number, validateOnly: boolean): Promise<TopicResult> {
    const topic = this.registry.get(name);
    if (!topic) return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `The topic '${name}' does not exist.`);
    if (count < topic.partitions) {
      return fail(
        ErrorCode.INVALID_PARTITIONS,
        `Topic currently has ${topic.partitions} partitions, which is higher than the requested ${count}.`,
      );
    }
    if (count === topic.partitions) {
      return fail(ErrorCode.INVALID_PARTITIONS, `Topic already has ${topic.partitions} partitions.`);
    }
    if (validateOnly) return ok(topic);
    const updated = this.registry.update(name, { partitions: count });
    await this.#pool.open(
      Array.from({ length: count - topic.partitions }, (_, i) => ({
        topic: name,
        partition: topic.partitions + i,
        configs: updated.configs,
      })),
    );
    return ok(updated);
  }

  /** Replaces (or, with `incremental`, edits) a topic's config overrides and applies them to its logs. */
  async alterConfigs(
    name: string,
    configs: Record<string, string>,
    validateOnly: boolean,
  ): Promise<TopicResult> {
    const topic = this.registry.get(name);
    if (!topic) return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic ${name} does not exist.`);
    try {
      validateTopicConfig(configs);
    } catch (error) {
      if (error instanceof ConfigError) return fail(ErrorCode.INVALID_CONFIG, error.message);
      throw error;
    }
    if (validateOnly) return ok(topic);
    const updated = this.registry.update(name, { configs });
    this.#logConfigs.delete(name);
    await this.#pool.open(
      Array.from({ length: updated.partitions }, (_, partition) => ({ topic: name, partition, configs })),
    );
    return ok(updated);
  }

  static isTopicConfig(name: string): boolean {
    return TOPIC_CONFIG_NAMES.includes(name);
  }
}
